/**
 * How much one proxy carries, measured in the namespace labs (needs root): real Squid with the project's squid.conf
 * and kernel settings, apache2 for plain HTTP, a small sink holding tunnels, and a load client whose own CPU time is
 * reported beside Squid's (so a saturated client would show). Every step is bounded in count and time; every process
 * is the labs' own, stopped by its PID.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EnvironmentConfig, parseEnvironment } from "../lib/config";
import { KernelSetting, proxyKernelSettings } from "../lib/proxy-kernel";
import { SQUID_MAX_FILEDESCRIPTORS } from "../lib/squid";
import { FleetLab, ProxyLabel, startFleetLab } from "./fleet-lab";
import { Lab, must, proxySquidConf, sh, startLab } from "./netns-lab";

const CLIENT = path.join(__dirname, "capacity-client.js");
const SINK = path.join(__dirname, "capacity-sink.js");
/** The port the sink listens on, added to services[0] as a TLS port so that Squid allows CONNECT to it. */
export const SINK_PORT = 9443;
/**
 * The lab client's own kernel settings: it opens tens of thousands of connections to one proxy address and closes them
 * first, and a nearly exhausted range makes each connect() scan it (seconds of kernel time): its ports must not be the limit.
 */
const CLIENT_KERNEL = [
  { key: "net.ipv4.ip_local_port_range", value: "1024 65535" },
  { key: "net.ipv4.tcp_tw_reuse", value: "1" },
];
/** The latency bound of a step: past it, the proxy is over its capacity. */
export const P99_BOUND_MS = 100;
/** Ports of the narrowed ranges that show the per-destination budget within seconds (the budget scales with the range). */
export const NARROW_PORTS = 1024;

/** One plain HTTP step: keep-alive connections through Squid. */
export interface HttpStep {
  readonly connections: number;
  readonly rps: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** Squid's CPU time over the step's wall time (1 = one core). */
  readonly squidCpu: number;
  /** The load client's CPU time over the step's wall time. */
  readonly clientCpu: number;
  /** The whole machine's busy cores meanwhile (Squid, client, service and the kernel's networking). */
  readonly machineCpu: number;
}

/** One step of tunnels held open at once. */
export interface TunnelStep {
  readonly count: number;
  readonly opened: number;
  readonly failed: number;
  readonly errors: Record<string, number>;
  readonly p99Ms: number;
  /** Squid's resident memory with the tunnels open, MB. */
  readonly squidRssMb: number;
}

/** One step of new tunnels a second to one service address and port, each closed by the client after the proxy's 200. */
export interface ChurnStep {
  readonly perSecond: number;
  readonly ok: number;
  readonly failed: number;
  readonly p99Ms: number;
  readonly squidCpu: number;
  readonly clientCpu: number;
  /** Successful tunnels before the first failure, when one failed. */
  readonly okAtFirstFailure: number | null;
}

/** Everything the capacity bench measures; docs/capacity.json holds it. */
export interface CapacityFigures {
  readonly lab: { readonly cpus: number; readonly cpuModel: string; readonly squid: string; readonly measured: string };
  readonly http: readonly HttpStep[];
  /** Plain HTTP from the proxy's namespace to apache2 directly, at the busiest step's connections: the service's headroom. */
  readonly directRps: number;
  readonly tunnels: { readonly steps: readonly TunnelStep[]; readonly idleRssMb: number; readonly fileDescriptors: number };
  readonly churn: readonly ChurnStep[];
  /** New connections to one destination in a narrowed range of NARROW_PORTS ports, by kernel settings. */
  readonly portBudget: {
    readonly ports: number;
    readonly perSecond: number;
    readonly seconds: number;
    readonly amazonLinuxDefault: ChurnStep;
    readonly project: ChurnStep;
    readonly projectServiceWithoutTimestamps: ChurnStep;
  };
  /** Plain HTTP, a new app connection per request: Squid's reuse of its connections to the service on and off. */
  readonly serverReuse: { readonly on: ReuseStep; readonly off: ReuseStep };
  readonly fleet: readonly FleetStep[];
}

/** Plain HTTP with a new app connection per request, and the new connections it made to the service. */
export interface ReuseStep {
  readonly rps: number;
  readonly p99Ms: number;
  readonly errors: number;
  readonly serverConnectionsPerRequest: number;
}

/** The fleet lab with `proxies` proxies behind the load balancer stand-in. */
export interface FleetStep {
  readonly proxies: number;
  readonly rps: number;
  readonly squidCpu: number;
  /** The whole machine's busy cores meanwhile: the lab's two cores bound what more proxies can add. */
  readonly machineCpu: number;
  /** Tunnels to one destination before the first failure, each proxy in a narrowed range of NARROW_PORTS ports. */
  readonly okAtFirstFailure: number | null;
}

/** What a measurement needs of a lab: run in a namespace, start a process there. */
interface Host {
  inNs(ns: string, args: readonly string[], timeoutMs?: number): ReturnType<typeof sh>;
  adopt(child: ChildProcess): void;
}

const hostOf = (adopt: (c: ChildProcess) => void): Host => ({
  inNs: (ns, args, timeoutMs) => sh(["ip", "netns", "exec", ns, ...args], timeoutMs),
  adopt,
});

/** The verification demo with the sink's port added to services[0] as a TLS port. */
export function capacityEnvironment(raw: { services: { ports: unknown[] }[] }, source: string): EnvironmentConfig {
  const copy = structuredClone(raw);
  copy.services[0].ports.push({ port: SINK_PORT, carries: "tls" });
  return parseEnvironment(copy, source);
}

/** The PID of the Squid in a namespace. */
function squidPid(ns: string): number {
  const pids = must(["ip", "netns", "pids", ns]).split("\n").filter(Boolean).map(Number);
  const pid = pids.find((p) => fs.existsSync(`/proc/${p}/comm`) && fs.readFileSync(`/proc/${p}/comm`, "utf8").trim() === "squid");
  if (!pid) throw new Error(`no Squid runs in ${ns}`);
  return pid;
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSecondsOf(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Resident memory of a process, MB. */
function rssMbOf(pid: number): number {
  return Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;
}

/** Applies kernel settings in a namespace (they are per namespace, as on a host). */
export function applyKernelSettings(host: Host, ns: string, settings: readonly Pick<KernelSetting, "key" | "value">[]): void {
  for (const s of settings) {
    const r = host.inNs(ns, ["sysctl", "-qw", `${s.key}=${s.value}`]);
    if (r.code !== 0) throw new Error(`sysctl ${s.key}=${s.value} failed in ${ns}: ${r.stderr}`);
  }
}

/** Runs the load client to its end in a namespace; its JSON result. */
function client<T>(host: Host, ns: string, args: readonly (string | number)[], seconds: number): T {
  process.stderr.write(`capacity: ${args[0]} ${args.slice(4).join(" ")} (${seconds} s)\n`);
  const r = host.inNs(ns, [process.execPath, CLIENT, ...args.map(String)], (seconds + 20) * 1000);
  if (r.code !== 0) throw new Error(`capacity client ${args[0]} failed (${r.code}): ${r.stderr.slice(-500)}`);
  return JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as T;
}

/** The machine's busy and total jiffies so far, every core together. */
function machineJiffies(): { busy: number; total: number } {
  const [, ...fields] = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).map(Number);
  const total = fields.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - fields[3] - fields[4], total };
}

/**
 * Runs `work` and returns its result with the CPU share (1 = one core) the given processes used meanwhile, and the
 * whole machine's (its cores busy, the kernel's networking included).
 */
function withCpu<T extends { seconds: number }>(pids: readonly number[], work: () => T): T & { squidCpu: number; machineCpu: number } {
  const before = pids.map(cpuSecondsOf);
  const machine = machineJiffies();
  const result = work();
  const after = machineJiffies();
  const used = pids.reduce((n, p, i) => n + cpuSecondsOf(p) - before[i], 0);
  const machineCpu = ((after.busy - machine.busy) / (after.total - machine.total)) * os.cpus().length;
  return { ...result, squidCpu: used / result.seconds, machineCpu };
}

/** Starts the sink in a namespace and waits until it listens. */
async function startSink(host: Host, ns: string, address: string): Promise<void> {
  const sink = spawn("ip", ["netns", "exec", ns, process.execPath, SINK, address, String(SINK_PORT)], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  host.adopt(sink);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the sink did not listen within 10 s")), 10_000);
    sink.stdout!.once("data", () => (clearTimeout(timer), resolve()));
  });
}

/** Where the proxy is reached and what it is asked for. */
interface Target {
  readonly ns: string;
  readonly proxy: string;
  readonly port: number;
  readonly url: string;
  readonly tunnelTo: string;
}

type ClientHttp = { rps: number; p50Ms: number; p99Ms: number; errors: number; seconds: number; cpuSeconds: number };

/** Plain HTTP at growing connection counts until errors or p99 over the bound. */
export function httpSteps(host: Host, t: Target, pids: readonly number[], counts: readonly number[], seconds: number): HttpStep[] {
  const steps: HttpStep[] = [];
  for (const connections of counts) {
    const r = withCpu(pids, () => client<ClientHttp>(host, t.ns, ["http", t.proxy, t.port, t.url, connections, seconds], seconds));
    steps.push({ connections, ...pick(r), clientCpu: r.cpuSeconds / r.seconds });
    if (r.errors > 0 || r.p99Ms > P99_BOUND_MS) break;
  }
  return steps;
}

const pick = (r: ClientHttp & { squidCpu: number; machineCpu: number }) => ({
  rps: r.rps,
  p50Ms: r.p50Ms,
  p99Ms: r.p99Ms,
  errors: r.errors,
  squidCpu: r.squidCpu,
  machineCpu: r.machineCpu,
});

type ClientHold = { opened: number; failed: number; errors: Record<string, number>; p99Ms: number };

/** Tunnels held open at once, growing until some fail or opening them is slower than the bound. */
export async function tunnelSteps(host: Host, t: Target, squid: number, counts: readonly number[], runDir: string): Promise<TunnelStep[]> {
  const steps: TunnelStep[] = [];
  for (const count of counts) {
    const ready = path.join(runDir, `hold-${count}.ready`);
    const holdSeconds = Math.ceil(count / 4000) + 8;
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        t.ns,
        process.execPath,
        CLIENT,
        "hold",
        t.proxy,
        String(t.port),
        t.tunnelTo,
        String(count),
        "4000",
        String(holdSeconds),
        ready,
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    host.adopt(child);
    let out = "";
    child.stdout!.on("data", (d) => (out += d));
    const exited = new Promise<void>((resolve) => child.once("close", () => resolve()));
    for (let i = 0; i < holdSeconds * 10 && !fs.existsSync(ready); i++) await new Promise((r) => setTimeout(r, 100));
    const squidRssMb = rssMbOf(squid);
    await exited;
    const r = JSON.parse(out.trim().split("\n").pop() ?? "{}") as ClientHold;
    steps.push({ count, opened: r.opened, failed: r.failed, errors: r.errors, p99Ms: r.p99Ms, squidRssMb });
    await new Promise((resolve) => setTimeout(resolve, 2000));
    if (r.failed > 0 || r.p99Ms > P99_BOUND_MS) break;
  }
  return steps;
}

type ClientChurn = { ok: number; failed: number; p99Ms: number; okAtFirstFailure: number | null; seconds: number; cpuSeconds: number };

/** New tunnels a second to one destination: one step. */
export function churnStep(host: Host, t: Target, pids: readonly number[], perSecond: number, seconds: number): ChurnStep {
  const r = withCpu(pids, () =>
    client<ClientChurn>(host, t.ns, ["churn", t.proxy, t.port, t.tunnelTo, perSecond, seconds, 20000], seconds),
  );
  return {
    perSecond,
    ok: r.ok,
    failed: r.failed,
    p99Ms: r.p99Ms,
    okAtFirstFailure: r.okAtFirstFailure,
    squidCpu: r.squidCpu,
    clientCpu: r.cpuSeconds / r.seconds,
  };
}

/** New tunnels a second at growing rates until failures or p99 over the bound. */
export function churnSteps(host: Host, t: Target, pids: readonly number[], rates: readonly number[], seconds: number): ChurnStep[] {
  const steps: ChurnStep[] = [];
  for (const rate of rates) {
    steps.push(churnStep(host, t, pids, rate, seconds));
    const last = steps[steps.length - 1];
    if (last.failed > 0 || last.p99Ms > P99_BOUND_MS) break;
  }
  return steps;
}

/** The first port of the narrowed ranges: below the project's range, so no earlier step left TIME_WAIT there. */
const NARROW_FIRST = 4096;

/** A fresh narrowed port range, the `index`-th (0 to 5): ports of its own below the project's range, clear of Squid's. */
export const narrowRange = (index: number) => ({
  first: NARROW_FIRST + index * NARROW_PORTS,
  last: NARROW_FIRST + (index + 1) * NARROW_PORTS - 1,
});

/** Kernel settings as the project sets them, with the port range replaced. */
const projectWith = (range: { first: number; last: number }, port: number) =>
  proxyKernelSettings(port).map((s) => (s.key === "net.ipv4.ip_local_port_range" ? { ...s, value: `${range.first} ${range.last}` } : s));

/** The sizes of the measurement: full, or a short run while developing. */
export interface CapacityPlan {
  readonly stepSeconds: number;
  readonly httpConnections: readonly number[];
  readonly tunnelCounts: readonly number[];
  readonly churnRates: readonly number[];
  readonly budgetPerSecond: number;
  readonly fleetSizes: readonly number[];
}

export const FULL_PLAN: CapacityPlan = {
  stepSeconds: 5,
  httpConnections: [1, 4, 16, 64, 256, 1024],
  tunnelCounts: [1000, 4000, 8000, 16000, 32000],
  churnRates: [250, 500, 1000, 2000, 4000],
  budgetPerSecond: 150,
  fleetSizes: [1, 2, 3],
};

export const SHORT_PLAN: CapacityPlan = {
  stepSeconds: 2,
  httpConnections: [8, 64],
  tunnelCounts: [1000],
  churnRates: [500],
  budgetPerSecond: 300,
  fleetSizes: [1, 2],
};

/** The port budget: a narrowed range under Amazon Linux's defaults, the project's settings, and a service without timestamps. */
function portBudget(host: Host, lab: Lab, t: Target, pids: readonly number[], plan: CapacityPlan): CapacityFigures["portBudget"] {
  const proxyNs = lab.namespace("proxy");
  const seconds = Math.ceil(NARROW_PORTS / plan.budgetPerSecond) + 4;
  const run = (settings: readonly Pick<KernelSetting, "key" | "value">[]) => {
    applyKernelSettings(host, proxyNs, settings);
    return churnStep(host, t, pids, plan.budgetPerSecond, seconds);
  };
  const range = (i: number) => `${narrowRange(i).first} ${narrowRange(i).last}`;
  const amazonLinuxDefault = run([
    { key: "net.ipv4.ip_local_port_range", value: range(0) },
    { key: "net.ipv4.tcp_tw_reuse", value: "2" },
  ]);
  const project = run(projectWith(narrowRange(1), t.port));
  applyKernelSettings(host, lab.namespace("service"), [{ key: "net.ipv4.tcp_timestamps", value: "0" }]);
  const projectServiceWithoutTimestamps = run(projectWith(narrowRange(2), t.port));
  applyKernelSettings(host, lab.namespace("service"), [{ key: "net.ipv4.tcp_timestamps", value: "1" }]);
  applyKernelSettings(host, proxyNs, proxyKernelSettings(t.port));
  return { ports: NARROW_PORTS, perSecond: plan.budgetPerSecond, seconds, amazonLinuxDefault, project, projectServiceWithoutTimestamps };
}

/** Counts new TCP connections to the service's plain HTTP port, in the service's namespace. */
function synCounter(host: Host, ns: string, port: number): () => number {
  for (const args of [
    ["add", "table", "ip", "capacity"],
    ["add", "chain", "ip", "capacity", "syns", "{ type filter hook input priority 0; }"],
    ["add", "rule", "ip", "capacity", "syns", "tcp", "dport", String(port), "tcp flags & (syn | ack) == syn", "counter"],
  ]) {
    const r = host.inNs(ns, ["nft", ...args]);
    if (r.code !== 0) throw new Error(`nft ${args.join(" ")} failed: ${r.stderr}`);
  }
  return () => Number(/packets (\d+)/.exec(host.inNs(ns, ["nft", "list", "chain", "ip", "capacity", "syns"]).stdout)?.[1] ?? NaN);
}

/** Plain HTTP with a new app connection per request, with Squid's reuse of service connections on, then off (reconfigured). */
async function serverReuse(host: Host, lab: Lab, t: Target, seconds: number): Promise<CapacityFigures["serverReuse"]> {
  const syns = synCounter(host, lab.namespace("service"), lab.topology.servicePort);
  const step = (): ReuseStep => {
    const before = syns();
    const r = client<ClientHttp & { requests: number }>(host, t.ns, ["http", t.proxy, t.port, t.url, 16, seconds, "close"], seconds);
    return { rps: r.rps, p99Ms: r.p99Ms, errors: r.errors, serverConnectionsPerRequest: (syns() - before) / Math.max(1, r.requests) };
  };
  const on = step();
  const conf = fs.readFileSync(lab.squidConfFile, "utf8");
  await reconfigure(lab, conf.replace("server_persistent_connections on", "server_persistent_connections off"));
  const off = step();
  await reconfigure(lab, conf);
  return { on, off };
}

/** Rewrites the lab's base squid.conf and reconfigures Squid; waits until it answers again. */
async function reconfigure(lab: Lab, conf: string): Promise<void> {
  fs.writeFileSync(lab.squidConfFile, conf);
  must(["ip", "netns", "exec", lab.namespace("proxy"), "squid", "-k", "reconfigure", "-f", lab.squidConfFile, "-n", lab.squidName]);
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const url = `http://${lab.topology.hosts.proxy}:${lab.topology.proxyPort}`;
  for (let i = 0; i < 50 && lab.inHost("app", ["curl", "-s", "-o", "/dev/null", "--max-time", "1", url]).code !== 0; i++)
    await new Promise((resolve) => setTimeout(resolve, 200));
}

/** The single proxy's figures: plain HTTP, tunnels held, new tunnels a second, the port budget, server connection reuse. */
export async function measureSingleProxy(
  env: EnvironmentConfig,
  plan: CapacityPlan,
): Promise<Omit<CapacityFigures, "lab" | "fleet"> & { squidVersion: string }> {
  const lab = await startLab(env);
  try {
    const host = hostOf(lab.adopt);
    const { hosts, servicePort, proxyPort } = lab.topology;
    const proxyNs = lab.namespace("proxy");
    applyKernelSettings(host, proxyNs, proxyKernelSettings(proxyPort));
    applyKernelSettings(host, lab.namespace("app"), CLIENT_KERNEL);
    await startSink(host, lab.namespace("service"), hosts.service);
    const squid = squidPid(proxyNs);
    const t: Target = {
      ns: lab.namespace("app"),
      proxy: hosts.proxy,
      port: proxyPort,
      url: `http://${hosts.service}:${servicePort}/`,
      tunnelTo: `${hosts.service}:${SINK_PORT}`,
    };
    const http = httpSteps(host, t, [squid], plan.httpConnections, plan.stepSeconds);
    const busiest = http.reduce((a, b) => (b.rps > a.rps ? b : a));
    const direct = client<ClientHttp>(
      host,
      proxyNs,
      ["http", hosts.service, servicePort, "/", busiest.connections, plan.stepSeconds],
      plan.stepSeconds,
    );
    // Tunnels last: running Squid out of descriptors leaves it busy for a while.
    const reuse = await serverReuse(host, lab, t, plan.stepSeconds);
    const budget = portBudget(host, lab, t, [squid], plan);
    const churn = churnSteps(host, t, [squid], plan.churnRates, plan.stepSeconds);
    const idleRssMb = rssMbOf(squid);
    const fileDescriptors = Number(
      /With (\d+) file descriptors available/.exec(fs.readFileSync(path.join(lab.runDir, "squid-proxy", "cache.log"), "utf8"))?.[1] ?? 0,
    );
    const tunnels = { steps: await tunnelSteps(host, t, squid, plan.tunnelCounts, lab.runDir), idleRssMb, fileDescriptors };
    const squidVersion = /Version (\S+)/.exec(sh(["squid", "-v"]).stdout)?.[1] ?? "unknown";
    return { http, directRps: direct.rps, tunnels, churn, portBudget: budget, serverReuse: reuse, squidVersion };
  } finally {
    await lab.stop();
    fs.rmSync(lab.runDir, { recursive: true, force: true });
  }
}

const FLEET_ORDER: readonly ProxyLabel[] = ["a", "c", "a2"];

/** The fleet lab with 1, 2 and 3 proxies: plain HTTP through the load balancer and tunnels to one destination until failures. */
export async function measureFleet(env: EnvironmentConfig, plan: CapacityPlan): Promise<FleetStep[]> {
  const lab = await startFleetLab(env);
  try {
    const host = hostOf(lab.adopt);
    applyKernelSettings(host, lab.namespace("app"), CLIENT_KERNEL);
    await startSink(host, lab.namespace("service"), lab.hosts.service);
    const conf = proxySquidConf(env);
    const t: Target = {
      ns: lab.namespace("app"),
      proxy: lab.hosts.loadBalancer[0],
      port: lab.proxyPort,
      url: `http://${lab.hosts.service}:${lab.servicePort}/`,
      tunnelTo: `${lab.hosts.service}:${SINK_PORT}`,
    };
    const steps: FleetStep[] = [];
    for (const [index, size] of plan.fleetSizes.entries()) steps.push(await fleetStep(host, lab, conf, t, size, index, plan));
    return steps;
  } finally {
    await lab.stop();
    fs.rmSync(lab.runDir, { recursive: true, force: true });
  }
}

/** One fleet size: start the proxies it lacks, narrow each one's range afresh, measure. */
async function fleetStep(
  host: Host,
  lab: FleetLab,
  conf: string,
  t: Target,
  size: number,
  index: number,
  plan: CapacityPlan,
): Promise<FleetStep> {
  const labels = FLEET_ORDER.slice(0, size);
  for (const label of labels) if (!lab.inRotation().includes(label) && !hasSquid(lab, label)) await lab.startProxy(label, conf);
  await lab.waitForRotation(labels, 60);
  for (const label of labels) applyKernelSettings(host, lab.namespace(`proxy-${label}`), proxyKernelSettings(t.port));
  const pids = labels.map((l) => squidPid(lab.namespace(`proxy-${l}`)));
  const [busiest] = plan.httpConnections.slice(-2);
  const r = withCpu(pids, () =>
    client<ClientHttp>(host, t.ns, ["http", t.proxy, t.port, t.url, busiest, plan.stepSeconds], plan.stepSeconds),
  );
  for (const label of labels) applyKernelSettings(host, lab.namespace(`proxy-${label}`), projectWith(narrowRange(3 + index), t.port));
  // Without timestamps at the service, tcp_tw_reuse cannot help: the ports, not the CPU, are the limit.
  applyKernelSettings(host, lab.namespace("service"), [{ key: "net.ipv4.tcp_timestamps", value: "0" }]);
  const seconds = Math.ceil((size * NARROW_PORTS) / plan.budgetPerSecond) + 4;
  const budget = churnStep(host, t, pids, plan.budgetPerSecond, seconds);
  applyKernelSettings(host, lab.namespace("service"), [{ key: "net.ipv4.tcp_timestamps", value: "1" }]);
  return { proxies: size, rps: r.rps, squidCpu: r.squidCpu, machineCpu: r.machineCpu, okAtFirstFailure: budget.okAtFirstFailure };
}

const hasSquid = (lab: FleetLab, label: ProxyLabel) => {
  try {
    lab.squid(label);
    return true;
  } catch {
    return false;
  }
};

/** The lab machine, for the figures' header. */
export function labMachine(squid: string): CapacityFigures["lab"] {
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model.trim() ?? "unknown",
    squid,
    measured: new Date().toISOString().slice(0, 10),
  };
}

/** The whole measurement: the single proxy, then the fleet. */
export async function measureCapacity(single: EnvironmentConfig, fleet: EnvironmentConfig, plan: CapacityPlan): Promise<CapacityFigures> {
  // Squid inherits this process's descriptor limit; raise it to squid.conf's where the machine allows (a container may not).
  sh(["prlimit", `--pid=${process.pid}`, `--nofile=${SQUID_MAX_FILEDESCRIPTORS}:${SQUID_MAX_FILEDESCRIPTORS}`]);
  const { squidVersion, ...proxy } = await measureSingleProxy(single, plan);
  const fleetSteps = await measureFleet(fleet, plan);
  return { lab: labMachine(squidVersion), ...proxy, fleet: fleetSteps };
}
