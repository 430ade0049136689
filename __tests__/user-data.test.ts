import * as fs from "fs";
import * as path from "path";
import {
  assertNoTemplateSyntax,
  renderAppServerUserData,
  renderDirectAppServerUserData,
  renderProxyUserData,
  renderServiceUserData,
  squidPortOf,
  standInDnsConf,
} from "../lib/user-data";
import { PROXY_SYSCTL_FILE, renderProxySysctl } from "../lib/proxy-kernel";
import { SQUID_MAX_FILEDESCRIPTORS } from "../lib/squid";
import { amazonLinuxSyncInstall } from "../lib/allowlist-sync";

/** The allowlist's install as the proxies of the verification environment get it. */
const sync = amazonLinuxSyncInstall(
  "/proxy-over-peering/verification/squid-allowlist",
  "/proxy-over-peering/verification/squid-allowlist",
  30,
);

describe("renderProxyUserData", () => {
  const conf = "http_port 3128\nhttp_access deny all\n";
  const shipping = { file: "/var/log/squid/access.log", logGroupName: "/proxy-over-peering/test/squid-access" };
  const script = renderProxyUserData(conf, shipping, sync);
  const lines = script.split("\n");
  /** Whether every line of `expected` is in the script, in this order. */
  const inOrder = (expected: string[]) => {
    const at = expected.map((l) => lines.indexOf(l));
    return at.every((i, n) => i >= 0 && (n === 0 || i > at[n - 1]));
  };

  it("installs Squid, writes the configuration verbatim, fetches the allowlist, checks it, then starts Squid", () => {
    expect(lines[0]).toBe("#!/bin/bash");
    expect(lines).toContain("set -euo pipefail");
    expect(
      inOrder([
        "dnf install -y squid nftables",
        "cat > /etc/squid/squid.conf <<'END_OF_SQUID_CONF'",
        "cat > /etc/squid/allowlist.conf <<'END_OF_ALLOWLIST'",
        "  /usr/local/sbin/squid-allowlist-sync || status=$?",
        "squid -k parse -f /etc/squid/squid.conf",
        "systemctl restart squid",
        "systemctl enable --now squid-allowlist.timer",
      ]),
    ).toBe(true);
    expect(script).toContain(`<<'END_OF_SQUID_CONF'\n${conf}END_OF_SQUID_CONF\n`);
  });

  it("denies everything until the first fetch, so that Squid never starts with an open or missing allowlist", () => {
    expect(script).toContain(
      "<<'END_OF_ALLOWLIST'\n# No allowlist fetched yet: every request is denied.\nhttp_access deny all\nEND_OF_ALLOWLIST\n",
    );
  });

  it("installs squid-allowlist-sync verbatim and retries its first run only while the fetch fails, 30 times 10 s apart", () => {
    expect(script).toContain(
      `<<'END_OF_ALLOWLIST_SYNC'\n${sync.script.trimEnd()}\nEND_OF_ALLOWLIST_SYNC\nchmod 0755 /usr/local/sbin/squid-allowlist-sync\n`,
    );
    expect(
      inOrder([
        "for attempt in $(seq 1 30); do",
        "  status=0",
        "  /usr/local/sbin/squid-allowlist-sync || status=$?",
        '  if [ "$status" -ne 1 ]; then break; fi',
        "  sleep 10",
        "done",
      ]),
    ).toBe(true);
  });

  it("runs it on a timer every allowlistPollSeconds, to the second, and a failed run stops no timer", () => {
    const unit = (name: string) => new RegExp(`<<'${name}'\\n([\\s\\S]*?)\\n${name}`).exec(script)![1].split("\n");
    expect(unit("END_OF_SERVICE")).toEqual(
      expect.arrayContaining(["Type=oneshot", "ExecStart=/usr/local/sbin/squid-allowlist-sync", "SuccessExitStatus=1 2"]),
    );
    expect(unit("END_OF_TIMER")).toEqual(
      expect.arrayContaining(["OnActiveSec=30s", "OnUnitActiveSec=30s", "AccuracySec=1s", "WantedBy=timers.target"]),
    );
    const every90 = renderProxyUserData(conf, shipping, { ...sync, pollSeconds: 90 });
    expect(every90).toContain("\nOnUnitActiveSec=90s\n");
    expect(every90).not.toContain("30s");
  });

  it("refuses a text that would end its here-document early", () => {
    expect(() => renderProxyUserData("a\nEND_OF_SQUID_CONF\nb", shipping, sync)).toThrow(/here-document/);
    expect(() => renderProxyUserData(conf, shipping, { ...sync, untilFetched: "END_OF_ALLOWLIST\n" })).toThrow(/here-document/);
  });

  it("ships the access log and the allowlist updates with the CloudWatch agent, one stream per instance", () => {
    const agent = /<<'END_OF_AGENT_CONF'\n([\s\S]*?)\nEND_OF_AGENT_CONF/.exec(script)?.[1];
    expect(JSON.parse(agent!)).toEqual({
      logs: {
        logs_collected: {
          files: {
            collect_list: [
              {
                file_path: "/var/log/squid/access.log",
                log_group_name: "/proxy-over-peering/test/squid-access",
                log_stream_name: "{instance_id}",
              },
              {
                file_path: "/var/log/squid/allowlist-updates.log",
                log_group_name: "/proxy-over-peering/verification/squid-allowlist",
                log_stream_name: "{instance_id}",
              },
            ],
          },
        },
      },
    });
    expect(script).toContain("agent_ctl=$(rpm -ql amazon-cloudwatch-agent | grep '/bin/amazon-cloudwatch-agent-ctl$')");
    expect(script).toMatch(/"\$agent_ctl" -a fetch-config -m ec2 -s -c file:(\S+)\n$/);
    expect(script).toContain(`cat > ${/file:(\S+)\n$/.exec(script)![1]} <<'END_OF_AGENT_CONF'`);
    expect(script.indexOf("dnf install -y amazon-cloudwatch-agent")).toBeGreaterThan(script.indexOf("systemctl restart squid"));
  });
});

describe("the proxy's capacity settings", () => {
  const shipping = { file: "/var/log/squid/access.log", logGroupName: "/proxy-over-peering/test/squid-access" };
  const lines = (conf: string) => renderProxyUserData(conf, shipping, sync).split("\n");

  it("writes the kernel settings and applies them before Squid is checked and started", () => {
    const script = lines("http_port 3128\n");
    const at = (l: string) => script.indexOf(l);
    expect(script).toEqual(
      expect.arrayContaining([`cat > ${PROXY_SYSCTL_FILE} <<'END_OF_SYSCTL'`, ...renderProxySysctl(3128).trimEnd().split("\n")]),
    );
    expect(at(`sysctl -q -p ${PROXY_SYSCTL_FILE}`)).toBeGreaterThan(at("END_OF_SYSCTL"));
    expect(at(`sysctl -q -p ${PROXY_SYSCTL_FILE}`)).toBeLessThan(at("systemctl restart squid"));
  });

  it("raises Squid's unit to squid.conf's descriptor limit, reloaded before Squid starts", () => {
    const script = lines("http_port 3128\n");
    expect(
      script.slice(
        script.indexOf("cat > /etc/systemd/system/squid.service.d/capacity.conf <<'END_OF_SQUID_LIMITS'") + 1,
        script.indexOf("END_OF_SQUID_LIMITS"),
      ),
    ).toEqual(["[Service]", `LimitNOFILE=${SQUID_MAX_FILEDESCRIPTORS}`]);
    expect(script.indexOf("systemctl daemon-reload")).toBeLessThan(script.indexOf("systemctl restart squid"));
  });

  it("keeps Squid's own port out of the source ports, whatever port squid.conf listens on", () => {
    expect(lines("http_port 18080\n")).toContain("net.ipv4.ip_local_reserved_ports = 18080");
    expect(squidPortOf("# x\nhttp_port 10.0.0.10:3129\n")).toBe(3129);
    expect(() => squidPortOf("http_access deny all\n")).toThrow(/no http_port line/);
  });
});

describe("renderServiceUserData", () => {
  it("adds a Listen line for each plain port but 80, which httpd already has", () => {
    const script = renderServiceUserData(
      "verification",
      [80, 8080, 8080, 8081].map((port) => ({ port, carries: "http" as const })),
    );
    expect(script).toContain("dnf install -y httpd\n");
    expect(script.match(/Listen \d+/g)).toEqual(["Listen 8080", "Listen 8081"]);
    expect(script).not.toMatch(/SSLEngine|openssl/);
  });

  it("serves TLS on each TLS port with mod_ssl and a certificate made at boot; 443 is mod_ssl's own", () => {
    const script = renderServiceUserData("verification", [
      { port: 80, carries: "http" },
      { port: 8443, carries: "tls" },
      { port: 443, carries: "tls" },
    ]);
    expect(script).toContain("dnf install -y httpd mod_ssl\n");
    expect(script).toMatch(/^openssl req -x509 .*-subj '\/CN=service\.verification' .*-out \/etc\/pki\/tls\/certs\/service\.crt$/m);
    expect(script.match(/Listen [^\n]+/g)).toEqual(["Listen 8443 https"]);
    expect(script).toContain("<VirtualHost *:8443>\n  SSLEngine on\n");
  });
});

describe("renderAppServerUserData", () => {
  const script = renderAppServerUserData({ proxy: "10.0.0.10:3128", bypass: ["<local>", "169.254.169.254"] });

  it("creates the policy and Connections keys only when missing, so values Group Policy set there survive", () => {
    const lines = script.split("\n");
    expect(lines.filter((l) => /New-Item\b/.test(l))).toEqual([
      "if (-not (Test-Path $policy)) { New-Item -Path $policy | Out-Null }",
      "if (-not (Test-Path $connections)) { New-Item -Path $connections | Out-Null }",
    ]);
    expect(script).not.toMatch(/New-Item [^\n]*-Force/);
  });

  it("is a PowerShell block for EC2Launch", () => {
    expect(script.startsWith("<powershell>\n")).toBe(true);
    expect(script.trimEnd().endsWith("</powershell>")).toBe(true);
  });

  it("sets the proxy machine-wide, never in HKCU (user data runs as SYSTEM)", () => {
    expect(script).not.toMatch(/HKCU|HKEY_CURRENT_USER/);
    expect(script).toContain("HKLM:\\SOFTWARE\\Policies\\Microsoft\\Windows\\CurrentVersion\\Internet Settings");
    expect(script).toMatch(/-Name ProxySettingsPerUser -PropertyType DWord -Value 0/);
    expect(script).toMatch(/-Name ProxyEnable -PropertyType DWord -Value 1/);
    expect(script).toMatch(/-Name ProxyServer -PropertyType String -Value \$proxy/);
  });

  it("gives WinINET and WinHTTP the same proxy and bypass list, metadata address included", () => {
    expect(script).toContain("$proxy = '10.0.0.10:3128'");
    expect(script).toContain("$bypass = '<local>;169.254.169.254'");
    expect(script).toMatch(/-Name ProxyOverride -PropertyType String -Value \$bypass/);
    expect(script).toContain('netsh winhttp set proxy "proxy-server=$proxy" "bypass-list=$bypass"');
  });

  it("writes the per-machine Connections blobs that WinINET reads, from the same proxy and bypass", () => {
    expect(script).toContain("$connections = Join-Path $machine 'Connections'");
    expect(script).toMatch(
      /\$blob = \[byte\[\]\]\(@\(0x46, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0\) \+ \[BitConverter\]::GetBytes\(\$p\.Length\) \+ \$p \+ \[BitConverter\]::GetBytes\(\$b\.Length\) \+ \$b/,
    );
    expect(script).toContain("foreach ($name in 'DefaultConnectionSettings', 'SavedLegacySettings')");
    expect(script.indexOf("$p = $ascii.GetBytes($proxy)")).toBeGreaterThan(script.indexOf("$proxy = '10.0.0.10:3128'"));
  });

  it("fails the script when netsh fails", () => {
    expect(script).toMatch(/\$LASTEXITCODE -ne 0\) \{ throw/);
  });

  it("refuses values that would break out of the quoted strings", () => {
    expect(() => renderAppServerUserData({ proxy: "10.0.0.10:3128'; rm", bypass: [] })).toThrow(/quote/);
  });
});

describe("assertNoTemplateSyntax", () => {
  it("refuses ${ and %{, which Terraform would interpolate", () => {
    expect(() => assertNoTemplateSyntax("echo ${HOME}", "x")).toThrow(/template syntax/);
    expect(() => assertNoTemplateSyntax("%{ if }", "x")).toThrow(/template syntax/);
    expect(assertNoTemplateSyntax("echo $HOME", "x")).toBe("echo $HOME");
  });
});

describe("the stand-in's DNS", () => {
  it("listens on its own address only, forwards nothing, and answers every forwarded domain with that address", () => {
    expect(standInDnsConf(["service.example", "other.example"], "172.16.0.10")).toBe(
      [
        "listen-address=172.16.0.10",
        "bind-interfaces",
        "no-resolv",
        "no-hosts",
        "address=/service.example/172.16.0.10",
        "address=/other.example/172.16.0.10",
        "",
      ].join("\n"),
    );
    expect(() => standInDnsConf([], "172.16.0.10")).toThrow("standInDnsConf: no domains; give the forwarded domains");
  });

  it("is installed by the service's user data after httpd, as dnsmasq's whole configuration, and only when asked", () => {
    const withDns = renderServiceUserData("verification", [{ port: 80, carries: "http" }], {
      domains: ["service.example"],
      address: "172.16.0.10",
    });
    const tail = withDns.slice(withDns.indexOf("systemctl restart httpd\n") + "systemctl restart httpd\n".length);
    expect(tail).toBe(
      [
        "# DNS: dnsmasq stands in for the provider's DNS servers, answering the forwarded domains.",
        "dnf install -y dnsmasq",
        "cat > /etc/dnsmasq.conf <<'END_OF_DNSMASQ'",
        "listen-address=172.16.0.10",
        "bind-interfaces",
        "no-resolv",
        "no-hosts",
        "address=/service.example/172.16.0.10",
        "END_OF_DNSMASQ",
        "systemctl enable dnsmasq",
        "systemctl restart dnsmasq",
        "",
      ].join("\n"),
    );
    expect(renderServiceUserData("verification", [{ port: 80, carries: "http" }])).not.toContain("dnsmasq");
  });

  it("gives a Windows app server without a proxy a user data that says so and sets nothing", () => {
    expect(renderDirectAppServerUserData()).toBe(
      "<powershell>\n# App server: the services are reached directly; a private NAT gateway in the proxy VPC relays. No proxy setting.\n</powershell>\n",
    );
  });
});

/**
 * Each user data as a whole, as reviewed (`__tests__/fixtures/user-data-*.txt`): a change to any
 * line an instance runs shows in review. Regenerate a fixture only after reading the difference.
 */
describe("every user data, as reviewed", () => {
  const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "fixtures", `user-data-${name}.txt`), "utf8");
  it("the proxy's", () => {
    expect(
      renderProxyUserData(
        "http_port 3128\ninclude /etc/squid/allowlist.conf\n",
        { file: "/var/log/squid/access.log", logGroupName: "/proxy-over-peering/verification/squid-access" },
        sync,
      ),
    ).toBe(fixture("proxy"));
  });
  it("the stand-in service's, with plain HTTP, TLS and DNS", () => {
    // Given out of order: the listeners come sorted.
    const ports = [
      { port: 80, carries: "http" as const },
      { port: 8090, carries: "http" as const },
      { port: 8080, carries: "http" as const },
      { port: 443, carries: "tls" as const },
      { port: 9443, carries: "tls" as const },
      { port: 8443, carries: "tls" as const },
    ];
    expect(renderServiceUserData("verification", ports, { domains: ["service.example"], address: "172.16.0.10" })).toBe(fixture("service"));
  });
  it("the Windows app server's", () => {
    expect(renderAppServerUserData({ proxy: "10.0.0.10:3128", bypass: ["<local>", "169.254.169.254", "*.amazonaws.com"] })).toBe(
      fixture("app-server"),
    );
  });
});
