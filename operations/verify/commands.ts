/** The commands verify runs on the servers through SSM Run Command, and how their output is read. */
import { ServiceRequest, VerifyTargets } from "./targets";

/** Marks the lines of a command's output that carry a result, so that nothing else printed is misread. */
export const RESULT_MARK = "VERIFY ";

/** A request through the app server's proxy setting, as the server reports it. */
export interface ProxiedResult {
  readonly kind: "proxied";
  readonly url: string;
  /** The HTTP status the server got, 0 when no answer came. */
  readonly status: number;
  readonly error?: string;
  /** Set when Squid answered instead of the service (its X-Squid-Error header). */
  readonly squidError?: string;
  /** The proxy the machine's setting chose for the URL (the URL itself when it goes direct). */
  readonly proxy: string;
}

/** A TCP connection straight to the service, bypassing the proxy. */
export interface DirectResult {
  readonly kind: "direct";
  readonly host: string;
  readonly port: number;
  readonly connected: boolean;
}

export type AppResult = ProxiedResult | DirectResult;

/** The path of every request of one run, so that the service's and Squid's logs show which lines are ours. */
export function probePath(nonce: string): string {
  return `/verify-${nonce}`;
}

const quoted = (value: string) => `'${value.replace(/'/g, "''")}'`;

/**
 * PowerShell for a Windows app server: each request through the machine-wide proxy setting the user
 * data made (Invoke-WebRequest reads it), then a direct TCP connection that must not succeed.
 */
export function appServerScript(
  requests: readonly ServiceRequest[],
  nonce: string,
  options: { trustAnyCertificate: boolean; direct: boolean },
): string {
  const lines = [
    "$ErrorActionPreference = 'Stop'",
    "[Net.ServicePointManager]::SecurityProtocol = [Net.SecurityProtocolType]::Tls12",
    // The stand-in service's certificate is its own; a real service's is checked.
    ...(options.trustAnyCertificate ? ["[Net.ServicePointManager]::ServerCertificateValidationCallback = { $true }"] : []),
    "function Probe($url) {",
    "  $proxy = [Net.WebRequest]::GetSystemWebProxy().GetProxy([Uri]$url).AbsoluteUri",
    "  $status = 0; $err = $null; $squid = $null",
    "  try { $r = Invoke-WebRequest -UseBasicParsing -Uri $url -TimeoutSec 15; $status = [int]$r.StatusCode; $squid = $r.Headers['X-Squid-Error'] }",
    "  catch { $err = $_.Exception.Message; $resp = $_.Exception.Response",
    "    if ($resp) { $status = [int]$resp.StatusCode; $squid = $resp.Headers['X-Squid-Error'] } }",
    `  '${RESULT_MARK}' + (@{ kind = 'proxied'; url = $url; status = $status; error = $err; squidError = $squid; proxy = $proxy } | ConvertTo-Json -Compress)`,
    "}",
    "function Direct($h, $p) {",
    "  $c = New-Object Net.Sockets.TcpClient",
    "  try { $ok = $c.ConnectAsync($h, $p).Wait(5000) } catch { $ok = $false } finally { $c.Close() }",
    `  '${RESULT_MARK}' + (@{ kind = 'direct'; host = $h; port = $p; connected = $ok } | ConvertTo-Json -Compress)`,
    "}",
    ...requests.map((r) => `Probe ${quoted(r.url.replace(/\/$/, probePath(nonce)))}`),
    ...(options.direct ? uniqueDirect(requests).map((d) => `Direct ${quoted(d.host)} ${d.port}`) : []),
  ];
  return lines.join("\n");
}

function uniqueDirect(requests: readonly ServiceRequest[]): ServiceRequest["direct"][] {
  const seen = new Map(requests.map((r) => [`${r.direct.host}:${r.direct.port}`, r.direct]));
  return [...seen.values()];
}

/** Shell for the stand-in service: the source addresses of this run's requests in httpd's access logs, with counts. */
export function standInScript(nonce: string, logDir = "/var/log/httpd"): string {
  return `cat ${logDir}/*access_log 2>/dev/null | grep -F ${quoted(probePath(nonce))} | awk '{print $1}' | sort | uniq -c`;
}

/** The results an app server printed; lines without the mark are ignored, a marked line that is not JSON is an error. */
export function parseAppResults(output: string): AppResult[] {
  return output
    .split(/\r?\n/)
    .filter((l) => l.startsWith(RESULT_MARK))
    .map((l) => JSON.parse(l.slice(RESULT_MARK.length)) as AppResult);
}

/** The sources the stand-in's log shows for this run, with how many requests each made. */
export function parseStandInSources(output: string): Record<string, number> {
  const sources: Record<string, number> = {};
  for (const line of output.split(/\r?\n/)) {
    const m = /^\s*(\d+)\s+(\S+)\s*$/.exec(line);
    if (m) sources[m[2]] = (sources[m[2]] ?? 0) + Number(m[1]);
  }
  return sources;
}

/** Whether the app servers go through a proxy (its setting is an output) or straight out through private NAT. */
export function throughProxy(targets: Pick<VerifyTargets, "proxyUrl">): boolean {
  return targets.proxyUrl !== undefined;
}
