/**
 * The paths an environment needs, derived from its configuration through the egress seam (apps to the proxy and the proxy to each
 * service port, or apps to each service port through private NAT; the resolver to each DNS server), and its allowed expectedFlows.
 */
import { egressOf, EnvironmentConfig, flowEndName, portNumbers } from "../../lib/config";
import { Protocol } from "./analysis";
import { appVpcOf, factsOf } from "./invariants";
import { Network, NetworkPlace, NetworkVerdict } from "./network";
import { expectedFlowsOf } from "./report";
import { classOf } from "./traffic";

/** A path that must be allowed. */
export interface ExpectedPath {
  readonly from: string;
  readonly to: string;
  readonly protocol: Protocol;
  readonly port: number;
  /** Only the address class of `to` at this /32 (a DNS server inside a service block). @default every address of `to` */
  readonly at?: string;
  /** Why the environment needs it. */
  readonly why: string;
}

/** How an expected path fares: allowed, or blocked with the steps that block it. */
export interface PathResult {
  readonly path: ExpectedPath;
  readonly allowed: boolean;
  /** Its ends are not both in the network (a zone took one away). */
  readonly lost?: string;
  /** The verdict that fails it, when it is blocked. */
  readonly failing?: NetworkVerdict;
}

/** A path in words. */
export function pathLabel(p: ExpectedPath): string {
  return `${p.from} -> ${p.to}${p.at ? ` at ${p.at.replace(/\/32$/, "")}` : ""}: ${p.protocol} ${p.port}`;
}

/** The place clients of the proxy connect to: the load balancer in front of a fleet, or the proxy itself. */
export function proxyEntry(network: Network, proxyName: string): string {
  const address = network.model.endpoints.find((e) => e.name === proxyName)?.address;
  return network.places.find((p) => p.frontend && p.frontend.of === address)?.name ?? proxyName;
}

/** Where a flow end reaches the proxy: `entry`, or under PrivateLink the interface endpoint in its own app VPC. */
type EntryOf = (from: string) => string;

/** The entry of each flow end: the proxy's entry, or under PrivateLink the endpoint into the proxy's service in the end's app VPC. */
function entries(env: EnvironmentConfig, network: Network, entry: string): EntryOf {
  const facts = factsOf(env);
  if (!facts.privateLink) return () => entry;
  return (from) => {
    const app = env.appVpcs.find((a) => flowEndName(env, a.name) === from);
    if (!app) return entry;
    const vpc = appVpcOf(network.model, facts, app.name);
    const endpoint = network.places.find((p) => p.privateLink && p.privateLink.vpc === vpc);
    return endpoint?.name ?? `the interface endpoint of app VPC ${app.name}`;
  };
}

/** The paths the egress kind needs, between the places the configuration names. */
function egressPaths(env: EnvironmentConfig, entryOf: EntryOf): ExpectedPath[] {
  const egress = egressOf(env);
  const apps = env.appVpcs.map((a) => flowEndName(env, a.name));
  const serviceEnd = (name: string) => flowEndName(env, env.serviceSide.type === "peeredVpc" ? "service" : name);
  const servicePorts = env.services.flatMap((s) => portNumbers(s).map((port) => ({ to: serviceEnd(s.name), port, service: s.name })));
  if (egress.kind === "privateNat")
    return apps.flatMap((from) =>
      servicePorts.map(({ to, port, service }) => ({
        from,
        to,
        protocol: "tcp",
        port,
        why: `an app VPC to ${service} through private NAT`,
      })),
    );
  const proxy = flowEndName(env, "proxy");
  return [
    ...apps.map((from) => ({
      from,
      to: entryOf(from),
      protocol: "tcp",
      port: egress.proxy.port,
      why:
        egress.kind === "fleet" && egress.privateLink
          ? "an app VPC to the proxy through its own interface endpoint"
          : "an app VPC to the proxy",
    })),
    ...servicePorts.map(({ to, port, service }) => ({ from: proxy, to, protocol: "tcp", port, why: `the proxy to ${service}` })),
  ];
}

/** The resolver endpoint to each DNS server, over UDP and TCP 53. */
function dnsPaths(env: EnvironmentConfig, network: Network): ExpectedPath[] {
  const resolver = flowEndName(env, "resolver");
  if (!network.places.some((p) => p.name === resolver)) return [];
  const servers = (env.dns?.forward ?? []).flatMap((f) => f.servers);
  return [...new Set(servers)].flatMap((ip) => {
    const to = network.places.find((p) => p.kind !== "outsider" && p.spots.some((s) => s.range === `${ip}/32`));
    // A place that is the server alone needs no address: the path is to all of it.
    const at = to && to.spots.length === 1 ? {} : { at: `${ip}/32` };
    return (["udp", "tcp"] as const).map((protocol) => ({
      from: resolver,
      to: to?.name ?? `the DNS server ${ip}`,
      protocol,
      port: 53,
      ...at,
      why: "DNS forwarded to the provider's server",
    }));
  });
}

/** The expected flows the environment lists as allowed, through the proxy as two legs. */
function listedPaths(env: EnvironmentConfig, entryOf: EntryOf): ExpectedPath[] {
  const proxy = flowEndName(env, "proxy");
  const toEntry = (name: string, from: string) => (name === proxy ? entryOf(from) : name);
  return expectedFlowsOf(env)
    .filter((f) => f.allowed)
    .flatMap((f): ExpectedPath[] => {
      const why = "listed in expectedFlows";
      const protocol = f.protocol ?? "tcp";
      if (!f.via) return [{ from: f.from, to: f.port === env.proxy.port ? toEntry(f.to, f.from) : f.to, protocol, port: f.port, why }];
      return [
        { from: f.from, to: toEntry(f.via.name, f.from), protocol: "tcp", port: f.via.port, why },
        { from: f.via.name, to: f.to, protocol, port: f.port, why },
      ];
    });
}

/** Every path the environment needs, once each. */
export function expectedPaths(env: EnvironmentConfig, network: Network): ExpectedPath[] {
  const entryOf = entries(env, network, proxyEntry(network, flowEndName(env, "proxy")));
  const all = [...egressPaths(env, entryOf), ...dnsPaths(env, network), ...listedPaths(env, entryOf)];
  const seen = new Set<string>();
  return all.filter((p) => {
    const key = pathLabel(p);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

const INDEX = new WeakMap<Network, Map<string, NetworkVerdict[]>>();

/** The verdicts of `network` by source, destination and traffic class. */
function verdictsBetween(network: Network, from: NetworkPlace, to: NetworkPlace, label: string): NetworkVerdict[] {
  if (!INDEX.has(network)) {
    const index = new Map<string, NetworkVerdict[]>();
    for (const v of network.verdicts) {
      const key = `${v.from.name}\0${v.to.name}\0${v.traffic.label}`;
      if (!index.has(key)) index.set(key, []);
      index.get(key)!.push(v);
    }
    INDEX.set(network, index);
  }
  return INDEX.get(network)!.get(`${from.name}\0${to.name}\0${label}`) ?? [];
}

/** Whether `path` is allowed from every address of its source to every address of its destination (every target, behind a load balancer). */
export function judgePath(network: Network, path: ExpectedPath): PathResult {
  const from = network.places.find((p) => p.name === path.from && p.spots.length > 0);
  const to = network.places.find((p) => p.name === path.to && p.spots.length > 0);
  if (!from || !to) return { path, allowed: false, lost: `${!from ? path.from : path.to} is not in the network` };
  const traffic = classOf(network.traffic, path.protocol, path.port)!;
  const verdicts = verdictsBetween(network, from, to, traffic.label).filter((v) => !path.at || v.toSpot.range === path.at);
  if (verdicts.length === 0) return { path, allowed: false, lost: `${path.to} has no address ${path.at}` };
  const failing = verdicts.find((v) => !v.allowed || !v.complete);
  return failing ? { path, allowed: false, failing } : { path, allowed: true };
}
