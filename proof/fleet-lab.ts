/**
 * The proxy fleet on one machine (needs root): namespaces for the app, an outsider, the service, the proxies and a
 * Network Load Balancer stand-in (nftables DNAT that keeps the client's address, health checks, draining by conntrack).
 * A layer-7 proxy in front would hide client addresses, so it would be no faithful stand-in.
 */
import { ChildProcess, execFile, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { addressAt, cidrsOverlap } from "../lib/cidr";
import { EnvironmentConfig, firstServicePort, loadBalancerAddresses, peeredServiceSide } from "../lib/config";
import { LabExtras, must, sh, startService, startSquid, startStandInDns, waitFor } from "./netns-lab";

const run = promisify(execFile);

/** The proxies a lab can hold: two at first (zones a and c), a replacement, and two for a rolling change. */
export const FLEET_LABELS = ["a", "c", "a2", "a3", "c2"] as const;
export type ProxyLabel = (typeof FLEET_LABELS)[number];
type Role = "app" | "app2" | "outsider" | "service" | "lb" | `proxy-${ProxyLabel}`;

/** Blocks for the outsider, the first that overlaps nothing of the environment. */
const OUTSIDER_BLOCKS = ["198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24"];

/** A running fleet lab. */
export interface FleetLab {
  readonly hosts: {
    readonly app: string;
    /** A client in the second app VPC, when the environment has one. */
    readonly app2?: string;
    readonly outsider: string;
    readonly outsiderBlock: string;
    readonly service: string;
    readonly loadBalancer: readonly string[];
  };
  /** Each proxy's address, by label; "a…" sit in the first proxy subnet, "c…" in the second. */
  readonly proxyAddress: Readonly<Record<ProxyLabel, string>>;
  readonly servicePort: number;
  /** The service's first TLS port, where it also listens, if it has one. */
  readonly tlsPort?: number;
  readonly proxyPort: number;
  readonly serviceAccessLog: string;
  readonly runDir: string;
  /** Seconds from a proxy's failure to its removal: unhealthy threshold times the interval. */
  readonly detectionSeconds: number;
  readonly intervalMs: number;
  readonly healthyThreshold: number;
  /** Starts Squid with `userDataConf` in a proxy's namespace and registers it; it takes traffic once healthy. */
  startProxy(label: ProxyLabel, userDataConf: string): Promise<void>;
  /** Squid's access log of a proxy. */
  accessLog(label: ProxyLabel): string;
  /** A started proxy's Squid: its `-n` name, base squid.conf and the allowlist file that includes. */
  squid(label: ProxyLabel): { squidName: string; confFile: string; allowlistFile: string };
  /** The network namespace of a role. */
  namespace(role: Role): string;
  /** Hands a started process to the lab, which stops it by its PID when it stops. */
  adopt(child: ChildProcess): void;
  /** Sends a signal to a proxy's Squid (SIGKILL: an abrupt loss; SIGINT: a graceful stop). */
  signalProxy(label: ProxyLabel, signal: NodeJS.Signals): Promise<void>;
  /** Takes a proxy out of rotation for new connections; open ones carry on. */
  deregister(label: ProxyLabel): void;
  /** The proxies that take new connections now. */
  inRotation(): ProxyLabel[];
  /** Waits (bounded) until the proxies in rotation are exactly `labels`. */
  waitForRotation(labels: readonly ProxyLabel[], seconds: number): Promise<void>;
  /** Runs a command in a namespace. */
  inHost(role: Role, args: readonly string[], timeoutMs?: number): ReturnType<typeof sh>;
  /** Starts the bounded steady client in the app namespace; resolves with its result. */
  steadyClient(
    url: string,
    seconds: number,
    pauseMs: number,
  ): Promise<{
    requests: number;
    failed: number;
    firstFailureMs: number | null;
    lastFailureMs: number | null;
    lastSuccessMs: number | null;
    seconds: number;
  }>;
  stop(): Promise<void>;
}

type Fleet = NonNullable<EnvironmentConfig["proxy"]["fleet"]>;

/** What the lab is built from: the environment's fleet, app VPC and service port, and the addresses of every host. */
interface FleetPlan {
  readonly env: EnvironmentConfig;
  readonly fleet: Fleet;
  readonly appCidr: string;
  readonly app2Cidr?: string;
  readonly servicePort: number;
  readonly tlsPort?: number;
  readonly extras: LabExtras;
  readonly hosts: FleetLab["hosts"];
  readonly proxyAddress: Record<ProxyLabel, string>;
}

/** A running lab's state: its namespaces and processes, and the load balancer's view of each proxy. */
interface FleetState extends FleetPlan {
  readonly id: string;
  readonly runDir: string;
  readonly port: number;
  readonly children: ChildProcess[];
  readonly squids: Map<ProxyLabel, ChildProcess>;
  readonly accessLogs: Map<ProxyLabel, string>;
  readonly squidFiles: Map<ProxyLabel, ReturnType<FleetLab["squid"]>>;
  readonly created: string[];
  stopped: boolean;
  checker?: NodeJS.Timeout;
  /** Registered or not, and health by consecutive checks. */
  readonly targets: Map<ProxyLabel, { registered: boolean; healthy: boolean; passes: number; fails: number }>;
  rotation: ProxyLabel[];
}

/** Checks that the environment suits the lab and places every host. */
function fleetPlan(env: EnvironmentConfig, extras: LabExtras): FleetPlan {
  const fleet = env.proxy.fleet;
  if (!fleet) throw new Error("the fleet lab needs an environment with proxy.fleet, such as demos/verification-fleet.json");
  const side = peeredServiceSide(env, "the fleet lab");
  const [appVpc, app2Vpc] = env.appVpcs.filter((a) => a.subnets);
  if (!appVpc?.subnets) throw new Error("the fleet lab needs an app VPC that the project creates (with subnets)");
  const servicePort = firstServicePort(env, "http");
  if (servicePort === undefined) throw new Error("the fleet lab needs a plain HTTP port on services[0]");
  const used = [env.proxyVpc.cidr, side.vpc.cidr, ...env.appVpcs.map((a) => a.cidr), ...env.services.map((s) => s.cidr)];
  const outsiderBlock = OUTSIDER_BLOCKS.find((b) => !used.some((u) => cidrsOverlap(b, u)));
  if (!outsiderBlock) throw new Error(`fleet lab: every outsider block (${OUTSIDER_BLOCKS.join(", ")}) overlaps the environment`);
  const [zoneA, zoneC] = env.proxyVpc.subnets;
  const hosts = {
    app: addressAt(appVpc.subnets[0].cidr, 4),
    ...(app2Vpc?.subnets && { app2: addressAt(app2Vpc.subnets[0].cidr, 4) }),
    outsider: addressAt(outsiderBlock, 4),
    outsiderBlock,
    service: addressAt(side.vpc.subnets[0].cidr, 4),
    loadBalancer: loadBalancerAddresses(env),
  };
  const proxyAddress: Record<ProxyLabel, string> = {
    a: addressAt(zoneA.cidr, 20),
    c: addressAt(zoneC.cidr, 20),
    a2: addressAt(zoneA.cidr, 21),
    a3: addressAt(zoneA.cidr, 22),
    c2: addressAt(zoneC.cidr, 21),
  };
  return {
    env,
    fleet,
    appCidr: appVpc.cidr,
    app2Cidr: app2Vpc?.cidr,
    servicePort,
    tlsPort: firstServicePort(env, "tls"),
    extras,
    hosts,
    proxyAddress,
  };
}

const ns = (s: FleetState, role: Role) => `pxf-${s.id}-${role}`;
const inHostOf = (s: FleetState) => (role: Role, args: readonly string[], timeoutMs?: number) =>
  sh(["ip", "netns", "exec", ns(s, role), ...args], timeoutMs);
const launcher = (s: FleetState, role: Role) => (args: readonly string[], out: number) =>
  spawn("ip", ["netns", "exec", ns(s, role), ...args], { stdio: ["ignore", out, out] });

/** Stops a process with `signal`, then SIGKILL if it has not exited within 10 s. */
async function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(signal);
  const late = new Promise<"late">((resolve) => setTimeout(() => resolve("late"), 10_000).unref());
  if ((await Promise.race([exited, late])) === "late") {
    child.kill("SIGKILL");
    await exited;
  }
}

/** Stops the health checker and every process, then removes the namespaces and Squid's shared memory; safe to call twice. */
async function stopLab(s: FleetState): Promise<void> {
  if (s.stopped) return;
  s.stopped = true;
  if (s.checker) clearInterval(s.checker);
  for (const child of [...s.children].reverse()) await stopChild(child, child.spawnargs.includes("squid") ? "SIGINT" : "SIGTERM");
  for (const name of s.created) sh(["ip", "netns", "del", name]);
  for (const f of fs.readdirSync("/dev/shm").filter((f) => f.includes(`pxf${s.id}`))) fs.rmSync(path.join("/dev/shm", f), { force: true });
}

/** Points the load balancer's DNAT at the registered, healthy proxies, when they changed. */
function applyRotation(s: FleetState): void {
  const next = FLEET_LABELS.filter((l) => s.targets.get(l)?.registered && s.targets.get(l)?.healthy);
  if (next.join() === s.rotation.join()) return;
  s.rotation = next;
  const rule =
    next.length === 0
      ? ""
      : `add rule ip lb pre ip daddr { ${s.hosts.loadBalancer.join(", ")} } tcp dport ${s.port} dnat to numgen inc mod ${next.length} map { ${next.map((l, i) => `${i} : ${s.proxyAddress[l]}`).join(", ")} }\n`;
  const r = sh(["ip", "netns", "exec", ns(s, "lb"), "sh", "-c", `printf '%s' "$0" | nft -f -`, `flush chain ip lb pre\n${rule}`]);
  if (r.code !== 0) throw new Error(`nft could not set the rotation: ${r.stderr}`);
}

/** True when a proxy's port accepts a connection from the load balancer. */
async function portOpen(s: FleetState, label: ProxyLabel): Promise<boolean> {
  try {
    await run("ip", ["netns", "exec", ns(s, "lb"), "timeout", "1", "bash", "-c", `exec 3<>/dev/tcp/${s.proxyAddress[label]}/${s.port}`], {
      timeout: 3000,
    });
    return true;
  } catch {
    return false;
  }
}

/** One round of health checks of the registered proxies, then the rotation they call for. */
async function healthCheck(s: FleetState): Promise<void> {
  await Promise.all(
    [...s.targets].map(async ([label, t]) => {
      if (!t.registered) return;
      if (await portOpen(s, label)) {
        t.passes++;
        t.fails = 0;
        if (t.passes >= s.fleet.healthyThreshold) t.healthy = true;
      } else {
        t.fails++;
        t.passes = 0;
        if (t.fails >= s.fleet.unhealthyThreshold) t.healthy = false;
      }
    }),
  );
  if (!s.stopped) applyRotation(s);
}

/** A namespace per role; proxies forward nothing, the load balancer routes and answers ARP for what lies behind it. */
function createNamespaces(s: FleetState): void {
  const roles: Role[] = [
    "app",
    ...(s.hosts.app2 ? ["app2" as const] : []),
    "outsider",
    "service",
    "lb",
    ...FLEET_LABELS.map((l) => `proxy-${l}` as Role),
  ];
  for (const role of roles) {
    must(["ip", "netns", "add", ns(s, role)]);
    s.created.push(ns(s, role));
    must(["ip", "-n", ns(s, role), "link", "set", "lo", "up"]);
  }
  for (const label of FLEET_LABELS) must(["ip", "netns", "exec", ns(s, `proxy-${label}`), "sysctl", "-qw", "net.ipv4.ip_forward=0"]);
  must(["ip", "netns", "exec", ns(s, "lb"), "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.proxy_arp=1"]);
  for (const address of s.hosts.loadBalancer) must(["ip", "-n", ns(s, "lb"), "addr", "add", `${address}/32`, "dev", "lo"]);
}

/** The veth links: clients to the load balancer, each proxy to the load balancer and to the service. */
function linkNamespaces(s: FleetState): void {
  const { env, hosts, proxyAddress } = s;
  let n = 0;
  const link = (
    a: Role,
    aAddress: string,
    aRoutes: string[],
    b: Role,
    bAddress: string | undefined,
    bRoutes: string[],
    bSource?: string,
  ) => {
    n++;
    const [da, db] = [`${s.id}x${n}a`, `${s.id}x${n}b`];
    must(["ip", "link", "add", da, "netns", ns(s, a), "type", "veth", "peer", "name", db, "netns", ns(s, b)]);
    must(["ip", "-n", ns(s, a), "addr", "add", `${aAddress}/32`, "dev", da]);
    if (bAddress) must(["ip", "-n", ns(s, b), "addr", "add", `${bAddress}/32`, "dev", db]);
    must(["ip", "-n", ns(s, a), "link", "set", da, "up"]);
    must(["ip", "-n", ns(s, b), "link", "set", db, "up"]);
    for (const r of aRoutes) must(["ip", "-n", ns(s, a), "route", "add", r, "dev", da]);
    for (const r of bRoutes) must(["ip", "-n", ns(s, b), "route", "add", r, "dev", db, ...(bSource ? ["src", bSource] : [])]);
  };
  // Clients reach the load balancer's addresses over "peering"; the load balancer routes back.
  link("app", hosts.app, [env.proxyVpc.cidr], "lb", undefined, [s.appCidr], hosts.loadBalancer[0]);
  link("outsider", hosts.outsider, [env.proxyVpc.cidr], "lb", undefined, [`${hosts.outsider}/32`], hosts.loadBalancer[0]);
  if (hosts.app2 && s.app2Cidr) link("app2", hosts.app2, [env.proxyVpc.cidr], "lb", undefined, [s.app2Cidr], hosts.loadBalancer[0]);
  for (const label of FLEET_LABELS) {
    const proxy: Role = `proxy-${label}`;
    // Replies to clients go back through the load balancer, which undoes its DNAT.
    const toLoadBalancer = [
      s.appCidr,
      ...(s.app2Cidr ? [s.app2Cidr] : []),
      `${hosts.outsider}/32`,
      ...hosts.loadBalancer.map((a) => `${a}/32`),
    ];
    link(proxy, proxyAddress[label], toLoadBalancer, "lb", undefined, [`${proxyAddress[label]}/32`], hosts.loadBalancer[0]);
    link(
      proxy,
      proxyAddress[label],
      env.services.map((x) => x.cidr),
      "service",
      hosts.service,
      [`${proxyAddress[label]}/32`],
    );
  }
  must(["ip", "netns", "exec", ns(s, "lb"), "nft", "add table ip lb"]);
  must(["ip", "netns", "exec", ns(s, "lb"), "nft", "add chain ip lb pre { type nat hook prerouting priority dstnat; policy accept; }"]);
}

/** Starts apache2 as the service and waits until it answers; returns its access log, emptied of the wait's requests. */
async function startServiceHost(s: FleetState): Promise<string> {
  const { process: apache, accessLog } = startService(
    s.runDir,
    s.env.name,
    s.hosts.service,
    s.servicePort,
    s.tlsPort,
    launcher(s, "service"),
    s.extras.listenPorts,
  );
  s.children.push(apache);
  await waitFor(
    "apache2 answering",
    apache,
    () =>
      inHostOf(s)("service", ["curl", "-s", "-o", "/dev/null", "--max-time", "1", `http://${s.hosts.service}:${s.servicePort}/`]).code ===
      0,
  );
  fs.truncateSync(accessLog, 0);
  return accessLog;
}

/** The lab's DNS for the extras' names, on the service host (which every proxy routes to): dnsmasq answering them with its address. */
async function startNames(s: FleetState): Promise<void> {
  const names = s.extras.names ?? [];
  if (names.length === 0) return;
  const dns = startStandInDns(s.runDir, names, s.hosts.service, [], launcher(s, "service"));
  s.children.push(dns.process);
  await waitFor("dnsmasq started", dns.process, () => fs.readFileSync(dns.log, "utf8").includes("started"));
}

/** Starts Squid in a proxy's namespace, waits until it listens, and registers it (unhealthy until checked). */
async function startProxy(s: FleetState, label: ProxyLabel, userDataConf: string): Promise<void> {
  const role: Role = `proxy-${label}`;
  const squidName = `pxf${s.id}${label}`;
  const dns = s.extras.names?.length ? [s.hosts.service] : undefined;
  const { process, host, confFile, allowlistFile } = startSquid(s.runDir, label, squidName, userDataConf, launcher(s, role), dns);
  s.children.push(process);
  s.squids.set(label, process);
  s.accessLogs.set(label, host.accessLog);
  s.squidFiles.set(label, { squidName, confFile, allowlistFile });
  await waitFor(
    `Squid ${label} listening`,
    process,
    () => inHostOf(s)(role, ["bash", "-c", `exec 3<>/dev/tcp/${s.proxyAddress[label]}/${s.port}`], 2000).code === 0,
    100,
  );
  s.targets.set(label, { registered: true, healthy: false, passes: 0, fails: 0 });
}

/** Runs the bounded steady client in the app namespace against the load balancer. */
function steadyClient(s: FleetState, url: string, seconds: number, pauseMs: number): ReturnType<FleetLab["steadyClient"]> {
  return new Promise((resolve, reject) => {
    const client = spawn(
      "ip",
      [
        "netns",
        "exec",
        ns(s, "app"),
        process.execPath,
        path.join(__dirname, "steady-client.js"),
        s.hosts.loadBalancer[0],
        String(s.port),
        url,
        "100000",
        String(seconds),
        String(pauseMs),
      ],
      {
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    s.children.push(client);
    let out = "";
    client.stdout.on("data", (d) => (out += d));
    client.on("close", (code) =>
      code === 0
        ? resolve(JSON.parse(out.trim().split("\n").pop() ?? "{}"))
        : reject(new Error(`the steady client exited ${code}: ${out}`)),
    );
  });
}

/** The running lab's handle. */
function fleetLabHandle(s: FleetState, serviceAccessLog: string): FleetLab {
  return {
    hosts: s.hosts,
    proxyAddress: s.proxyAddress,
    servicePort: s.servicePort,
    tlsPort: s.tlsPort,
    proxyPort: s.port,
    serviceAccessLog,
    runDir: s.runDir,
    detectionSeconds: s.fleet.unhealthyThreshold * s.fleet.healthCheckIntervalSeconds,
    intervalMs: s.fleet.healthCheckIntervalSeconds * 1000,
    healthyThreshold: s.fleet.healthyThreshold,
    startProxy: (label, userDataConf) => startProxy(s, label, userDataConf),
    accessLog: (label) => s.accessLogs.get(label) ?? "",
    squid(label) {
      const files = s.squidFiles.get(label);
      if (!files) throw new Error(`no Squid ${label} in the lab`);
      return files;
    },
    namespace: (role) => ns(s, role),
    adopt: (child) => void s.children.push(child),
    async signalProxy(label, signal) {
      const squid = s.squids.get(label);
      if (!squid) throw new Error(`no Squid ${label} in the lab`);
      if (signal === "SIGKILL") squid.kill("SIGKILL");
      else await stopChild(squid, signal);
    },
    deregister(label) {
      const t = s.targets.get(label);
      if (t) t.registered = false;
      applyRotation(s);
    },
    inRotation: () => [...s.rotation],
    async waitForRotation(labels, seconds) {
      const want = [...labels].sort().join();
      for (let i = 0; i < seconds * 10; i++) {
        if ([...s.rotation].sort().join() === want) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(
        `the load balancer's rotation is ${s.rotation.join(", ") || "empty"} after ${seconds} s, expected ${labels.join(", ")}`,
      );
    },
    inHost: inHostOf(s),
    steadyClient: (url, seconds, pauseMs) => steadyClient(s, url, seconds, pauseMs),
    stop: () => stopLab(s),
  };
}

/** Starts the fleet lab for an environment with a fleet, serving `extras` too. */
export async function startFleetLab(env: EnvironmentConfig, extras: LabExtras = {}): Promise<FleetLab> {
  const plan = fleetPlan(env, extras);
  const id = randomBytes(3).toString("hex");
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `proxy-fleet-${id}-`));
  fs.chmodSync(runDir, 0o755);
  const s: FleetState = {
    ...plan,
    id,
    runDir,
    port: env.proxy.port,
    children: [],
    squids: new Map(),
    accessLogs: new Map(),
    squidFiles: new Map(),
    created: [],
    stopped: false,
    targets: new Map(),
    rotation: [],
  };
  try {
    createNamespaces(s);
    linkNamespaces(s);
    const serviceAccessLog = await startServiceHost(s);
    await startNames(s);
    s.checker = setInterval(() => void healthCheck(s), plan.fleet.healthCheckIntervalSeconds * 1000);
    return fleetLabHandle(s, serviceAccessLog);
  } catch (e) {
    await stopLab(s);
    throw new Error(`${(e as Error).message} (logs in ${runDir})`, { cause: e });
  }
}
