/**
 * A picture of a synthesized stack, drawn from its cdk.tf.json (not from the environment file), so
 * it shows what will be deployed: VPCs with their blocks, subnets and zones; peerings, Transit
 * Gateway attachments and gateways as links, and the services' network beyond a virtual private
 * gateway or Direct Connect gateway; the proxy (an instance, or a load balancer and its fleet),
 * NAT gateways, resolver endpoints and the servers, each drawn in every subnet it sits in; PrivateLink's
 * endpoint service beside its load balancer, linked from the interface endpoint in each app VPC; and the
 * flows that the reachability analysis allows, labelled with their ports and drawn through the
 * load balancer, Transit Gateway, NAT gateway or virtual private gateway they pass, with
 * expected-denied and broken flows drawn apart. Graphviz (a WebAssembly build, @viz-js/viz) lays it
 * out as SVG, measuring text with the metrics of the font the SVG names; a Mermaid text of the same
 * graph renders on GitHub.
 */
import { instance } from "@viz-js/viz";
import { cidrContains } from "../lib/cidr";
import { parseAllowlist } from "../lib/allowlist-policy";
import { constructIds, serverNames } from "../lib/naming";
import { Attributes, blocks, referencedAddress, TerraformJson, Transport } from "../lib/tf-json";
import {
  analyzeReachability,
  Endpoint,
  ExpectedFlow,
  isAllowlistBlock,
  Model,
  portLabel,
  StackAllowlist,
  Surroundings,
  Verdict,
  verdictFor,
} from "../proof/reachability";

/** What the picture shows, read from the stack. */
export interface StackPicture {
  readonly vpcs: { id: string; label: string; subnets: { id: string; label: string }[] }[];
  /** Servers, load balancer nodes, NAT gateways and resolver endpoints, each in a VPC's or subnet's cluster. */
  readonly servers: { id: string; label: string; parent: string }[];
  readonly links: { from: string; to: string; label: string; kind: "peering" | "gateway" | "endpoint" }[];
  readonly gateways: { id: string; label: string }[];
  /** The networks beyond a gateway (the services' blocks behind Direct Connect), outside every VPC. */
  readonly networks: { id: string; label: string }[];
  readonly flows: { from: string; to: string; label: string; kind: "allowed" | "denied" | "broken" }[];
  /** Notes beside a node: the services the proxy's allowlist keeps to some app VPCs (services[].from). */
  readonly notes: { id: string; label: string; attachedTo: string }[];
}

/** The font the picture is laid out with and drawn in (Graphviz has its metrics); wider than the fallbacks. */
export const FONT = "DejaVu Sans";
/** What the SVG asks for: the font it was measured with, then one as wide, then any sans-serif. */
const FONT_FAMILY = `${FONT},Verdana,sans-serif`;

const idOf = (address: string) => address.replace(/[^A-Za-z0-9_]/g, "_");
const escape = (text: string) => text.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
const bare = (range: string) => range.replace(/\/32$/, "");

/** A node of the picture, with the subnet it sits in when it has one. */
interface At {
  readonly id: string;
  readonly subnet?: string;
}

type PortOf = { readonly protocol: Transport; readonly port: number };

/** Ports without repeats, TCP before UDP, each in ascending order. */
function sortedPorts(ports: readonly PortOf[]): PortOf[] {
  const unique = [...new Map(ports.map((p) => [`${p.protocol} ${p.port}`, p])).values()];
  return unique.sort((a, b) => a.protocol.localeCompare(b.protocol) || a.port - b.port);
}

/** The ports of a set of flows, as a label: "tcp 80, 8443; udp 53". */
function portsLabel(ports: readonly PortOf[]): string {
  const sorted = sortedPorts(ports);
  return [...new Set(sorted.map((p) => p.protocol))]
    .map(
      (protocol) =>
        `${protocol} ${sorted
          .filter((p) => p.protocol === protocol)
          .map((p) => p.port)
          .join(", ")}`,
    )
    .join("; ");
}

/**
 * The name the environment gives an existing app VPC (appVpcs[].name), read from the data source's
 * construct path (<stack>/App-<name>/Vpc/...) or, where synthesis left no path, from its logical id
 * (App-<name>_Vpc_<hash>): the data source carries the name nowhere else.
 */
function existingVpcName(logicalId: string, source: Attributes): string | undefined {
  const link = constructIds.appLink("");
  const [, fromPath, vpc] = String((source["//"] as { metadata?: { path?: unknown } } | undefined)?.metadata?.path ?? "").split("/");
  if (fromPath?.startsWith(link) && vpc === constructIds.linkVpc) return fromPath.slice(link.length);
  const fromId = new RegExp(`^${link}([a-z0-9-]+)_${constructIds.linkVpc}_[0-9A-F]{8}$`).exec(logicalId);
  return fromId?.[1];
}

/** A resource's Name tag, if it has one. */
function nameTag(attrs: Attributes): unknown {
  return (attrs.tags as Record<string, unknown> | undefined)?.Name;
}

/** What a picture's parts are read from: the stack's resources and data sources. */
type Blocks = Record<string, Record<string, Attributes>>;

/** The network beyond a virtual private gateway: its node, and the blocks routed there. */
type Beyond = { readonly id: string; readonly blocks: string[] };

/** Gateways and what they link, with the networks beyond virtual private gateways. */
interface GatewayParts {
  readonly gateways: StackPicture["gateways"];
  readonly links: StackPicture["links"];
  readonly networks: StackPicture["networks"];
  /** A virtual private gateway's address -> the network beyond it. */
  readonly beyond: Map<string, Beyond>;
  /** A gateway -> the gateway or network a flow goes on to. */
  readonly nextOf: Map<string, string>;
}

/** What sits in the VPCs, drawn in each subnet it sits in. */
interface Placed {
  readonly servers: StackPicture["servers"];
  /** Terraform address -> its nodes. */
  readonly placed: Map<string, At[]>;
  /** Endpoint name -> its nodes. */
  readonly endpointNodes: Map<string, At[]>;
}

/**
 * Reads what the picture shows from a synthesized stack, the flows its environment expects and
 * what the environment says lies around the stack (surroundingsOf: the services beyond a gateway,
 * which are ends of flows and name the blocks routed there, and the app VPCs whose servers are the
 * user's).
 */
export function picture(stack: TerraformJson, expected: readonly ExpectedFlow[] = [], surroundings: Surroundings = {}): StackPicture {
  const resources: Blocks = stack.resource ?? {};
  const data: Blocks = stack.data ?? {};
  const report = analyzeReachability(stack, surroundings);
  const model = new Model(stack, surroundings);
  const vpcs = [...createdVpcs(resources), ...existingVpcs(resources, data)];
  const direct = directConnect(resources, surroundings.beyondGateway ?? []);
  const hubs = transitGateways(resources, data);
  const gateways = [...direct.gateways, ...hubs.gateways];
  const links = [...peeringLinks(resources), ...direct.links, ...hubs.links];
  const placed = placeServers(resources, model, report, vpcs, direct);
  const privateLink = endpointServices(resources, placed);
  const flows = flowsOf(report, expected, placed, { gateways, nextOf: direct.nextOf });
  const proxy = report.allowlist && proxyNode(report.allowlist, expected, placed);
  const notes = proxy ? allowlistNotes(report.allowlist!, vpcs, proxy) : [];
  return {
    vpcs,
    servers: [...placed.servers, ...privateLink.servers],
    links: [...links, ...privateLink.links],
    gateways,
    networks: direct.networks,
    flows,
    notes,
  };
}

/**
 * PrivateLink: each endpoint service beside the load balancer it fronts, in that load balancer's VPC, and a link from
 * each interface endpoint of the stack to it (the endpoints themselves are placed with the servers).
 */
function endpointServices(resources: Blocks, { placed }: Placed): Pick<StackPicture, "servers" | "links"> {
  const servers: StackPicture["servers"] = [];
  const links: StackPicture["links"] = [];
  for (const [n, service] of Object.entries(resources.aws_vpc_endpoint_service ?? {})) {
    const address = `aws_vpc_endpoint_service.${n}`;
    const fronted = blocks(service.network_load_balancer_arns).flatMap((arn) => placed.get(referencedAddress(arn) ?? "") ?? []);
    const principals = blocks(service.allowed_principals).length;
    const label = [
      `${nameTag(service) ?? n}`,
      "VPC endpoint service",
      `${principals} allowed principal${principals === 1 ? "" : "s"}${service.acceptance_required === true ? ", acceptance required" : ""}`,
    ].join("\n");
    servers.push({ id: idOf(address), label, parent: vpcOfNodes(resources, fronted) });
    placed.set(address, [{ id: idOf(address) }]);
    for (const lb of fronted) links.push({ from: idOf(address), to: lb.id, label: "fronts", kind: "endpoint" });
    for (const [en, endpoint] of Object.entries(resources.aws_vpc_endpoint ?? {})) {
      if (referencedAddress(endpoint.service_name) !== address) continue;
      for (const node of placed.get(`aws_vpc_endpoint.${en}`) ?? [])
        links.push({ from: node.id, to: idOf(address), label: "PrivateLink", kind: "endpoint" });
    }
  }
  return { servers, links };
}

/** The VPC cluster that holds nodes placed in subnets (the first one's), or none. */
function vpcOfNodes(resources: Blocks, nodes: readonly At[]): string {
  const subnet = nodes.map((n) => n.subnet).find(Boolean);
  const vpc = subnet && referencedAddress(resources.aws_subnet?.[subnet.split(".")[1]]?.vpc_id);
  return vpc ? idOf(vpc) : "";
}

/** The VPCs the stack creates, each with its subnets. */
function createdVpcs(resources: Blocks): StackPicture["vpcs"] {
  return Object.entries(resources.aws_vpc ?? {}).map(([n, v]) => {
    const address = `aws_vpc.${n}`;
    const subnets = Object.entries(resources.aws_subnet ?? {})
      .filter(([, s]) => referencedAddress(s.vpc_id) === address)
      .map(([sn, s]) => ({ id: idOf(`aws_subnet.${sn}`), label: `${s.availability_zone}\n${s.cidr_block}` }));
    return { id: idOf(address), label: `${nameTag(v) ?? n}\n${v.cidr_block}`, subnets };
  });
}

/** The existing VPCs the stack peers with; an existing VPC's block is what the routes of the VPC it is peered with send to it. */
function existingVpcs(resources: Blocks, data: Blocks): StackPicture["vpcs"] {
  const peerings = Object.entries(resources.aws_vpc_peering_connection ?? {});
  return Object.entries(data.aws_vpc ?? {}).map(([n, v]) => {
    const address = `data.aws_vpc.${n}`;
    const peering = peerings.find(([, p]) => referencedAddress(p.peer_vpc_id) === address || referencedAddress(p.vpc_id) === address);
    const route =
      peering &&
      Object.values(resources.aws_route ?? {}).find(
        (r) =>
          referencedAddress(r.vpc_peering_connection_id) === `aws_vpc_peering_connection.${peering[0]}` &&
          !String(r.route_table_id).includes("each.value"),
      );
    const block = route?.destination_cidr_block ?? "block checked when planning";
    const name = existingVpcName(n, v);
    return { id: idOf(address), label: `${name ? `${name}\n` : ""}existing ${v.id}\n${block}`, subnets: [] };
  });
}

/** A link per peering connection, naming the peer's account when it is another. */
function peeringLinks(resources: Blocks): StackPicture["links"] {
  return Object.values(resources.aws_vpc_peering_connection ?? {}).map((p) => ({
    from: idOf(referencedAddress(p.vpc_id) ?? "?"),
    to: idOf(referencedAddress(p.peer_vpc_id) ?? "?"),
    label: p.peer_owner_id ? `peering (account ${p.peer_owner_id})` : "peering",
    kind: "peering" as const,
  }));
}

/**
 * Direct Connect: the virtual private gateway, the Direct Connect gateway it is associated with,
 * and beyond them the services' network: the blocks the proxy VPC's route tables send to the
 * gateway (or, with propagated routes, the services' blocks the provider is to advertise).
 */
function directConnect(resources: Blocks, services: NonNullable<Surroundings["beyondGateway"]>): GatewayParts {
  const parts: GatewayParts = { gateways: [], links: [], networks: [], beyond: new Map(), nextOf: new Map() };
  const { gateways, links, networks } = parts;
  for (const [n, g] of Object.entries(resources.aws_vpn_gateway ?? {})) {
    const address = `aws_vpn_gateway.${n}`;
    gateways.push({ id: idOf(address), label: `virtual private gateway\n${nameTag(g) ?? n}` });
    links.push({ from: idOf(referencedAddress(g.vpc_id) ?? "?"), to: idOf(address), label: "attached", kind: "gateway" });
    const association = Object.entries(resources.aws_dx_gateway_association ?? {}).find(
      ([, a]) => referencedAddress(a.associated_gateway_id) === address,
    );
    const routed = [
      ...new Set(
        Object.values(resources.aws_route ?? {})
          .filter((r) => referencedAddress(r.gateway_id) === address)
          .map((r) => String(r.destination_cidr_block)),
      ),
    ];
    const propagated = Object.values(resources.aws_vpn_gateway_route_propagation ?? {}).some(
      (p) => referencedAddress(p.vpn_gateway_id) === address,
    );
    const shown = routed.length > 0 ? routed : services.map((s) => s.cidr);
    // A service's end name carries its block ("dx-service (172.31.100.0/24)").
    const lines = shown.map(
      (block) =>
        services
          .filter((s) => cidrContains(block, s.cidr))
          .map((s) => s.name)
          .join(", ") || block,
    );
    const network = { id: `${idOf(address)}_beyond`, blocks: shown };
    const title = association ? "the provider's network (Direct Connect)" : "the provider's network (private virtual interface)";
    networks.push({ id: network.id, label: [title, ...lines, ...(propagated ? ["routes learned over BGP"] : [])].join("\n") });
    parts.beyond.set(address, network);
    if (association) {
      const [an, a] = association;
      const dx = idOf(`aws_dx_gateway_association.${an}`);
      gateways.push({
        id: dx,
        label: `Direct Connect gateway\n${a.dx_gateway_id}\nadvertises ${blocks(a.allowed_prefixes).join(", ") || a.allowed_prefixes}`,
      });
      links.push({ from: idOf(address), to: dx, label: "associated", kind: "gateway" });
      links.push({ from: dx, to: network.id, label: "private virtual interface", kind: "gateway" });
      parts.nextOf.set(idOf(address), dx);
    } else {
      links.push({ from: idOf(address), to: network.id, label: "private virtual interface", kind: "gateway" });
    }
  }
  return parts;
}

/** A Transit Gateway is a hub: each attachment links its VPC to it. */
function transitGateways(resources: Blocks, data: Blocks): Pick<GatewayParts, "gateways" | "links"> {
  const hubs = [
    ...Object.entries(resources.aws_ec2_transit_gateway ?? {}).map(
      ([n, g]) => [`aws_ec2_transit_gateway.${n}`, `Transit Gateway\n${nameTag(g) ?? n}`] as const,
    ),
    ...Object.entries(data.aws_ec2_transit_gateway ?? {}).map(
      ([n, g]) => [`data.aws_ec2_transit_gateway.${n}`, `existing Transit Gateway\n${g.id}`] as const,
    ),
  ];
  const gateways = hubs.map(([address, label]) => {
    const tables = Object.values(resources.aws_ec2_transit_gateway_route_table ?? {}).filter(
      (t) => referencedAddress(t.transit_gateway_id) === address,
    );
    return { id: idOf(address), label: `${label}\n${tables.length} route tables, defaults off` };
  });
  const links = Object.values(resources.aws_ec2_transit_gateway_vpc_attachment ?? {}).map((a) => ({
    from: idOf(referencedAddress(a.vpc_id) ?? "?"),
    to: idOf(referencedAddress(a.transit_gateway_id) ?? "?"),
    label: a.appliance_mode_support === "enable" ? "attachment (appliance mode)" : "attachment",
    kind: "gateway" as const,
  }));
  return { gateways, links };
}

/**
 * What sits in the VPCs, in each subnet it sits in: a thing spread over subnets (a fleet, a load
 * balancer's nodes, a resolver endpoint's addresses) is drawn once per subnet.
 */
function placeServers(
  resources: Blocks,
  model: Model,
  report: ReturnType<typeof analyzeReachability>,
  vpcs: StackPicture["vpcs"],
  direct: GatewayParts,
): Placed {
  const place = placer(vpcs, direct);
  for (const [n, g] of Object.entries(resources.aws_nat_gateway ?? {})) {
    const address = `aws_nat_gateway.${n}`;
    const nat = model.natGateways.get(address);
    const where = nat ? [{ subnet: nat.subnet, vpc: model.subnets.get(nat.subnet)?.vpc ?? "", range: nat.range }] : [];
    place.at(address, where, () => `${nameTag(g) ?? n}\n${g.connectivity_type === "private" ? "private NAT gateway" : "NAT gateway"}`);
  }
  const kindOf = (e: Endpoint) =>
    e.address.startsWith("aws_route53_resolver_endpoint")
      ? "resolver endpoint"
      : e.address.startsWith("aws_autoscaling_group")
        ? "fleet (Auto Scaling group)"
        : e.outside
          ? "the user's servers"
          : undefined;
  const endpointNodes = new Map<string, At[]>();
  for (const e of report.endpoints) {
    const kind = kindOf(e);
    place.at(e.address, e.placements, (p) =>
      [e.name, kind, !kind || p.range.endsWith("/32") ? bare(p.range) : undefined].filter(Boolean).join("\n"),
    );
    endpointNodes.set(e.name, place.placed.get(e.address)!);
  }
  for (const [n, e] of Object.entries(resources.aws_vpc_endpoint ?? {})) {
    // Interface endpoints to an endpoint service of the stack (PrivateLink to the proxy); AWS services' endpoints are not drawn.
    if (!referencedAddress(e.service_name)?.startsWith("aws_vpc_endpoint_service.")) continue;
    // One node in its VPC, naming its zones: an app server reaches both of its addresses (its DNS name answers with each zone's).
    const zones = blocks(e.subnet_ids).map(
      (id) => resources.aws_subnet?.[referencedAddress(id)?.split(".")[1] ?? ""]?.availability_zone ?? id,
    );
    const where = [{ subnet: "", vpc: referencedAddress(e.vpc_id) ?? "", range: "" }];
    place.at(`aws_vpc_endpoint.${n}`, where, () => `${nameTag(e) ?? n}\ninterface endpoint in ${zones.join(", ")}`);
  }
  for (const front of model.frontends.values()) {
    const lb = resources.aws_lb?.[front.address.split(".")[1]] ?? {};
    place.at(front.address, front.nodes, (p) => `${lb.name ?? front.address} (internal NLB)\n${bare(p.range)}`);
  }
  return { servers: place.servers, placed: place.placed, endpointNodes };
}

type Where = { readonly subnet: string; readonly vpc: string; readonly range: string };

/** Places things in the subnet, VPC or network beyond a gateway that holds them, and remembers their nodes. */
function placer(vpcs: StackPicture["vpcs"], { beyond, networks }: GatewayParts) {
  const subnetIds = new Set(vpcs.flatMap((v) => v.subnets.map((s) => s.id)));
  const vpcIds = new Set(vpcs.map((v) => v.id));
  const servers: StackPicture["servers"] = [];
  const placed = new Map<string, At[]>();
  const parentOf = (p: Where): string => {
    if (subnetIds.has(idOf(p.subnet))) return idOf(p.subnet);
    if (vpcIds.has(idOf(p.vpc))) return idOf(p.vpc);
    return [...beyond.values()].find((b) => b.blocks.some((block) => cidrContains(block, p.range)))?.id ?? "";
  };
  // Places with the same parent are one node: the picture cannot tell them apart (an existing VPC's
  // servers behind each of its route tables).
  const at = <W extends Where>(address: string, where: readonly W[], label: (p: W) => string) => {
    const byParent = new Map<string, W>();
    for (const p of where) if (!byParent.has(parentOf(p))) byParent.set(parentOf(p), p);
    const nodes = [...byParent].map(([parent, p]): At => {
      // An end beyond a gateway is that network's node itself.
      if (networks.some((n) => n.id === parent)) return { id: parent };
      const id = byParent.size > 1 ? idOf(`${address}_${p.subnet}`) : idOf(address);
      // An end that is a VPC's servers is keyed by the VPC's address, which names its cluster already.
      const node = { id: vpcIds.has(id) || subnetIds.has(id) ? `${id}_servers` : id, subnet: p.subnet };
      servers.push({ id: node.id, label: label(p), parent });
      return node;
    });
    placed.set(address, nodes);
  };
  return { servers, placed, at };
}

type FlowKind = StackPicture["flows"][number]["kind"];
type Edge = { from: string; to: string; kind: FlowKind; ports: PortOf[]; suffix: string };

const HOP =
  /(?<![\w.-])(?:data\.)?(?:aws_vpc_endpoint_service|aws_vpc_endpoint|aws_lb|aws_ec2_transit_gateway|aws_nat_gateway|aws_vpn_gateway)\.[A-Za-z0-9_-]+/g;

/**
 * Allowed flows, through what they pass: a load balancer, a Transit Gateway, a NAT gateway, a
 * virtual private gateway (and the Direct Connect gateway beyond it); then expected flows that are
 * denied or broken. One edge per pair of nodes and kind, with every port that takes it.
 */
function flowsOf(
  report: ReturnType<typeof analyzeReachability>,
  expected: readonly ExpectedFlow[],
  { placed, endpointNodes }: Placed,
  { gateways, nextOf }: Pick<GatewayParts, "gateways" | "nextOf">,
): StackPicture["flows"] {
  const edges = new Map<string, Edge>();
  const addEdge = (from: string, to: string, kind: FlowKind, protocol: Transport, port: number, suffix = "") => {
    if (from === to) return;
    const key = `${from} ${to} ${kind} ${suffix}`;
    if (!edges.has(key)) edges.set(key, { from, to, kind, ports: [], suffix });
    edges.get(key)!.ports.push({ protocol, port });
  };
  const hopsOf = (v: Verdict): { address: string; nodes: At[] }[] => {
    const found = [...new Set(v.reasons.filter((r) => !r.startsWith("replies")).flatMap((r) => r.match(HOP) ?? []))];
    // An endpoint service is passed before the load balancer it fronts, whichever the reasons name first.
    const services = found.filter((a) => a.startsWith("aws_vpc_endpoint_service."));
    const rest = found.filter((a) => !services.includes(a));
    const lbAt = rest.findIndex((a) => a.startsWith("aws_lb."));
    const addresses = lbAt < 0 ? found : [...rest.slice(0, lbAt), ...services, ...rest.slice(lbAt)];
    return addresses.flatMap((address) => {
      const nodes = placed.get(address) ?? (gateways.some((g) => g.id === idOf(address)) ? [{ id: idOf(address) }] : []);
      const next = nextOf.get(idOf(address));
      return nodes.length === 0 ? [] : [{ address, nodes }, ...(next ? [{ address: next, nodes: [{ id: next }] }] : [])];
    });
  };
  for (const v of report.verdicts.filter((x) => x.allowed)) {
    const path = [{ address: "", nodes: endpointNodes.get(v.from)! }, ...hopsOf(v), { address: "", nodes: endpointNodes.get(v.to)! }];
    // Behind a NAT gateway the destination sees the gateway's address: the last edge says so.
    const seen = v.reasons.map((r) => /sees the source (\S+) \(/.exec(r)?.[1]).find(Boolean);
    // Behind PrivateLink the load balancer rewrites the source; the PROXY protocol header, when sent, carries the client.
    const rewritten = v.reasons.some((r) => r.includes("the source rewritten to the load balancer's address"));
    const behindLb = !rewritten
      ? "client address kept"
      : v.reasons.some((r) => r.includes("sends PROXY protocol v2"))
        ? "client in the PROXY protocol v2 header"
        : "seen as the load balancer";
    for (let i = 1; i < path.length; i++) {
      const after = path[i - 1].address;
      const suffix = after.startsWith("aws_lb.") ? behindLb : after.startsWith("aws_nat_gateway.") && seen ? `seen as ${seen}` : "";
      for (const [x, y] of pairs(path[i - 1].nodes, path[i].nodes)) addEdge(x.id, y.id, "allowed", v.protocol, v.port, suffix);
    }
  }
  // Expected flows the analysis contradicts or confirms as denied: no path to follow, so one edge
  // straight from one end to the other (a thing in several subnets: from or to its first).
  for (const f of expected) {
    const v = verdictFor(report, f);
    const [from, to] = [endpointNodes.get(f.from)?.[0], endpointNodes.get(f.to)?.[0]];
    if (!v || v.allowed || !from || !to) continue;
    // A flow that only the proxy's allowlist refuses says so.
    const blocks = v.reasons.filter((r) => r.startsWith("BLOCKED: "));
    const byAllowlist = blocks.length > 0 && blocks.every(isAllowlistBlock) ? "by the proxy's allowlist" : "";
    addEdge(from.id, to.id, f.allowed ? "broken" : "denied", f.protocol ?? "tcp", f.port, byAllowlist);
  }
  return [...edges.values()].map(flowOfEdge);
}

/** The pairs of nodes an edge joins: in the same subnet where both ends are spread over subnets that share one, else every pair. */
function pairs(a: readonly At[], b: readonly At[]): [At, At][] {
  const all = a.flatMap((x) => b.map((y) => [x, y] as [At, At]));
  const sameSubnet = all.filter(([x, y]) => x.subnet !== undefined && x.subnet === y.subnet);
  return a.length > 1 && b.length > 1 && sameSubnet.length > 0 ? sameSubnet : all;
}

/** An edge as a flow of the picture, labelled with its ports (and, for an allowed flow, what the destination sees). */
function flowOfEdge(e: Edge): StackPicture["flows"][number] {
  if (e.kind === "allowed")
    return { from: e.from, to: e.to, kind: e.kind, label: [portsLabel(e.ports), e.suffix].filter(Boolean).join("\n") };
  const ports = [...sortedPorts(e.ports).map((p) => portLabel(p.protocol, p.port))].join(", ");
  return {
    from: e.from,
    to: e.to,
    kind: e.kind,
    label: [ports, e.kind === "denied" ? "denied" : "BLOCKED", e.suffix, e.kind === "denied" ? "(expected)" : "(expected allowed)"]
      .filter(Boolean)
      .join(" "),
  };
}

/** The node of the proxy whose allowlist it is: the one expected flows go through, else the environment's proxy server. */
function proxyNode(allowlist: StackAllowlist, expected: readonly ExpectedFlow[], { endpointNodes }: Placed): string | undefined {
  const names = [...expected.flatMap((f) => (f.via ? [f.via.name] : [])), serverNames.proxy(allowlist.environment)];
  return names.map((n) => endpointNodes.get(n)?.[0]?.id).find(Boolean);
}

/**
 * A note per allowlist that keeps services to some app VPCs: for each allow line with a source ACL narrower than
 * every client (a service's from), the service (its dst ACL) and the app VPCs (by the VPCs' names) it is kept to.
 */
function allowlistNotes(allowlist: StackAllowlist, vpcs: StackPicture["vpcs"], attachedTo: string): StackPicture["notes"] {
  const rules = parseAllowlist(allowlist.text);
  const src = (name: string) => rules.acls.get(name)?.type === "src";
  // Every client: the source ACLs the deny lines require (deny !localnet).
  const clients = new Set(
    rules.rules.filter((r) => r.action === "deny").flatMap((r) => r.acls.filter((a) => a.negated && src(a.name)).map((a) => a.name)),
  );
  const nameOf = (block: string) => {
    const vpc = vpcs.find((v) => v.label.split("\n").at(-1) === block);
    const first = vpc?.label.split("\n")[0];
    return first && !first.startsWith("existing ") && first !== block ? first : block;
  };
  const kept = new Map<string, Set<string>>();
  for (const rule of rules.rules.filter((r) => r.action === "allow")) {
    const from = rule.acls.filter((a) => !a.negated && src(a.name) && !clients.has(a.name) && a.name !== "all");
    const service = rule.acls.find((a) => !a.negated && rules.acls.get(a.name)?.type === "dst")?.name.replace(/_dst$/, "");
    if (from.length === 0 || !service) continue;
    const apps = from.flatMap((a) => rules.acls.get(a.name)!.values.map(nameOf));
    kept.set(service, new Set([...(kept.get(service) ?? []), ...apps]));
  }
  if (kept.size === 0) return [];
  const lines = [...kept].map(([service, apps]) => `${service}: only from ${[...apps].join(", ")}`);
  return [{ id: `${attachedTo}_allowlist`, label: ["the proxy's allowlist", ...lines].join("\n"), attachedTo }];
}

/** The Graphviz text of a picture. */
export function toDot(title: string, p: StackPicture): string {
  const font = `fontname="${FONT}"`;
  const lines = [
    "digraph stack {",
    `  graph [rankdir=LR, compound=true, ${font}, fontsize=12, label="${escape(title)}", labelloc=t, nodesep=0.4, ranksep=0.9, pad=0.2];`,
    `  node [shape=box, style="rounded,filled", fillcolor="#ffffff", ${font}, fontsize=10, margin="0.15,0.08"];`,
    `  edge [${font}, fontsize=9];`,
  ];
  const inside = (parent: string, indent: string) =>
    p.servers.filter((s) => s.parent === parent).map((s) => `${indent}${s.id} [label="${escape(s.label)}", fillcolor="#fff4d6"];`);
  const vpcIds = new Set(p.vpcs.map((v) => v.id));
  for (const vpc of p.vpcs) {
    lines.push(`  subgraph cluster_${vpc.id} {`, `    label="${escape(vpc.label)}"; style="rounded"; color="#4a6fa5"; bgcolor="#eef3fb";`);
    lines.push(`    ${vpc.id} [shape=point, style=invis, width=0.01];`, ...inside(vpc.id, "    "));
    for (const subnet of vpc.subnets) {
      lines.push(
        `    subgraph cluster_${subnet.id} {`,
        `      label="${escape(subnet.label)}"; style="dashed"; color="#8899aa"; bgcolor="#f8fafc";`,
      );
      lines.push(`      ${subnet.id} [shape=point, style=invis, width=0.01];`, ...inside(subnet.id, "      "), "    }");
    }
    lines.push("  }");
  }
  lines.push(...inside("", "  "));
  for (const g of p.gateways) lines.push(`  ${g.id} [label="${escape(g.label)}", shape=component, fillcolor="#e8f5e9"];`);
  for (const n of p.networks)
    lines.push(`  ${n.id} [label="${escape(n.label)}", style="rounded,filled,dashed", color="#4a6fa5", fillcolor="#eceff1"];`);
  // A link has no direction, but Graphviz ranks by it: a link to a gateway that flows leave towards
  // the VPC (a Transit Gateway to the proxy VPC's NAT gateway) is laid out from the gateway.
  const insideOf = (vpc: string) => new Set([vpc, ...(p.vpcs.find((v) => v.id === vpc)?.subnets.map((s) => s.id) ?? [])]);
  const entered = (gateway: string, vpc: string) =>
    p.flows.some(
      (f) => f.kind === "allowed" && f.from === gateway && insideOf(vpc).has(p.servers.find((s) => s.id === f.to)?.parent ?? ""),
    );
  for (const l of p.links) {
    const [from, to] = entered(l.to, l.from) ? [l.to, l.from] : [l.from, l.to];
    const ends = [vpcIds.has(from) ? `ltail=cluster_${from}` : "", vpcIds.has(to) ? `lhead=cluster_${to}` : ""]
      .filter(Boolean)
      .map((e) => `, ${e}`)
      .join("");
    lines.push(
      `  ${from} -> ${to} [label="${escape(l.label)}", dir=both, arrowhead=none, arrowtail=none, color="#4a6fa5", penwidth=2${ends}];`,
    );
  }
  // Denied and blocked flows take no path: they annotate the picture and leave its layout to the links and allowed flows.
  const styles = {
    allowed: 'color="#2e7d32", fontcolor="#2e7d32"',
    denied: 'color="#9e9e9e", fontcolor="#757575", style=dashed, constraint=false',
    broken: 'color="#c62828", fontcolor="#c62828", style=dashed, penwidth=2, constraint=false',
  };
  for (const f of p.flows) lines.push(`  ${f.from} -> ${f.to} [label="${escape(f.label)}", ${styles[f.kind]}];`);
  for (const n of p.notes) {
    lines.push(`  ${n.id} [label="${escape(n.label)}", shape=note, fillcolor="#fffde7"];`);
    lines.push(`  ${n.id} -> ${n.attachedTo} [style=dotted, arrowhead=none, color="#8d6e63"];`);
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** The Mermaid text of a picture (GitHub renders it in Markdown). */
export function toMermaid(p: StackPicture): string {
  const text = (s: string) => `"${s.replace(/"/g, "'").replace(/\n/g, "<br/>")}"`;
  const lines = ["flowchart LR"];
  const inside = (parent: string, indent: string) =>
    p.servers.filter((s) => s.parent === parent).map((s) => `${indent}${s.id}[${text(s.label)}]`);
  for (const vpc of p.vpcs) {
    lines.push(`  subgraph ${vpc.id}[${text(vpc.label)}]`, ...inside(vpc.id, "    "));
    for (const subnet of vpc.subnets) {
      const members = inside(subnet.id, "      ");
      lines.push(
        `    subgraph ${subnet.id}[${text(subnet.label)}]`,
        ...(members.length > 0 ? members : [`      ${subnet.id}_empty[" "]`]),
        "    end",
      );
    }
    lines.push("  end");
  }
  lines.push(...inside("", "  "));
  for (const g of p.gateways) lines.push(`  ${g.id}[${text(g.label)}]`);
  for (const n of p.networks) lines.push(`  ${n.id}([${text(n.label)}])`);
  for (const l of p.links) lines.push(`  ${l.from} ---|${text(l.label)}| ${l.to}`);
  for (const f of p.flows) lines.push(`  ${f.from} ${f.kind === "allowed" ? "-->" : "-.->"}|${text(f.label)}| ${f.to}`);
  for (const n of p.notes) lines.push(`  ${n.id}>${text(n.label)}]`, `  ${n.id} -.- ${n.attachedTo}`);
  return `${lines.join("\n")}\n`;
}

/**
 * SVG of a Graphviz text, laid out by Graphviz's dot. Graphviz measures text with its own tables
 * for the font the picture names (it reads no font files), so the SVG asks for that font first
 * and for fallbacks as wide or narrower after it.
 */
export async function toSvg(dot: string): Promise<string> {
  const viz = await instance();
  return viz.renderString(dot, { format: "svg", engine: "dot" }).replaceAll(`font-family="${FONT}"`, `font-family="${FONT_FAMILY}"`);
}
