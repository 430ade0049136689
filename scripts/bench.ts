/**
 * `npm run bench [synth] [scale] [test] [rehearsal] [proxy] [failover] [allowlist] [capacity] [--write]`: what synthesis,
 * the tests, the rehearsal and the proxy path cost on this machine, how the proxy fleet weathers a loss and a
 * rolling change, how fast a live allowlist change takes effect, how much one proxy carries, as medians of BENCH_RUNS runs (default 5)
 * with min and max, and as ratios against a baseline. Prints figures and targets; asserts nothing.
 * The proxy path needs root (network namespaces); GNU time (Debian's `time`) measures memory.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
// The labs load when their section runs (await import), so that --help and the synth section start fast.
import type { AllowlistFigures } from "../proof/allowlist-checks";
import type { AllowlistLabPlan } from "../proof/allowlist-lab";
import type { FleetFigures } from "../proof/fleet-checks";
import type { CapacityFigures } from "../proof/capacity-lab";
import { answerHelp } from "../tools/cli";

const USAGE = `
Usage: npm run bench -- [synth] [scale] [test] [rehearsal] [proxy] [failover] [allowlist] [capacity] [--write]

What synthesis, the tests, the rehearsal and the proxy path cost on this machine, how the proxy
fleet weathers a loss and a rolling change, and how long a live allowlist change takes to be in
force on every proxy (single proxy and fleet, beside the replacement path): medians of BENCH_RUNS
runs (default 5) with min and max, and ratios against a baseline. Prints figures and targets;
asserts nothing. Without a section name every section runs. The labs need root.
capacity: how much one proxy carries (plain HTTP requests a second and CONNECT tunnels held until
errors or p99 over 100 ms, new tunnels a second to one service address and port until failures,
the port budget by kernel settings, Squid's server connection reuse, 1 to 3 proxies behind the
load balancer stand-in); one run, about six minutes. With --write it writes docs/capacity.json,
from which npm run docs generates the README's Sizing section.

Settings (environment):
  BENCH_RUNS=<n>             runs per figure (at least 5)
  BENCH_ALLOWLIST_POLL=<s>   the allowlist section's poll interval (default: the demo's own)
  BENCH_CAPACITY_SHORT=1     the capacity section with a few short steps (while developing)

Options:
  --write  capacity: write the figures to docs/capacity.json
  --help   print this and do nothing else

Example:
  npm run bench -- synth
`;
answerHelp(USAGE);

const ROOT = path.join(__dirname, "..");
const RUNS = Math.max(5, Number(process.env.BENCH_RUNS ?? 5));
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), "bench-"));
const CDKTF = path.join(ROOT, "node_modules", ".bin", "cdktf");
const TSX = ["--require", "tsx/cjs"];

interface Stat {
  median: number;
  min: number;
  max: number;
}

function stat(values: number[]): Stat {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return { median: sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2, min: sorted[0], max: sorted[sorted.length - 1] };
}

const fmt = (s: Stat, unit: string, digits = 2) =>
  `${s.median.toFixed(digits)} ${unit} (min ${s.min.toFixed(digits)}, max ${s.max.toFixed(digits)})`;

function printLine(name: string, value: string, target?: string): void {
  console.log(`${name.padEnd(44)} ${value}${target ? `   [${target}]` : ""}`);
}
const line = printLine;

/** Runs a command under GNU time; returns wall seconds, CPU seconds (user + sys, children included), the peak RSS (MB) of its largest process, and its output. */
function timed(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): { seconds: number; cpuSeconds: number; peakMb: number; stdout: string } {
  if (!fs.existsSync("/usr/bin/time"))
    throw new Error("GNU time is not installed (/usr/bin/time); install it with apt-get install time, or run only the proxy section");
  const out = path.join(TMP, "time.txt");
  const r = spawnSync("/usr/bin/time", ["-f", "%e %U %S %M", "-o", out, ...args], {
    cwd: ROOT,
    env,
    encoding: "utf8",
    timeout: 600_000,
    maxBuffer: 64 * 2 ** 20,
  });
  if (r.status !== 0) throw new Error(`${args.join(" ")} failed (${r.status}):\n${(r.stderr || r.stdout).slice(-2000)}`);
  const [seconds, user, sys, kb] = fs.readFileSync(out, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
  return { seconds, cpuSeconds: user + sys, peakMb: kb / 1024, stdout: r.stdout };
}

function repeat(args: string[], env?: NodeJS.ProcessEnv): { seconds: Stat; cpuSeconds: Stat; peakMb: Stat; stdouts: string[] } {
  const runs = Array.from({ length: RUNS }, () => timed(args, env));
  return {
    seconds: stat(runs.map((r) => r.seconds)),
    cpuSeconds: stat(runs.map((r) => r.cpuSeconds)),
    peakMb: stat(runs.map((r) => r.peakMb)),
    stdouts: runs.map((r) => r.stdout),
  };
}

/** The app command of cdktf.json, split into words, with `entry` in place of main.ts. */
function appCommand(entry = "main.ts"): string[] {
  const app: string = JSON.parse(fs.readFileSync(path.join(ROOT, "cdktf.json"), "utf8")).app;
  return app.split(" ").map((word) => (word === "main.ts" ? entry : word));
}

/** The Node.js runs of the synth section: the machine's, and Node 22 when BENCH_NODE22 names the folder holding its `node`. */
function nodes(): { label: string; env: NodeJS.ProcessEnv }[] {
  const own = { label: `node ${process.version}`, env: process.env };
  const folder = process.env.BENCH_NODE22;
  if (!folder) return [own];
  const node = path.join(folder, "node");
  const version = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout?.trim();
  if (!version?.startsWith("v22."))
    throw new Error(
      `BENCH_NODE22 = "${folder}" holds no Node 22 (${node} --version: ${version || "did not run"}); give the bin folder of Node 22`,
    );
  const cache = path.join(TMP, "compile-cache");
  // PATH puts Node 22 first for the cdktf CLI and the app command; cdktf 0.21's util.isArray is deprecated there (DEP0044).
  const env = {
    ...process.env,
    PATH: `${folder}${path.delimiter}${process.env.PATH}`,
    NODE_COMPILE_CACHE: cache,
    NODE_OPTIONS: "--disable-warning=DEP0044",
  };
  return [own, { label: `node ${version}, compile cache`, env }];
}

function synthesis(): void {
  for (const node of nodes()) synthesisOn(node.label, node.env);
}

/** The synth figures on one Node.js, each line labelled with it. */
function synthesisOn(label: string, nodeEnv: NodeJS.ProcessEnv): void {
  const line = (name: string, value: string, target?: string) => printLine(`${name} [${label}]`, value, target);
  const env = { ...nodeEnv, CHECKPOINT_DISABLE: "1", PROXY_CONFIG: "" };
  const project = repeat([CDKTF, "synth", "--output", path.join(TMP, "project.out")], env);
  const baseline = repeat(
    [CDKTF, "synth", "--app", appCommand("scripts/bench-baseline.ts").join(" "), "--output", path.join(TMP, "baseline.out")],
    env,
  );
  line("cdktf synth, every environment: time", fmt(project.seconds, "s"));
  line("cdktf synth, empty baseline stack: time", fmt(baseline.seconds, "s"));
  line("cdktf synth: time ratio to the baseline", `${(project.seconds.median / baseline.seconds.median).toFixed(2)}x`, "target <= 1.10x");
  line(
    "cdktf synth: CPU (user + sys), project / baseline",
    `${fmt(project.cpuSeconds, "s")} / ${fmt(baseline.cpuSeconds, "s")} = ${(project.cpuSeconds.median / baseline.cpuSeconds.median).toFixed(2)}x (steadier than wall time on a shared machine)`,
  );
  line("cdktf synth, every environment: peak RSS", fmt(project.peakMb, "MB", 0), "target < 300 MB");
  line("cdktf synth, empty baseline stack: peak RSS", fmt(baseline.peakMb, "MB", 0));
  const appEnv = { ...env, CDKTF_OUTDIR: path.join(TMP, "app.out") };
  const app = repeat(appCommand(), appEnv);
  const appBaseline = repeat(appCommand("scripts/bench-baseline.ts"), appEnv);
  const tsxBaseline = repeat(["node", ...TSX, "scripts/bench-baseline.ts"], appEnv);
  const cdktfLoad = repeat(["node", "-e", 'require("cdktf")'], appEnv);
  line("main.ts alone (cdktf.json's app command): time", fmt(app.seconds, "s"));
  line("baseline app alone (same command): time", fmt(appBaseline.seconds, "s"));
  line("baseline app alone (per-file tsx loader): time", fmt(tsxBaseline.seconds, "s"));
  line("app alone: time ratio to the baseline", `${(app.seconds.median / appBaseline.seconds.median).toFixed(2)}x`, "target <= 1.5x");
  line("app alone: time ratio to the tsx baseline", `${(app.seconds.median / tsxBaseline.seconds.median).toFixed(2)}x`);
  line("main.ts alone: peak RSS", fmt(app.peakMb, "MB", 0));
  line(
    "app alone: CPU (user + sys), main.ts / baseline",
    `${fmt(app.cpuSeconds, "s")} / ${fmt(appBaseline.cpuSeconds, "s")} = ${(app.cpuSeconds.median / appBaseline.cpuSeconds.median).toFixed(2)}x`,
  );
  line("node -e 'require(\"cdktf\")': time", fmt(cdktfLoad.seconds, "s"));
  line(
    "app alone: what main.ts adds to the baseline",
    `${(app.seconds.median - appBaseline.seconds.median).toFixed(2)} s: loading the provider classes and zod, validating, building and resolving the stacks (docs/benchmarks.md)`,
  );
}

/** An environment with `count` app VPCs (the first with an app server), from verification.json. */
function generatedEnvironment(count: number): string {
  const raw = JSON.parse(fs.readFileSync(path.join(ROOT, "demos", "verification.json"), "utf8"));
  raw.name = `scale-${count}`;
  raw.expectedFlows = [];
  raw.appVpcs = Array.from({ length: count }, (_, i) => ({
    name: `app${i}`,
    cidr: `192.168.${i}.0/24`,
    subnets: [{ availabilityZone: "ap-northeast-1a", cidr: `192.168.${i}.0/24` }],
    ...(i === 0 ? { appServer: {} } : {}),
  }));
  const file = path.join(TMP, `scale-${count}.json`);
  fs.writeFileSync(file, JSON.stringify(raw));
  return file;
}

function scale(): void {
  const counts = [1, 10, 50];
  const medians = new Map<number, number>();
  for (const count of counts) {
    const env = { ...process.env, PROXY_CONFIG: generatedEnvironment(count), CDKTF_OUTDIR: path.join(TMP, `scale-${count}.out`) };
    const r = repeat(appCommand(), env);
    medians.set(count, r.seconds.median);
    line(`synthesis with ${count} app VPCs (main.ts)`, fmt(r.seconds, "s"));
  }
  const per = (a: number, b: number) => ((medians.get(b)! - medians.get(a)!) / (b - a)) * 1000;
  line("cost per added app VPC, 1 -> 50", `${per(1, 50).toFixed(1)} ms`, "target < 30 ms");
  line("cost per added app VPC, 1 -> 10 and 10 -> 50", `${per(1, 10).toFixed(1)} ms and ${per(10, 50).toFixed(1)} ms (equal when linear)`);
}

/** npm test: wall and CPU time, and each step's own wall time (scripts/test.js prints them). */
/** Seconds of CPU the whole machine has spent (every process, user + system), from /proc/stat. */
function machineCpuSeconds(): number {
  const fields = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal: all but idle and iowait are work.
  return (fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7]) / 100;
}

function tests(): void {
  const busyBefore = machineCpuSeconds();
  const loadBefore = os.loadavg()[0];
  const r = repeat(["npm", "test", "--silent"], { ...process.env, CHECKPOINT_DISABLE: "1" });
  const others = machineCpuSeconds() - busyBefore - r.cpuSeconds.median * RUNS;
  const wall = r.seconds.median * RUNS;
  line(
    "machine load during the runs",
    `load average ${loadBefore.toFixed(2)} before, ${os.loadavg()[0].toFixed(2)} after; other processes used about ${(others / wall).toFixed(2)} of ${os.cpus().length} cores`,
  );
  line("npm test: wall time", fmt(r.seconds, "s", 1), "target <= 40 s on two quiet cores");
  line("npm test: CPU time (user + sys)", fmt(r.cpuSeconds, "s", 1));
  const steps = new Map<string, number[]>();
  for (const stdout of r.stdouts) {
    const summary = /^npm test: (.*); all passed$/m.exec(stdout)?.[1] ?? "";
    for (const m of summary.matchAll(/(\w+) ([\d.]+) s/g)) steps.set(m[1], [...(steps.get(m[1]) ?? []), Number(m[2])]);
  }
  for (const [name, values] of steps) line(`npm test: ${name} step, wall time`, fmt(stat(values), "s", 1));
}

function rehearsal(): void {
  const phases = new Map<string, number[]>();
  for (let i = 0; i < RUNS; i++) {
    const r = spawnSync("npm", ["run", "-s", "rehearse"], { cwd: ROOT, encoding: "utf8", timeout: 900_000 });
    if (r.status !== 0) throw new Error(`npm run rehearse failed:\n${r.stdout.slice(-3000)}`);
    for (const m of r.stdout.matchAll(/^phase (\S+)\s+([\d.]+) s\s+ok$/gm)) phases.set(m[1], [...(phases.get(m[1]) ?? []), Number(m[2])]);
  }
  for (const [name, values] of phases) line(`rehearsal phase ${name}`, fmt(stat(values), "s", 1));
}

/** The allowlist lab's plan for a demo, polling every `pollSeconds`. */
async function labPlan(demo: string, pollSeconds?: number): Promise<AllowlistLabPlan> {
  const { allowlistLabPlan } = await import("../proof/allowlist-lab");
  const file = path.join(ROOT, "demos", demo);
  return allowlistLabPlan(JSON.parse(fs.readFileSync(file, "utf8")), path.relative(ROOT, file), pollSeconds);
}

async function proxyPath(): Promise<void> {
  const { labPrerequisites, startLab } = await import("../proof/netns-lab");
  const { loadEnvironmentFile } = await import("../lib/config");
  const missing = labPrerequisites();
  if (missing.length > 0) {
    line("proxy path", `not measured: ${missing.join("; ")}`);
    return;
  }
  const env = loadEnvironmentFile(path.join(ROOT, "demos", "verification.json"));
  const lab = await startLab(env);
  try {
    const { hosts, servicePort, proxyPort } = lab.topology;
    const client = path.join(ROOT, "scripts", "bench-http-client.js");
    const serviceUrl = `http://${hosts.service}:${servicePort}/`;
    const load = (via: "proxy" | "direct", requests: number, concurrency: number) => {
      const [ns, host, port, url]: ["app" | "proxy", string, number, string] =
        via === "proxy" ? ["app", hosts.proxy, proxyPort, serviceUrl] : ["proxy", hosts.service, servicePort, "/"];
      const r = lab.inHost(ns, ["node", client, host, String(port), url, String(requests), String(concurrency), "10"], 30_000);
      if (r.code !== 0) throw new Error(`load client failed: ${r.stderr}`);
      const result = JSON.parse(r.stdout);
      if (result.errors > 0) throw new Error(`${result.errors} requests failed ${via}`);
      return result as { rps: number; p50Ms: number; p99Ms: number };
    };
    const rounds = Array.from({ length: RUNS }, () => ({
      proxyThroughput: load("proxy", 2000, 8),
      directThroughput: load("direct", 2000, 8),
      proxyLatency: load("proxy", 500, 1),
      directLatency: load("direct", 500, 1),
    }));
    const s = (f: (r: (typeof rounds)[number]) => number) => stat(rounds.map(f));
    const proxyRps = s((r) => r.proxyThroughput.rps);
    const directRps = s((r) => r.directThroughput.rps);
    line("through Squid (app ns), 8 connections", fmt(proxyRps, "req/s", 0));
    line("direct (proxy ns to service), 8 connections", fmt(directRps, "req/s", 0));
    line("throughput ratio, through / direct", `${(proxyRps.median / directRps.median).toFixed(2)}`, "target >= 0.5");
    const p50 = s((r) => r.proxyLatency.p50Ms);
    const p50Direct = s((r) => r.directLatency.p50Ms);
    line("p50 latency through Squid, one at a time", fmt(p50, "ms", 3));
    line("p50 latency direct, one at a time", fmt(p50Direct, "ms", 3));
    line("p50 overhead of the proxy", `${(p50.median - p50Direct.median).toFixed(3)} ms`, "target < 1 ms");
    line(
      "p99 latency through Squid / direct",
      `${s((r) => r.proxyLatency.p99Ms).median.toFixed(3)} ms / ${s((r) => r.directLatency.p99Ms).median.toFixed(3)} ms`,
    );
  } finally {
    await lab.stop();
    fs.rmSync(lab.runDir, { recursive: true, force: true });
  }
}

/** The fleet's failover figures: the fleet lab's abrupt loss and rolling change, RUNS times. */
async function failover(): Promise<void> {
  const { labPrerequisites } = await import("../proof/netns-lab");
  const { startFleetLab } = await import("../proof/fleet-lab");
  const { fleetChecks } = await import("../proof/fleet-checks");
  const { LAB_POLL_SECONDS } = await import("../proof/allowlist-lab");
  const missing = labPrerequisites();
  if (missing.length > 0) {
    line("failover", `not measured: ${missing.join("; ")}`);
    return;
  }
  const plan = await labPlan("verification-fleet.json", LAB_POLL_SECONDS);
  const runs: FleetFigures[] = [];
  for (let i = 0; i < RUNS; i++) {
    const lab = await startFleetLab(plan.env, { listenPorts: plan.listenPorts, names: plan.names });
    const figures: FleetFigures = {};
    try {
      for (const check of fleetChecks(lab, plan, figures, { allowlist: false })) {
        const problem = await check.run();
        if (problem) throw new Error(`${check.name}: ${problem}`);
      }
    } finally {
      await lab.stop();
      fs.rmSync(lab.runDir, { recursive: true, force: true });
    }
    runs.push(figures);
  }
  const detection = runs[0].abruptLoss?.detectionSeconds ?? 0;
  line("abrupt loss of one proxy: failed requests", fmt(stat(runs.map((r) => r.abruptLoss?.failed ?? 0)), "", 0));
  line(
    "abrupt loss: seconds of errors",
    fmt(stat(runs.map((r) => r.abruptLoss?.errorSeconds ?? 0)), "s", 1),
    `target <= ${detection} s (detection time)`,
  );
  line("rolling change of the allowlist: failed requests", fmt(stat(runs.map((r) => r.rollingChange?.failed ?? 0)), "", 0), "target 0");
  line("rolling change: requests sent", fmt(stat(runs.map((r) => r.rollingChange?.requests ?? 0)), "", 0));
}

/** Runs `checks` in order and throws at the first failure. */
async function runAll(checks: readonly { name: string; run: () => Promise<string | undefined> }[]): Promise<void> {
  for (const check of checks) {
    const problem = await check.run();
    if (problem) throw new Error(`${check.name}: ${problem}`);
  }
}

/** One run of the single proxy's live allowlist changes; its figures. */
async function singleAllowlistRun(plan: AllowlistLabPlan): Promise<AllowlistFigures> {
  const { startLab } = await import("../proof/netns-lab");
  const { allowlistChecks, singleProxyTarget } = await import("../proof/allowlist-checks");
  const lab = await startLab(plan.env, { listenPorts: plan.listenPorts, names: plan.names });
  const figures: AllowlistFigures = { changes: [] };
  try {
    await runAll(allowlistChecks(singleProxyTarget(lab), plan, figures, true));
  } finally {
    await lab.stop();
    fs.rmSync(lab.runDir, { recursive: true, force: true });
  }
  return figures;
}

/** One run of the fleet lab with its live allowlist changes and its rolling replacement; its figures. */
async function fleetAllowlistRun(plan: AllowlistLabPlan): Promise<FleetFigures> {
  const { startFleetLab } = await import("../proof/fleet-lab");
  const { fleetChecks } = await import("../proof/fleet-checks");
  const lab = await startFleetLab(plan.env, { listenPorts: plan.listenPorts, names: plan.names });
  const figures: FleetFigures = {};
  try {
    await runAll(fleetChecks(lab, plan, figures, { spread: true }));
  } finally {
    await lab.stop();
    fs.rmSync(lab.runDir, { recursive: true, force: true });
  }
  return figures;
}

/** Seconds from each write to the rule in force: per proxy, and per change on every proxy (the slowest proxy). */
function inForce(runs: readonly AllowlistFigures[]): { perProxy: number[]; everyProxy: number[] } {
  const changes = runs.flatMap((r) => r.changes);
  const seconds = (c: AllowlistFigures["changes"][number]) => Object.values(c.seconds).map((x) => x ?? Infinity);
  return { perProxy: changes.flatMap(seconds), everyProxy: changes.map((c) => Math.max(...seconds(c))) };
}

/** The live allowlist change in the labs, single proxy and fleet, beside the replacement path it replaces. */
async function allowlist(): Promise<void> {
  const { labPrerequisites } = await import("../proof/netns-lab");
  const { IN_FORCE_MARGIN_SECONDS } = await import("../proof/allowlist-lab");
  const missing = labPrerequisites();
  if (missing.length > 0) {
    line("allowlist", `not measured: ${missing.join("; ")}`);
    return;
  }
  const poll = process.env.BENCH_ALLOWLIST_POLL ? Number(process.env.BENCH_ALLOWLIST_POLL) : undefined;
  const [singlePlan, fleetPlan] = [await labPlan("verification.json", poll), await labPlan("verification-fleet.json", poll)];
  const single: AllowlistFigures[] = [];
  const fleet: FleetFigures[] = [];
  for (let i = 0; i < RUNS; i++) {
    single.push(await singleAllowlistRun(singlePlan));
    fleet.push(await fleetAllowlistRun(fleetPlan));
  }
  const fleetAllowlist = fleet.map((f) => f.allowlist!);
  const bound = `target <= ${singlePlan.pollSeconds} s + ${IN_FORCE_MARGIN_SECONDS} s`;
  const [s, f] = [inForce(single), inForce(fleetAllowlist)];
  const changes = single[0].changes.length;
  line(`allowlist poll interval (each proxy)`, `${singlePlan.pollSeconds} s; ${changes} changes per run`);
  line("single proxy: write -> rule in force", fmt(stat(s.perProxy), "s", 1), bound);
  line("fleet: write -> in force on one proxy", fmt(stat(f.perProxy), "s", 1), bound);
  line("fleet: write -> in force on every proxy", fmt(stat(f.everyProxy), "s", 1), bound);
  const failed = (runs: AllowlistFigures[]) =>
    `${runs.reduce((n, r) => n + (r.steady?.failed ?? 0), 0)} of ${runs.reduce((n, r) => n + (r.steady?.requests ?? 0), 0)}`;
  line("failed requests during the changes, single / fleet", `${failed(single)} / ${failed(fleetAllowlist)} (every run)`, "target 0");
  const slowest = (runs: AllowlistFigures[]) => fmt(stat(runs.map((r) => (r.steady?.slowestMs ?? 0) / 1000)), "s", 2);
  line("slowest request during the changes, single", slowest(single));
  line("slowest request during the changes, fleet", slowest(fleetAllowlist));
  const refused = [...single, ...fleetAllowlist].flatMap((r) => Object.values(r.refused ?? {}).map((x) => x ?? Infinity));
  line('refused version: write -> "refused" line', fmt(stat(refused), "s", 1), bound);
  const rolling = fleet.map((r) => r.rollingChange!);
  line(
    "today's path, fleet: rolling replacement (lab)",
    `${fmt(stat(rolling.map((r) => r.seconds)), "s", 1)}, failed ${rolling.reduce((n, r) => n + r.failed, 0)} of ${rolling.reduce((n, r) => n + r.requests, 0)}`,
  );
  line(
    "today's path, single proxy: replacement",
    "not measured in the lab (a new instance boots and installs Squid); README: app servers wait a few minutes",
  );
}

/** How much one proxy carries, in the labs; with --write, the figures go to docs/capacity.json. */
async function capacity(): Promise<void> {
  const { labPrerequisites } = await import("../proof/netns-lab");
  const { capacityEnvironment, FULL_PLAN, measureCapacity, P99_BOUND_MS, SHORT_PLAN } = await import("../proof/capacity-lab");
  const { CAPACITY_FILE, capacitySummary } = await import("../tools/sizing");
  const missing = labPrerequisites();
  if (missing.length > 0) {
    line("capacity", `not measured: ${missing.join("; ")}`);
    return;
  }
  const raw = (demo: string) => JSON.parse(fs.readFileSync(path.join(ROOT, "demos", demo), "utf8"));
  const figures = await measureCapacity(
    capacityEnvironment(raw("verification.json"), "demos/verification.json"),
    capacityEnvironment(raw("verification-fleet.json"), "demos/verification-fleet.json"),
    process.env.BENCH_CAPACITY_SHORT ? SHORT_PLAN : FULL_PLAN,
  );
  printCapacity(figures, P99_BOUND_MS, capacitySummary);
  if (process.argv.includes("--write")) {
    fs.writeFileSync(path.join(ROOT, CAPACITY_FILE), `${JSON.stringify(figures, null, 2)}\n`);
    line("capacity figures written", `${CAPACITY_FILE} (npm run docs puts them in the README)`);
  }
}

const pct = (x: number) => `${Math.round(x * 100)}%`;

/** The capacity figures, step by step, then the summary the README shows. */
function printCapacity(f: CapacityFigures, p99BoundMs: number, summary: (f: CapacityFigures) => [string, string][]): void {
  line("capacity lab", `${f.lab.cpus} x ${f.lab.cpuModel}, Squid ${f.lab.squid}; Squid runs one process (one core)`);
  for (const s of f.http)
    line(
      `plain HTTP, ${s.connections} keep-alive connections`,
      `${s.rps.toFixed(0)} req/s, p50 ${s.p50Ms.toFixed(1)} ms, p99 ${s.p99Ms.toFixed(1)} ms, errors ${s.errors}; CPU: Squid ${pct(s.squidCpu)}, client ${pct(s.clientCpu)}, machine ${s.machineCpu.toFixed(2)} cores`,
      `p99 <= ${p99BoundMs} ms`,
    );
  line("plain HTTP direct to apache2 (service headroom)", `${f.directRps.toFixed(0)} req/s`);
  line("Squid's descriptors in the lab", `${f.tunnels.fileDescriptors} (the lab's hard limit; squid.conf asks for 65536)`);
  for (const s of f.tunnels.steps)
    line(
      `CONNECT tunnels held open: ${s.count}`,
      `${s.opened} opened, ${s.failed} failed ${JSON.stringify(s.errors)}, p99 to 200 ${s.p99Ms.toFixed(1)} ms, Squid RSS ${s.squidRssMb.toFixed(0)} MB (idle ${f.tunnels.idleRssMb.toFixed(0)} MB)`,
    );
  for (const s of f.churn)
    line(
      `new tunnels to one destination: ${s.perSecond}/s`,
      `${s.ok} ok, ${s.failed} failed, p99 ${s.p99Ms.toFixed(1)} ms; CPU: Squid ${pct(s.squidCpu)}, client ${pct(s.clientCpu)}`,
    );
  const b = f.portBudget;
  const budget = (name: string, s: CapacityFigures["portBudget"]["project"]) =>
    line(
      `port budget, ${b.ports} ports, ${b.perSecond}/s: ${name}`,
      `${s.ok} ok, ${s.failed} failed, ok before the first failure: ${s.okAtFirstFailure ?? "none failed"}`,
    );
  budget("Amazon Linux defaults", b.amazonLinuxDefault);
  budget("project settings", b.project);
  budget("project, service without timestamps", b.projectServiceWithoutTimestamps);
  const r = f.serverReuse;
  line(
    "plain HTTP, new app connection each: reuse on",
    `${r.on.rps.toFixed(0)} req/s, p99 ${r.on.p99Ms.toFixed(1)} ms, errors ${r.on.errors}, ${r.on.serverConnectionsPerRequest.toFixed(3)} new service connections per request`,
  );
  line(
    "plain HTTP, new app connection each: reuse off",
    `${r.off.rps.toFixed(0)} req/s, p99 ${r.off.p99Ms.toFixed(1)} ms, errors ${r.off.errors}, ${r.off.serverConnectionsPerRequest.toFixed(3)} new service connections per request`,
  );
  const one = f.fleet[0];
  for (const s of f.fleet)
    line(
      `fleet of ${s.proxies} behind the load balancer`,
      `${s.rps.toFixed(0)} req/s (x${(s.rps / one.rps).toFixed(2)}, machine ${s.machineCpu.toFixed(2)} cores busy); tunnels to one destination before a failure ${s.okAtFirstFailure ?? "none failed"} (x${((s.okAtFirstFailure ?? 0) / (one.okAtFirstFailure ?? 1)).toFixed(2)})`,
    );
  for (const [name, value] of summary(f)) line(name, value);
}

async function main(): Promise<void> {
  const sections: Record<string, () => void | Promise<void>> = {
    synth: synthesis,
    scale,
    test: tests,
    rehearsal,
    proxy: proxyPath,
    failover,
    allowlist,
    capacity,
  };
  const named = process.argv.slice(2).filter((a) => a !== "--write");
  const chosen = named.length > 0 ? named : Object.keys(sections);
  const unknown = chosen.filter((c) => !(c in sections));
  if (unknown.length > 0) throw new Error(`unknown section ${unknown.join(", ")}; choose from ${Object.keys(sections).join(", ")}`);
  console.log(
    `bench: ${RUNS} runs per figure on ${os.cpus().length} x ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  );
  for (const name of chosen) await sections[name]();
}

main()
  .catch((e) => {
    console.error(`npm run bench: ${(e as Error).message}`);
    process.exitCode = 1;
  })
  .finally(() => fs.rmSync(TMP, { recursive: true, force: true }));
