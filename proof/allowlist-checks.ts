/**
 * What `npm run e2e` proves of the live allowlist (issue 22) on the single proxy or the fleet: the proxies run the
 * script of their user data (lib/allowlist-sync.ts) against a file standing in for the SSM parameter, on a timer as
 * systemd would; each version of proof/allowlist-lab.ts's plan is written while a steady client runs, and timed to
 * the moment its rule answers on every proxy. Needs root and a lab started with the plan's environment.
 */
import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { promisify } from "util";
import { renderAllowlistSync } from "../lib/allowlist-sync";
import { ALLOWLIST_EVENTS } from "../lib/naming";
import { parseSquidLine } from "../operations/verify/squid-log";
import { AllowlistLabPlan, AllowlistVersion, APP2, IN_FORCE_MARGIN_SECONDS, Probe } from "./allowlist-lab";
import type { FleetLab, ProxyLabel } from "./fleet-lab";
import type { Lab } from "./netns-lab";

const run = promisify(execFile);

/** One proxy, as the checks reach it. */
export interface AllowlistProxy {
  readonly label: string;
  readonly address: string;
  /** The network namespace it runs in. */
  readonly namespace: string;
  /** Squid's `-n` name. */
  readonly squidName: string;
  /** The base squid.conf, which includes {@link allowlistFile}. */
  readonly confFile: string;
  readonly allowlistFile: string;
  readonly accessLog: string;
}

/** A running lab, as the checks use it. */
export interface AllowlistTarget {
  readonly runDir: string;
  readonly proxyPort: number;
  /** Where the app's steady client sends: the proxy, or the load balancer. */
  readonly entry: string;
  readonly hosts: { readonly app: string; readonly app2: string; readonly service: string };
  /** The stand-in service's plain HTTP port, allowed in every version. */
  readonly servicePort: number;
  /** Its TLS port, where the tunnel goes. */
  readonly tlsPort?: number;
  /** The proxies' labels, known before they start. */
  readonly labels: readonly string[];
  /** The proxies, once started. */
  readonly proxies: readonly AllowlistProxy[];
  /** The namespace of a client. */
  namespace(role: "app" | "app2"): string;
  /** Hands a started process to the lab, which stops it by its PID when it stops. */
  adopt(child: ChildProcess): void;
}

/** One check: its name, and a failure's explanation or undefined. */
export interface AllowlistCheck {
  readonly name: string;
  readonly run: () => Promise<string | undefined>;
}

/** What the checks measured, for `npm run bench`. */
export interface AllowlistFigures {
  pollSeconds?: number;
  /** Seconds from the write to the rule in force, per version and proxy. */
  changes: { version: number; label: string; seconds: Record<string, number | null> }[];
  /** Seconds from the broken version's write to its "refused" line, per proxy. */
  refused?: Record<string, number | null>;
  steady?: { requests: number; failed: number; slowestMs: number; seconds: number };
  tunnel?: { responses: number; afterReconfigure: number; closed: boolean };
}

/** A steady client's result (proof/steady-client.js). */
interface SteadyResult {
  requests: number;
  failed: number;
  slowestMs: number;
  seconds: number;
  failuresMs: number[];
}

/** A tunnel client's result (proof/tunnel-client.js). */
interface TunnelResult {
  startedAt: number;
  responses: { atMs: number; status: number; bytes: number }[];
  error: string | null;
}

const PROBE_INTERVAL_MS = 200;
/** How long past the bound the checks keep probing, so that a late change is measured rather than only called late. */
const GRACE_SECONDS = 5;

/** Runs a node script in a namespace; resolves with its last line as JSON. Bounded by the script's own arguments. */
function nodeIn(target: AllowlistTarget, namespace: string, script: string, args: readonly string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn("ip", ["netns", "exec", namespace, process.execPath, path.join(__dirname, script), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    target.adopt(child);
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.on("close", (code) =>
      code === 0 ? resolve(JSON.parse(out.trim().split("\n").pop() ?? "{}")) : reject(new Error(`${script} exited ${code}: ${out}`)),
    );
  });
}

/** One request from a client through one proxy; its HTTP status, 0 when none came. */
async function status(target: AllowlistTarget, from: "app" | "app2", proxy: AllowlistProxy, url: string): Promise<number> {
  try {
    const r = await run(
      "ip",
      [
        "netns",
        "exec",
        target.namespace(from),
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--max-time",
        "3",
        "-x",
        `http://${proxy.address}:${target.proxyPort}`,
        url,
      ],
      { timeout: 10_000 },
    );
    return Number(r.stdout.trim() || 0);
  } catch (e) {
    return Number((e as { stdout?: string }).stdout?.trim() || 0);
  }
}

const probeUrl = (target: AllowlistTarget, p: Probe) => `http://${p.host ?? target.hosts.service}:${p.port}/`;

/** Probes `proxy` until it answers `want` (bounded by `seconds`); the seconds since `since`, or null when it never did. */
async function untilAnswer(
  target: AllowlistTarget,
  proxy: AllowlistProxy,
  p: Probe,
  want: number,
  since: number,
  seconds: number,
): Promise<number | null> {
  while (Date.now() - since < seconds * 1000) {
    if ((await status(target, p.from, proxy, probeUrl(target, p))) === want) return (Date.now() - since) / 1000;
    await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
  }
  return null;
}

/** The update log's events of a proxy. */
function events(logFile: string): { event: string; version: number; instance: string; detail: string }[] {
  if (!fs.existsSync(logFile)) return [];
  return fs
    .readFileSync(logFile, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** The file standing in for the SSM parameter: what `aws ssm get-parameter --output text` prints, version then text. */
class StandInParameter {
  readonly file: string;
  constructor(runDir: string) {
    this.file = path.join(runDir, "allowlist-parameter");
  }
  /** Writes a version whole: beside the file first, then renamed over it, as SSM never serves half a value. */
  write(version: number, text: string): number {
    fs.writeFileSync(`${this.file}.tmp`, `${version}\t${text}`);
    fs.renameSync(`${this.file}.tmp`, this.file);
    return Date.now();
  }
}

/** squid-allowlist-sync on one proxy, run every `seconds` (start to start, as systemd's OnUnitActiveSec) in its namespace. */
class Poller {
  readonly updateLog: string;
  private readonly script: string;
  private timer?: NodeJS.Timeout;
  private current?: Promise<unknown>;
  private stopped = false;
  runs = 0;

  constructor(
    target: AllowlistTarget,
    private readonly proxy: AllowlistProxy,
    parameter: StandInParameter,
  ) {
    const dir = path.join(target.runDir, `allowlist-sync-${proxy.label}`);
    fs.mkdirSync(path.join(dir, "state"), { recursive: true });
    // The proxy runs version 1 already, as if its boot had applied it.
    fs.writeFileSync(path.join(dir, "state", "applied"), "1\n");
    this.updateLog = path.join(dir, "updates.log");
    this.script = path.join(dir, "squid-allowlist-sync");
    fs.writeFileSync(
      this.script,
      renderAllowlistSync({
        fetch: `cat '${parameter.file}'`,
        instanceId: `echo proxy-${proxy.label}`,
        squid: `squid -n ${proxy.squidName}`,
        squidConf: proxy.confFile,
        allowlistFile: proxy.allowlistFile,
        stateDir: path.join(dir, "state"),
        updateLog: this.updateLog,
        holdNewConnections: process.env.LAB_NO_HOLD ? false : true,
      }),
      { mode: 0o755 },
    );
  }

  /** Starts the timer after `offsetMs`; at most `maxRuns` runs, each bounded to 30 s. */
  start(seconds: number, offsetMs: number, maxRuns: number): void {
    const tick = () => {
      if (this.stopped || this.runs >= maxRuns) return;
      this.runs++;
      this.timer = setTimeout(tick, seconds * 1000);
      this.current = run("ip", ["netns", "exec", this.proxy.namespace, "bash", this.script], { timeout: 30_000 }).catch(() => undefined);
    };
    this.timer = setTimeout(tick, offsetMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.current;
  }
}

/** The state the checks share, in the order they run. */
interface Session {
  readonly target: AllowlistTarget;
  readonly plan: AllowlistLabPlan;
  readonly figures: AllowlistFigures;
  readonly parameter: StandInParameter;
  readonly pollers: Map<string, Poller>;
  readonly stopFile: string;
  /** Whether each write waits a random part of the poll interval first, so that writes land anywhere in the timers' cycle. */
  readonly spread: boolean;
  steady?: Promise<SteadyResult>;
  tunnel?: { stopFile: string; result: Promise<TunnelResult>; reconfiguredAt?: number };
}

/** The seconds a change may take on a proxy. */
const boundOf = (plan: AllowlistLabPlan) => plan.pollSeconds + IN_FORCE_MARGIN_SECONDS;

/** The longest a version's check may last: a spread wait, then the bound and the grace. */
const perVersionSeconds = (s: Session) => (s.spread ? s.plan.pollSeconds : 0) + boundOf(s.plan) + GRACE_SECONDS;

/** Writes a version, after a random part of the poll interval when the session spreads its writes; the time of the write. */
async function write(s: Session, v: AllowlistVersion): Promise<number> {
  if (s.spread) await new Promise((resolve) => setTimeout(resolve, Math.random() * s.plan.pollSeconds * 1000));
  return s.parameter.write(v.version, v.text);
}

/**
 * The checks of the live allowlist, in order; `figures` receives what they measure. With `spread` (the bench), each
 * write waits a random part of the poll interval, so that the times sample the whole cycle rather than its worst end.
 */
export function allowlistChecks(
  target: AllowlistTarget,
  plan: AllowlistLabPlan,
  figures: AllowlistFigures = { changes: [] },
  spread = false,
): AllowlistCheck[] {
  const s: Session = {
    target,
    plan,
    figures,
    parameter: new StandInParameter(target.runDir),
    pollers: new Map(),
    stopFile: path.join(target.runDir, "allowlist-steady.stop"),
    spread,
  };
  figures.pollSeconds = plan.pollSeconds;
  const [added, named, removed, broken, from] = plan.versions;
  return [
    startCheck(s),
    changeCheck(s, added, true),
    tunnelCheck(s),
    changeCheck(s, named),
    changeCheck(s, removed),
    brokenCheck(s, broken, removed),
    changeCheck(s, from),
    fromCheck(s, from),
    steadyCheck(s),
  ];
}

/** Version 1 in place, the pollers started on every proxy, the steady client started. */
function startCheck(s: Session): AllowlistCheck {
  const { target, plan } = s;
  return {
    name: `squid-allowlist-sync runs every ${plan.pollSeconds} s on ${target.labels.map((l) => `proxy ${l}`).join(" and ")} against a file standing in for the parameter (version 1); a steady client sends app -> service:${target.servicePort} through ${target.entry} meanwhile${plan.pollNote ? `\n     ${plan.pollNote}` : ""}`,
    run: async () => {
      s.parameter.write(1, plan.initial);
      const maxRuns = Math.ceil((plan.versions.length * perVersionSeconds(s) + 60) / plan.pollSeconds);
      target.proxies.forEach((proxy, i) => {
        const poller = new Poller(target, proxy, s.parameter);
        s.pollers.set(proxy.label, poller);
        // Proxies boot at different times, so their timers run out of step.
        poller.start(plan.pollSeconds, (i * plan.pollSeconds * 1000) / target.proxies.length, maxRuns);
      });
      const seconds = plan.versions.length * perVersionSeconds(s) + 60;
      fs.rmSync(s.stopFile, { force: true });
      const url = `http://${target.hosts.service}:${target.servicePort}/`;
      s.steady = nodeIn(target, target.namespace("app"), "steady-client.js", [
        target.entry,
        String(target.proxyPort),
        url,
        "1000000",
        String(seconds),
        "20",
        s.stopFile,
      ]) as Promise<SteadyResult>;
      const live = target.proxies.filter((p) => fs.readFileSync(p.allowlistFile, "utf8") === plan.initial).length;
      return live === target.proxies.length ? undefined : `${target.proxies.length - live} proxies do not run version 1`;
    },
  };
}

/** Writes a version that parses and times it to its probe's new answer on every proxy; with `tunnel`, a CONNECT tunnel spans it. */
function changeCheck(s: Session, v: AllowlistVersion, tunnel = false): AllowlistCheck {
  const { target, plan } = s;
  const p = v.probe!;
  return {
    name: `version ${v.version}, ${v.label}: in force on every proxy within ${plan.pollSeconds} s + ${IN_FORCE_MARGIN_SECONDS} s (${p.from} -> ${p.host ?? "service"}:${p.port} goes from ${p.before} to ${p.after})`,
    run: async () => {
      for (const proxy of target.proxies) {
        const got = await status(target, p.from, proxy, probeUrl(target, p));
        if (got !== p.before) return `before the write, proxy ${proxy.label} answered ${got}, expected ${p.before}`;
      }
      if (tunnel) s.tunnel = openTunnel(s);
      if (tunnel) await new Promise((resolve) => setTimeout(resolve, 1500));
      const since = await write(s, v);
      const seconds = await Promise.all(
        target.proxies.map((proxy) => untilAnswer(target, proxy, p, p.after, since, boundOf(plan) + GRACE_SECONDS)),
      );
      if (s.tunnel && tunnel) s.tunnel.reconfiguredAt = Date.now();
      const byProxy = Object.fromEntries(target.proxies.map((proxy, i) => [proxy.label, seconds[i]]));
      s.figures.changes.push({ version: v.version, label: v.label, seconds: byProxy });
      console.log(
        `     ${target.proxies.map((proxy, i) => `proxy ${proxy.label} ${seconds[i] === null ? "never" : `${seconds[i]!.toFixed(1)} s`}`).join(", ")}`,
      );
      const late = target.proxies.filter((_, i) => seconds[i] === null || seconds[i]! > boundOf(plan));
      if (late.length > 0) return `not in force within ${boundOf(plan)} s on ${late.map((l) => `proxy ${l.label}`).join(", ")}`;
      // The script logs its line once Squid answers after the reconfigure, a second or so after the rule took effect.
      const logged = (proxy: AllowlistProxy) =>
        events(s.pollers.get(proxy.label)!.updateLog).some((e) => e.event === ALLOWLIST_EVENTS.applied && e.version === v.version);
      for (let i = 0; i < 25 && !target.proxies.every(logged); i++) await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
      const unlogged = target.proxies.filter((proxy) => !logged(proxy));
      return unlogged.length === 0
        ? undefined
        : `no "applied" line for version ${v.version} from ${unlogged.map((l) => `proxy ${l.label}`).join(", ")}`;
    },
  };
}

/** Starts the tunnel client from the app through the entry to the service's TLS port, for at most a minute. */
function openTunnel(s: Session): Session["tunnel"] {
  const { target } = s;
  const stopFile = path.join(target.runDir, "allowlist-tunnel.stop");
  fs.rmSync(stopFile, { force: true });
  const result = nodeIn(target, target.namespace("app"), "tunnel-client.js", [
    target.entry,
    String(target.proxyPort),
    target.hosts.service,
    String(target.tlsPort),
    String(perVersionSeconds(s) + 30),
    "500",
    stopFile,
  ]) as Promise<TunnelResult>;
  return { stopFile, result };
}

/** The tunnel opened before the first change still passes bytes after every proxy reconfigured. */
function tunnelCheck(s: Session): AllowlistCheck {
  return {
    name: "a CONNECT tunnel held open across the reconfigure (TLS, a request every 0.5 s on one connection) still passes bytes after it",
    run: async () => {
      if (s.target.tlsPort === undefined) return "services[0] has no TLS port for a tunnel";
      if (!s.tunnel?.reconfiguredAt) return "the tunnel did not span a change (the change before failed)";
      await new Promise((resolve) => setTimeout(resolve, 2000));
      fs.writeFileSync(s.tunnel.stopFile, "");
      const r = await s.tunnel.result;
      const after = r.responses.filter((x) => r.startedAt + x.atMs > s.tunnel!.reconfiguredAt!);
      const before = r.responses.length - after.length;
      s.figures.tunnel = { responses: r.responses.length, afterReconfigure: after.length, closed: r.error !== null };
      console.log(`     ${before} responses before every proxy had the new version, ${after.length} after, on one connection`);
      if (r.error) return `the tunnel failed: ${r.error} after ${r.responses.length} responses`;
      if (before === 0) return "no response passed before the change";
      return after.length > 0 && after.every((x) => x.status === 200 && x.bytes > 0)
        ? undefined
        : `after the change: ${JSON.stringify(after)}`;
    },
  };
}

/** A version Squid refuses: a "refused" line naming it on every proxy, the live file as before, the last version's rules in force. */
function brokenCheck(s: Session, v: AllowlistVersion, last: AllowlistVersion): AllowlistCheck {
  const { target, plan } = s;
  return {
    name: `version ${v.version}, ${v.label}: never applied; every proxy logs a "refused" line naming it and keeps serving version ${last.version}`,
    run: async () => {
      const since = await write(s, v);
      const refusedBy = (proxy: AllowlistProxy) =>
        events(s.pollers.get(proxy.label)!.updateLog).find((e) => e.event === ALLOWLIST_EVENTS.refused && e.version === v.version);
      const seconds: Record<string, number | null> = {};
      for (let i = 0; i < ((boundOf(plan) + GRACE_SECONDS) * 1000) / PROBE_INTERVAL_MS; i++) {
        for (const proxy of target.proxies)
          if (seconds[proxy.label] === undefined && refusedBy(proxy)) seconds[proxy.label] = (Date.now() - since) / 1000;
        if (Object.keys(seconds).length === target.proxies.length) break;
        await new Promise((resolve) => setTimeout(resolve, PROBE_INTERVAL_MS));
      }
      s.figures.refused = Object.fromEntries(target.proxies.map((p) => [p.label, seconds[p.label] ?? null]));
      const missing = target.proxies.filter((p) => seconds[p.label] === undefined);
      if (missing.length > 0) return `no "refused" line for version ${v.version} from ${missing.map((p) => `proxy ${p.label}`).join(", ")}`;
      console.log(
        `     refused after ${target.proxies.map((p) => `${seconds[p.label]!.toFixed(1)} s on proxy ${p.label}`).join(", ")}: ${refusedBy(target.proxies[0])!.detail}`,
      );
      const p = last.probe!;
      for (const proxy of target.proxies) {
        if (fs.readFileSync(proxy.allowlistFile, "utf8") !== last.text)
          return `proxy ${proxy.label}'s live allowlist is no longer version ${last.version}`;
        if (fs.existsSync(`${proxy.allowlistFile}.new`)) return `proxy ${proxy.label} left the refused version beside its live file`;
        const got = await status(target, p.from, proxy, probeUrl(target, p));
        if (got !== p.after) return `proxy ${proxy.label} answers ${got} for version ${last.version}'s probe, expected ${p.after}`;
      }
      return undefined;
    },
  };
}

/** After `from`: the second app VPC is refused the service in Squid's access log (TCP_DENIED/403), the first still reaches it. */
function fromCheck(s: Session, v: AllowlistVersion): AllowlistCheck {
  const { target } = s;
  const url = `http://${target.hosts.service}:${target.servicePort}/`;
  return {
    name: `after version ${v.version}, app2 (${target.hosts.app2}) is refused the service (TCP_DENIED/403 in every proxy's access log) and app (${target.hosts.app}) still reaches it`,
    run: async () => {
      for (const proxy of target.proxies) {
        const [app, app2] = [await status(target, "app", proxy, url), await status(target, "app2", proxy, url)];
        if (app !== 200 || app2 !== 403)
          return `through proxy ${proxy.label}: app got ${app} (expected 200), app2 got ${app2} (expected 403)`;
        let denied = false;
        for (let i = 0; i < 15 && !denied; i++) {
          denied = fs
            .readFileSync(proxy.accessLog, "utf8")
            .split("\n")
            .map(parseSquidLine)
            .some((l) => l?.client === target.hosts.app2 && l.result === "TCP_DENIED/403" && l.url === new URL(url).href);
          if (!denied) await new Promise((resolve) => setTimeout(resolve, 200));
        }
        if (!denied) return `proxy ${proxy.label}'s access log has no TCP_DENIED/403 line for app2's request to ${url}`;
      }
      return undefined;
    },
  };
}

/** The steady client stops: not one request failed, through every version; the pollers stop too. */
function steadyCheck(s: Session): AllowlistCheck {
  return {
    name: `no request of the steady client (app -> service:${s.target.servicePort}, allowed in every version) failed while the versions were applied`,
    run: async () => {
      fs.writeFileSync(s.stopFile, "");
      await Promise.all([...s.pollers.values()].map((p) => p.stop()));
      if (!s.steady) return "the steady client never started";
      const r = await s.steady;
      s.figures.steady = { requests: r.requests, failed: r.failed, slowestMs: r.slowestMs, seconds: r.seconds };
      console.log(
        `     ${r.failed} of ${r.requests} requests failed over ${r.seconds.toFixed(1)} s; the slowest took ${(r.slowestMs / 1000).toFixed(2)} s`,
      );
      return r.failed === 0
        ? undefined
        : `${r.failed} requests failed, at ${r.failuresMs.map((ms) => `${(ms / 1000).toFixed(2)} s`).join(", ")}`;
    },
  };
}

/** The single proxy's lab, as the checks reach it: the app sends to the proxy itself. */
export function singleProxyTarget(lab: Lab): AllowlistTarget {
  const { hosts } = lab.topology;
  if (!hosts.app2) throw new Error(`the allowlist checks need the lab started with the plan's environment (an app VPC ${APP2})`);
  return {
    runDir: lab.runDir,
    proxyPort: lab.topology.proxyPort,
    entry: hosts.proxy,
    hosts: { app: hosts.app, app2: hosts.app2, service: hosts.service },
    servicePort: lab.topology.servicePort,
    tlsPort: lab.topology.tlsPort,
    labels: [hosts.proxy],
    proxies: [
      {
        label: hosts.proxy,
        address: hosts.proxy,
        namespace: lab.namespace("proxy"),
        squidName: lab.squidName,
        confFile: lab.squidConfFile,
        allowlistFile: lab.allowlistFile,
        accessLog: lab.squidAccessLog,
      },
    ],
    namespace: (role) => lab.namespace(role),
    adopt: (child) => lab.adopt(child),
  };
}

/** The fleet's lab, as the checks reach it: the app sends to the load balancer; the proxies `labels`, once started. */
export function fleetTarget(lab: FleetLab, labels: readonly ProxyLabel[]): AllowlistTarget {
  const { hosts } = lab;
  if (!hosts.app2) throw new Error(`the allowlist checks need the fleet lab started with the plan's environment (an app VPC ${APP2})`);
  return {
    runDir: lab.runDir,
    proxyPort: lab.proxyPort,
    entry: hosts.loadBalancer[0],
    hosts: { app: hosts.app, app2: hosts.app2, service: hosts.service },
    servicePort: lab.servicePort,
    tlsPort: lab.tlsPort,
    labels,
    get proxies() {
      return labels.map((label) => ({
        label,
        address: lab.proxyAddress[label],
        namespace: lab.namespace(`proxy-${label}`),
        ...lab.squid(label),
        accessLog: lab.accessLog(label),
      }));
    },
    namespace: (role) => lab.namespace(role),
    adopt: (child) => lab.adopt(child),
  };
}
