/**
 * The invariants of an environment's whole network, derived from its configuration and its stack: who may reach the service
 * blocks, the app VPCs' isolation, the app servers' shelter, the proxy VPC's egress. No list to maintain.
 */
import { cidrContains } from "../../lib/cidr";
import { egressOf, EnvironmentConfig, portNumbers, runsSquid } from "../../lib/config";
import { PROXY_VPC, SERVICE_VPC, vpcName } from "../../lib/naming";
import { Model } from "./model";
import { Network, NetworkPlace, NetworkVerdict, NOWHERE, Spot } from "./network";
import { onlyPorts, TrafficClass } from "./traffic";

/** Where a spot is, as the invariants see it: an interface endpoint into the proxy's service is apart, with the app VPC it sits in. */
export type Side =
  | { readonly kind: "app"; readonly app: string }
  | { readonly kind: "endpoint"; readonly app?: string }
  | { readonly kind: "proxy" | "service" | "repositories" | "outside" };

/** A clause is kept by routes (it holds for every place, outsiders included) or by security groups (where one end carries one). */
type KeptBy = "routes" | "security groups";

/** An allowed verdict an invariant forbids. */
export interface Violation {
  readonly verdict: NetworkVerdict;
  /** What it breaks, in words. */
  readonly breaks: string;
}

/** One invariant's result. */
export interface InvariantResult {
  readonly id: string;
  /** The invariant in words, with this environment's values. */
  readonly text: string;
  /** How many allowed verdicts it examined. */
  readonly checked: number;
  readonly violations: readonly Violation[];
}

/** What the invariants need of an environment. */
export interface Facts {
  readonly proxyBlock: string;
  /** The app VPCs: the Name tag of the VPC the stack creates, or the id of an existing one, tells apart those sharing a block. */
  readonly apps: readonly { readonly name: string; readonly cidr: string; readonly vpcName: string; readonly vpcId?: string }[];
  /** The Name tags of the proxy VPC and the service VPC. */
  readonly vpcNames: { readonly proxy: string; readonly service: string };
  /** App VPCs reach the proxy through interface endpoints of their own (PrivateLink). */
  readonly privateLink: boolean;
  readonly serviceVpc?: string;
  readonly services: readonly { readonly name: string; readonly cidr: string; readonly ports: readonly number[] }[];
  /** The DNS servers queries are forwarded to, as /32 blocks. */
  readonly dnsServers: readonly string[];
  /** The proxy's port, when Squid relays. */
  readonly proxyPort?: number;
}

/** The facts of an environment. */
export function factsOf(env: EnvironmentConfig): Facts {
  const egress = egressOf(env);
  return {
    proxyBlock: env.proxyVpc.cidr,
    apps: env.appVpcs.map((a) => ({
      name: a.name,
      cidr: a.cidr,
      vpcName: vpcName(env.name, a.name),
      ...(a.existing ? { vpcId: a.existing.vpcId } : {}),
    })),
    vpcNames: { proxy: vpcName(env.name, PROXY_VPC), service: vpcName(env.name, SERVICE_VPC) },
    privateLink: egress.kind === "fleet" && egress.privateLink !== undefined,
    serviceVpc: env.serviceSide.type === "peeredVpc" ? env.serviceSide.vpc.cidr : undefined,
    services: env.services.map((s) => ({ name: s.name, cidr: s.cidr, ports: portNumbers(s) })),
    dnsServers: (env.dns?.forward ?? []).flatMap((f) => f.servers.map((ip) => `${ip}/32`)),
    proxyPort: runsSquid(egress) ? egress.proxy.port : undefined,
  };
}

/**
 * The side of a spot of `place`: an interface endpoint into the proxy's service apart; else by its VPC (its Name tag or existing id,
 * so that VPCs sharing a block stay apart; by its block for a VPC without either), or for the provider's network by whether a
 * service block holds it.
 */
export function sideOf(model: Model, facts: Facts, spot: Spot, place?: NetworkPlace): Side {
  if (spot.vpc === NOWHERE) return { kind: "outside" };
  if (model.gatewayEndpoints.has(spot.subnet)) return { kind: "repositories" };
  if (model.gatewayBeyond(spot.vpc)) return inService(facts, spot.range) ? { kind: "service" } : { kind: "outside" };
  const side = vpcSide(model, facts, spot.vpc);
  if (place?.privateLink) return side.kind === "app" ? { kind: "endpoint", app: side.app } : { kind: "endpoint" };
  return side;
}

/** The side of a VPC of the model. */
function vpcSide(model: Model, facts: Facts, vpc: string): Side {
  const name = model.vpcNames.get(vpc);
  const id = model.existingVpcIds.get(vpc);
  if (name === undefined && id === undefined) {
    const cidr = model.cidrOf(vpc);
    if (cidr === facts.proxyBlock) return { kind: "proxy" };
    const app = facts.apps.find((a) => a.cidr === cidr);
    if (app) return { kind: "app", app: app.name };
    return cidr === facts.serviceVpc ? { kind: "service" } : { kind: "outside" };
  }
  if (name === facts.vpcNames.proxy) return { kind: "proxy" };
  const app = facts.apps.find((a) => (id !== undefined ? a.vpcId === id : a.vpcName === name));
  if (app) return { kind: "app", app: app.name };
  return name === facts.vpcNames.service && facts.serviceVpc !== undefined ? { kind: "service" } : { kind: "outside" };
}

/** The VPC key of app VPC `app` in `model`, if the stack has it. */
export function appVpcOf(model: Model, facts: Facts, app: string): string | undefined {
  return [...model.vpcs.keys()].find((vpc) => {
    const side = vpcSide(model, facts, vpc);
    return side.kind === "app" && side.app === app;
  });
}

/** True when `range` lies in a service block. */
const inService = (facts: Facts, range: string) => facts.services.some((s) => cidrContains(s.cidr, range));

/** The traffic the service side may take at `range`: the ports of the services whose blocks hold it, and DNS at a forward server. */
function serviceTrafficAllowed(facts: Facts, range: string, traffic: TrafficClass): boolean {
  const ports = facts.services.filter((s) => cidrContains(s.cidr, range)).flatMap((s) => s.ports);
  if (onlyPorts(traffic, "tcp", ports)) return true;
  return facts.dnsServers.includes(range) && isDns(traffic);
}

/** DNS: UDP or TCP 53. */
const isDns = (traffic: TrafficClass) => onlyPorts(traffic, "udp", [53]) || onlyPorts(traffic, "tcp", [53]);

/** An allowed verdict and the sides of its ends. */
interface Judged {
  readonly v: NetworkVerdict;
  readonly from: Side;
  readonly to: Side;
}

/** A forbidden allowed verdict: its clause in words, and whether routes or security groups keep it. */
type Clause = { readonly breaks: string; readonly keptBy: KeptBy } | undefined;

/** The invariants, each as its text and a judge of one allowed verdict (undefined: not in its scope). */
function invariants(model: Model, facts: Facts): { id: string; text: string; judge: (c: Judged) => Clause | null }[] {
  const ports = facts.services.map((s) => `${s.name} ${s.ports.join(", ")}`).join("; ");
  const dns =
    facts.dnsServers.length > 0
      ? ` and DNS (53) to the forward servers ${facts.dnsServers.map((d) => d.replace("/32", "")).join(", ")}`
      : "";
  const repositories = [...model.gatewayEndpoints.values()].map((g) => `${g.service} through ${g.address}`).join(", ") || "none";
  return [
    {
      id: "service-sources",
      text: `the only sources that reach a service block are addresses in the proxy block ${facts.proxyBlock} (a NAT gateway's included), on the services' ports only (${ports})${dns}`,
      judge: ({ v, to }) => {
        if (to.kind !== "service" || !inService(facts, v.toSpot.range) || v.fromSpot.vpc === v.toSpot.vpc) return null;
        if (!cidrContains(facts.proxyBlock, v.seen))
          return { breaks: `the service side sees ${v.seen}, outside the proxy block ${facts.proxyBlock}`, keptBy: "routes" };
        if (!serviceTrafficAllowed(facts, v.toSpot.range, v.traffic))
          return { breaks: `${v.traffic.label} is not a port of the service at ${v.toSpot.range}`, keptBy: "security groups" };
        return undefined;
      },
    },
    appIsolation(model, facts),
    {
      id: "app-shelter",
      text: "nothing reaches an app server (or any host in an app VPC) from the service side, the proxy VPC or another app VPC",
      judge: ({ from, to }) => {
        if (to.kind !== "app" || (from.kind === "app" && from.app === to.app)) return null;
        if (from.kind === "proxy") return { breaks: `the proxy VPC reaches app VPC ${to.app}`, keptBy: "security groups" };
        if (from.kind === "service" || from.kind === "app" || from.kind === "outside")
          return {
            breaks: `${from.kind === "app" ? `app VPC ${from.app}` : `the ${from.kind === "service" ? "service side" : "outside"}`} reaches app VPC ${to.app}`,
            keptBy: "routes",
          };
        return undefined;
      },
    },
    {
      id: "proxy-egress",
      text: `the proxy VPC reaches nothing outside itself but the service blocks on their ports${dns}, and the package repositories (${repositories}) on tcp 443`,
      judge: ({ v, from, to }) => {
        if (from.kind !== "proxy" || v.fromSpot.vpc === v.toSpot.vpc) return null;
        if (facts.dnsServers.includes(v.toSpot.range) && isDns(v.traffic)) return undefined;
        if (to.kind === "repositories")
          return onlyPorts(v.traffic, "tcp", [443])
            ? undefined
            : { breaks: `the proxy VPC reaches ${v.to.name} on ${v.traffic.label}`, keptBy: "security groups" };
        if (to.kind === "service" && inService(facts, v.toSpot.range))
          return serviceTrafficAllowed(facts, v.toSpot.range, v.traffic)
            ? undefined
            : { breaks: `the proxy VPC reaches ${v.toSpot.range} on ${v.traffic.label}, not a service port`, keptBy: "security groups" };
        return {
          breaks: `the proxy VPC reaches ${v.toSpot.range} (${v.to.name}) on ${v.traffic.label}`,
          keptBy: to.kind === "outside" ? "routes" : "security groups",
        };
      },
    },
  ];
}

/** A side in words. */
function sideText(side: Side): string {
  if (side.kind === "app") return `app VPC ${side.app}`;
  if (side.kind === "endpoint") return side.app ? `app VPC ${side.app}'s endpoint` : "an endpoint outside the app VPCs";
  return side.kind === "service" ? "the service side" : side.kind === "proxy" ? "the proxy VPC" : `the ${side.kind}`;
}

/**
 * No app VPC reaches another, nor the proxy VPC but on its port; under PrivateLink only through its own interface endpoint, which
 * takes connections from that app VPC only.
 */
function appIsolation(model: Model, facts: Facts): { id: string; text: string; judge: (c: Judged) => Clause | null } {
  const proxyPort = facts.proxyPort !== undefined ? `the proxy port (tcp ${facts.proxyPort})` : "nothing (no proxy)";
  const inbound = [...model.inboundResolvers];
  const onProxyPort = (v: NetworkVerdict) => facts.proxyPort !== undefined && onlyPorts(v.traffic, "tcp", [facts.proxyPort]);
  const text = facts.privateLink
    ? `no app VPC reaches another app VPC or anything in the proxy VPC directly; each reaches the proxy only through its own interface endpoint, on ${proxyPort}, and an endpoint takes connections from its own app VPC only`
    : `no app VPC reaches another app VPC, nor anything in the proxy VPC but ${proxyPort}${inbound.length > 0 ? ` and DNS (53) at ${inbound.join(", ")}` : ""}`;
  const judge = ({ v, from, to }: Judged): Clause | null => {
    if (to.kind === "endpoint") {
      if (to.app === undefined)
        return {
          breaks: `${sideText(from)} reaches the proxy through ${v.to.name}, an endpoint in a VPC that is not an app VPC`,
          keptBy: "routes",
        };
      if (from.kind !== "app" || from.app !== to.app) return { breaks: `${sideText(from)} reaches ${sideText(to)}`, keptBy: "routes" };
      return onProxyPort(v)
        ? undefined
        : { breaks: `app VPC ${from.app} reaches the proxy through its endpoint on ${v.traffic.label}`, keptBy: "security groups" };
    }
    if (from.kind !== "app") return null;
    if (to.kind === "app" && to.app !== from.app) return { breaks: `app VPC ${from.app} reaches app VPC ${to.app}`, keptBy: "routes" };
    if (to.kind !== "proxy") return null;
    if (facts.privateLink)
      return { breaks: `app VPC ${from.app} reaches the proxy VPC directly, not through its endpoint`, keptBy: "routes" };
    const resolver = model.endpoints.some((e) => inbound.includes(e.address) && e.name === v.to.name) && isDns(v.traffic);
    return onProxyPort(v) || resolver
      ? undefined
      : { breaks: `app VPC ${from.app} reaches the proxy VPC on ${v.traffic.label}`, keptBy: "security groups" };
  };
  return { id: "app-isolation", text, judge };
}

/** Checks the invariants on every allowed verdict of `network`; a clause security groups keep counts where one end carries one. */
export function checkInvariants(network: Network, facts: Facts): InvariantResult[] {
  const { model } = network;
  const allowed = network.verdicts.filter((v) => v.allowed);
  return invariants(model, facts).map(({ id, text, judge }) => {
    let checked = 0;
    const violations: Violation[] = [];
    for (const v of allowed) {
      const clause = judge({ v, from: sideOf(model, facts, v.fromSpot, v.from), to: sideOf(model, facts, v.toSpot, v.to) });
      if (clause === null) continue;
      checked++;
      if (clause && (clause.keptBy === "routes" || v.from.filtered || v.to.filtered))
        violations.push({ verdict: v, breaks: clause.breaks });
    }
    return { id, text, checked, violations };
  });
}
