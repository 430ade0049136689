/**
 * Static reachability of a synthesized stack: for each pair of instances and each TCP port that a
 * security group mentions, does a connection get through? It follows what AWS evaluates: the
 * source's security group egress, the route table of the source subnet (local route, or a peering
 * that joins exactly the two VPCs: peering is not transitive), the network ACLs of both subnets,
 * the destination's security group ingress, and the route back for the replies. Every verdict
 * carries its reasons. Pure: it reads Terraform JSON and nothing else.
 */
import { addressInCidr, cidrContains } from "../../lib/cidr";
import { isAllTraffic, protocolCarries, TerraformJson } from "../../lib/tf-json";
import { Endpoint, Frontend, Model, Place, Rule } from "./model";

/** One verdict. */
export interface Verdict {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly allowed: boolean;
  /** Why: the route, rules or missing piece at each step. */
  readonly reasons: readonly string[];
}

/** The result of an analysis. */
export interface ReachabilityReport {
  readonly endpoints: readonly Endpoint[];
  readonly ports: readonly number[];
  readonly verdicts: readonly Verdict[];
}

const protocolMatches = (protocol: string) => protocolCarries(protocol, "tcp");
const portIn = (port: number, from: number, to: number, protocol: string) => isAllTraffic(protocol) || (port >= from && port <= to);

/** The rule of `rules` that admits `port` to or from `peer` (its range, or one of its groups), if any. */
function admitting(rules: readonly Rule[], port: number, peer: Pick<Place, "range" | "groups">): Rule | undefined {
  return rules.find(
    (r) =>
      protocolMatches(r.protocol) &&
      portIn(port, r.fromPort, r.toPort, r.protocol) &&
      ((r.cidr !== undefined && cidrContains(r.cidr, peer.range)) || (r.groupRef !== undefined && peer.groups.includes(r.groupRef))),
  );
}

/** How `from` routes to `to`'s range, or why it cannot. */
function route(model: Model, from: Place, to: Place): { ok: boolean; reason: string } {
  if (from.vpc === to.vpc) return { ok: true, reason: `local route in ${from.vpcCidr}` };
  const table = model.routeTableOfSubnet.get(from.subnet);
  if (!table) return { ok: false, reason: `${from.name}'s subnet has no route table of ours (the VPC's main table has the local route only)` };
  const candidates = (model.routes.get(table) ?? []).filter((r) => cidrContains(r.destination, to.range));
  if (candidates.length === 0) return { ok: false, reason: `no route in ${table} from ${from.name} to ${to.range}` };
  const best = candidates.sort((a, b) => Number(b.destination.split("/")[1]) - Number(a.destination.split("/")[1]))[0];
  const peering = model.peerings.get(best.target);
  if (!peering) return { ok: false, reason: `${best.address} sends ${best.destination} to ${best.target}, which is not a peering of this stack` };
  const [a, b] = peering;
  const joins = (a === from.vpc && b === to.vpc) || (b === from.vpc && a === to.vpc);
  if (!joins) {
    const other = a === from.vpc ? b : a;
    return {
      ok: false,
      reason: `${best.address} sends ${best.destination} into ${best.target}, which joins ${model.vpcs.get(other) ?? other}, not ${to.vpcCidr}: peering is not transitive`,
    };
  }
  return { ok: true, reason: `${best.address}: ${best.destination} via ${best.target}` };
}

/** What a subnet's network ACL decides for traffic, by rule number; the default ACL allows all. */
function nacl(model: Model, subnet: string, egress: boolean, peerRange: string, port: number | "ephemeral"): { ok: boolean; reason?: string } {
  const acl = model.naclOfSubnet.get(subnet);
  if (!acl) return { ok: true };
  const matching = acl.rules
    .filter((r) => r.egress === egress && (r.protocol === "-1" || protocolMatches(r.protocol)))
    .filter((r) => cidrContains(r.cidr, peerRange) || (peerRange.endsWith("/32") && addressInCidr(peerRange.split("/")[0], r.cidr)))
    .filter((r) => r.protocol === "-1" || (port === "ephemeral" ? r.fromPort <= 1024 && r.toPort >= 65535 : port >= r.fromPort && port <= r.toPort))
    .sort((x, y) => x.number - y.number);
  const first = matching[0];
  if (!first) return { ok: false, reason: `${acl.address} has no ${egress ? "egress" : "ingress"} rule for ${peerRange} port ${port} (implicit deny)` };
  return first.action === "allow" ? { ok: true } : { ok: false, reason: `${acl.address} rule ${first.number} denies ${peerRange} port ${port}` };
}

/** A verdict in the making: reasons in order, blocked when any step is. */
class Steps {
  readonly reasons: string[] = [];
  allowed = true;

  step(ok: boolean, reason: string | undefined): void {
    if (reason) this.reasons.push(`${ok ? "" : "BLOCKED: "}${reason}`);
    if (!ok) this.allowed = false;
  }
}

/**
 * One connection from `from` to `to` on `port`: egress, route, both NACLs, ingress, and the route
 * and NACLs back. `source` is who the destination sees: `from` itself, or, behind a load balancer
 * that keeps client addresses, the client's range with the load balancer's groups.
 */
function connection(model: Model, steps: Steps, from: Place, to: Place, port: number, source: Pick<Place, "range" | "groups"> = from): void {
  const egress = from.groups.map((g) => admitting(model.groups.get(g)?.egress ?? [], port, to)).find(Boolean);
  steps.step(!!egress, egress ? `egress ${egress.address}` : `no egress rule of ${from.name} allows tcp ${port} to ${to.range}`);
  const there = route(model, from, to);
  steps.step(there.ok, there.reason);
  steps.step(...naclStep(nacl(model, from.subnet, true, to.range, port)));
  steps.step(...naclStep(nacl(model, to.subnet, false, source.range, port)));
  const ingress = to.groups.map((g) => admitting(model.groups.get(g)?.ingress ?? [], port, source)).find(Boolean);
  steps.step(!!ingress, ingress ? `ingress ${ingress.address}` : `no ingress rule of ${to.name} allows tcp ${port} from ${source.range}${source === from ? "" : ` (the client's address, which the load balancer keeps) or from the load balancer's group`}`);
  const back = route(model, to, from);
  steps.step(back.ok, `replies: ${back.reason}`);
  steps.step(...naclStep(nacl(model, to.subnet, true, source.range, "ephemeral")));
  steps.step(...naclStep(nacl(model, from.subnet, false, to.range, "ephemeral")));
}

/** A verdict that holds only when it holds in every case (a fleet may run in any of its subnets). */
function allOf(cases: readonly { from: string; to: string; steps: Steps }[]): Steps {
  const failed = cases.find((c) => !c.steps.allowed);
  const shown = failed ?? cases[0];
  if (cases.length === 1) return shown.steps;
  const steps = new Steps();
  steps.allowed = !failed;
  steps.reasons.push(failed ? `from ${failed.from} to ${failed.to} (of ${cases.length} pairs of subnets):` : `for all ${cases.length} pairs of subnets, such as ${shown.from} to ${shown.to}:`, ...shown.steps.reasons);
  return steps;
}

/** Connections between every pair of places, judged together. */
function everywhere(model: Model, pairs: readonly [Place, Place][], port: number, source?: Pick<Place, "range">): Steps {
  return allOf(
    pairs.map(([from, to]) => {
      const steps = new Steps();
      connection(model, steps, from, to, port, source && { range: source.range, groups: from.groups });
      return { from: from.range, to: to.range, steps };
    }),
  );
}

/** Through a Network Load Balancer to the fleet behind it: client to every node, every node to every target. */
function throughLoadBalancer(model: Model, from: Place, to: Endpoint, front: Frontend, port: number): Steps {
  const listener = front.listeners.get(port)!;
  const steps = new Steps();
  steps.reasons.push(`through ${front.address} (${listener.listener} on ${port} to ${listener.targetGroup} on ${listener.targetPort}, client addresses kept)`);
  const toNodes = everywhere(
    model,
    front.nodes.map((node) => [from, node]),
    port,
  );
  // Behind the load balancer the targets see the client's address, arriving from the node's groups.
  const toTargets = everywhere(
    model,
    front.nodes.flatMap((node) => to.placements.map((target) => [node, target] as [Place, Place])),
    listener.targetPort,
    from,
  );
  for (const part of [toNodes, toTargets]) {
    part.reasons.forEach((r) => steps.reasons.push(r));
    if (!part.allowed) steps.allowed = false;
  }
  return steps;
}

/** Analyses a synthesized stack (the parsed cdk.tf.json). */
export function analyzeReachability(stack: TerraformJson): ReachabilityReport {
  const model = new Model(stack);
  const ports = [
    ...new Set(
      [...model.groups.values()].flatMap((g) => [...g.ingress, ...g.egress]).filter((r) => protocolMatches(r.protocol) && r.protocol !== "-1").map((r) => r.fromPort),
    ),
  ].sort((a, b) => a - b);
  const verdicts: Verdict[] = [];
  for (const from of model.endpoints) {
    for (const to of model.endpoints) {
      if (from === to) continue;
      for (const port of ports) {
        const front = model.frontends.get(to.address);
        const steps = front?.listeners.has(port)
          ? allOf(from.placements.map((f) => ({ from: f.range, to: front.address, steps: throughLoadBalancer(model, f, to, front, port) })))
          : everywhere(
              model,
              from.placements.flatMap((f) => to.placements.map((t) => [f, t] as [Place, Place])),
              port,
            );
        verdicts.push({ from: from.name, to: to.name, port, allowed: steps.allowed, reasons: steps.reasons });
      }
    }
  }
  return { endpoints: model.endpoints, ports, verdicts };
}

function naclStep(result: { ok: boolean; reason?: string }): [boolean, string | undefined] {
  return [result.ok, result.reason];
}
