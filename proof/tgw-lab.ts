/**
 * Both halves of the original's addendum on one machine, with real daemons in network namespaces:
 * two app servers, a Transit Gateway stand-in, a NAT host in the proxy VPC and the service.
 *
 * The Transit Gateway is a router namespace with one link per attachment and a route table per
 * attachment kind, chosen by the link a packet came in on (`ip rule iif`): the apps table holds
 * only the services' blocks towards the proxy VPC's attachment, the proxy table every app block,
 * as the stack's tables do. The NAT host is the private NAT gateway: it forwards and rewrites the
 * source to its own address (nftables snat) on the way to the service. The service's access log
 * shows who connected. For the peering half, the app also has a point-to-point "peering" link to
 * the proxy VPC; AWS delivers over a peering only what is addressed to the peer VPC itself (no
 * edge-to-edge routing), which the NAT host's side of that link enforces with one nftables rule.
 * Needs root.
 *
 * Everything started here is stopped by its PID; the namespaces are removed by `stop()`.
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

/** Starts the lab for an environment with a Transit Gateway and private NAT egress. */
export async function startTransitGatewayLab(env: EnvironmentConfig): Promise<TransitGatewayLab> {
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
  const services = env.services.map((s) => s.cidr);

  const id = randomBytes(3).toString("hex");
  const ns = (role: Role) => `pxt-${id}-${role}`;
  const roles: Role[] = ["app", "app2", "tgw", "nat", "service"];
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `proxy-tgw-${id}-`));
  fs.chmodSync(runDir, 0o755);
  const children: ChildProcess[] = [];
  const created: string[] = [];
  let stopped = false;
  const inHost = (role: Role, args: readonly string[], timeoutMs?: number) => sh(["ip", "netns", "exec", ns(role), ...args], timeoutMs);
  const launcher = (role: Role) => (args: readonly string[], out: number) =>
    spawn("ip", ["netns", "exec", ns(role), ...args], { stdio: ["ignore", out, out] });

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const child of [...children].reverse()) {
      if (child.exitCode !== null || child.signalCode !== null || !child.pid) continue;
      const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
      child.kill("SIGTERM");
      const late = new Promise<"late">((resolve) => setTimeout(() => resolve("late"), 10_000).unref());
      if ((await Promise.race([exited, late])) === "late") {
        child.kill("SIGKILL");
        await exited;
      }
    }
    for (const name of created) sh(["ip", "netns", "del", name]);
  };

  try {
    for (const role of roles) {
      must(["ip", "netns", "add", ns(role)]);
      created.push(ns(role));
      must(["ip", "-n", ns(role), "link", "set", "lo", "up"]);
    }
    // The gateway and the NAT host route; the servers do not.
    for (const role of ["app", "app2", "service"] as const)
      must(["ip", "netns", "exec", ns(role), "sysctl", "-qw", "net.ipv4.ip_forward=0"]);
    must(["ip", "netns", "exec", ns("tgw"), "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.proxy_arp=1"]);
    must(["ip", "netns", "exec", ns("nat"), "sysctl", "-qw", "net.ipv4.ip_forward=1", "net.ipv4.conf.all.proxy_arp=1"]);

    let n = 0;
    /** A veth pair; `aAddress`/`bAddress` go on each end as /32 where given. Returns the two device names. */
    const link = (a: Role, aAddress: string | undefined, b: Role, bAddress: string | undefined): [string, string] => {
      n++;
      const [da, db] = [`${id}t${n}a`, `${id}t${n}b`];
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

    // Attachments: each app VPC and the proxy VPC has a link to the gateway.
    const [appToTgw, tgwFromApp] = link("app", hosts.app, "tgw", undefined);
    const [app2ToTgw, tgwFromApp2] = link("app2", hosts.app2, "tgw", undefined);
    const [natToTgw, tgwFromProxy] = link("nat", hosts.nat, "tgw", undefined);
    // The app VPCs' tables send the services to the gateway; the app also tries its neighbour.
    for (const s of services) route("app", s, appToTgw);
    for (const s of services) route("app2", s, app2ToTgw);
    route("app", app2Vpc.cidr, appToTgw);
    route("app2", appVpc.cidr, app2ToTgw);
    // The gateway's tables: chosen by the attachment a packet arrives from.
    for (const dev of [tgwFromApp, tgwFromApp2]) must(["ip", "-n", ns("tgw"), "rule", "add", "iif", dev, "lookup", String(APPS_TABLE)]);
    must(["ip", "-n", ns("tgw"), "rule", "add", "iif", tgwFromProxy, "lookup", String(PROXY_TABLE)]);
    // The gateway asks for neighbours from an address of its own; it routes nothing by its main table.
    must(["ip", "-n", ns("tgw"), "addr", "add", `${TGW_ADDRESS}/32`, "dev", "lo"]);
    for (const s of services) route("tgw", s, tgwFromProxy, APPS_TABLE, TGW_ADDRESS);
    route("tgw", appVpc.cidr, tgwFromApp, PROXY_TABLE, TGW_ADDRESS);
    route("tgw", app2Vpc.cidr, tgwFromApp2, PROXY_TABLE, TGW_ADDRESS);

    // The proxy VPC: the NAT host sends the services on over the service peering, the app blocks back to the gateway.
    const [natToService, serviceToNat] = link("nat", undefined, "service", hosts.service);
    for (const s of services) route("nat", s, natToService, undefined, hosts.nat);
    route("nat", appVpc.cidr, natToTgw);
    route("nat", app2Vpc.cidr, natToTgw);
    route("service", env.proxyVpc.cidr, serviceToNat);
    // The private NAT gateway: connections to the services leave with the NAT host's own address.
    const nft = (rules: string) => must(["ip", "netns", "exec", ns("nat"), "sh", "-c", `printf '%s' "$0" | nft -f -`, rules]);
    nft(
      `table ip natgw {\n  chain post { type nat hook postrouting priority srcnat; policy accept; oifname "${natToService}" snat to ${hosts.nat}; }\n}\n`,
    );

    // The peering half: a direct link between the app VPC and the proxy VPC, which AWS uses only
    // for traffic addressed to the peer VPC itself.
    const [appToPeering, natFromPeering] = link("app", undefined, "nat", undefined);
    nft(
      `table ip peering {\n  chain forward { type filter hook forward priority filter; policy accept; iifname "${natFromPeering}" ip daddr != ${env.proxyVpc.cidr} drop; }\n}\n`,
    );

    const serviceDir = path.join(runDir, "service");
    const app2Dir = path.join(runDir, "app2");
    fs.mkdirSync(serviceDir);
    fs.mkdirSync(app2Dir);
    for (const d of [serviceDir, app2Dir]) fs.chmodSync(d, 0o755);
    const service = startService(serviceDir, env.name, hosts.service, servicePort, undefined, launcher("service"));
    children.push(service.process);
    await waitFor(
      "the service's apache2 answering",
      service.process,
      () => inHost("service", ["curl", "-s", "-o", "/dev/null", "--max-time", "1", `http://${hosts.service}:${servicePort}/`]).code === 0,
    );
    const app2 = startService(app2Dir, `${env.name} (app2)`, hosts.app2, servicePort, undefined, launcher("app2"));
    children.push(app2.process);
    await waitFor(
      "app2's apache2 answering",
      app2.process,
      () => inHost("app2", ["curl", "-s", "-o", "/dev/null", "--max-time", "1", `http://${hosts.app2}:${servicePort}/`]).code === 0,
    );
    fs.truncateSync(service.accessLog, 0);
    fs.truncateSync(app2.accessLog, 0);

    return {
      hosts,
      servicePort,
      serviceAccessLog: service.accessLog,
      app2AccessLog: app2.accessLog,
      runDir,
      inHost,
      routeAppOverPeering(peering) {
        for (const s of services) must(["ip", "-n", ns("app"), "route", "replace", s, "dev", peering ? appToPeering : appToTgw]);
      },
      stop,
    };
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message} (logs in ${runDir})`);
  }
}

/** The checks of the Transit Gateway lab, in order: each returns a failure's explanation or undefined. */
export function transitGatewayChecks(lab: TransitGatewayLab): { readonly name: string; readonly run: () => string | undefined }[] {
  const { hosts } = lab;
  const serviceUrl = `http://${hosts.service}:${lab.servicePort}/`;
  const get = (from: "app" | "app2" | "service", url: string) => {
    const r = lab.inHost(from, ["curl", "-s", "-o", "/dev/null", "--max-time", "3", "-w", "%{http_code}", url], 10_000);
    return { curlExit: r.code, status: Number(r.stdout.trim() || 0) };
  };
  const log = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");
  const sources = (file: string) =>
    log(file)
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split(" ")[0]);
  return [
    {
      name: "through the Transit Gateway and the NAT host, the app reaches the service: 200",
      run: () => {
        const r = get("app", serviceUrl);
        return r.status === 200 ? undefined : `expected 200, got ${JSON.stringify(r)}`;
      },
    },
    {
      name: "the second app VPC reaches it too: 200",
      run: () => {
        const r = get("app2", serviceUrl);
        return r.status === 200 ? undefined : `expected 200, got ${JSON.stringify(r)}`;
      },
    },
    {
      name: "the service's log shows the NAT's address in the proxy VPC's block, never an app's",
      run: () => {
        const seen = sources(lab.serviceAccessLog);
        return seen.length === 2 && seen.every((s) => s === hosts.nat)
          ? undefined
          : `expected two requests from ${hosts.nat}, the log shows ${JSON.stringify(seen)}`;
      },
    },
    {
      name: "app VPCs cannot reach each other through the Transit Gateway (the apps table has no route): no connection",
      run: () => {
        const r = get("app", `http://${hosts.app2}:${lab.servicePort}/`);
        return r.status === 0 && r.curlExit !== 0 && sources(lab.app2AccessLog).length === 0
          ? undefined
          : `expected no connection, got ${JSON.stringify(r)} and ${log(lab.app2AccessLog)}`;
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
    {
      name: "through a peering instead, app -> NAT -> service fails (peering is not transitive), and the service sees nothing",
      run: () => {
        const before = sources(lab.serviceAccessLog).length;
        lab.routeAppOverPeering(true);
        try {
          const r = get("app", serviceUrl);
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
        const r = get("app", serviceUrl);
        return r.status === 200 ? undefined : `expected 200, got ${JSON.stringify(r)}`;
      },
    },
  ];
}
