/**
 * The PrivateLink lab (needs root): two app VPCs with the same address, each behind its own endpoint stand-in
 * (proof/endpoint-stand-in.js: the interface endpoint and the load balancer, sending PROXY protocol v2 with the
 * endpoint's id), real Squid with the fleet's squid.conf requiring the header, apache2 as the service.
 */
import { ChildProcess, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, LocalBackend } from "cdktf";
import { EnvironmentStack } from "../constructs/environment-stack";
import { ProxyFleet } from "../constructs/egress/proxy-fleet";
import { addressAt } from "../lib/cidr";
import { EnvironmentConfig, serviceServerIp } from "../lib/config";
import { vpcName } from "../lib/naming";
import { must, Ran, sh, startService, startSquid, waitFor } from "./netns-lab";

/** The namespaces of the lab: an app and its endpoint per app VPC, Squid, the service, a host of the proxy VPC that is no load balancer. */
export type PrivateLinkRole = "app1" | "app2" | "ep1" | "ep2" | "proxy" | "service" | "outsider";

/** A running PrivateLink lab. */
export interface PrivateLinkLab {
  readonly env: EnvironmentConfig;
  /** Addresses: both apps share `app`, both endpoints `endpoint`; the load balancer's address per endpoint. */
  readonly hosts: {
    readonly app: string;
    readonly endpoint: string;
    readonly loadBalancer: readonly [string, string];
    readonly proxy: string;
    readonly service: string;
    readonly outsider: string;
  };
  /** Squid client names (app VPC names) of the two app VPCs, and the endpoint id each endpoint stand-in sends. */
  readonly apps: readonly [{ name: string; endpointId: string }, { name: string; endpointId: string }];
  /** A port on the first endpoint where a stand-in sends the id of an endpoint the allowlist does not know. */
  readonly foreignEndpointPort: number;
  readonly proxyPort: number;
  readonly servicePort: number;
  /** The service's port that only the first app VPC may use (`from`). */
  readonly fromPort: number;
  /** The stack's squid.conf with the lab's endpoint ids, and the file Squid reads. */
  readonly squidConf: string;
  readonly squidConfFile: string;
  readonly squidAccessLog: string;
  /** Where the access log's lines of the checks start (the readiness probes' come before). */
  readonly squidLogFrom: number;
  readonly serviceAccessLog: string;
  readonly runDir: string;
  inHost(role: PrivateLinkRole, args: readonly string[], timeoutMs?: number): Ran;
  stop(): Promise<void>;
}

/** The stand-in script, beside this file. */
const STAND_IN = path.join(__dirname, "endpoint-stand-in.js");

/** The lab's copy of a privateLink environment: a service on the same block that only the first app VPC may use. */
export function privateLinkLabEnv(raw: Record<string, unknown>, fromPort: number): Record<string, unknown> {
  const apps = raw.appVpcs as { name: string }[];
  const services = raw.services as { name: string; cidr: string }[];
  if (apps.length < 2) throw new Error("the PrivateLink lab needs two app VPCs (they may share a block)");
  return { ...raw, services: [...services, { name: "only-first", cidr: services[0].cidr, ports: [fromPort], from: [apps[0].name] }] };
}

/** The fleet's squid.conf with made-up endpoint ids in place of the references, and the ids per app VPC. */
function labSquidConf(env: EnvironmentConfig): { conf: string; apps: PrivateLinkLab["apps"]; loadBalancer: readonly string[] } {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), "pl-synth-")) });
  const stack = new EnvironmentStack(app, env.name, { config: env, stateBackend: (s) => void new LocalBackend(s, {}) });
  if (!(stack.proxy instanceof ProxyFleet))
    throw new Error(`${env.name}: the PrivateLink lab needs a proxy fleet behind the endpoint service`);
  const [a, b] = env.appVpcs.map((v, i) => ({
    name: vpcName(env.name, v.name),
    endpointId: `vpce-0${i + 1}${randomBytes(7).toString("hex")}`,
  }));
  const conf = stack.proxy.squidConfWithEndpoints({ [a.name]: a.endpointId, [b.name]: b.endpointId });
  return { conf, apps: [a, b], loadBalancer: stack.proxy.addresses };
}

interface State {
  readonly id: string;
  readonly children: ChildProcess[];
  readonly created: string[];
  stopped: boolean;
}

const nsOf = (s: State, role: PrivateLinkRole) => `ppl-${s.id}-${role}`;

/** Links `a` and `b` with a veth pair: each side its /32 address and a route to the other's. */
function link(s: State, a: [PrivateLinkRole, string], b: [PrivateLinkRole, string], bRoutes: readonly string[] = []): void {
  const dev = (r: PrivateLinkRole, o: PrivateLinkRole) =>
    `${s.id}${r.slice(0, 2)}${r.slice(-1)}${o.slice(0, 1)}${o.slice(-1)}`.slice(0, 15);
  const [da, db] = [dev(a[0], b[0]), dev(b[0], a[0])];
  must(["ip", "link", "add", da, "netns", nsOf(s, a[0]), "type", "veth", "peer", "name", db, "netns", nsOf(s, b[0])]);
  for (const [[role, address], device, peer, extra] of [
    [a, da, b[1], []],
    [b, db, a[1], bRoutes],
  ] as const) {
    must(["ip", "-n", nsOf(s, role), "addr", "add", `${address}/32`, "dev", device]);
    must(["ip", "-n", nsOf(s, role), "link", "set", device, "up"]);
    for (const route of [`${peer}/32`, ...extra]) must(["ip", "-n", nsOf(s, role), "route", "add", route, "dev", device]);
  }
}

async function stopAll(s: State): Promise<void> {
  if (s.stopped) return;
  s.stopped = true;
  for (const child of s.children.reverse()) {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) continue;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill(child.spawnargs.includes("squid") ? "SIGINT" : "SIGTERM");
    const late = new Promise<"late">((resolve) => setTimeout(() => resolve("late"), 10_000).unref());
    if ((await Promise.race([exited, late])) === "late") {
      child.kill("SIGKILL");
      await exited;
    }
  }
  for (const name of s.created) sh(["ip", "netns", "del", name]);
  for (const f of fs.readdirSync("/dev/shm").filter((f) => f.includes(`ppl${s.id}`))) fs.rmSync(path.join("/dev/shm", f), { force: true });
}

/** Starts the lab for a privateLink environment (the lab's copy from {@link privateLinkLabEnv}). */
export async function startPrivateLinkLab(env: EnvironmentConfig, fromPort: number): Promise<PrivateLinkLab> {
  const s: State = { id: randomBytes(3).toString("hex"), children: [], created: [], stopped: false };
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `privatelink-lab-${s.id}-`));
  fs.chmodSync(runDir, 0o755);
  try {
    return await build(env, fromPort, s, runDir);
  } catch (e) {
    await stopAll(s);
    throw new Error(`${(e as Error).message} (logs in ${runDir})`, { cause: e });
  }
}

/** A namespace per host; veth links app -> its endpoint -> Squid, the outsider -> Squid, Squid -> service. */
function createNetwork(s: State, env: EnvironmentConfig, hosts: PrivateLinkLab["hosts"]): void {
  const roles: PrivateLinkRole[] = ["app1", "app2", "ep1", "ep2", "proxy", "service", "outsider"];
  for (const role of roles) {
    must(["ip", "netns", "add", nsOf(s, role)]);
    s.created.push(nsOf(s, role));
    must(["ip", "-n", nsOf(s, role), "link", "set", "lo", "up"]);
  }
  must(["ip", "netns", "exec", nsOf(s, "proxy"), "sysctl", "-qw", "net.ipv4.ip_forward=0"]);
  link(s, ["app1", hosts.app], ["ep1", hosts.endpoint]);
  link(s, ["app2", hosts.app], ["ep2", hosts.endpoint]);
  link(s, ["ep1", hosts.loadBalancer[0]], ["proxy", hosts.proxy]);
  // A second load balancer address when the fleet has one per zone; else the same address over another link.
  if (hosts.loadBalancer[1] !== hosts.loadBalancer[0]) link(s, ["ep2", hosts.loadBalancer[1]], ["proxy", hosts.proxy]);
  else throw new Error("the PrivateLink lab needs two load balancer addresses (a fleet in two subnets)");
  link(s, ["outsider", hosts.outsider], ["proxy", hosts.proxy]);
  link(s, ["proxy", hosts.proxy], ["service", hosts.service], [env.proxyVpc.cidr]);
}

/** The endpoint stand-ins: one per app VPC, and one on the first endpoint that sends an id the allowlist does not know. */
async function startStandIns(
  hosts: PrivateLinkLab["hosts"],
  proxyPort: number,
  foreignEndpointPort: number,
  apps: PrivateLinkLab["apps"],
  runDir: string,
  launch: (role: PrivateLinkRole) => (args: readonly string[], out: number) => ChildProcess,
  s: State,
): Promise<void> {
  const standIns: [PrivateLinkRole, string, number, string][] = [
    ["ep1", hosts.loadBalancer[0], proxyPort, apps[0].endpointId],
    ["ep2", hosts.loadBalancer[1], proxyPort, apps[1].endpointId],
    ["ep1", hosts.loadBalancer[0], foreignEndpointPort, "vpce-0ffffffffffffffff"],
  ];
  for (const [role, source, port, endpointId] of standIns) {
    const log = path.join(runDir, `stand-in-${role}-${port}.out`);
    const out = fs.openSync(log, "w");
    const args = [
      "--listen",
      `${hosts.endpoint}:${port}`,
      "--proxy",
      `${hosts.proxy}:${proxyPort}`,
      "--source",
      source,
      "--endpoint-id",
      endpointId,
    ];
    const child = launch(role)([process.execPath, STAND_IN, ...args], out);
    s.children.push(child);
    await waitFor(`the endpoint stand-in in ${role} listening`, child, () => fs.readFileSync(log, "utf8").includes("listening"));
  }
}

async function build(env: EnvironmentConfig, fromPort: number, s: State, runDir: string): Promise<PrivateLinkLab> {
  const { conf, apps, loadBalancer } = labSquidConf(env);
  const appSubnet = env.appVpcs[0].subnets![0].cidr;
  const proxySubnet = env.proxyVpc.subnets[0].cidr;
  const hosts = {
    app: addressAt(appSubnet, 4),
    endpoint: addressAt(appSubnet, 5),
    loadBalancer: [loadBalancer[0], loadBalancer[1 % loadBalancer.length]] as const,
    proxy: addressAt(proxySubnet, 20),
    service: serviceServerIp(env),
    outsider: addressAt(proxySubnet, 30),
  };
  createNetwork(s, env, hosts);
  const launch = (role: PrivateLinkRole) => (args: readonly string[], out: number) =>
    spawn("ip", ["netns", "exec", nsOf(s, role), ...args], { stdio: ["ignore", out, out] });
  const inHost = (role: PrivateLinkRole, args: readonly string[], timeoutMs?: number) =>
    sh(["ip", "netns", "exec", nsOf(s, role), ...args], timeoutMs);
  const servicePort = env.services[0].ports.map((p) => (typeof p === "number" ? p : p.carries === "http" ? p.port : 0)).find((p) => p > 0)!;
  const service = startService(runDir, env.name, hosts.service, servicePort, undefined, launch("service"), [fromPort]);
  s.children.push(service.process);
  await waitFor(
    "apache2 answering",
    service.process,
    () => inHost("service", ["curl", "-s", "-o", "/dev/null", "--max-time", "1", `http://${hosts.service}:${servicePort}/`]).code === 0,
  );
  fs.truncateSync(service.accessLog, 0);
  const squid = startSquid(runDir, "proxy", `ppl${s.id}`, conf, launch("proxy"));
  s.children.push(squid.process);
  const proxyPort = env.proxy.port;
  const foreignEndpointPort = proxyPort + 1;
  await startStandIns(hosts, proxyPort, foreignEndpointPort, apps, runDir, launch, s);
  const probe = () =>
    inHost("app1", [
      "curl",
      "-s",
      "-o",
      "/dev/null",
      "-w",
      "%{http_code}",
      "--max-time",
      "1",
      "-x",
      `http://${hosts.endpoint}:${proxyPort}`,
      "http://probe.invalid/",
    ]).stdout;
  await waitFor("Squid answering through the first endpoint", squid.process, () => /^[1-5]\d\d$/.test(probe()), 100);
  // The probes' lines are Squid's; the checks read what comes after them (the log daemon writes a moment later).
  await new Promise((resolve) => setTimeout(resolve, 500));
  const squidLogFrom = fs.statSync(squid.host.accessLog).size;
  return {
    env,
    hosts,
    apps,
    foreignEndpointPort,
    proxyPort,
    servicePort,
    fromPort,
    squidConf: squid.conf,
    squidConfFile: squid.confFile,
    squidAccessLog: squid.host.accessLog,
    squidLogFrom,
    serviceAccessLog: service.accessLog,
    runDir,
    inHost,
    stop: () => stopAll(s),
  };
}

/** A check: its name, and a failure's explanation or undefined. */
export interface PrivateLinkCheck {
  readonly name: string;
  readonly run: () => string | undefined | Promise<string | undefined>;
}

/** One request with curl from an app namespace: HTTP status (0 when none) and curl's exit code. */
function fetchFrom(lab: PrivateLinkLab, role: PrivateLinkRole, url: string, proxy?: string) {
  const r = lab.inHost(
    role,
    ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "4", ...(proxy ? ["-x", proxy] : []), url],
    10_000,
  );
  return { status: Number(r.stdout.trim() || 0), curlExit: r.code };
}

/** The access log's lines since the lab was ready, as Squid wrote them (split on spaces). */
function squidLines(lab: PrivateLinkLab): string[][] {
  const text = fs.readFileSync(lab.squidAccessLog).subarray(lab.squidLogFrom).toString("utf8");
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => l.trim().split(/\s+/));
}

/** A raw connection from the outsider straight to Squid: what Squid answers to a request, with or without a (forged) PROXY header. */
function straightToSquid(lab: PrivateLinkLab, forgedEndpoint?: string): Ran {
  const { hosts } = lab;
  const script = [
    `const net = require("net"); const { proxyV2Header } = require(${JSON.stringify(STAND_IN)});`,
    `const s = net.connect({ host: "${hosts.proxy}", port: ${lab.proxyPort}, localAddress: "${hosts.outsider}" }, () => {`,
    forgedEndpoint
      ? `  s.write(proxyV2Header({ source: "${hosts.app}", sourcePort: 40000, destination: "${hosts.endpoint}", destinationPort: ${lab.proxyPort}, endpointId: "${forgedEndpoint}" }));`
      : "",
    `  s.write("GET http://${hosts.service}:${lab.servicePort}/ HTTP/1.1\\r\\nHost: ${hosts.service}\\r\\nConnection: close\\r\\n\\r\\n"); });`,
    `let got = ""; s.on("data", (d) => (got += d)); s.on("error", (e) => (got += "error " + e.code));`,
    `s.on("close", () => console.log(JSON.stringify(got.split("\\r\\n")[0] || "closed without an answer")));`,
    "setTimeout(() => { console.log('timeout'); process.exit(1); }, 4000).unref();",
  ].join("\n");
  return lab.inHost("outsider", [process.execPath, "-e", script], 10_000);
}

/** True when Squid closed the connection without an HTTP answer (a reset, or a write after its close, counts as closed). */
const closedUnanswered = (r: Ran) => /closed without an answer|error (ECONNRESET|EPIPE)/.test(r.stdout);

/** A failure's explanation unless the request got `want`. */
const ok = (r: { status: number }, want: number) => (r.status === want ? undefined : `expected ${want}, got ${JSON.stringify(r)}`);

/** What Squid refuses: an endpoint it does not know, a connection without the header, a header from a host that is no load balancer. */
function refusalChecks(lab: PrivateLinkLab, serviceUrl: string): PrivateLinkCheck[] {
  const { hosts, apps } = lab;
  return [
    {
      name: "an endpoint the allowlist does not know (another VPC's) is refused: 403",
      run: () => ok(fetchFrom(lab, "app1", serviceUrl, `http://${hosts.endpoint}:${lab.foreignEndpointPort}`), 403),
    },
    {
      name: `a request straight to Squid without the PROXY header (from ${hosts.outsider}) gets no answer: the connection is closed`,
      run: () => {
        const r = straightToSquid(lab);
        return closedUnanswered(r) ? undefined : `got ${r.stdout.trim()} ${r.stderr.trim()}`;
      },
    },
    {
      name: `a forged PROXY header naming ${apps[0].name}'s endpoint, from a host that is no load balancer (${hosts.outsider}), is closed too`,
      run: () => {
        const r = straightToSquid(lab, apps[0].endpointId);
        return closedUnanswered(r) ? undefined : `got ${r.stdout.trim()} ${r.stderr.trim()}`;
      },
    },
  ];
}

/** The checks of the PrivateLink lab, in order. */
export function privateLinkChecks(lab: PrivateLinkLab): PrivateLinkCheck[] {
  const { hosts, apps } = lab;
  const through = `http://${hosts.endpoint}:${lab.proxyPort}`;
  const serviceUrl = `http://${hosts.service}:${lab.servicePort}/`;
  const fromUrl = `http://${hosts.service}:${lab.fromPort}/`;
  return [
    {
      name: "Squid runs the fleet's squid.conf: the PROXY header required on its port, believed from the load balancer only; squid -k parse accepts it",
      run: () => {
        if (!new RegExp(`^http_port ${lab.proxyPort} require-proxy-header$`, "m").test(lab.squidConf))
          return "no require-proxy-header on the port";
        if (!lab.squidConf.includes(`acl load_balancer src ${hosts.loadBalancer.join(" ")}`))
          return "the load balancer's addresses are not the trusted sources";
        const r = sh(["squid", "-k", "parse", "-f", lab.squidConfFile]);
        return r.code === 0 ? undefined : `squid -k parse: exit ${r.code}`;
      },
    },
    ...apps.map((app, i) => ({
      name: `${app.name} at ${hosts.app} -> its endpoint ${hosts.endpoint} (${app.endpointId}) -> Squid -> service: 200`,
      run: () => ok(fetchFrom(lab, i === 0 ? "app1" : "app2", serviceUrl, through), 200),
    })),
    {
      name: `the only-first service (port ${lab.fromPort}, from ${apps[0].name}) serves ${apps[0].name}: 200`,
      run: () => ok(fetchFrom(lab, "app1", fromUrl, through), 200),
    },
    {
      name: `the only-first service refuses ${apps[1].name}, whose app server has the same address: 403`,
      run: () => ok(fetchFrom(lab, "app2", fromUrl, through), 403),
    },
    ...refusalChecks(lab, serviceUrl),
    {
      name: "app -> service directly fails: the app VPC routes nothing but its endpoint",
      run: () => {
        const r = fetchFrom(lab, "app1", serviceUrl);
        return r.status === 0 && r.curlExit !== 0 ? undefined : `the request went through: ${JSON.stringify(r)}`;
      },
    },
    {
      name: `the service's access log shows only the proxy's address ${hosts.proxy}`,
      run: () => {
        const clients = [
          ...new Set(
            fs
              .readFileSync(lab.serviceAccessLog, "utf8")
              .split("\n")
              .filter(Boolean)
              .map((l) => l.split(" ")[0]),
          ),
        ];
        return clients.length === 1 && clients[0] === hosts.proxy ? undefined : `clients in the log: ${clients.join(", ") || "none"}`;
      },
    },
    {
      name: `Squid's log tells the two apps apart: client ${hosts.app} for both, app VPC ${apps[0].name} or ${apps[1].name} by endpoint`,
      run: async () => {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const lines = squidLines(lab).filter((f) => f[5] === "GET");
        const seen = lines.map((f) => `${f[2]} ${f[3]} ${new URL(f[6]).port || "80"} ${f[10]}`);
        const want = [
          `${hosts.app} TCP_MISS/200 ${lab.servicePort} ${apps[0].name}`,
          `${hosts.app} TCP_MISS/200 ${lab.servicePort} ${apps[1].name}`,
          `${hosts.app} TCP_MISS/200 ${lab.fromPort} ${apps[0].name}`,
          `${hosts.app} TCP_DENIED/403 ${lab.fromPort} ${apps[1].name}`,
          `${hosts.app} TCP_DENIED/403 ${lab.servicePort} -`,
        ];
        return JSON.stringify(seen) === JSON.stringify(want)
          ? undefined
          : `expected ${JSON.stringify(want)}, logged ${JSON.stringify(seen)}`;
      },
    },
  ];
}
