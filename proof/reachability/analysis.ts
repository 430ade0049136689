/**
 * Static reachability of one connection in a synthesized stack: it follows what AWS evaluates (egress, routes hop by hop, network
 * ACLs, ingress, the route back) and gives the reason for each step. The servers' matrix is in servers.ts.
 */
import { cidrContains } from "../../lib/cidr";
import { isAllTraffic, protocolCarries, Transport } from "../../lib/tf-json";
import { Model, NatGatewayInfo, Place, Route, Rule, TgwAttachment, VpnGatewayInfo } from "./model";

/**
 * A protocol a connection uses: "tcp" or "udp" (with ports), or one without ports: "icmp", a protocol a rule names by its
 * number or name, or "other" (one that no rule names, which only an all-traffic rule carries).
 */
export type Protocol = string;

/** TCP and UDP have ports; the other protocols do not, so a rule that carries them carries all of their traffic. */
export const hasPorts = (protocol: Protocol): protocol is Transport => protocol === "tcp" || protocol === "udp";

/** Protocol names AWS takes for a number, beside tcp (6) and udp (17). */
const NUMBERED: Readonly<Record<string, string>> = { "1": "icmp", "58": "icmpv6" };

/** The name the analysis uses for a rule's protocol field: "tcp", "udp", "icmp", "all", or the field as written. */
export function protocolName(field: unknown): string {
  const p = String(field ?? "").toLowerCase();
  if (isAllTraffic(p)) return "all";
  if (protocolCarries(p, "tcp")) return "tcp";
  if (protocolCarries(p, "udp")) return "udp";
  return NUMBERED[p] ?? p;
}

/** Does a rule's protocol field carry `protocol`? */
export function carries(field: unknown, protocol: Protocol): boolean {
  const name = protocolName(field);
  return name === "all" || name === protocol;
}

const portIn = (port: number, from: number, to: number, rule: string, protocol: Protocol) =>
  isAllTraffic(rule) || !hasPorts(protocol) || (port >= from && port <= to);

/** The rule of `rules` that admits `protocol` `port` to or from `peer` (its range, or one of its groups), if any. */
export function admitting(
  rules: readonly Rule[],
  protocol: Protocol,
  port: number,
  peer: Pick<Place, "range" | "groups">,
): Rule | undefined {
  return rules.find(
    (r) =>
      carries(r.protocol, protocol) &&
      portIn(port, r.fromPort, r.toPort, r.protocol, protocol) &&
      ((r.cidr !== undefined && cidrContains(r.cidr, peer.range)) || (r.groupRef !== undefined && peer.groups.includes(r.groupRef))),
  );
}

/** Where a packet is on its way: a subnet of a VPC (where it entered, or where it started). */
interface Hop {
  readonly name: string;
  readonly vpc: string;
  readonly vpcCidr: string;
  readonly subnet: string;
}

/** The result of following the routes from a place towards a destination. */
interface Forwarded {
  readonly ok: boolean;
  /** Each hop's reason, the blocking one last when not ok. */
  readonly reasons: readonly string[];
  /** The NAT gateway that re-originated the connection on the way, if one did. */
  readonly nat?: Place;
}

/** True when `text` is an IPv4 block (a VPC's block; not the text that stands for a network outside the stack). */
const isBlock = (text: string) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(text);

/** Hops a path may take before the analysis calls it a loop. */
const MAX_HOPS = 8;

/** The most specific of `routes` whose destination holds `range`. */
function longestMatch<T extends { destination: string }>(routes: readonly T[], range: string): T | undefined {
  const prefix = (r: T) => Number(r.destination.split("/")[1]);
  return routes.filter((r) => cidrContains(r.destination, range)).sort((a, b) => prefix(b) - prefix(a))[0];
}

/** A packet on its way: where it is, where it goes, the VPC of its source, the hops so far and the NAT gateway it passed. */
interface Packet {
  readonly at: Hop;
  readonly to: Place;
  readonly origin: string;
  readonly hops: number;
  readonly nat?: Place;
}

/** Follows the routes from `packet.at` towards its destination's range, hop by hop, as AWS forwards a packet. */
function forward(model: Model, packet: Packet): Forwarded {
  const { at, to, nat } = packet;
  if (at.vpc === to.vpc) return { ok: true, reasons: [`local route in ${at.vpcCidr}`], nat };
  if (packet.hops >= MAX_HOPS)
    return { ok: false, reasons: [`more than ${MAX_HOPS} hops from ${at.name} towards ${to.range}: a routing loop`] };
  const provider = model.gatewayBeyond(at.vpc);
  if (provider) return { ...fromProvider(model, provider, to), nat };
  if (isBlock(at.vpcCidr) && cidrContains(at.vpcCidr, to.range))
    return {
      ok: false,
      reasons: [
        `${to.range} lies in ${at.vpcCidr}, the block of the VPC ${at.name} is in: its local route keeps the packet there, and no route reaches another VPC's ${to.vpcCidr} (AWS joins no VPCs whose blocks overlap)`,
      ],
    };
  const table = model.routeTableOfSubnet.get(at.subnet);
  if (!table)
    return { ok: false, reasons: [`${at.name}'s subnet has no route table of ours (the VPC's main table has the local route only)`] };
  const best = longestMatch(model.routes.get(table) ?? [], to.range);
  if (!best)
    return {
      ok: false,
      reasons: [
        `no route in ${table} from ${at.name} to ${to.range}${table.startsWith("aws_route_table.") ? "" : " (of this stack; the table's other routes are its VPC owner's)"}`,
      ],
    };
  const peering = model.peerings.get(best.target);
  if (peering) return overPeering(model, packet, best, peering);
  const gateway = model.natGateways.get(best.target);
  if (gateway) return throughNatGateway(model, packet, best, gateway);
  const vgw = model.vpnGateways.get(best.target);
  if (vgw) return intoVpnGateway(model, packet, best, vgw);
  if ([...model.tgwAttachments.values()].some((x) => x.gateway === best.target)) return throughTransitGateway(model, packet, best);
  const zone = model.lost.get(best.target);
  if (zone) return { ok: false, reasons: [`${best.address} sends ${best.destination} to ${best.target}, lost with ${zone}`] };
  return {
    ok: false,
    reasons: [
      `${best.address} sends ${best.destination} to ${best.target}, which is not a peering, Transit Gateway, NAT gateway or virtual private gateway of this stack`,
    ],
  };
}

/**
 * Over a peering: delivered only into the VPC it joins, and only for a packet whose source lies in the VPC that sends it.
 * Peering is not transitive, and AWS does no edge-to-edge routing: what entered the VPC from elsewhere does not go on.
 */
function overPeering(model: Model, { at, to, origin, nat }: Packet, best: Route, [a, b]: readonly [string, string]): Forwarded {
  const into = `${best.address} sends ${best.destination} into ${best.target}`;
  if (a !== at.vpc && b !== at.vpc) {
    return { ok: false, reasons: [`${into}, which joins ${model.cidrOf(a)} and ${model.cidrOf(b)}, not ${at.vpcCidr}`] };
  }
  const other = a === at.vpc ? b : a;
  if (other !== to.vpc) {
    return { ok: false, reasons: [`${into}, which joins ${model.cidrOf(other)}, not ${to.vpcCidr}: peering is not transitive`] };
  }
  if (origin !== at.vpc) {
    return {
      ok: false,
      reasons: [
        `${into}, but the packet's source lies in ${model.cidrOf(origin)}, not ${at.vpcCidr}: a peering carries no traffic that entered its VPC from elsewhere (no edge-to-edge routing)`,
      ],
    };
  }
  return { ok: true, reasons: [`${best.address}: ${best.destination} via ${best.target}`], nat };
}

/** Through a NAT gateway, which re-originates the connection from its own address and forwards it by its own subnet's table. */
function throughNatGateway(model: Model, packet: Packet, best: Route, gateway: NatGatewayInfo): Forwarded {
  if (packet.nat) return { ok: false, reasons: [`${best.address} sends ${best.destination} to a second NAT gateway, ${gateway.address}`] };
  const info = model.subnets.get(gateway.subnet)!;
  const translated: Place = {
    name: gateway.name,
    vpc: info.vpc,
    vpcCidr: model.cidrOf(info.vpc),
    subnet: gateway.subnet,
    range: gateway.range,
    groups: [],
  };
  const onward = forward(model, { at: translated, to: packet.to, origin: translated.vpc, hops: packet.hops + 1, nat: translated });
  return {
    ...onward,
    reasons: [
      `${best.address}: ${best.destination} to ${gateway.address}, which re-originates the connection from its own address in ${gateway.range}`,
      ...onward.reasons,
    ],
  };
}

/** Into a virtual private gateway attached to this VPC, over Direct Connect into the provider's network. */
function intoVpnGateway(model: Model, { at, to, nat }: Packet, best: Route, vgw: VpnGatewayInfo): Forwarded {
  const via = `${best.address}: ${best.destination} to ${vgw.address} (${vgw.name})`;
  if (vgw.vpc !== at.vpc)
    return {
      ok: false,
      reasons: [`${via}, which is attached to ${vgw.vpc === undefined ? "no VPC" : model.cidrOf(vgw.vpc)}, not ${at.vpcCidr}`],
    };
  if (to.vpc !== vgw.beyond) return { ok: false, reasons: [`${via}, into the provider's network, where ${to.range} is not`] };
  return { ok: true, reasons: [`${via}, over Direct Connect into the provider's network`], nat };
}

/** Through a Transit Gateway: from this VPC's attachment, by the table it is associated with, to another attachment. */
function throughTransitGateway(model: Model, packet: Packet, best: Route): Forwarded {
  const { at, to } = packet;
  const entry = [...model.tgwAttachments.values()].find((x) => x.gateway === best.target && x.vpc === at.vpc);
  const via = `${best.address}: ${best.destination} to ${best.target}`;
  if (!entry) return { ok: false, reasons: [`${via}, but ${at.vpcCidr} has no attachment to it`] };
  const tgwTable = model.tgwTableOf.get(entry.address);
  if (!tgwTable) return { ok: false, reasons: [`${via}; ${entry.address} is associated with no route table of the gateway`] };
  const tgwRoute = longestMatch(model.tgwRoutes.get(tgwTable) ?? [], to.range);
  if (!tgwRoute) return { ok: false, reasons: [`${via}; ${tgwTable} (of ${entry.address}) has no route to ${to.range}`] };
  if (!tgwRoute.attachment) return { ok: false, reasons: [`${via}; ${tgwTable} drops ${tgwRoute.destination} (${tgwRoute.address})`] };
  const exit = model.tgwAttachments.get(tgwRoute.attachment);
  if (!exit)
    return {
      ok: false,
      reasons: [`${via}; ${tgwRoute.address} sends it to ${tgwRoute.attachment}, which is not an attachment of this stack`],
    };
  const through = `${via}, then ${tgwTable} (${tgwRoute.address}: ${tgwRoute.destination}) to ${exit.address} in ${model.cidrOf(exit.vpc)}`;
  if (exit.vpc === to.vpc) return { ok: true, reasons: [through], nat: packet.nat };
  return intoAttachedVpc(model, packet, exit, through);
}

/** On from a Transit Gateway attachment into its VPC: any of its subnets may take the packet, so every one must forward it. */
function intoAttachedVpc(model: Model, packet: Packet, exit: TgwAttachment, through: string): Forwarded {
  for (const subnet of exit.subnets) {
    const at: Hop = { name: `${exit.address} in ${subnet}`, vpc: exit.vpc, vpcCidr: model.cidrOf(exit.vpc), subnet };
    const onward = forward(model, { ...packet, at, hops: packet.hops + 1 });
    if (!onward.ok || subnet === exit.subnets[exit.subnets.length - 1]) return { ...onward, reasons: [through, ...onward.reasons] };
  }
  return { ok: false, reasons: [`${through}, which sits in no subnet`] };
}

/**
 * From the provider's side of a virtual private gateway: to the prefixes learned through it, then by the local route of its VPC.
 * The analysis follows such a packet no further, since the stack has no gateway route table.
 */
function fromProvider(model: Model, gateway: VpnGatewayInfo, to: Place): Forwarded {
  const learned = gateway.advertised.prefixes.find((p) => cidrContains(p, to.range));
  if (!learned) {
    const prefixes = gateway.advertised.prefixes.length > 0 ? gateway.advertised.prefixes.join(", ") : "nothing";
    return {
      ok: false,
      reasons: [
        `the provider's network learns only ${prefixes} through ${gateway.address} (${gateway.advertised.by}); ${to.range} is not advertised`,
      ],
    };
  }
  if (gateway.vpc !== to.vpc) {
    return {
      ok: false,
      reasons: [
        `the provider's network sends ${learned} to ${gateway.address}, which delivers into ${gateway.vpc === undefined ? "no VPC" : model.cidrOf(gateway.vpc)}, not ${to.vpcCidr}`,
      ],
    };
  }
  return {
    ok: true,
    reasons: [
      `the provider's network sends ${learned} to ${gateway.address} (${gateway.advertised.by}), then the local route in ${to.vpcCidr}`,
    ],
  };
}

/** Whether `from` reaches `to`'s range by routes alone, as one reason; `origin` is the VPC of the packets' source. */
function route(model: Model, from: Place, to: Place, origin = from.vpc): { ok: boolean; reason: string; nat?: Place } {
  // The whole-network check asks the same routes once per port class: the answer depends on the places alone.
  const key = [from.name, from.vpc, from.subnet, from.range, to.vpc, to.subnet, to.range, origin].join("\0");
  const known = routeMemo(model).get(key);
  if (known) return known;
  const result = forward(model, { at: from, to, origin, hops: 0 });
  const found = { ok: result.ok, reason: result.reasons.join("; "), nat: result.nat };
  routeMemo(model).set(key, found);
  return found;
}

const ROUTES = new WeakMap<Model, Map<string, { ok: boolean; reason: string; nat?: Place }>>();

/** The routes already followed in `model`. */
function routeMemo(model: Model): Map<string, { ok: boolean; reason: string; nat?: Place }> {
  if (!ROUTES.has(model)) ROUTES.set(model, new Map());
  return ROUTES.get(model)!;
}

/** Traffic in words: "tcp 80", or a protocol without ports alone ("icmp"). */
export function trafficLabel(protocol: Protocol, port: number): string {
  return hasPorts(protocol) ? `${protocol} ${port}` : protocol;
}

/** What a subnet's network ACL decides for traffic, by rule number; the default ACL allows all. */
export function nacl(
  model: Model,
  subnet: string,
  egress: boolean,
  peerRange: string,
  protocol: Protocol,
  port: number | "ephemeral",
): { ok: boolean; reason?: string } {
  const acl = model.naclOfSubnet.get(subnet);
  if (!acl) return { ok: true };
  const matching = acl.rules
    .filter((r) => r.egress === egress && carries(r.protocol, protocol))
    .filter((r) => cidrContains(r.cidr, peerRange))
    .filter(
      (r) =>
        isAllTraffic(r.protocol) ||
        !hasPorts(protocol) ||
        (port === "ephemeral" ? r.fromPort <= 1024 && r.toPort >= 65535 : port >= r.fromPort && port <= r.toPort),
    )
    .sort((x, y) => x.number - y.number);
  const first = matching[0];
  if (!first)
    return {
      ok: false,
      reason: `${acl.address} has no ${egress ? "egress" : "ingress"} rule for ${peerRange} ${hasPorts(protocol) ? `${protocol} port ${port}` : protocol} (implicit deny)`,
    };
  return first.action === "allow"
    ? { ok: true }
    : {
        ok: false,
        reason: `${acl.address} rule ${first.number} denies ${peerRange} ${hasPorts(protocol) ? `${protocol} port ${port}` : protocol}`,
      };
}

/** A verdict in the making: reasons in order, blocked when any step is. */
export class Steps {
  readonly reasons: string[] = [];
  allowed = true;

  step(ok: boolean, reason: string | undefined): void {
    if (reason) this.reasons.push(`${ok ? "" : "BLOCKED: "}${reason}`);
    if (!ok) this.allowed = false;
  }
}

/**
 * One connection from `from` to `to` on `port`: egress, route, both NACLs, ingress, and the route and NACLs back; returns the source
 * the destination sees. `client` is `from`, or behind a load balancer that keeps client addresses, the client's range and its groups.
 */
export function connection(
  model: Model,
  steps: Steps,
  from: Place,
  to: Place,
  protocol: Protocol,
  port: number,
  client: Pick<Place, "range" | "groups"> = from,
): Pick<Place, "range" | "groups"> {
  if (from.outside) {
    steps.step(true, `egress of ${from.name}: ${from.outside} (not judged)`);
  } else {
    const egress = from.groups.map((g) => admitting(model.groups.get(g)?.egress ?? [], protocol, port, to)).find(Boolean);
    steps.step(
      !!egress,
      egress ? `egress ${egress.address}` : `no egress rule of ${from.name} allows ${trafficLabel(protocol, port)} to ${to.range}`,
    );
  }
  const there = route(model, from, to);
  steps.step(there.ok, there.reason);
  // Behind a NAT gateway the destination sees the gateway's address, never the client's.
  const source = there.nat ?? client;
  if (there.nat) steps.step(true, `${to.name} sees the source ${there.nat.range} (${there.nat.name}), not ${from.range}`);
  else if (model.gatewayBeyond(to.vpc)) steps.step(true, `${to.name} sees the source ${source.range} (${from.name})`);
  steps.step(...naclStep(nacl(model, from.subnet, true, to.range, protocol, port)));
  steps.step(...naclStep(nacl(model, to.subnet, false, source.range, protocol, port)));
  if (to.outside) {
    steps.step(true, `ingress of ${to.name}: ${to.outside} (not judged)`);
  } else {
    const ingress = to.groups.map((g) => admitting(model.groups.get(g)?.ingress ?? [], protocol, port, source)).find(Boolean);
    steps.step(
      !!ingress,
      ingress
        ? `ingress ${ingress.address}`
        : `no ingress rule of ${to.name} allows ${trafficLabel(protocol, port)} from ${source.range}${source === from || there.nat ? "" : ` (the client's address, which the load balancer keeps) or from the load balancer's group`}`,
    );
  }
  if (there.nat) {
    // Replies go to the NAT gateway, which sends them on to the client by its own subnet's routes.
    const toNat = route(model, to, there.nat);
    steps.step(toNat.ok, `replies to ${there.nat.name}: ${toNat.reason}`);
    // The NAT gateway sends the replies on with the destination's address as their source.
    const toClient = route(model, there.nat, from, to.vpc);
    steps.step(toClient.ok, `replies from ${there.nat.name}: ${toClient.reason}`);
  } else {
    const back = route(model, to, from);
    steps.step(back.ok, `replies: ${back.reason}`);
  }
  steps.step(...naclStep(nacl(model, to.subnet, true, source.range, protocol, "ephemeral")));
  steps.step(...naclStep(nacl(model, from.subnet, false, to.range, protocol, "ephemeral")));
  return source;
}

function naclStep(result: { ok: boolean; reason?: string }): [boolean, string | undefined] {
  return [result.ok, result.reason];
}
