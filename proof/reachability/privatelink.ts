/**
 * PrivateLink: a connection to an interface endpoint's address, handed over to the load balancer behind its endpoint service (no
 * route between the VPCs), then to every target with the source rewritten to the load balancer's own address.
 */
import { admitting, connection, Steps } from "./analysis";
import { Frontend, InterfaceEndpointInfo, Model, Place } from "./model";

/** A verdict through an endpoint: allowed (to some target), complete (to every target), and why. */
export interface PrivateLinkVerdict {
  readonly allowed: boolean;
  readonly complete: boolean;
  readonly reasons: readonly string[];
}

/** The load balancer behind an endpoint's service and the places of the targets it fronts (an Auto Scaling group's subnets). */
export function frontendOf(model: Model, endpoint: InterfaceEndpointInfo): { front: Frontend; targets: readonly Place[] } | undefined {
  const service = model.endpointServices.get(endpoint.service);
  for (const [of, front] of model.frontends) {
    if (service?.loadBalancers.includes(front.address))
      return { front, targets: model.endpoints.find((e) => e.address === of)?.placements ?? [] };
  }
  return undefined;
}

/** The interface endpoints in `vpc` whose service's load balancer is `front`. */
export function endpointsInto(model: Model, vpc: string, front: Frontend): InterfaceEndpointInfo[] {
  return [...model.interfaceEndpoints.values()].filter((e) => e.vpc === vpc && frontendOf(model, e)?.front === front);
}

/** The nodes an endpoint's address in `at` hands connections to: the load balancer's node in the same zone, every node when the zone is unknown. */
function nodesFor(model: Model, at: Place, front: Frontend): { nodes: readonly Place[]; zone?: string } {
  const zone = model.subnets.get(at.subnet)?.zone;
  if (!zone) return { nodes: front.nodes };
  return { nodes: front.nodes.filter((n) => model.subnets.get(n.subnet)?.zone === zone), zone };
}

/** The load balancer's inbound rules on traffic through PrivateLink, which see the client's own address. */
function inbound(model: Model, steps: Steps, front: Frontend, node: Place, client: Place, port: number): void {
  if (node.groups.length === 0) return steps.step(true, `${front.address} has no security group: it takes any client`);
  if (front.privateLinkInbound === false)
    return steps.step(
      true,
      `${front.address}'s groups do not judge PrivateLink traffic (enforce_security_group_inbound_rules_on_private_link_traffic off)`,
    );
  const rule = node.groups
    .map((g) => admitting(model.groups.get(g)?.ingress ?? [], "tcp", port, { range: client.range, groups: [] }))
    .find(Boolean);
  steps.step(
    !!rule,
    rule
      ? `ingress ${rule.address} (a load balancer's groups see the client's address on PrivateLink traffic)`
      : `no ingress rule of ${front.address} allows tcp ${port} from ${client.range} (the client's address, which its groups judge on PrivateLink traffic unless enforce_security_group_inbound_rules_on_private_link_traffic is off)`,
  );
}

/**
 * `client` to the endpoint's address in `at` on tcp `port`, then over PrivateLink to the load balancer's node in that zone and on to
 * each target, which sees the node's address as the source.
 */
export function throughPrivateLink(
  model: Model,
  client: Place,
  at: Place,
  endpoint: InterfaceEndpointInfo,
  port: number,
): PrivateLinkVerdict {
  const found = frontendOf(model, endpoint);
  if (!found)
    return blocked(`${endpoint.service}, the service of ${endpoint.address}, has no load balancer of the stack in front of targets`);
  if (!endpoint.acceptedBy)
    return blocked(
      `${endpoint.address} waits for its connection to be accepted: ${endpoint.service} requires acceptance, and no aws_vpc_endpoint_connection_accepter of the stack names it`,
    );
  const { front, targets } = found;
  const listener = front.listeners.get(port);
  if (!listener) return blocked(`${front.address}, behind ${endpoint.address}, has no listener for tcp ${port}, so it drops it`);
  const toEndpoint = new Steps();
  connection(model, toEndpoint, client, at, "tcp", port);
  const { nodes, zone } = nodesFor(model, at, front);
  if (nodes.length === 0)
    return blocked(
      `${front.address} has no node in ${zone}, where ${endpoint.address} has this address: AWS offers an endpoint service only in its load balancer's zones`,
      toEndpoint.reasons,
    );
  const legs = nodes.flatMap((node) => {
    const handed = new Steps();
    handed.step(
      true,
      `${endpoint.address} hands the connection to ${front.address} at ${node.range} over PrivateLink (${endpoint.service}): no route joins the VPCs`,
    );
    inbound(model, handed, front, node, client, port);
    return targets.map((t) => {
      const steps = new Steps();
      // The target sees the node's own address: PrivateLink keeps no client address.
      connection(model, steps, node, t, "tcp", listener.targetPort);
      return { node, handed, t, steps };
    });
  });
  const failed = legs.find((l) => !l.handed.allowed || !l.steps.allowed);
  const shown = failed ?? legs[0];
  const proxyProtocol = listener.proxyProtocol
    ? `; ${listener.targetGroup} sends PROXY protocol v2, so the proxy's rules and log still see the client ${client.range} and the endpoint's id`
    : "";
  return {
    allowed: toEndpoint.allowed && legs.some((l) => l.handed.allowed && l.steps.allowed),
    complete: toEndpoint.allowed && legs.length > 0 && !failed,
    reasons: [
      `through ${endpoint.address} (${endpoint.name}) to ${front.address} (${listener.listener} on ${port} to ${listener.targetGroup} on ${listener.targetPort}, the source rewritten to the load balancer's address)`,
      ...toEndpoint.reasons,
      ...(shown
        ? [
            ...shown.handed.reasons,
            `then to the target in ${shown.t.range} (${legs.length - legs.filter((l) => !l.handed.allowed || !l.steps.allowed).length} of ${legs.length} like it), which sees the source ${shown.node.range}${proxyProtocol}:`,
            ...shown.steps.reasons,
          ]
        : ["BLOCKED: no target left behind it"]),
    ],
  };
}

/** A blocked verdict, after the steps that got there. */
function blocked(reason: string, before: readonly string[] = []): PrivateLinkVerdict {
  return { allowed: false, complete: false, reasons: [...before, `BLOCKED: ${reason}`] };
}
