/**
 * The proxy fleet on one machine: network namespaces for an app server, an outsider, the service,
 * up to four proxies in two "zones" of the proxy VPC, and a load-balancer stand-in that behaves as
 * a Network Load Balancer does where it matters here: it keeps the client's address (nftables
 * DNAT, no SNAT, replies come back through it), spreads new connections over the healthy proxies,
 * checks their port on the configured interval and thresholds, and lets a deregistered proxy finish
 * its connections (conntrack keeps established flows on their proxy). A layer-7 proxy in front
 * would hide client addresses and is not a faithful stand-in. Needs root.
 *
 * Everything started here is stopped by its PID, the health checker ends with the lab, and the
 * namespaces and Squid's shared memory are removed by `stop()`.
 */
import { ChildProcess, execFile, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { promisify } from "util";
import { addressAt, cidrsOverlap } from "../lib/cidr";
import { EnvironmentConfig, firstServicePort, loadBalancerAddresses, peeredServiceSide } from "../lib/config";
import { must, sh, startService, startSquid, waitFor } from "./netns-lab";

const run = promisify(execFile);

/** The proxies a lab can hold: two at first (zones a and c), a replacement, and two for a rolling change. */
export const FLEET_LABELS = ["a", "c", "a2", "a3", "c2"] as const;
export type ProxyLabel = (typeof FLEET_LABELS)[number];
type Role = "app" | "outsider" | "service" | "lb" | `proxy-${ProxyLabel}`;

/** Blocks for the outsider, the first that overlaps nothing of the environment. */
const OUTSIDER_BLOCKS = ["198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24"];

/** A running fleet lab. */
export interface FleetLab {
  readonly hosts: {
    readonly app: string;
    readonly outsider: string;
    readonly outsiderBlock: string;
    readonly service: string;
    readonly loadBalancer: readonly string[];
  };
  /** Each proxy's address, by label; "a…" sit in the first proxy subnet, "c…" in the second. */
  readonly proxyAddress: Readonly<Record<ProxyLabel, string>>;
  readonly servicePort: number;
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

/** Starts the fleet lab for an environment with a fleet. */
export async function startFleetLab(env: EnvironmentConfig): Promise<FleetLab> {
  const fleet = env.proxy.fleet;
  if (!fleet) throw new Error("the fleet lab needs an environment with proxy.fleet, such as demos/verification-fleet.json");
  const side = peeredServiceSide(env, "the fleet lab");
  const appVpc = env.appVpcs.find((a) => a.subnets);
  if (!appVpc?.subnets) throw new Error("the fleet lab needs an app VPC that the project creates (with subnets)");
  const servicePort = firstServicePort(env, "http");
  if (servicePort === undefined) throw new Error("the fleet lab needs a plain HTTP port on services[0]");
  const used = [env.proxyVpc.cidr, side.vpc.cidr, ...env.appVpcs.map((a) => a.cidr), ...env.services.map((s) => s.cidr)];
  const outsiderBlock = OUTSIDER_BLOCKS.find((b) => !used.some((u) => cidrsOverlap(b, u)));
  if (!outsiderBlock) throw new Error(`fleet lab: every outsider block (${OUTSIDER_BLOCKS.join(", ")}) overlaps the environment`);
  const [zoneA, zoneC] = env.proxyVpc.subnets;
  const hosts = {
    app: addressAt(appVpc.subnets[0].cidr, 4),
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
  const port = env.proxy.port;
  const intervalMs = fleet.healthCheckIntervalSeconds * 1000;

  const id = randomBytes(3).toString("hex");
  const ns = (role: Role) => `pxf-${id}-${role}`;
  const roles: Role[] = ["app", "outsider", "service", "lb", ...FLEET_LABELS.map((l) => `proxy-${l}` as Role)];
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `proxy-fleet-${id}-`));
  fs.chmodSync(runDir, 0o755);
  const children: ChildProcess[] = [];
  const squids = new Map<ProxyLabel, ChildProcess>();
  const accessLogs = new Map<ProxyLabel, string>();
  const created: string[] = [];
  let stopped = false;
  let checker: NodeJS.Timeout | undefined;
  const inHost = (role: Role, args: readonly string[], timeoutMs?: number) => sh(["ip", "netns", "exec", ns(role), ...args], timeoutMs);
  const launcher = (role: Role) => (args: readonly string[], out: number) =>
    spawn("ip", ["netns", "exec", ns(role), ...args], { stdio: ["ignore", out, out] });

  const stopChild = async (child: ChildProcess, signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(signal);
    const late = new Promise<"late">((resolve) => setTimeout(() => resolve("late"), 10_000).unref());
    if ((await Promise.race([exited, late])) === "late") {
      child.kill("SIGKILL");
      await exited;
    }
  };
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (checker) clearInterval(checker);
    for (const child of [...children].reverse()) await stopChild(child, child.spawnargs.includes("squid") ? "SIGINT" : "SIGTERM");
    for (const name of created) sh(["ip", "netns", "del", name]);
    for (const f of fs.readdirSync("/dev/shm").filter((f) => f.includes(`pxf${id}`))) fs.rmSync(path.join("/dev/shm", f), { force: true });
  };

  // The load balancer's view of each proxy: registered or not, and its health by consecutive checks.
  const targets = new Map<ProxyLabel, { registered: boolean; healthy: boolean; passes: number; fails: number }>();
  let rotation: ProxyLabel[] = [];
  const applyRotation = () => {
    const next = FLEET_LABELS.filter((l) => targets.get(l)?.registered && targets.get(l)?.healthy);
    if (next.join() === rotation.join()) return;
    rotation = next;
    const rule =
      next.length === 0
        ? ""
        : `add rule ip lb pre ip daddr { ${hosts.loadBalancer.join(", ")} } tcp dport ${port} dnat to numgen inc mod ${next.length} map { ${next.map((l, i) => `${i} : ${proxyAddress[l]}`).join(", ")} }\n`;
    const r = sh(["ip", "netns", "exec", ns("lb"), "sh", "-c", `printf '%s' "$0" | nft -f -`, `flush chain ip lb pre\n${rule}`]);
    if (r.code !== 0) throw new Error(`nft could not set the rotation: ${r.stderr}`);
  };
  const check = async (label: ProxyLabel) => {
    try {
      await run("ip", ["netns", "exec", ns("lb"), "timeout", "1", "bash", "-c", `exec 3<>/dev/tcp/${proxyAddress[label]}/${port}`], {
        timeout: 3000,
      });
      return true;
    } catch {
      return false;
    }
  };
  const healthCheck = async () => {
    await Promise.all(
      [...targets].map(async ([label, t]) => {
        if (!t.registered) return;
        if (await check(label)) {
          t.passes++;
          t.fails = 0;
          if (t.passes >= fleet.healthyThreshold) t.healthy = true;
        } else {
          t.fails++;
          t.passes = 0;
          if (t.fails >= fleet.unhealthyThreshold) t.healthy = false;
        }
      }),
    );
    if (!stopped) applyRotation();
  };

  try {
    for (const role of roles) {
      must(["ip", "netns", "add", ns(role)]);
      created.push(ns(role));
      must(["ip", "-n", ns(role), "link", "set", "lo", "up"]);
    }
    for (const label of FLEET_LABELS) must(["ip", "netns", "exec", ns(`proxy-${label}`), "sysctl", "-qw", "net.ipv4.ip_forward=0"]);
    // The load balancer routes between its links: it forwards, and answers ARP for what lies behind it.
    must(["ip", "netns", "exec", ns("lb"), "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.proxy_arp=1"]);
    for (const address of hosts.loadBalancer) must(["ip", "-n", ns("lb"), "addr", "add", `${address}/32`, "dev", "lo"]);

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
      const [da, db] = [`${id}x${n}a`, `${id}x${n}b`];
      must(["ip", "link", "add", da, "netns", ns(a), "type", "veth", "peer", "name", db, "netns", ns(b)]);
      must(["ip", "-n", ns(a), "addr", "add", `${aAddress}/32`, "dev", da]);
      if (bAddress) must(["ip", "-n", ns(b), "addr", "add", `${bAddress}/32`, "dev", db]);
      must(["ip", "-n", ns(a), "link", "set", da, "up"]);
      must(["ip", "-n", ns(b), "link", "set", db, "up"]);
      for (const r of aRoutes) must(["ip", "-n", ns(a), "route", "add", r, "dev", da]);
      for (const r of bRoutes) must(["ip", "-n", ns(b), "route", "add", r, "dev", db, ...(bSource ? ["src", bSource] : [])]);
    };
    // Clients reach the load balancer's addresses over "peering"; the load balancer routes back.
    link("app", hosts.app, [env.proxyVpc.cidr], "lb", undefined, [appVpc.cidr], hosts.loadBalancer[0]);
    link("outsider", hosts.outsider, [env.proxyVpc.cidr], "lb", undefined, [`${hosts.outsider}/32`], hosts.loadBalancer[0]);
    for (const label of FLEET_LABELS) {
      const proxy: Role = `proxy-${label}`;
      // Replies to clients go back through the load balancer, which undoes its DNAT.
      link(
        proxy,
        proxyAddress[label],
        [appVpc.cidr, `${hosts.outsider}/32`, ...hosts.loadBalancer.map((a) => `${a}/32`)],
        "lb",
        undefined,
        [`${proxyAddress[label]}/32`],
        hosts.loadBalancer[0],
      );
      link(
        proxy,
        proxyAddress[label],
        env.services.map((s) => s.cidr),
        "service",
        hosts.service,
        [`${proxyAddress[label]}/32`],
      );
    }
    must(["ip", "netns", "exec", ns("lb"), "nft", "add table ip lb"]);
    must(["ip", "netns", "exec", ns("lb"), "nft", "add chain ip lb pre { type nat hook prerouting priority dstnat; policy accept; }"]);

    const { process: apache, accessLog: serviceAccessLog } = startService(
      runDir,
      env.name,
      hosts.service,
      servicePort,
      undefined,
      launcher("service"),
    );
    children.push(apache);
    await waitFor(
      "apache2 answering",
      apache,
      () => inHost("service", ["curl", "-s", "-o", "/dev/null", "--max-time", "1", `http://${hosts.service}:${servicePort}/`]).code === 0,
    );
    fs.truncateSync(serviceAccessLog, 0);
    checker = setInterval(() => void healthCheck(), intervalMs);

    const lab: FleetLab = {
      hosts,
      proxyAddress,
      servicePort,
      proxyPort: port,
      serviceAccessLog,
      runDir,
      detectionSeconds: fleet.unhealthyThreshold * fleet.healthCheckIntervalSeconds,
      intervalMs,
      healthyThreshold: fleet.healthyThreshold,
      async startProxy(label, userDataConf) {
        const role: Role = `proxy-${label}`;
        const { process, host } = startSquid(runDir, label, `pxf${id}${label}`, userDataConf, launcher(role));
        children.push(process);
        squids.set(label, process);
        accessLogs.set(label, host.accessLog);
        await waitFor(
          `Squid ${label} listening`,
          process,
          () => inHost(role, ["bash", "-c", `exec 3<>/dev/tcp/${proxyAddress[label]}/${port}`], 2000).code === 0,
          100,
        );
        targets.set(label, { registered: true, healthy: false, passes: 0, fails: 0 });
      },
      accessLog: (label) => accessLogs.get(label) ?? "",
      async signalProxy(label, signal) {
        const squid = squids.get(label);
        if (!squid) throw new Error(`no Squid ${label} in the lab`);
        if (signal === "SIGKILL") squid.kill("SIGKILL");
        else await stopChild(squid, signal);
      },
      deregister(label) {
        const t = targets.get(label);
        if (t) t.registered = false;
        applyRotation();
      },
      inRotation: () => [...rotation],
      async waitForRotation(labels, seconds) {
        const want = [...labels].sort().join();
        for (let i = 0; i < seconds * 10; i++) {
          if ([...rotation].sort().join() === want) return;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error(
          `the load balancer's rotation is ${rotation.join(", ") || "empty"} after ${seconds} s, expected ${labels.join(", ")}`,
        );
      },
      inHost,
      steadyClient(url, seconds, pauseMs) {
        return new Promise((resolve, reject) => {
          const client = spawn(
            "ip",
            [
              "netns",
              "exec",
              ns("app"),
              process.execPath,
              path.join(__dirname, "steady-client.js"),
              hosts.loadBalancer[0],
              String(port),
              url,
              "100000",
              String(seconds),
              String(pauseMs),
            ],
            {
              stdio: ["ignore", "pipe", "pipe"],
            },
          );
          children.push(client);
          let out = "";
          client.stdout.on("data", (d) => (out += d));
          client.on("close", (code) =>
            code === 0
              ? resolve(JSON.parse(out.trim().split("\n").pop() ?? "{}"))
              : reject(new Error(`the steady client exited ${code}: ${out}`)),
          );
        });
      },
      stop,
    };
    return lab;
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message} (logs in ${runDir})`);
  }
}
