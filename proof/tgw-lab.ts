/**
 * Both halves of the original's addendum on one machine (needs root): two app servers, a Transit Gateway stand-in
 * (a router with a route table per attachment kind, chosen by `ip rule iif`), a NAT host that snats to its own
 * address as the private NAT gateway does, the service, and a "peering" link that carries only traffic for the peer VPC.
 */
import { ChildProcess, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { addressAt } from "../lib/cidr";
import { EnvironmentConfig, firstServicePort, peeredServiceSide } from "../lib/config";
import { must, sh, startService, waitFor } from "./netns-lab";

type Role = "app" | "app2" | "tgw" | "nat" | "service";

/** Route tables of the gateway stand-in, by attachment kind. */
const APPS_TABLE = 100;
const PROXY_TABLE = 200;
/** The gateway stand-in's own address, for its neighbour requests (link-local, outside every VPC). */
const TGW_ADDRESS = "169.254.100.1";

/** A running Transit Gateway lab. */
export interface TransitGatewayLab {
  readonly hosts: { readonly app: string; readonly app2: string; readonly nat: string; readonly service: string };
  readonly servicePort: number;
  readonly serviceAccessLog: string;
  readonly app2AccessLog: string;
  readonly runDir: string;
  /** Runs a command in a namespace. */
  inHost(role: Role, args: readonly string[], timeoutMs?: number): ReturnType<typeof sh>;
  /** Sends the app's traffic for the services over the peering (true) or the Transit Gateway (false). */
  routeAppOverPeering(peering: boolean): void;
  stop(): Promise<void>;
}

/** The lab's plan and, once started, what to stop and remove. */
interface TgwState {
  readonly env: EnvironmentConfig;
  readonly hosts: TransitGatewayLab["hosts"];
  readonly servicePort: number;
  readonly appCidr: string;
  readonly app2Cidr: string;
  /** The services' blocks. */
  readonly services: string[];
  readonly id: string;
  readonly runDir: string;
  readonly children: ChildProcess[];
  readonly created: string[];
  stopped: boolean;
}

/** Checks that the environment suits the lab and places every host. */
function tgwPlan(env: EnvironmentConfig): Pick<TgwState, "hosts" | "servicePort" | "appCidr" | "app2Cidr" | "services"> {
  if (env.connectivity.type !== "transitGateway" || env.connectivity.egress !== "privateNat") {
    throw new Error(
      "the Transit Gateway lab needs connectivity.type transitGateway with egress privateNat, such as demos/transit-gateway.json",
    );
  }
  const side = peeredServiceSide(env, "the Transit Gateway lab");
  const apps = env.appVpcs.filter((a) => a.subnets);
  if (apps.length < 2)
    throw new Error("the Transit Gateway lab needs two app VPCs that the project creates, to show they cannot reach each other");
  const servicePort = firstServicePort(env, "http");
  if (servicePort === undefined) throw new Error("the Transit Gateway lab needs a plain HTTP port on services[0]");
  const [appVpc, app2Vpc] = apps;
  const hosts = {
    app: addressAt(appVpc.subnets![0].cidr, 4),
    app2: addressAt(app2Vpc.subnets![0].cidr, 4),
    nat: addressAt(env.proxyVpc.subnets[0].cidr, 4),
    service: addressAt(side.vpc.subnets[0].cidr, 4),
  };
  return { hosts, servicePort, appCidr: appVpc.cidr, app2Cidr: app2Vpc.cidr, services: env.services.map((x) => x.cidr) };
}

const nsOf = (s: TgwState, role: Role) => `pxt-${s.id}-${role}`;
const inHostOf = (s: TgwState) => (role: Role, args: readonly string[], timeoutMs?: number) =>
  sh(["ip", "netns", "exec", nsOf(s, role), ...args], timeoutMs);
const launcher = (s: TgwState, role: Role) => (args: readonly string[], out: number) =>
  spawn("ip", ["netns", "exec", nsOf(s, role), ...args], { stdio: ["ignore", out, out] });

/** Stops every process by its PID (SIGKILL after 10 s), then removes the namespaces; safe to call twice. */
async function stopLab(s: TgwState): Promise<void> {
  if (s.stopped) return;
  s.stopped = true;
  for (const child of [...s.children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) continue;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGTERM");
    const late = new Promise<"late">((resolve) => setTimeout(() => resolve("late"), 10_000).unref());
    if ((await Promise.race([exited, late])) === "late") {
      child.kill("SIGKILL");
      await exited;
    }
  }
  for (const name of s.created) sh(["ip", "netns", "del", name]);
}

/** A namespace per host; the gateway and the NAT host route, the servers do not. */
function createNamespaces(s: TgwState): void {
  const ns = (role: Role) => nsOf(s, role);
  for (const role of ["app", "app2", "tgw", "nat", "service"] as Role[]) {
    must(["ip", "netns", "add", ns(role)]);
    s.created.push(ns(role));
    must(["ip", "-n", ns(role), "link", "set", "lo", "up"]);
  }
  for (const role of ["app", "app2", "service"] as const) must(["ip", "netns", "exec", ns(role), "sysctl", "-qw", "net.ipv4.ip_forward=0"]);
  must(["ip", "netns", "exec", ns("tgw"), "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.proxy_arp=1"]);
  must(["ip", "netns", "exec", ns("nat"), "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.proxy_arp=1"]);
}

/** Makes veth pairs (numbered in order) and routes in the lab's namespaces. */
function wiring(s: TgwState) {
  const ns = (role: Role) => nsOf(s, role);
  let n = 0;
  /** A veth pair; `aAddress`/`bAddress` go on each end as /32 where given. Returns the two device names. */
  const link = (a: Role, aAddress: string | undefined, b: Role, bAddress: string | undefined): [string, string] => {
    n++;
    const [da, db] = [`${s.id}t${n}a`, `${s.id}t${n}b`];
    must(["ip", "link", "add", da, "netns", ns(a), "type", "veth", "peer", "name", db, "netns", ns(b)]);
    if (aAddress) must(["ip", "-n", ns(a), "addr", "add", `${aAddress}/32`, "dev", da]);
    if (bAddress) must(["ip", "-n", ns(b), "addr", "add", `${bAddress}/32`, "dev", db]);
    must(["ip", "-n", ns(a), "link", "set", da, "up"]);
    must(["ip", "-n", ns(b), "link", "set", db, "up"]);
    return [da, db];
  };
  const route = (role: Role, destination: string, dev: string, table?: number, src?: string) =>
    must([
      "ip",
      "-n",
      ns(role),
      "route",
      "add",
      destination,
      "dev",
      dev,
      ...(table ? ["table", String(table)] : []),
      ...(src ? ["src", src] : []),
    ]);
  const nft = (rules: string) => must(["ip", "netns", "exec", ns("nat"), "sh", "-c", `printf '%s' "$0" | nft -f -`, rules]);
  return { link, route, nft };
}

/** The attachments and the gateway's route tables, chosen by the attachment a packet arrives from; returns the NAT host's and the app's devices towards it. */
function wireGateway(s: TgwState, { link, route }: ReturnType<typeof wiring>): { natToTgw: string; appToTgw: string } {
  const { hosts, services } = s;
  const [appToTgw, tgwFromApp] = link("app", hosts.app, "tgw", undefined);
  const [app2ToTgw, tgwFromApp2] = link("app2", hosts.app2, "tgw", undefined);
  const [natToTgw, tgwFromProxy] = link("nat", hosts.nat, "tgw", undefined);
  // The app VPCs' tables send the services to the gateway; the app also tries its neighbour.
  for (const x of services) route("app", x, appToTgw);
  for (const x of services) route("app2", x, app2ToTgw);
  route("app", s.app2Cidr, appToTgw);
  route("app2", s.appCidr, app2ToTgw);
  const tgw = nsOf(s, "tgw");
  for (const dev of [tgwFromApp, tgwFromApp2]) must(["ip", "-n", tgw, "rule", "add", "iif", dev, "lookup", String(APPS_TABLE)]);
  must(["ip", "-n", tgw, "rule", "add", "iif", tgwFromProxy, "lookup", String(PROXY_TABLE)]);
  // The gateway asks for neighbours from an address of its own; it routes nothing by its main table.
  must(["ip", "-n", tgw, "addr", "add", `${TGW_ADDRESS}/32`, "dev", "lo"]);
  for (const x of services) route("tgw", x, tgwFromProxy, APPS_TABLE, TGW_ADDRESS);
  route("tgw", s.appCidr, tgwFromApp, PROXY_TABLE, TGW_ADDRESS);
  route("tgw", s.app2Cidr, tgwFromApp2, PROXY_TABLE, TGW_ADDRESS);
  return { natToTgw, appToTgw };
}

/** The proxy VPC: the NAT host snats the services' traffic onto the service peering; the app's peering carries only traffic for the proxy VPC. Returns the app's peering device. */
function wireProxyVpc(s: TgwState, { link, route, nft }: ReturnType<typeof wiring>, natToTgw: string): string {
  const { hosts, services, env } = s;
  const [natToService, serviceToNat] = link("nat", undefined, "service", hosts.service);
  for (const x of services) route("nat", x, natToService, undefined, hosts.nat);
  route("nat", s.appCidr, natToTgw);
  route("nat", s.app2Cidr, natToTgw);
  route("service", env.proxyVpc.cidr, serviceToNat);
  nft(
    `table ip natgw {\n  chain post { type nat hook postrouting priority srcnat; policy accept; oifname "${natToService}" snat to ${hosts.nat}; }\n}\n`,
  );
  // AWS delivers over a peering only what is addressed to the peer VPC itself.
  const [appToPeering, natFromPeering] = link("app", undefined, "nat", undefined);
  nft(
    `table ip peering {\n  chain forward { type filter hook forward priority filter; policy accept; iifname "${natFromPeering}" ip daddr != ${env.proxyVpc.cidr} drop; }\n}\n`,
  );
  return appToPeering;
}

/** apache2 as the service and on app2 (so a connection between the apps would show); returns their access logs, emptied of the waits' requests. */
async function startServers(s: TgwState): Promise<{ serviceAccessLog: string; app2AccessLog: string }> {
  const { hosts, servicePort } = s;
  const inHost = inHostOf(s);
  const serviceDir = path.join(s.runDir, "service");
  const app2Dir = path.join(s.runDir, "app2");
  fs.mkdirSync(serviceDir);
  fs.mkdirSync(app2Dir);
  for (const d of [serviceDir, app2Dir]) fs.chmodSync(d, 0o755);
  const service = startService(serviceDir, s.env.name, hosts.service, servicePort, undefined, launcher(s, "service"));
  s.children.push(service.process);
  await waitFor(
    "the service's apache2 answering",
    service.process,
    () => inHost("service", ["curl", "-s", "-o", "/dev/null", "--max-time", "1", `http://${hosts.service}:${servicePort}/`]).code === 0,
  );
  const app2 = startService(app2Dir, `${s.env.name} (app2)`, hosts.app2, servicePort, undefined, launcher(s, "app2"));
  s.children.push(app2.process);
  await waitFor(
    "app2's apache2 answering",
    app2.process,
    () => inHost("app2", ["curl", "-s", "-o", "/dev/null", "--max-time", "1", `http://${hosts.app2}:${servicePort}/`]).code === 0,
  );
  fs.truncateSync(service.accessLog, 0);
  fs.truncateSync(app2.accessLog, 0);
  return { serviceAccessLog: service.accessLog, app2AccessLog: app2.accessLog };
}

/** Starts the lab for an environment with a Transit Gateway and private NAT egress. */
export async function startTransitGatewayLab(env: EnvironmentConfig): Promise<TransitGatewayLab> {
  const plan = tgwPlan(env);
  const id = randomBytes(3).toString("hex");
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `proxy-tgw-${id}-`));
  fs.chmodSync(runDir, 0o755);
  const s: TgwState = { env, ...plan, id, runDir, children: [], created: [], stopped: false };
  try {
    createNamespaces(s);
    const wires = wiring(s);
    const { natToTgw, appToTgw } = wireGateway(s, wires);
    const appToPeering = wireProxyVpc(s, wires, natToTgw);
    const logs = await startServers(s);
    return {
      hosts: s.hosts,
      servicePort: s.servicePort,
      ...logs,
      runDir,
      inHost: inHostOf(s),
      routeAppOverPeering(peering) {
        for (const x of s.services) must(["ip", "-n", nsOf(s, "app"), "route", "replace", x, "dev", peering ? appToPeering : appToTgw]);
      },
      stop: () => stopLab(s),
    };
  } catch (e) {
    await stopLab(s);
    throw new Error(`${(e as Error).message} (logs in ${runDir})`, { cause: e });
  }
}

type TgwCheck = { readonly name: string; readonly run: () => string | undefined };

/** One curl from a host: curl's exit code and the HTTP status, 0 when none. */
function get(lab: TransitGatewayLab, from: "app" | "app2" | "service", url: string) {
  const r = lab.inHost(from, ["curl", "-s", "-o", "/dev/null", "--max-time", "3", "-w", "%{http_code}", url], 10_000);
  return { curlExit: r.code, status: Number(r.stdout.trim() || 0) };
}

const logText = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");
/** The client address of each line of an access log. */
const sources = (file: string) =>
  logText(file)
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" ")[0]);

/** The checks of the Transit Gateway lab, in order: each returns a failure's explanation or undefined. */
export function transitGatewayChecks(lab: TransitGatewayLab): TgwCheck[] {
  return [...gatewayChecks(lab), ...peeringChecks(lab)];
}

/** Through the Transit Gateway and the NAT host: both apps reach the service as the NAT's address, and nothing else connects. */
function gatewayChecks(lab: TransitGatewayLab): TgwCheck[] {
  const { hosts } = lab;
  const serviceUrl = `http://${hosts.service}:${lab.servicePort}/`;
  return [
    {
      name: "through the Transit Gateway and the NAT host, the app reaches the service: 200",
      run: () => {
        const r = get(lab, "app", serviceUrl);
        return r.status === 200 ? undefined : `expected 200, got ${JSON.stringify(r)}`;
      },
    },
    {
      name: "the second app VPC reaches it too: 200",
      run: () => {
        const r = get(lab, "app2", serviceUrl);
        return r.status === 200 ? undefined : `expected 200, got ${JSON.stringify(r)}`;
      },
    },
    {
      name: "the service's log shows the NAT's address in the proxy VPC's block, never an app's",
      run: () => {
        const seen = sources(lab.serviceAccessLog);
        return seen.length === 2 && seen.every((x) => x === hosts.nat)
          ? undefined
          : `expected two requests from ${hosts.nat}, the log shows ${JSON.stringify(seen)}`;
      },
    },
    {
      name: "app VPCs cannot reach each other through the Transit Gateway (the apps table has no route): no connection",
      run: () => {
        const r = get(lab, "app", `http://${hosts.app2}:${lab.servicePort}/`);
        return r.status === 0 && r.curlExit !== 0 && sources(lab.app2AccessLog).length === 0
          ? undefined
          : `expected no connection, got ${JSON.stringify(r)} and ${logText(lab.app2AccessLog)}`;
      },
    },
    {
      name: "the service cannot open a connection to an app: it routes only the proxy VPC's block",
      run: () => {
        const r = lab.inHost(
          "service",
          ["curl", "-s", "-o", "/dev/null", "--max-time", "3", "-w", "%{http_code}", `http://${hosts.app}:${lab.servicePort}/`],
          10_000,
        );
        return Number(r.stdout.trim() || 0) === 0 ? undefined : `expected no connection, got ${r.stdout}`;
      },
    },
  ];
}

/** Over a peering instead, the NAT host forwards nothing to the service; back on the gateway, it works again. */
function peeringChecks(lab: TransitGatewayLab): TgwCheck[] {
  const serviceUrl = `http://${lab.hosts.service}:${lab.servicePort}/`;
  return [
    {
      name: "through a peering instead, app -> NAT -> service fails (peering is not transitive), and the service sees nothing",
      run: () => {
        const before = sources(lab.serviceAccessLog).length;
        lab.routeAppOverPeering(true);
        try {
          const r = get(lab, "app", serviceUrl);
          const after = sources(lab.serviceAccessLog).length;
          return r.status === 0 && after === before
            ? undefined
            : `expected no connection, got ${JSON.stringify(r)}; the service logged ${after - before} request(s)`;
        } finally {
          lab.routeAppOverPeering(false);
        }
      },
    },
    {
      name: "back on the Transit Gateway, the app reaches the service again: 200",
      run: () => {
        const r = get(lab, "app", serviceUrl);
        return r.status === 200 ? undefined : `expected 200, got ${JSON.stringify(r)}`;
      },
    },
  ];
}
