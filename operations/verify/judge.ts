/** Turns what the servers and logs reported into PASS/FAIL checks with their evidence. */
import { AppResult, DirectResult, ProxiedResult, throughProxy } from "./commands";
import { loggedUrl, SquidLine } from "./squid-log";
import { VerifyTargets } from "./targets";
import { addressInCidr, isIpv4Address } from "../../lib/cidr";

/** One line of the report. */
export interface Check {
  readonly name: string;
  readonly pass: boolean;
  /** Not checked, with the reason in the evidence; neither passes nor fails the run. */
  readonly skipped?: boolean;
  readonly evidence: string;
}

/** What verify gathered in the account. */
export interface Evidence {
  readonly nonce: string;
  /** Each app server's results, by app VPC name. */
  readonly apps: Readonly<Record<string, readonly AppResult[]>>;
  /** Squid's lines of this run (absent without a proxy). */
  readonly squid?: readonly SquidLine[];
  /** The sources the stand-in service saw, with their counts (verification environments). */
  readonly standInSources?: Readonly<Record<string, number>>;
}

const sameUrl = (a: string, b: string) => a.replace(/\/$/, "") === b.replace(/\/$/, "");

function requestChecks(targets: VerifyTargets, app: VerifyTargets["apps"][number], results: readonly AppResult[]): Check[] {
  const proxied = results.filter((r): r is ProxiedResult => r.kind === "proxied");
  return targets.requests.map((request) => {
    const name = `${app.name} -> ${request.service} ${request.url}`;
    const r = proxied.find((p) => p.url.startsWith(request.url.replace(/\/$/, "")));
    if (!r) return { name, pass: false, evidence: "the app server reported no result for it" };
    const via = throughProxy(targets) ? `through ${r.proxy}` : "directly (private NAT relays)";
    const expected = app.proxyUrl ?? targets.proxyUrl;
    if (throughProxy(targets) && expected && !sameUrl(r.proxy, expected))
      return { name, pass: false, evidence: `the machine's proxy setting sends it to ${r.proxy}, not ${expected}` };
    if (r.squidError) return { name, pass: false, evidence: `Squid refused it: HTTP ${r.status} ${r.squidError}` };
    if (r.status === 0) return { name, pass: false, evidence: `no answer ${via}: ${r.error ?? "unknown error"}` };
    return { name, pass: true, evidence: `HTTP ${r.status} ${via}` };
  });
}

function directChecks(targets: VerifyTargets, app: VerifyTargets["apps"][number], results: readonly AppResult[]): Check[] {
  if (!throughProxy(targets)) return [];
  const direct = results.filter((r): r is DirectResult => r.kind === "direct");
  const wanted = [...new Map(targets.requests.map((r) => [`${r.direct.host}:${r.direct.port}`, r.direct])).values()];
  return wanted.map((d) => {
    const name = `${app.name} -> ${d.host}:${d.port} direct, without the proxy`;
    const r = direct.find((x) => x.host === d.host && x.port === d.port);
    if (!r) return { name, pass: false, evidence: "the app server reported no result for it" };
    return {
      name,
      pass: !r.connected,
      evidence: r.connected ? "connected: the service is reachable around the proxy" : "no connection in 5 s, as expected",
    };
  });
}

function squidChecks(targets: VerifyTargets, app: VerifyTargets["apps"][number], lines: readonly SquidLine[], nonce: string): Check[] {
  return targets.requests.map((request) => {
    const want = loggedUrl(request.url, nonce);
    const name = `Squid's log: ${app.name} -> ${want.url}`;
    // Behind PrivateLink two app VPCs may share an address; the app VPC column, from the endpoint, tells them apart.
    const line = lines.find(
      (l) => l.client === app.privateIp && (l.appVpc ?? app.vpcName) === app.vpcName && l.method === want.method && l.url === want.url,
    );
    return line
      ? { name, pass: true, evidence: `${line.client} ${line.result} ${line.method} ${line.url}` }
      : {
          name,
          pass: false,
          evidence: `no line with client ${app.privateIp ?? "(address unknown)"}, app VPC ${app.vpcName}, and ${want.method} ${want.url} in ${targets.proxyLogGroup}`,
        };
  });
}

function standInChecks(targets: VerifyTargets, sources: Readonly<Record<string, number>>): Check[] {
  const seen = Object.entries(sources);
  const outside = seen.filter(([address]) => !isIpv4Address(address) || !addressInCidr(address, targets.sourceBlock));
  const list = seen.map(([address, n]) => `${address} (${n})`).join(", ");
  const name = `the service saw only the dictated block ${targets.sourceBlock}`;
  if (seen.length === 0) return [{ name, pass: false, evidence: "no request of this run in httpd's access log" }];
  return [{ name, pass: outside.length === 0, evidence: outside.length ? `sources outside it: ${list}` : `sources: ${list}` }];
}

/** Every check of a run, in report order: per app server its requests, direct attempts and Squid lines, then the service's log. */
export function judge(targets: VerifyTargets, evidence: Evidence): Check[] {
  const checks: Check[] = [];
  for (const app of targets.apps) {
    const results = evidence.apps[app.name] ?? [];
    checks.push(...requestChecks(targets, app, results), ...directChecks(targets, app, results));
    if (evidence.squid) checks.push(...squidChecks(targets, app, evidence.squid, evidence.nonce));
  }
  if (evidence.standInSources) checks.push(...standInChecks(targets, evidence.standInSources));
  return checks;
}

/** The report: one row per check, PASS or FAIL with its evidence, and a last line with the count. */
export function renderReport(checks: readonly Check[]): string {
  const width = Math.max(5, ...checks.map((c) => c.name.length));
  const rows = checks.map((c) => `${c.skipped ? "SKIP" : c.pass ? "PASS" : "FAIL"}  ${c.name.padEnd(width)}  ${c.evidence}`);
  const failed = checks.filter((c) => !c.pass).length;
  const made = checks.filter((c) => !c.skipped).length;
  const skipped = checks.length - made;
  const tail = skipped ? ` (${skipped} not checked, said above)` : "";
  return [...rows, (failed ? `${failed} of ${made} checks failed` : `all ${made} checks passed`) + tail].join("\n");
}
