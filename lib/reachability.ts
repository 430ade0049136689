/**
 * Static reachability of a synthesized stack: for each pair of instances and each TCP port that a
 * security group mentions, does a connection get through? It follows what AWS evaluates: the
 * source's security group egress, the route table of the source subnet (local route, or a peering
 * that joins exactly the two VPCs: peering is not transitive), the network ACLs of both subnets,
 * the destination's security group ingress, and the route back for the replies. Every verdict
 * carries its reasons. Pure: it reads Terraform JSON and nothing else.
 */
import { addressInCidr, cidrContains } from "./cidr";

/** A reference such as ${aws_vpc.ProxyVpc_1234.id}, as [type, name]; undefined for a literal. */
function refOf(value: unknown): [string, string] | undefined {
  const m = typeof value === "string" ? /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[a-z_]+\}$/.exec(value) : null;
  return m ? [m[1], m[2]] : undefined;
}
const key = (type: string, name: string) => `${type}.${name}`;
const refKey = (value: unknown) => {
  const r = refOf(value);
  return r ? key(r[0], r[1]) : undefined;
};

interface Rule {
  readonly address: string;
  readonly description?: string;
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly cidr?: string;
  readonly groupRef?: string;
  readonly prefixList?: string;
}

interface NaclRule {
  readonly number: number;
  readonly egress: boolean;
  readonly protocol: string;
  readonly action: "allow" | "deny";
  readonly cidr: string;
  readonly fromPort: number;
  readonly toPort: number;
}

/** An instance as the analysis sees it. */
export interface Endpoint {
  /** The Name tag, or the Terraform address. */
  readonly name: string;
  readonly address: string;
  readonly vpc: string;
  readonly vpcCidr: string;
  readonly subnet: string;
  /** The instance's fixed address, or its subnet's block when AWS picks the address. */
  readonly range: string;
  readonly groups: readonly string[];
}

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

/** The parts of a stack the analysis uses. */
class Model {
  readonly vpcs = new Map<string, string>(); // vpc key -> cidr
  readonly subnets = new Map<string, { vpc: string; cidr: string }>();
  readonly routeTableOfSubnet = new Map<string, string>();
  readonly routes = new Map<string, { destination: string; target: string; address: string }[]>(); // route table -> routes
  readonly peerings = new Map<string, [string, string]>();
  readonly groups = new Map<string, { vpc: string; ingress: Rule[]; egress: Rule[] }>();
  readonly naclOfSubnet = new Map<string, { address: string; rules: NaclRule[] }>();
  readonly endpoints: Endpoint[] = [];

  constructor(stack: any) {
    const resources: Record<string, Record<string, any>> = stack.resource ?? {};
    const each = (type: string, f: (name: string, r: any) => void) => Object.entries(resources[type] ?? {}).forEach(([n, r]) => f(n, r));

    each("aws_vpc", (n, r) => this.vpcs.set(key("aws_vpc", n), r.cidr_block));
    each("aws_subnet", (n, r) => this.subnets.set(key("aws_subnet", n), { vpc: refKey(r.vpc_id) ?? "?", cidr: r.cidr_block }));
    each("aws_route_table_association", (_n, r) => {
      const subnet = refKey(r.subnet_id);
      const table = refKey(r.route_table_id);
      if (subnet && table) this.routeTableOfSubnet.set(subnet, table);
    });
    const addRoute = (table: string, destination: string, target: string, address: string) => {
      if (!this.routes.has(table)) this.routes.set(table, []);
      this.routes.get(table)!.push({ destination, target, address });
    };
    each("aws_route_table", (n, r) => {
      if (!this.routes.has(key("aws_route_table", n))) this.routes.set(key("aws_route_table", n), []);
      for (const inline of r.route ?? []) {
        const target = refKey(inline.vpc_peering_connection_id) ?? refKey(inline.gateway_id) ?? refKey(inline.nat_gateway_id) ?? refKey(inline.transit_gateway_id) ?? "other";
        if (inline.cidr_block) addRoute(key("aws_route_table", n), inline.cidr_block, target, `aws_route_table.${n} (inline route)`);
      }
    });
    each("aws_route", (n, r) => {
      const table = refKey(r.route_table_id);
      const target = refKey(r.vpc_peering_connection_id) ?? refKey(r.gateway_id) ?? refKey(r.nat_gateway_id) ?? refKey(r.transit_gateway_id) ?? "other";
      if (table && r.destination_cidr_block) addRoute(table, r.destination_cidr_block, target, `aws_route.${n}`);
    });
    each("aws_vpc_peering_connection", (n, r) => this.peerings.set(key("aws_vpc_peering_connection", n), [refKey(r.vpc_id) ?? "?", refKey(r.peer_vpc_id) ?? "?"]));

    const rule = (address: string, r: any, protocolKey: string, cidr?: string, group?: string, prefixList?: string): Rule => ({
      address,
      description: r.description,
      protocol: String(r[protocolKey]),
      fromPort: Number(r.from_port ?? 0),
      toPort: Number(r.to_port ?? 65535),
      cidr,
      groupRef: group,
      prefixList,
    });
    each("aws_security_group", (n, r) => {
      const group = { vpc: refKey(r.vpc_id) ?? "?", ingress: [] as Rule[], egress: [] as Rule[] };
      for (const direction of ["ingress", "egress"] as const) {
        for (const inline of r[direction] ?? []) {
          for (const c of inline.cidr_blocks ?? []) group[direction].push(rule(`aws_security_group.${n} (inline ${direction})`, inline, "protocol", c));
          for (const g of inline.security_groups ?? []) group[direction].push(rule(`aws_security_group.${n} (inline ${direction})`, inline, "protocol", undefined, refKey(g)));
        }
      }
      this.groups.set(key("aws_security_group", n), group);
    });
    const attach = (groupRef: string | undefined, direction: "ingress" | "egress", r: Rule) => {
      const group = groupRef ? this.groups.get(groupRef) : undefined;
      if (group) group[direction].push(r);
    };
    for (const [type, direction] of [
      ["aws_vpc_security_group_ingress_rule", "ingress"],
      ["aws_vpc_security_group_egress_rule", "egress"],
    ] as const) {
      each(type, (n, r) => attach(refKey(r.security_group_id), direction, rule(`${type}.${n}`, r, "ip_protocol", r.cidr_ipv4, refKey(r.referenced_security_group_id), r.prefix_list_id)));
    }
    each("aws_security_group_rule", (n, r) => {
      const direction = r.type === "egress" ? "egress" : "ingress";
      const address = `aws_security_group_rule.${n}`;
      for (const c of r.cidr_blocks ?? []) attach(refKey(r.security_group_id), direction, rule(address, r, "protocol", c));
      if (r.source_security_group_id) attach(refKey(r.security_group_id), direction, rule(address, r, "protocol", undefined, refKey(r.source_security_group_id)));
    });

    each("aws_network_acl", (n, r) => {
      const rules: NaclRule[] = [];
      for (const egress of [false, true]) {
        for (const e of r[egress ? "egress" : "ingress"] ?? []) {
          rules.push({ number: e.rule_no, egress, protocol: String(e.protocol), action: e.action, cidr: e.cidr_block, fromPort: e.from_port, toPort: e.to_port });
        }
      }
      const acl = { address: `aws_network_acl.${n}`, rules };
      for (const s of r.subnet_ids ?? []) {
        const subnet = refKey(s);
        if (subnet) this.naclOfSubnet.set(subnet, acl);
      }
    });
    each("aws_network_acl_rule", (_n, r) => {
      const aclKey = refKey(r.network_acl_id);
      for (const acl of this.naclOfSubnet.values()) {
        if (acl.address === aclKey) {
          acl.rules.push({ number: r.rule_number, egress: r.egress === true, protocol: String(r.protocol), action: r.rule_action, cidr: r.cidr_block, fromPort: r.from_port, toPort: r.to_port });
        }
      }
    });

    each("aws_instance", (n, r) => {
      const subnet = refKey(r.subnet_id);
      const info = subnet ? this.subnets.get(subnet) : undefined;
      if (!subnet || !info) return;
      this.endpoints.push({
        name: r.tags?.Name ?? `aws_instance.${n}`,
        address: `aws_instance.${n}`,
        vpc: info.vpc,
        vpcCidr: this.vpcs.get(info.vpc) ?? "?",
        subnet,
        range: typeof r.private_ip === "string" && !r.private_ip.includes("${") ? `${r.private_ip}/32` : info.cidr,
        groups: (r.vpc_security_group_ids ?? []).map(refKey).filter(Boolean),
      });
    });
  }
}

const protocolMatches = (protocol: string) => ["tcp", "6", "-1", "all"].includes(protocol.toLowerCase());
const portIn = (port: number, from: number, to: number, protocol: string) => protocol === "-1" || (port >= from && port <= to);

/** The rule of `rules` that admits `port` to or from `peer`, if any. */
function admitting(rules: readonly Rule[], port: number, peer: Endpoint): Rule | undefined {
  return rules.find(
    (r) =>
      protocolMatches(r.protocol) &&
      portIn(port, r.fromPort, r.toPort, r.protocol) &&
      ((r.cidr !== undefined && cidrContains(r.cidr, peer.range)) || (r.groupRef !== undefined && peer.groups.includes(r.groupRef))),
  );
}

/** How `from` routes to `to`'s range, or why it cannot. */
function route(model: Model, from: Endpoint, to: Endpoint): { ok: boolean; reason: string } {
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

/** Analyses a synthesized stack (the parsed cdk.tf.json). */
export function analyzeReachability(stack: unknown): ReachabilityReport {
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
        const reasons: string[] = [];
        let allowed = true;
        const step = (ok: boolean, reason: string | undefined) => {
          if (reason) reasons.push(`${ok ? "" : "BLOCKED: "}${reason}`);
          if (!ok) allowed = false;
        };
        const egress = from.groups.map((g) => admitting(model.groups.get(g)?.egress ?? [], port, to)).find(Boolean);
        step(!!egress, egress ? `egress ${egress.address}` : `no egress rule of ${from.name} allows tcp ${port} to ${to.range}`);
        const there = route(model, from, to);
        step(there.ok, there.reason);
        step(...naclStep(nacl(model, from.subnet, true, to.range, port)));
        step(...naclStep(nacl(model, to.subnet, false, from.range, port)));
        const ingress = to.groups.map((g) => admitting(model.groups.get(g)?.ingress ?? [], port, from)).find(Boolean);
        step(!!ingress, ingress ? `ingress ${ingress.address}` : `no ingress rule of ${to.name} allows tcp ${port} from ${from.range}`);
        const back = route(model, to, from);
        step(back.ok, `replies: ${back.reason}`);
        step(...naclStep(nacl(model, to.subnet, true, from.range, "ephemeral")));
        step(...naclStep(nacl(model, from.subnet, false, to.range, "ephemeral")));
        verdicts.push({ from: from.name, to: to.name, port, allowed, reasons });
      }
    }
  }
  return { endpoints: model.endpoints, ports, verdicts };
}

function naclStep(result: { ok: boolean; reason?: string }): [boolean, string | undefined] {
  return [result.ok, result.reason];
}

/** A reviewer's matrix: one row per source and destination, one column per port. */
export function formatMatrix(report: ReachabilityReport): string {
  const pairs = [...new Set(report.verdicts.map((v) => `${v.from} -> ${v.to}`))];
  const width = Math.max(...pairs.map((p) => p.length), 4);
  const header = `${"from -> to".padEnd(width)} | ${report.ports.map((p) => String(p).padStart(5)).join(" | ")}`;
  const rows = pairs.map((pair) => {
    const cells = report.ports.map((port) => {
      const v = report.verdicts.find((x) => `${x.from} -> ${x.to}` === pair && x.port === port);
      return (v?.allowed ? "yes" : "-").padStart(5);
    });
    return `${pair.padEnd(width)} | ${cells.join(" | ")}`;
  });
  return [header, "-".repeat(header.length), ...rows].join("\n");
}

/** An expected flow, as environments declare them. */
export interface ExpectedFlow {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly allowed: boolean;
}

/** The expectations that the report contradicts, each with the verdict's reasons. */
export function flowMismatches(report: ReachabilityReport, flows: readonly ExpectedFlow[]): string[] {
  return flows.flatMap((flow) => {
    const verdict = report.verdicts.find((v) => v.from === flow.from && v.to === flow.to && v.port === flow.port);
    if (!verdict) {
      const known = report.endpoints.map((e) => e.name).join(", ");
      return [`${flow.from} -> ${flow.to}:${flow.port}: no such pair and port in the stack (instances: ${known}; ports: ${report.ports.join(", ")})`];
    }
    if (verdict.allowed === flow.allowed) return [];
    return [`${flow.from} -> ${flow.to}:${flow.port} is ${verdict.allowed ? "allowed" : "denied"}, expected ${flow.allowed ? "allowed" : "denied"}:\n      ${verdict.reasons.join("\n      ")}`];
  });
}
