/**
 * The whole network of a stack: every place it holds (servers, load balancer, resolver endpoint, NAT gateways, the service side,
 * the package repositories, an outsider in every VPC and one outside them all), split into address classes, and the verdict of
 * every pair of places for every traffic class.
 */
import { AddressClasses, spanIn, spanIs } from "./addresses";
import { carries, connection, hasPorts, nacl, Protocol, Steps } from "./analysis";
import { Endpoint, Frontend, GatewayEndpointInfo, InterfaceEndpointInfo, Model, Place, Rule } from "./model";
import { throughPrivateLink } from "./privatelink";
import { TrafficClass, trafficClasses } from "./traffic";

/** The `vpc` of a place outside every network the stack joins. */
export const NOWHERE = "outside every network of the stack";

/** What a place of the whole network is. */
export type PlaceKind = "server" | "block" | "load balancer" | "endpoint" | "nat" | "outsider" | "outside" | "repositories";

/** A place where one address class of a network place sits. */
export interface Spot extends Place {
  /** The addresses it stands for. */
  readonly span: string;
}

/** A place of the whole network. */
export interface NetworkPlace {
  readonly name: string;
  readonly kind: PlaceKind;
  readonly spots: readonly Spot[];
  /** It carries a security group of the stack, which the verdicts judge. */
  readonly filtered: boolean;
  /** It starts connections (a load balancer's are its health checks and what it forwards). */
  readonly sends: boolean;
  /** It takes connections. */
  readonly receives: boolean;
  /** A load balancer: its listeners and the places of its targets. */
  readonly frontend?: { readonly front: Frontend; readonly targets: readonly Place[]; readonly of: string };
  /** The package repositories behind a gateway endpoint. */
  readonly repositories?: GatewayEndpointInfo;
  /** An interface endpoint, which hands what it takes to its endpoint service's load balancer (PrivateLink). */
  readonly privateLink?: InterfaceEndpointInfo;
}

/** One verdict of the whole network: a spot of a place to a spot of another, for one traffic class. */
export interface NetworkVerdict {
  readonly from: NetworkPlace;
  readonly fromSpot: Spot;
  readonly to: NetworkPlace;
  readonly toSpot: Spot;
  readonly traffic: TrafficClass;
  readonly allowed: boolean;
  /** Behind a load balancer: every target takes it, not only some. */
  readonly complete: boolean;
  readonly reasons: readonly string[];
  /** The source address the destination sees. */
  readonly seen: string;
}

/** The whole network of a stack and its verdicts. */
export interface Network {
  readonly model: Model;
  readonly places: readonly NetworkPlace[];
  readonly traffic: readonly TrafficClass[];
  readonly verdicts: readonly NetworkVerdict[];
}

/** Every block the model names, so that address classes split places where some rule or route does. */
function blocksOf(model: Model, extra: readonly string[]): string[] {
  const groups = [...model.groups.values()].flatMap((g) => [...g.ingress, ...g.egress]);
  return [
    ...model.vpcs.values(),
    ...[...model.subnets.values()].map((s) => s.cidr),
    ...groups.flatMap((r) => (r.cidr ? [r.cidr] : [])),
    ...[...model.routes.values()].flat().map((r) => r.destination),
    ...[...model.tgwRoutes.values()].flat().map((r) => r.destination),
    ...[...model.naclOfSubnet.values()].flatMap((a) => a.rules.map((r) => r.cidr)),
    ...model.endpoints.flatMap((e) => e.placements.map((p) => p.range)),
    ...[...model.frontends.values()].flatMap((f) => f.nodes.map((n) => n.range)),
    ...[...model.interfaceEndpoints.values()].flatMap((e) => e.placements.map((p) => p.range)),
    ...[...model.natGateways.values()].map((n) => n.range),
    ...[...model.vpnGateways.values()].flatMap((g) => g.advertised.prefixes),
    ...extra,
  ];
}

/** A place split into its address classes: a spot per class, in each of its placements. */
function split(classes: AddressClasses, placements: readonly Place[], taken: Taken = new Map()): Spot[] {
  return placements.flatMap((p) =>
    classes
      .within(p.range, (s) => [...(taken.get(p.vpc) ?? [])].some((t) => t !== p.range && spanIs(s, t)))
      .map((c) => ({ ...p, range: c.range, span: c.span })),
  );
}

/** Fixed addresses by VPC: two VPCs may share a block, and an address held in one is free in the other. */
type Taken = ReadonlyMap<string, ReadonlySet<string>>;

/** The fixed addresses of the model's places, which a place AWS puts anywhere in a subnet of the same VPC cannot have. */
function takenAddresses(model: Model): Taken {
  const fixed = [
    ...model.endpoints.flatMap((e) => e.placements),
    ...[...model.frontends.values()].flatMap((f) => f.nodes),
    ...[...model.natGateways.values()].map((n) => ({ vpc: model.subnets.get(n.subnet)!.vpc, range: n.range })),
  ];
  const taken = new Map<string, Set<string>>();
  for (const { vpc, range } of fixed.filter((p) => p.range.endsWith("/32"))) {
    if (!taken.has(vpc)) taken.set(vpc, new Set());
    taken.get(vpc)!.add(range);
  }
  return taken;
}

/** The model's servers and blocks, load balancers and NAT gateways as places. */
function builtPlaces(model: Model, classes: AddressClasses): NetworkPlace[] {
  const taken = takenAddresses(model);
  const places: NetworkPlace[] = model.endpoints.map((e: Endpoint) => ({
    name: e.name,
    kind: e.outside ? "block" : "server",
    spots: split(classes, e.placements, taken),
    filtered: !e.outside && e.groups.length > 0,
    sends: true,
    receives: true,
  }));
  for (const [of, front] of model.frontends) {
    const targets = model.endpoints.find((e) => e.address === of)?.placements ?? [];
    places.push({
      name: front.address,
      kind: "load balancer",
      spots: split(classes, front.nodes, taken),
      filtered: front.nodes.some((n) => n.groups.length > 0),
      sends: true,
      receives: true,
      frontend: { front, targets, of },
    });
  }
  for (const endpoint of model.interfaceEndpoints.values()) {
    places.push({
      name: endpoint.name,
      kind: "endpoint",
      spots: split(classes, endpoint.placements, taken),
      filtered: endpoint.placements.some((p) => p.groups.length > 0),
      sends: false,
      receives: true,
      privateLink: endpoint,
    });
  }
  for (const nat of model.natGateways.values()) {
    const info = model.subnets.get(nat.subnet)!;
    const at: Place = {
      name: nat.name,
      vpc: info.vpc,
      vpcCidr: model.cidrOf(info.vpc),
      subnet: nat.subnet,
      range: nat.range,
      groups: [],
      outside: "a NAT gateway has no security group",
    };
    places.push({ name: nat.name, kind: "nat", spots: [{ ...at, span: nat.range }], filtered: false, sends: true, receives: false });
  }
  return places;
}

/** An outsider in every VPC that has no place of the user's servers already: any host in its subnets, at addresses no place holds. */
function outsiders(model: Model, classes: AddressClasses, places: readonly NetworkPlace[]): NetworkPlace[] {
  const taken = takenAddresses(model);
  const userVpcs = new Set(places.filter((p) => p.kind === "block").flatMap((p) => p.spots.map((s) => s.vpc)));
  const shared = (vpc: string) => [...model.vpcs].some(([other, cidr]) => other !== vpc && cidr === model.cidrOf(vpc));
  return [...model.vpcs.keys()]
    .filter((vpc) => !userVpcs.has(vpc))
    .map((vpc) => {
      // Two VPCs may share a block: then the VPC's name tells their outsiders apart.
      const name = `outsider in ${model.cidrOf(vpc)}${shared(vpc) ? ` (${model.vpcNames.get(vpc) ?? vpc})` : ""}`;
      const placements: Place[] = [...model.subnets]
        .filter(([, s]) => s.vpc === vpc)
        .map(([subnet, s]) => ({
          name,
          vpc,
          vpcCidr: model.cidrOf(vpc),
          subnet,
          range: s.cidr,
          groups: [],
          outside: "a host the stack does not build, with security groups of its own",
        }));
      const spots = split(classes, placements, taken);
      return { name, kind: "outsider" as const, spots, filtered: false, sends: true, receives: true };
    })
    .filter((p) => p.spots.length > 0);
}

/** Addresses outside every block of the stack and its services: nowhere the stack joins, and beyond each virtual private gateway. */
function outside(model: Model, classes: AddressClasses, inside: readonly string[]): NetworkPlace {
  const name = "outside every block";
  const spots = classes
    .within("0.0.0.0/0", (s) => inside.some((b) => spanIn(s, b)))
    .flatMap((c) => [
      { name, vpc: NOWHERE, vpcCidr: NOWHERE, subnet: NOWHERE, range: c.range, groups: [], outside: "not the stack's", span: c.span },
      ...[...model.vpnGateways.values()].map((g) => ({
        name: `${name}, in the provider's network`,
        vpc: g.beyond,
        vpcCidr: `the provider's network beyond ${g.name}`,
        subnet: g.beyond,
        range: c.range,
        groups: [],
        outside: "the provider's network, outside this stack",
        span: c.span,
      })),
    ]);
  return { name, kind: "outside", spots, filtered: false, sends: true, receives: true };
}

/** The package repositories behind each gateway endpoint: a destination only, whose addresses its prefix list names. */
function repositories(model: Model): NetworkPlace[] {
  return [...model.gatewayEndpoints.values()].map((ep) => {
    const at: Spot = {
      name: `package repositories (${ep.service} through ${ep.address})`,
      vpc: `${ep.service} (AWS's network)`,
      vpcCidr: `${ep.service}'s prefix list`,
      subnet: ep.address,
      range: "0.0.0.0/0",
      groups: [],
      outside: "the endpoint's and buckets' policies, outside this stack",
      span: `${ep.service}'s prefix list`,
    };
    return { name: at.name, kind: "repositories" as const, spots: [at], filtered: false, sends: false, receives: true, repositories: ep };
  });
}

/**
 * Every place of the model's network. `inside`: the blocks that are not outside every block (the services' too, which a stack
 * beyond a gateway does not hold); `addresses`: more addresses to set apart (the DNS servers queries are forwarded to).
 */
export function networkPlaces(model: Model, inside: readonly string[] = [], addresses: readonly string[] = []): NetworkPlace[] {
  const classes = new AddressClasses(blocksOf(model, [...inside, ...addresses]));
  const built = builtPlaces(model, classes);
  const blocks = [...model.vpcs.values(), ...inside];
  return [...built, ...outsiders(model, classes, built), outside(model, classes, blocks), ...repositories(model)];
}

/** The egress rule of `from` that admits the traffic to a gateway endpoint's prefix list. */
function prefixListRule(model: Model, from: Place, ep: GatewayEndpointInfo, protocol: Protocol, port: number): Rule | undefined {
  const rules = from.groups.flatMap((g) => model.groups.get(g)?.egress ?? []);
  const inPorts = (r: Rule) => r.protocol === "-1" || !hasPorts(protocol) || (r.fromPort <= port && port <= r.toPort);
  return rules.find((r) => r.prefixList === ep.prefixList && carries(r.protocol, protocol) && inPorts(r));
}

/** A connection to the repositories of a gateway endpoint: egress to its prefix list, the endpoint in the subnet's table, NACLs. */
function toRepositories(model: Model, from: Spot, ep: GatewayEndpointInfo, protocol: Protocol, port: number): Steps {
  const steps = new Steps();
  if (from.outside) steps.step(true, `egress of ${from.name}: ${from.outside} (not judged)`);
  else {
    const rule = prefixListRule(model, from, ep, protocol, port);
    steps.step(
      !!rule,
      rule ? `egress ${rule.address}` : `no egress rule of ${from.name} allows ${protocol} ${port} to ${ep.address}'s prefix list`,
    );
  }
  const table = model.routeTableOfSubnet.get(from.subnet);
  const joined = table !== undefined && ep.routeTables.includes(table);
  steps.step(
    joined,
    joined
      ? `${ep.address} puts ${ep.service}'s prefix list in ${table}`
      : `${from.name}'s route table ${table ?? "(none of the stack's)"} does not send ${ep.service}'s prefix list to ${ep.address}`,
  );
  for (const [egress, port2] of [[true, port] as const, [false, "ephemeral"] as const]) {
    const r = nacl(model, from.subnet, egress, "0.0.0.0/0", protocol, port2);
    steps.step(r.ok, r.reason);
  }
  steps.step(true, `ingress of ${ep.service}: the endpoint's and buckets' policies (not judged)`);
  return steps;
}

/** Through a load balancer: to one of its nodes on a listener's port, then from that node to each target, client address kept. */
function throughFrontend(model: Model, from: Spot, node: Spot, place: NetworkPlace, traffic: TrafficClass): Omit<Judged, "seen"> {
  const { front, targets } = place.frontend!;
  const port = traffic.fromPort;
  const listener = traffic.protocol === "tcp" && traffic.toPort === port ? front.listeners.get(port) : undefined;
  if (!listener)
    return { allowed: false, complete: false, reasons: [`BLOCKED: ${front.address} has no listener for ${traffic.label}, so it drops it`] };
  const toNode = new Steps();
  connection(model, toNode, from, node, "tcp", port);
  const onward = targets.map((t) => {
    const steps = new Steps();
    // The target sees the client's address arriving from the node's groups.
    connection(model, steps, node, t, "tcp", listener.targetPort, { range: from.range, groups: node.groups });
    return { t, steps };
  });
  const failed = onward.find((o) => !o.steps.allowed);
  const shown = failed ?? onward[0];
  const reached = onward.some((o) => o.steps.allowed);
  return {
    allowed: toNode.allowed && reached,
    complete: toNode.allowed && !failed && onward.length > 0,
    reasons: [
      `through ${front.address} (${listener.listener} on ${port} to ${listener.targetGroup} on ${listener.targetPort}, client addresses kept)`,
      ...toNode.reasons,
      ...(shown
        ? [
            `then to the target in ${shown.t.range} (${onward.length - (failed ? 1 : 0)} of ${onward.length} like it):`,
            ...shown.steps.reasons,
          ]
        : ["BLOCKED: no target left behind it"]),
    ],
  };
}

/** A verdict's outcome. */
interface Judged {
  readonly allowed: boolean;
  readonly complete: boolean;
  readonly reasons: readonly string[];
  readonly seen: string;
}

/** One spot to another for one traffic class. */
function judge(model: Model, from: Spot, to: NetworkPlace, toSpot: Spot, traffic: TrafficClass): Judged {
  if (from.vpc === NOWHERE)
    return {
      allowed: false,
      complete: false,
      reasons: [`BLOCKED: ${from.range} is outside every network of the stack, and no gateway of the stack takes traffic from there`],
      seen: from.range,
    };
  if (to.repositories) {
    const steps = toRepositories(model, from, to.repositories, traffic.protocol, traffic.fromPort);
    return { allowed: steps.allowed, complete: steps.allowed, reasons: steps.reasons, seen: from.range };
  }
  if (to.frontend) return { ...throughFrontend(model, from, toSpot, to, traffic), seen: from.range };
  if (to.privateLink) {
    if (traffic.protocol !== "tcp" || traffic.fromPort !== traffic.toPort)
      return {
        allowed: false,
        complete: false,
        reasons: [`BLOCKED: the load balancer behind ${to.name} has no listener for ${traffic.label}, so it drops it`],
        seen: from.range,
      };
    return { ...throughPrivateLink(model, from, toSpot, to.privateLink, traffic.fromPort), seen: from.range };
  }
  const steps = new Steps();
  const seen = connection(model, steps, from, toSpot, traffic.protocol, traffic.fromPort);
  return { allowed: steps.allowed, complete: steps.allowed, reasons: steps.reasons, seen: seen.range };
}

/** The whole network of `model` and the verdict of every pair of its places for every traffic class. */
export function analyzeNetwork(model: Model, inside: readonly string[] = [], addresses: readonly string[] = []): Network {
  const places = networkPlaces(model, inside, addresses);
  const traffic = trafficClasses(model);
  const verdicts: NetworkVerdict[] = [];
  for (const from of places.filter((p) => p.sends)) {
    for (const to of places.filter((p) => p.receives && p !== from)) {
      for (const fromSpot of from.spots) {
        for (const toSpot of to.spots) {
          // Inside the provider's network a flow never crosses the stack: not the stack's to judge.
          if (fromSpot.vpc === toSpot.vpc && model.gatewayBeyond(fromSpot.vpc)) continue;
          for (const t of traffic) verdicts.push({ from, fromSpot, to, toSpot, traffic: t, ...judge(model, fromSpot, to, toSpot, t) });
        }
      }
    }
  }
  return { model, places, traffic, verdicts };
}
