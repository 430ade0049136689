/**
 * The servers' matrix: for each pair of servers and each port a security group names, does a connection get through? A server
 * behind a load balancer is reached through it, or through the interface endpoint of the client's VPC under PrivateLink.
 */
import { isAllTraffic, protocolCarries, TerraformJson, Transport } from "../../lib/tf-json";
import { allowlistOf, StackAllowlist } from "./allowlist";
import { connection, Steps } from "./analysis";
import { Endpoint, Frontend, Model, Place, Surroundings } from "./model";
import { endpointsInto, throughPrivateLink } from "./privatelink";

/** One verdict. */
export interface Verdict {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  /** TCP, or UDP (DNS). */
  readonly protocol: Transport;
  readonly allowed: boolean;
  /** Why: the route, rules or missing piece at each step. */
  readonly reasons: readonly string[];
}

/** The result of an analysis. */
export interface ReachabilityReport {
  readonly endpoints: readonly Endpoint[];
  /** The TCP ports that some security group rule names. */
  readonly ports: readonly number[];
  /** The UDP ports that some security group rule names. */
  readonly udpPorts: readonly number[];
  readonly verdicts: readonly Verdict[];
  /** The proxy's allowlist, which decides flows through the proxy too. @default none (the stack runs no Squid) */
  readonly allowlist?: StackAllowlist;
  /**
   * Behind PrivateLink: each server's interface endpoint into the proxy's service, as the reference the allowlist names it by.
   * @default none (no server reaches the proxy through an endpoint)
   */
  readonly clientEndpoints?: Readonly<Record<string, string>>;
}

/** A verdict that holds only when it holds in every case (a fleet may run in any of its subnets). */
function allOf(cases: readonly { from: string; to: string; steps: Steps }[]): Steps {
  const failed = cases.find((c) => !c.steps.allowed);
  const shown = failed ?? cases[0];
  if (cases.length === 1) return shown.steps;
  const steps = new Steps();
  steps.allowed = !failed;
  steps.reasons.push(
    failed
      ? `from ${failed.from} to ${failed.to} (of ${cases.length} pairs of subnets):`
      : `for all ${cases.length} pairs of subnets, such as ${shown.from} to ${shown.to}:`,
    ...shown.steps.reasons,
  );
  return steps;
}

/** Connections between every pair of places, judged together. */
function everywhere(
  model: Model,
  pairs: readonly [Place, Place][],
  protocol: Transport,
  port: number,
  source?: Pick<Place, "range">,
): Steps {
  return allOf(
    pairs.map(([from, to]) => {
      const steps = new Steps();
      connection(model, steps, from, to, protocol, port, source && { range: source.range, groups: from.groups });
      return { from: from.range, to: to.range, steps };
    }),
  );
}

/** Through a Network Load Balancer to the fleet behind it: client to every node, every node to every target. */
function throughLoadBalancer(model: Model, from: Place, to: Endpoint, front: Frontend, port: number): Steps {
  const listener = front.listeners.get(port)!;
  const steps = new Steps();
  steps.reasons.push(
    `through ${front.address} (${listener.listener} on ${port} to ${listener.targetGroup} on ${listener.targetPort}, client addresses kept)`,
  );
  const toNodes = everywhere(
    model,
    front.nodes.map((node) => [from, node]),
    "tcp",
    port,
  );
  // Behind the load balancer the targets see the client's address, arriving from the node's groups.
  const toTargets = everywhere(
    model,
    front.nodes.flatMap((node) => to.placements.map((target) => [node, target] as [Place, Place])),
    "tcp",
    listener.targetPort,
    from,
  );
  for (const part of [toNodes, toTargets]) {
    part.reasons.forEach((r) => steps.reasons.push(r));
    if (!part.allowed) steps.allowed = false;
  }
  return steps;
}

/** Through the interface endpoints of `from`'s VPC into `front` under PrivateLink, if it has any: every address of each, every target. */
function throughEndpoints(model: Model, from: Place, front: Frontend, port: number): Steps | undefined {
  const endpoints = endpointsInto(model, from.vpc, front);
  if (endpoints.length === 0) return undefined;
  return allOf(
    endpoints.flatMap((e) =>
      e.placements.map((at) => {
        const verdict = throughPrivateLink(model, from, at, e, port);
        const steps = new Steps();
        steps.allowed = verdict.complete;
        steps.reasons.push(...verdict.reasons);
        return { from: from.range, to: `${e.address} in ${at.range}`, steps };
      }),
    ),
  );
}

/** The ports of `protocol` that some security group rule names (its first port; all-traffic rules name none). */
function portsNamed(model: Model, protocol: Transport): number[] {
  const rules = [...model.groups.values()].flatMap((g) => [...g.ingress, ...g.egress]);
  return [...new Set(rules.filter((r) => !isAllTraffic(r.protocol) && protocolCarries(r.protocol, protocol)).map((r) => r.fromPort))].sort(
    (a, b) => a - b,
  );
}

/**
 * Analyses a synthesized stack (the parsed cdk.tf.json), with the places its environment names outside it as ends too, on the ports
 * its security group rules name and `flowPorts` (those its expected flows name, which no rule may name).
 */
export function analyzeReachability(
  stack: TerraformJson,
  surroundings?: Surroundings,
  flowPorts: readonly { readonly protocol: Transport; readonly port: number }[] = [],
): ReachabilityReport {
  const model = new Model(stack, surroundings);
  const withFlows = (protocol: Transport) =>
    [...new Set([...portsNamed(model, protocol), ...flowPorts.filter((f) => f.protocol === protocol).map((f) => f.port)])].sort(
      (a, b) => a - b,
    );
  const ports = withFlows("tcp");
  const udpPorts = withFlows("udp");
  const flows: { protocol: Transport; port: number }[] = [
    ...ports.map((port) => ({ protocol: "tcp" as const, port })),
    ...udpPorts.map((port) => ({ protocol: "udp" as const, port })),
  ];
  const verdicts: Verdict[] = [];
  for (const from of model.endpoints) {
    for (const to of model.endpoints) {
      if (from === to) continue;
      for (const { protocol, port } of flows) {
        // A Network Load Balancer's listeners here carry TCP.
        const front = protocol === "tcp" ? model.frontends.get(to.address) : undefined;
        const steps = front?.listeners.has(port)
          ? allOf(
              from.placements.map((f) => ({
                from: f.range,
                to: front.address,
                // A VPC with an endpoint into the load balancer's service reaches it through that endpoint.
                steps: throughEndpoints(model, f, front, port) ?? throughLoadBalancer(model, f, to, front, port),
              })),
            )
          : everywhere(
              model,
              from.placements.flatMap((f) => to.placements.map((t) => [f, t] as [Place, Place])),
              protocol,
              port,
            );
        verdicts.push({ from: from.name, to: to.name, port, protocol, allowed: steps.allowed, reasons: steps.reasons });
      }
    }
  }
  const allowlist = allowlistOf(stack);
  const clientEndpoints = endpointOfServers(model);
  return {
    endpoints: model.endpoints,
    ports,
    udpPorts,
    verdicts,
    ...(allowlist ? { allowlist } : {}),
    ...(Object.keys(clientEndpoints).length > 0 ? { clientEndpoints } : {}),
  };
}

/** Each server in a VPC with one interface endpoint into a service of the stack: that endpoint, as `${aws_vpc_endpoint.<name>.id}`. */
function endpointOfServers(model: Model): Record<string, string> {
  const found: Record<string, string> = {};
  for (const server of model.endpoints) {
    const endpoints = [...model.interfaceEndpoints.values()].filter((e) => e.vpc === server.vpc);
    if (endpoints.length === 1) found[server.name] = `\${${endpoints[0].address}.id}`;
  }
  return found;
}
