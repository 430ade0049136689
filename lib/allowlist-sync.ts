/**
 * The allowlist as data: what an environment's proxies allow (the text of its SSM parameter), the size the parameter
 * holds, and squid-allowlist-sync, the script each proxy runs on a timer to apply a new version safely.
 */
import { EnvironmentConfig, egressOf, servicePorts } from "./config";
import { ALLOWLIST_EVENTS, vpcName } from "./naming";
import { ALLOWLIST_FILE, SquidPolicy, SquidProxyProtocol } from "./squid";
import { AllowlistSyncInstall, assertNoTemplateSyntax } from "./user-data";

/** The access policy of an environment's proxies: its app VPCs (by VPC name) and services, with their `from`. */
export function squidPolicyOf(env: EnvironmentConfig): SquidPolicy {
  return {
    environment: env.name,
    port: env.proxy.port,
    clients: env.appVpcs.map((a) => ({ name: vpcName(env.name, a.name), cidr: a.cidr })),
    destinations: env.services.map((s) => ({
      name: s.name,
      cidr: s.cidr,
      ports: servicePorts(s),
      domains: s.domains,
      from: s.from?.map((a) => vpcName(env.name, a)),
    })),
  };
}

/** Behind PrivateLink, the PROXY protocol Squid requires, believed from the load balancer's addresses; undefined otherwise. */
export function proxyProtocolOf(env: EnvironmentConfig): SquidProxyProtocol | undefined {
  const egress = egressOf(env);
  return egress.kind === "fleet" && egress.privateLink ? { trustedSources: egress.loadBalancerAddresses } : undefined;
}

/** `policy` matching each client by its VPC endpoint (`idOf` by client name), whose id the PROXY header carries. */
export function policyWithEndpoints(policy: SquidPolicy, proxyProtocol: SquidProxyProtocol, idOf: (client: string) => string): SquidPolicy {
  return { ...policy, proxyProtocol, clients: policy.clients.map((c) => ({ ...c, endpointId: idOf(c.name) })) };
}

/** The most an SSM parameter holds: 8 KB in the advanced tier, which Intelligent-Tiering picks past 4 KB. */
export const ALLOWLIST_MAX_BYTES = 8192;

/** Why `allowlist` (rendered from `policy`) does not fit the parameter, or undefined when it does. */
export function allowlistSizeProblem(allowlist: string, policy: SquidPolicy): string | undefined {
  const bytes = Buffer.byteLength(allowlist, "utf8");
  if (bytes <= ALLOWLIST_MAX_BYTES) return undefined;
  const domains = policy.destinations.reduce((n, d) => n + (d.domains?.length ?? 0), 0);
  return (
    `services: the allowlist rendered from ${policy.destinations.length} services (${domains} domains) and ${policy.clients.length} app VPCs ` +
    `is ${bytes} bytes, more than the ${ALLOWLIST_MAX_BYTES} bytes (8 KB) an SSM parameter holds; merge services that share a block and ports, ` +
    'or name a domain (".example.com") instead of each of its hosts'
  );
}

/** The allowlist a proxy runs until it has fetched one: deny everything, so that Squid never starts open. */
export const ALLOWLIST_UNTIL_FETCHED = "# No allowlist fetched yet: every request is denied.\nhttp_access deny all\n";

/** Where squid-allowlist-sync is installed on the proxies. */
export const ALLOWLIST_SYNC_SCRIPT = "/usr/local/sbin/squid-allowlist-sync";

/** The systemd units that run it: a oneshot service and the timer that starts it. */
export const ALLOWLIST_SYNC_UNIT = "squid-allowlist";

/** Exit codes of squid-allowlist-sync: 0 applied or unchanged, these otherwise. */
export const ALLOWLIST_SYNC_EXIT = { fetchFailed: 1, refused: 2 } as const;

/** What squid-allowlist-sync runs and where it keeps its files; a lab gives stand-ins for each. */
export interface AllowlistSyncSettings {
  /** Shell commands that print the allowlist's version, a tab, then its text (as `aws ssm get-parameter --output text` does). */
  readonly fetch: string;
  /** Shell commands that print this proxy's id, for the update log. */
  readonly instanceId: string;
  /** The command that runs Squid, with options such as `-n name`; the script adds `-f` and `-k`. */
  readonly squid: string;
  /** The base squid.conf, whose `include` line names {@link allowlistFile}. */
  readonly squidConf: string;
  /** The live allowlist file; the new version is written beside it first. */
  readonly allowlistFile: string;
  /** Where the script keeps the versions applied and refused, and its lock. */
  readonly stateDir: string;
  /** The update log: one JSON line per version applied or refused. */
  readonly updateLog: string;
  /**
   * Hold new connections to Squid's port while it reconfigures (nftables drops their SYNs, which clients resend after
   * 1 s): Squid 5 and 6 close the port for the reconfigure, and refuse new connections meanwhile otherwise.
   * @default false
   */
  readonly holdNewConnections?: boolean;
}

/** The update log on the proxies, which the CloudWatch agent ships. */
export const ALLOWLIST_UPDATE_LOG = "/var/log/squid/allowlist-updates.log";

/** Amazon Linux 2023: the parameter through the AWS CLI (region and instance id from IMDSv2), the stock Squid. */
export function amazonLinuxSyncSettings(parameterName: string): AllowlistSyncSettings {
  if (!/^[A-Za-z0-9_.\-/]+$/.test(parameterName))
    throw new Error(`amazonLinuxSyncSettings: parameter name ${parameterName} holds characters SSM refuses`);
  return {
    fetch:
      `aws ssm get-parameter --region "$(imds placement/region)" --name '${parameterName}' ` +
      "--query 'Parameter.[Version,Value]' --output text --cli-connect-timeout 5 --cli-read-timeout 10",
    instanceId: "imds instance-id",
    squid: "squid",
    squidConf: "/etc/squid/squid.conf",
    allowlistFile: ALLOWLIST_FILE,
    stateDir: "/var/lib/squid-allowlist",
    updateLog: ALLOWLIST_UPDATE_LOG,
    holdNewConnections: true,
  };
}

/** A value as one single-quoted shell word. */
export function shellWord(value: string): string {
  return `'${value.replace(/'/g, "'\\''")}'`;
}

/** The script's settings and helpers: paths, the stand-in-able commands, IMDSv2 and the update log's JSON line. */
function syncPreamble(s: AllowlistSyncSettings): string[] {
  return [
    "#!/bin/bash",
    "# squid-allowlist-sync: applies a new version of the proxy's allowlist, never half of one. When the fetched",
    "# version differs from the one applied, it is written beside the live file, checked with squid -k parse through",
    "# a copy of squid.conf that includes it, then renamed over the live file and Squid reconfigured. One JSON line per outcome.",
    "set -uo pipefail",
    `squid_conf=${shellWord(s.squidConf)}`,
    `live=${shellWord(s.allowlistFile)}`,
    `state_dir=${shellWord(s.stateDir)}`,
    `update_log=${shellWord(s.updateLog)}`,
    "",
    "# A path of the instance metadata, through IMDSv2.",
    "imds() {",
    "  local token",
    "  token=$(curl -sf -m 2 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token) &&",
    '    curl -sf -m 2 -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"',
    "}",
    "# Prints the allowlist's version, a tab, then its text.",
    "fetch() {",
    `  ${s.fetch}`,
    "}",
    "instance_id() {",
    `  ${s.instanceId}`,
    "}",
    "run_squid() {",
    `  ${s.squid} "$@"`,
    "}",
    "# A value as the inside of a JSON string: backslashes and quotes escaped, control characters as spaces.",
    "json_text() {",
    "  printf '%s' \"$1\" | tr '\\000-\\037' ' ' | sed -e 's/\\\\/\\\\\\\\/g' -e 's/\"/\\\\\"/g'",
    "}",
    ...holdLines(s.holdNewConnections === true),
    "# event <applied|refused> <version> <detail>: one JSON line in the update log.",
    "event() {",
    "  local instance",
    "  instance=$(instance_id 2>/dev/null) || instance=unknown",
    `  printf '{"event":"%s","version":%s,"instance":"%s","detail":"%s"}\\n' "$1" "$2" "$(json_text "$instance")" "$(json_text "$3")" >>"$update_log"`,
    "}",
    "",
  ];
}

/**
 * hold_new_connections and release_new_connections: while Squid reconfigures, SYNs to its port are dropped (clients
 * resend them after 1 s) until a new listening socket replaces the old one, at most 5 s; no-ops when `hold` is off.
 */
function holdLines(hold: boolean): string[] {
  return [
    `hold=${hold ? 1 : 0}`,
    "held=0",
    "# The inodes of the sockets listening on Squid's port (http_port's last number): a reconfigure replaces them.",
    "listeners() {",
    `  ss -Hltne "sport = :$squid_port" 2>/dev/null | grep -o 'ino:[0-9]*' | sort | tr '\\n' ' '`,
    "}",
    "hold_new_connections() {",
    '  [ "$hold" = 1 ] && command -v nft >/dev/null || return 0',
    `  squid_port=$(awk '$1 == "http_port" { n = split($2, p, ":"); print p[n]; exit }' "$squid_conf")`,
    '  [ -n "$squid_port" ] || return 0',
    "  old_listeners=$(listeners)",
    `  printf 'table inet squid_allowlist_hold {\\n chain input {\\n  type filter hook input priority -10; policy accept;\\n  tcp dport %s tcp flags & (syn | ack) == syn drop\\n }\\n}\\n' "$squid_port" | nft -f - || return 0`,
    "  held=1",
    "  trap release_new_connections EXIT",
    "  # What is queued already is accepted before the port closes.",
    "  sleep 0.05",
    "}",
    "release_new_connections() {",
    '  [ "$held" = 1 ] || return 0',
    "  local i now",
    "  for i in $(seq 1 100); do",
    "    now=$(listeners)",
    '    [ -n "$now" ] && [ "$now" != "$old_listeners" ] && break',
    "    sleep 0.05",
    "  done",
    "  nft delete table inet squid_allowlist_hold",
    "  held=0",
    "}",
  ];
}

/** The script's run: fetch, compare, parse the candidate, swap, reconfigure, record. */
function syncBody(): string[] {
  const { fetchFailed, refused } = ALLOWLIST_SYNC_EXIT;
  return [
    'mkdir -p "$state_dir" "$(dirname "$update_log")"',
    "# One run at a time: the timer's and one started by hand never interleave.",
    'exec 9>"$state_dir/lock"',
    'flock -n 9 || { echo "squid-allowlist-sync: another run holds $state_dir/lock" >&2; exit 0; }',
    "",
    "if ! fetched=$(fetch); then",
    '  echo "squid-allowlist-sync: could not fetch the allowlist" >&2',
    `  exit ${fetchFailed}`,
    "fi",
    "version=$(printf '%s\\n' \"$fetched\" | head -n 1 | cut -f 1)",
    "if ! [[ $version =~ ^[0-9]+$ ]]; then",
    '  echo "squid-allowlist-sync: the fetch printed no version number first (got: $version)" >&2',
    `  exit ${fetchFailed}`,
    "fi",
    '[ "$version" = "$(cat "$state_dir/applied" 2>/dev/null)" ] && exit 0',
    "# A refused version is logged once; the live allowlist stays until a newer version parses.",
    `[ "$version" = "$(cat "$state_dir/refused" 2>/dev/null)" ] && exit ${refused}`,
    "",
    'new="$live.new"',
    'candidate="$squid_conf.candidate"',
    '{ printf \'%s\\n\' "$fetched" | head -n 1 | cut -f 2-; printf \'%s\\n\' "$fetched" | tail -n +2; } >"$new"',
    'if ! grep -qxF "include $live" "$squid_conf"; then',
    '  rm -f "$new"',
    '  echo "$version" >"$state_dir/refused"',
    `  event ${ALLOWLIST_EVENTS.refused} "$version" "$squid_conf has no line 'include $live'; the allowlist cannot be checked or applied"`,
    `  exit ${refused}`,
    "fi",
    'awk -v live="include $live" -v new="include $new" \'$0 == live { print new; next } { print }\' "$squid_conf" >"$candidate"',
    'if ! parsed=$(run_squid -k parse -f "$candidate" 2>&1); then',
    '  rm -f "$new" "$candidate"',
    "  reason=$(printf '%s\\n' \"$parsed\" | grep -iE 'fatal|error|unrecognized|bungled' | sed 's/^[0-9/]* [0-9:.]*| //' | head -n 3)",
    '  [ -n "$reason" ] || reason=$(printf \'%s\\n\' "$parsed" | tail -n 3)',
    '  echo "$version" >"$state_dir/refused"',
    `  event ${ALLOWLIST_EVENTS.refused} "$version" "squid -k parse refused it; the live allowlist stays. $reason"`,
    `  exit ${refused}`,
    "fi",
    'rm -f "$candidate"',
    'mv -f "$new" "$live"',
    'if run_squid -f "$squid_conf" -k check >/dev/null 2>&1; then',
    "  hold_new_connections",
    '  if out=$(run_squid -f "$squid_conf" -k reconfigure 2>&1) && release_new_connections && sleep 1 && run_squid -f "$squid_conf" -k check >/dev/null 2>&1; then',
    '    detail="Squid reconfigured and running"',
    "  else",
    '    detail="Squid did not answer after its reconfigure: $out"',
    "  fi",
    "  release_new_connections",
    "else",
    '  detail="written; Squid is not running and reads it when it starts"',
    "fi",
    'echo "$version" >"$state_dir/applied"',
    `event ${ALLOWLIST_EVENTS.applied} "$version" "$detail"`,
    "",
  ];
}

/**
 * Renders squid-allowlist-sync for `settings`: exit 0 when it applied a version or had nothing new, 1 when the
 * fetch failed (retry later), 2 when the version was refused. It holds no Terraform template syntax.
 */
export function renderAllowlistSync(settings: AllowlistSyncSettings): string {
  return assertNoTemplateSyntax([...syncPreamble(settings), ...syncBody()].join("\n"), "squid-allowlist-sync");
}

/** How the proxies of Amazon Linux 2023 install squid-allowlist-sync: its script, units, files and update log. */
export function amazonLinuxSyncInstall(parameterName: string, updateLogGroupName: string, pollSeconds: number): AllowlistSyncInstall {
  const settings = amazonLinuxSyncSettings(parameterName);
  return {
    script: renderAllowlistSync(settings),
    scriptFile: ALLOWLIST_SYNC_SCRIPT,
    unit: ALLOWLIST_SYNC_UNIT,
    allowlistFile: settings.allowlistFile,
    untilFetched: ALLOWLIST_UNTIL_FETCHED,
    pollSeconds,
    updateLog: { file: settings.updateLog, logGroupName: updateLogGroupName },
    exits: ALLOWLIST_SYNC_EXIT,
  };
}
