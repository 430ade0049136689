/**
 * Renders the user data scripts of the three servers. Terraform reads `${` and `%{` in any string
 * as template syntax, so every script is checked to hold neither.
 */
import { PROXY_SYSCTL_FILE, renderProxySysctl } from "./proxy-kernel";
import { SQUID_MAX_FILEDESCRIPTORS, type ServicePort } from "./squid";

/** A cdktf token in a string, which synthesis replaces with a Terraform reference. */
const CDKTF_TOKEN = /\$\{TfToken\[TOKEN\.\d+\]\}/g;

/** Throws when a rendered script holds Terraform template syntax other than cdktf's tokens. */
export function assertNoTemplateSyntax(script: string, what: string): string {
  // cdktf's own tokens (such as a load balancer's DNS name) become Terraform references on purpose.
  const match = /[$%]\{/.exec(script.replace(CDKTF_TOKEN, ""));
  if (match) {
    throw new Error(
      `${what} holds "${match[0]}" at offset ${match.index}; Terraform would read it as template syntax. Write it without braces or escape it as "${match[0][0]}${match[0]}".`,
    );
  }
  return script;
}

/** Where the proxy's CloudWatch agent configuration is written on the instance. */
const AGENT_CONFIG_FILE = "/etc/squid/cloudwatch-agent-access-log.json";

/** Squid's access log as the CloudWatch agent ships it: one stream per instance. */
export interface AccessLogShipping {
  /** The log file on the instance. */
  readonly file: string;
  /** The CloudWatch Logs group (it must exist: the stack creates it with its retention). */
  readonly logGroupName: string;
}

/** How the proxy keeps its allowlist current: squid-allowlist-sync, installed with its systemd timer. */
export interface AllowlistSyncInstall {
  /** The script's text (lib/allowlist-sync.ts renders it). */
  readonly script: string;
  /** Where the script is installed. */
  readonly scriptFile: string;
  /** The systemd units' name (a .service and a .timer). */
  readonly unit: string;
  /** The live allowlist file that squid.conf includes. */
  readonly allowlistFile: string;
  /** What the live file holds until the first fetch (deny all). */
  readonly untilFetched: string;
  /** Seconds between two checks of the parameter. */
  readonly pollSeconds: number;
  /** The update log, shipped like the access log. */
  readonly updateLog: AccessLogShipping;
  /** The script's exit codes that are no failure of the unit: a failed fetch (retried at boot) and a refused version. */
  readonly exits: { readonly fetchFailed: number; readonly refused: number };
}

/** How many times, 10 s apart, the boot waits for the first fetch (the SSM endpoint may answer late). */
const FIRST_FETCH_ATTEMPTS = 30;

/** A file written verbatim by a quoted here-document; throws when `text` holds the line that would end it. */
function hereDocument(file: string, marker: string, text: string): string[] {
  if (text.split("\n").includes(marker)) throw new Error(`The text for ${file} holds the line ${marker}, which ends the here-document`);
  return [`cat > ${file} <<'${marker}'`, text.trimEnd(), marker];
}

/** The user data lines that install squid-allowlist-sync and fetch the allowlist once, before Squid starts. */
function allowlistSyncLines(sync: AllowlistSyncInstall): string[] {
  return [
    "# The allowlist: deny all until fetched; then the current version, before Squid starts, and every few seconds after.",
    ...hereDocument(sync.allowlistFile, "END_OF_ALLOWLIST", sync.untilFetched),
    "command -v aws >/dev/null || dnf install -y awscli-2",
    ...hereDocument(sync.scriptFile, "END_OF_ALLOWLIST_SYNC", sync.script),
    `chmod 0755 ${sync.scriptFile}`,
    `for attempt in $(seq 1 ${FIRST_FETCH_ATTEMPTS}); do`,
    "  status=0",
    `  ${sync.scriptFile} || status=$?`,
    `  if [ "$status" -ne ${sync.exits.fetchFailed} ]; then break; fi`,
    `  echo "The allowlist parameter did not answer (attempt $attempt of ${FIRST_FETCH_ATTEMPTS}); retrying in 10 s" >&2`,
    "  sleep 10",
    "done",
  ];
}

/** The systemd service and timer that run squid-allowlist-sync every `pollSeconds`. */
function allowlistTimerLines(sync: AllowlistSyncInstall): string[] {
  const service = [
    "[Unit]",
    "Description=Apply a new version of the proxy's allowlist",
    "After=network-online.target squid.service",
    "[Service]",
    "Type=oneshot",
    `ExecStart=${sync.scriptFile}`,
    "# A failed fetch or a refused version is in the journal and the update log; the timer keeps going.",
    `SuccessExitStatus=${sync.exits.fetchFailed} ${sync.exits.refused}`,
  ];
  const timer = [
    "[Unit]",
    `Description=Check the proxy's allowlist parameter every ${sync.pollSeconds} s`,
    "[Timer]",
    "# OnUnitActiveSec alone never fires for a unit not yet started: OnActiveSec starts the cycle.",
    `OnActiveSec=${sync.pollSeconds}s`,
    `OnUnitActiveSec=${sync.pollSeconds}s`,
    "AccuracySec=1s",
    "[Install]",
    "WantedBy=timers.target",
  ];
  return [
    ...hereDocument(`/etc/systemd/system/${sync.unit}.service`, "END_OF_SERVICE", service.join("\n")),
    ...hereDocument(`/etc/systemd/system/${sync.unit}.timer`, "END_OF_TIMER", timer.join("\n")),
    "systemctl daemon-reload",
    `systemctl enable --now ${sync.unit}.timer`,
  ];
}

/** The port in squid.conf's http_port line; throws when it has none. */
export function squidPortOf(squidConf: string): number {
  const port = /^http_port (?:\S+:)?(\d+)\b/m.exec(squidConf)?.[1];
  if (!port) throw new Error("The proxy's squid.conf has no http_port line; render it with renderSquidBase");
  return Number(port);
}

/** The kernel settings for capacity (npm run bench -- capacity), and a descriptor limit for Squid's unit to match squid.conf. */
function capacityLines(squidConf: string): string[] {
  return [
    "# Capacity: source ports and TIME_WAIT reuse for the connections to the services (lib/proxy-kernel.ts).",
    ...hereDocument(PROXY_SYSCTL_FILE, "END_OF_SYSCTL", renderProxySysctl(squidPortOf(squidConf))),
    `sysctl -q -p ${PROXY_SYSCTL_FILE}`,
    "# The packaged unit allows 16384 descriptors; squid.conf's max_filedescriptors asks for more.",
    "mkdir -p /etc/systemd/system/squid.service.d",
    ...hereDocument(
      "/etc/systemd/system/squid.service.d/capacity.conf",
      "END_OF_SQUID_LIMITS",
      `[Service]\nLimitNOFILE=${SQUID_MAX_FILEDESCRIPTORS}`,
    ),
    "systemctl daemon-reload",
  ];
}

/**
 * Amazon Linux 2023: install Squid and its base configuration, fetch the allowlist, check, start Squid, keep the
 * allowlist current on a timer; then ship the access log and the allowlist update log with the CloudWatch agent.
 * Nothing here comes from the services, so a change of the allowlist never changes the user data.
 */
export function renderProxyUserData(squidConf: string, accessLog: AccessLogShipping, sync: AllowlistSyncInstall): string {
  const agentConfig = JSON.stringify(
    {
      logs: {
        logs_collected: {
          files: {
            collect_list: [accessLog, sync.updateLog].map((l) => ({
              file_path: l.file,
              log_group_name: l.logGroupName,
              log_stream_name: "{instance_id}",
            })),
          },
        },
      },
    },
    null,
    2,
  );
  return assertNoTemplateSyntax(
    [
      "#!/bin/bash",
      "# Proxy: Squid with the base squid.conf rendered from the environment file, and the allowlist from its parameter.",
      "set -euo pipefail",
      "# nftables: the allowlist sync holds new connections while Squid reconfigures (it closes its port meanwhile).",
      "dnf install -y squid nftables",
      ...hereDocument("/etc/squid/squid.conf", "END_OF_SQUID_CONF", squidConf),
      ...allowlistSyncLines(sync),
      ...capacityLines(squidConf),
      "squid -k parse -f /etc/squid/squid.conf",
      "systemctl enable squid",
      "systemctl restart squid",
      ...allowlistTimerLines(sync),
      "# Squid's access log and the allowlist updates to CloudWatch Logs: who went where is a query, not a login.",
      "dnf install -y amazon-cloudwatch-agent",
      "# The agent's control script, found through its package rather than assumed.",
      "agent_ctl=$(rpm -ql amazon-cloudwatch-agent | grep '/bin/amazon-cloudwatch-agent-ctl$')",
      ...hereDocument(AGENT_CONFIG_FILE, "END_OF_AGENT_CONF", agentConfig),
      `"$agent_ctl" -a fetch-config -m ec2 -s -c file:${AGENT_CONFIG_FILE}`,
      "",
    ].join("\n"),
    "The proxy's user data",
  );
}

/**
 * dnsmasq's configuration for the stand-in of the provider's DNS servers: it listens on `address`
 * only, forwards nothing, and answers every name under each of `domains` with `address` (the
 * stand-in service). The namespace experiment runs the same lines.
 */
export function standInDnsConf(domains: readonly string[], address: string): string {
  if (domains.length === 0) throw new Error("standInDnsConf: no domains; give the forwarded domains");
  return [
    `listen-address=${address}`,
    "bind-interfaces",
    "no-resolv",
    "no-hosts",
    ...domains.map((d) => `address=/${d}/${address}`),
    "",
  ].join("\n");
}

/** The DNS the stand-in service answers, when an environment forwards domains to it. */
export interface StandInDns {
  /** The forwarded domains. */
  readonly domains: readonly string[];
  /** The stand-in's address, where dnsmasq listens and what it answers. */
  readonly address: string;
}

/**
 * Amazon Linux 2023: httpd serving a small page on each port, standing in for the service: plain
 * HTTP on the "http" ports, TLS (mod_ssl, a self-signed certificate made at boot) on the "tls"
 * ones. Port 443 is mod_ssl's own virtual host.
 * With `dns`, dnsmasq also answers the forwarded domains (see {@link standInDnsConf}).
 */
export function renderServiceUserData(environment: string, ports: readonly ServicePort[], dns?: StandInDns): string {
  const byPort = new Map(ports.map((p) => [p.port, p.carries]));
  const plain = [...byPort]
    .filter(([p, c]) => c === "http" && p !== 80)
    .map(([p]) => p)
    .sort((a, b) => a - b);
  const tls = [...byPort]
    .filter(([p, c]) => c === "tls" && p !== 443)
    .map(([p]) => p)
    .sort((a, b) => a - b);
  const anyTls = [...byPort.values()].includes("tls");
  return assertNoTemplateSyntax(
    [
      "#!/bin/bash",
      "# Service: httpd stands in for the external service; its access log shows who connected.",
      "set -euo pipefail",
      `dnf install -y httpd${anyTls ? " mod_ssl" : ""}`,
      ...plain.map((p) => `echo 'Listen ${p}' >> /etc/httpd/conf.d/service-ports.conf`),
      ...(tls.length > 0
        ? [
            `openssl req -x509 -newkey rsa:2048 -nodes -days 825 -subj '/CN=service.${environment}' -keyout /etc/pki/tls/private/service.key -out /etc/pki/tls/certs/service.crt`,
            ...tls.flatMap((p) => [
              `cat >> /etc/httpd/conf.d/service-tls.conf <<'END_OF_TLS_${p}'`,
              `Listen ${p} https`,
              `<VirtualHost *:${p}>`,
              "  SSLEngine on",
              "  SSLCertificateFile /etc/pki/tls/certs/service.crt",
              "  SSLCertificateKeyFile /etc/pki/tls/private/service.key",
              "</VirtualHost>",
              `END_OF_TLS_${p}`,
            ]),
          ]
        : []),
      `echo '<h1>service of environment ${environment}</h1>' > /var/www/html/index.html`,
      "systemctl enable httpd",
      "systemctl restart httpd",
      ...(dns
        ? [
            "# DNS: dnsmasq stands in for the provider's DNS servers, answering the forwarded domains.",
            "dnf install -y dnsmasq",
            "cat > /etc/dnsmasq.conf <<'END_OF_DNSMASQ'",
            standInDnsConf(dns.domains, dns.address).trimEnd(),
            "END_OF_DNSMASQ",
            "systemctl enable dnsmasq",
            "systemctl restart dnsmasq",
          ]
        : []),
      "",
    ].join("\n"),
    "The service's user data",
  );
}

/** Settings of the Windows app server's proxy configuration. */
export interface WindowsProxySettings {
  /** host:port of the proxy. */
  readonly proxy: string;
  /** Hosts reached without the proxy. */
  readonly bypass: readonly string[];
}

/**
 * Windows: a machine-wide proxy setting. User data runs as SYSTEM, so HKCU would be SYSTEM's own
 * hive; instead WinINET is made per-machine by policy (ProxySettingsPerUser = 0) with its values
 * in HKLM (the string values and the Connections blobs that WinINET actually reads), and WinHTTP,
 * which services and agents use, gets the same proxy and bypass list.
 */
export function renderAppServerUserData(settings: WindowsProxySettings): string {
  for (const value of [settings.proxy, ...settings.bypass]) {
    if (/['";\s`]/.test(value)) throw new Error(`Windows proxy setting "${value}" holds a quote, ';', '\`' or white space; remove it`);
  }
  return assertNoTemplateSyntax(
    [
      "<powershell>",
      "# App server: every user and WinHTTP send web traffic through the proxy, machine-wide.",
      "$ErrorActionPreference = 'Stop'",
      `$proxy = '${settings.proxy}'`,
      `$bypass = '${settings.bypass.join(";")}'`,
      "$policy = 'HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\CurrentVersion\\Internet Settings'",
      // New-Item -Force on a key that exists empties it (Group Policy's values would vanish): create only what is missing.
      "if (-not (Test-Path $policy)) { New-Item -Path $policy | Out-Null }",
      "New-ItemProperty -Path $policy -Name ProxySettingsPerUser -PropertyType DWord -Value 0 -Force | Out-Null",
      "$machine = 'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings'",
      "New-ItemProperty -Path $machine -Name ProxyEnable -PropertyType DWord -Value 1 -Force | Out-Null",
      "New-ItemProperty -Path $machine -Name ProxyServer -PropertyType String -Value $proxy -Force | Out-Null",
      "New-ItemProperty -Path $machine -Name ProxyOverride -PropertyType String -Value $bypass -Force | Out-Null",
      "# WinINET reads the per-machine setting from the Connections blobs, not only from the values above:",
      "# version 0x46, counter, flags 3 (direct + manual proxy), proxy, bypass, no auto-config script.",
      "$ascii = [Text.Encoding]::ASCII",
      "$p = $ascii.GetBytes($proxy)",
      "$b = $ascii.GetBytes($bypass)",
      "$blob = [byte[]](@(0x46, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0) + [BitConverter]::GetBytes($p.Length) + $p + [BitConverter]::GetBytes($b.Length) + $b + [byte[]]::new(36))",
      "$connections = Join-Path $machine 'Connections'",
      "if (-not (Test-Path $connections)) { New-Item -Path $connections | Out-Null }",
      "foreach ($name in 'DefaultConnectionSettings', 'SavedLegacySettings') { New-ItemProperty -Path $connections -Name $name -PropertyType Binary -Value $blob -Force | Out-Null }",
      'netsh winhttp set proxy "proxy-server=$proxy" "bypass-list=$bypass"',
      'if ($LASTEXITCODE -ne 0) { throw "netsh winhttp set proxy failed with exit code $LASTEXITCODE" }',
      "</powershell>",
      "",
    ].join("\n"),
    "The app server's user data",
  );
}

/**
 * Windows without a proxy (private NAT egress): the services are reached by address, so the user
 * data only says so, which keeps the instance's user data explicit in review.
 */
export function renderDirectAppServerUserData(): string {
  return [
    "<powershell>",
    "# App server: the services are reached directly; a private NAT gateway in the proxy VPC relays. No proxy setting.",
    "</powershell>",
    "",
  ].join("\n");
}
