/**
 * A picture of a synthesized stack, drawn from its cdk.tf.json (not from the environment file), so
 * it shows what will be deployed: VPCs with their blocks, subnets and zones; peerings, Transit
 * Gateway attachments and gateways as links; the proxy (an instance, or a load balancer and its
 * fleet), NAT gateways and the servers; and the
 * flows that the reachability analysis allows, labelled with their ports, with expected-denied and
 * broken flows drawn apart. Graphviz (a WebAssembly build, @viz-js/viz) lays it out as SVG; a
 * Mermaid text of the same graph renders on GitHub.
 */
import { instance } from "@viz-js/viz";
import { blocks, referencedAddress, TerraformJson } from "../lib/tf-json";
import { analyzeReachability, ExpectedFlow, portLabel } from "../proof/reachability";

/** What the picture shows, read from the stack. */
export interface StackPicture {
  readonly vpcs: { id: string; label: string; subnets: { id: string; label: string }[] }[];
  readonly servers: { id: string; label: string; parent: string }[];
  readonly links: { from: string; to: string; label: string; kind: "peering" | "gateway" }[];
  readonly gateways: { id: string; label: string }[];
  readonly flows: { from: string; to: string; label: string; kind: "allowed" | "denied" | "broken" }[];
}

const idOf = (address: string) => address.replace(/[^A-Za-z0-9_]/g, "_");
const escape = (text: string) => text.replace(/\\/g, "\\\\").replace(/"/g, '\\"');

/** Reads what the picture shows from a synthesized stack and the flows its environment expects. */
export function picture(stack: TerraformJson, expected: readonly ExpectedFlow[] = []): StackPicture {
  const resources = stack.resource ?? {};
  const data = stack.data ?? {};
  const report = analyzeReachability(stack);
  const vpcs: StackPicture["vpcs"] = [];
  const blockOf = new Map<string, string>();
  for (const [n, v] of Object.entries(resources.aws_vpc ?? {})) {
    const address = `aws_vpc.${n}`;
    blockOf.set(address, v.cidr_block);
    const subnets = Object.entries(resources.aws_subnet ?? {})
      .filter(([, s]) => referencedAddress(s.vpc_id) === address)
      .map(([sn, s]) => ({ id: idOf(`aws_subnet.${sn}`), label: `${s.availability_zone}\n${s.cidr_block}` }));
    vpcs.push({ id: idOf(address), label: `${v.tags?.Name ?? n}\n${v.cidr_block}`, subnets });
  }
  // An existing VPC's block is what the routes of the VPC it is peered with send to it.
  const peerings = Object.entries(resources.aws_vpc_peering_connection ?? {});
  for (const [n, v] of Object.entries(data.aws_vpc ?? {})) {
    const address = `data.aws_vpc.${n}`;
    const peering = peerings.find(([, p]) => referencedAddress(p.peer_vpc_id) === address || referencedAddress(p.vpc_id) === address);
    const route = peering && Object.values(resources.aws_route ?? {}).find((r: any) => referencedAddress(r.vpc_peering_connection_id) === `aws_vpc_peering_connection.${peering[0]}` && !String(r.route_table_id).includes("each.value"));
    const block = route?.destination_cidr_block ?? "block checked when planning";
    vpcs.push({ id: idOf(address), label: `existing ${v.id}\n${block}`, subnets: [] });
  }
  const links: StackPicture["links"] = peerings.map(([, p]) => ({
    from: idOf(referencedAddress(p.vpc_id) ?? "?"),
    to: idOf(referencedAddress(p.peer_vpc_id) ?? "?"),
    label: p.peer_owner_id ? `peering (account ${p.peer_owner_id})` : "peering",
    kind: "peering" as const,
  }));
  const gateways: StackPicture["gateways"] = [];
  for (const [n, g] of Object.entries(resources.aws_vpn_gateway ?? {})) {
    gateways.push({ id: idOf(`aws_vpn_gateway.${n}`), label: "virtual private gateway\n(Direct Connect private VIF)" });
    links.push({ from: idOf(referencedAddress(g.vpc_id) ?? "?"), to: idOf(`aws_vpn_gateway.${n}`), label: "attached", kind: "gateway" });
  }
  for (const [n, a] of Object.entries(resources.aws_dx_gateway_association ?? {})) {
    gateways.push({ id: idOf(`aws_dx_gateway_association.${n}`), label: `Direct Connect gateway\n${a.dx_gateway_id}\nadvertises ${blocks(a.allowed_prefixes).join(", ") || a.allowed_prefixes}` });
    links.push({ from: idOf(referencedAddress(a.associated_gateway_id) ?? "?"), to: idOf(`aws_dx_gateway_association.${n}`), label: "associated", kind: "gateway" });
  }

  // A Transit Gateway is a hub: each attachment links its VPC to it.
  const hubs = [
    ...Object.entries(resources.aws_ec2_transit_gateway ?? {}).map(([n, g]) => [`aws_ec2_transit_gateway.${n}`, `Transit Gateway\n${g.tags?.Name ?? n}`] as const),
    ...Object.entries(data.aws_ec2_transit_gateway ?? {}).map(([n, g]) => [`data.aws_ec2_transit_gateway.${n}`, `existing Transit Gateway\n${g.id}`] as const),
  ];
  for (const [address, label] of hubs) {
    const tables = Object.values(resources.aws_ec2_transit_gateway_route_table ?? {}).filter((t: any) => referencedAddress(t.transit_gateway_id) === address);
    gateways.push({ id: idOf(address), label: `${label}\n${tables.length} route tables, defaults off` });
  }
  for (const [, a] of Object.entries(resources.aws_ec2_transit_gateway_vpc_attachment ?? {})) {
    links.push({
      from: idOf(referencedAddress(a.vpc_id) ?? "?"),
      to: idOf(referencedAddress(a.transit_gateway_id) ?? "?"),
      label: a.appliance_mode_support === "enable" ? "attachment (appliance mode)" : "attachment",
      kind: "gateway",
    });
  }

  const servers: StackPicture["servers"] = [];
  for (const [n, g] of Object.entries(resources.aws_nat_gateway ?? {})) {
    servers.push({ id: idOf(`aws_nat_gateway.${n}`), label: `${g.tags?.Name ?? n}\n${g.connectivity_type === "private" ? "private NAT gateway" : "NAT gateway"}`, parent: idOf(referencedAddress(g.subnet_id) ?? "?") });
  }
  const nodeOf = new Map<string, string>();
  for (const e of report.endpoints) {
    const spread = e.placements.length > 1 || e.address.startsWith("aws_autoscaling_group");
    const id = idOf(e.address);
    const addresses = e.placements.map((p) => p.range).join(", ");
    const kind = e.address.startsWith("aws_route53_resolver_endpoint") ? "resolver endpoint" : "fleet";
    servers.push({ id, label: `${e.name}\n${spread ? `${kind} in ${addresses}` : e.range.replace(/\/32$/, "")}`, parent: spread ? idOf(e.vpc) : idOf(e.subnet) });
    nodeOf.set(e.name, id);
  }
  const frontOf = new Map<string, string>();
  for (const [n, lb] of Object.entries(resources.aws_lb ?? {})) {
    const id = idOf(`aws_lb.${n}`);
    const subnet = referencedAddress(blocks(lb.subnet_mapping)[0]?.subnet_id);
    const vpc = subnet ? referencedAddress(resources.aws_subnet?.[subnet.split(".")[1]]?.vpc_id) : undefined;
    servers.push({ id, label: `${lb.name ?? n} (internal NLB)\n${blocks(lb.subnet_mapping).map((m) => m.private_ipv4_address).filter(Boolean).join(", ")}`, parent: idOf(vpc ?? "?") });
    frontOf.set(`aws_lb.${n}`, id);
  }

  const flows: StackPicture["flows"] = [];
  const verdict = (f: ExpectedFlow) => report.verdicts.find((v) => v.from === f.from && v.to === f.to && v.port === f.port && v.protocol === (f.protocol ?? "tcp"));
  for (const v of report.verdicts.filter((x) => x.allowed)) {
    const front = /^through (aws_lb\.\S+)/.exec(v.reasons[0] ?? "")?.[1];
    const to = nodeOf.get(v.to)!;
    if (front && frontOf.has(front)) {
      flows.push({ from: nodeOf.get(v.from)!, to: frontOf.get(front)!, label: `tcp ${v.port}`, kind: "allowed" });
      flows.push({ from: frontOf.get(front)!, to, label: `tcp ${v.port}, client address kept`, kind: "allowed" });
    } else {
      // Behind a NAT gateway the destination sees the gateway's address: the label says so.
      const seen = v.reasons.map((r) => /sees the source (\S+) \(/.exec(r)?.[1]).find(Boolean);
      flows.push({ from: nodeOf.get(v.from)!, to, label: seen ? `${v.protocol} ${v.port} via NAT (seen as ${seen})` : `${v.protocol} ${v.port}`, kind: "allowed" });
    }
  }
  for (const f of expected) {
    const v = verdict(f);
    if (!v || !nodeOf.has(f.from) || !nodeOf.has(f.to)) continue;
    if (!f.allowed && !v.allowed) flows.push({ from: nodeOf.get(f.from)!, to: nodeOf.get(f.to)!, label: `${portLabel(f.protocol ?? "tcp", f.port)} denied (expected)`, kind: "denied" });
    if (f.allowed && !v.allowed) flows.push({ from: nodeOf.get(f.from)!, to: nodeOf.get(f.to)!, label: `${portLabel(f.protocol ?? "tcp", f.port)} BLOCKED (expected allowed)`, kind: "broken" });
  }
  return { vpcs, servers, links, gateways, flows };
}

/** The Graphviz text of a picture. */
export function toDot(title: string, p: StackPicture): string {
  const lines = [
    "digraph stack {",
    `  graph [rankdir=LR, compound=true, fontname="Helvetica", fontsize=12, label="${escape(title)}", labelloc=t, nodesep=0.4, ranksep=0.9];`,
    '  node [shape=box, style="rounded,filled", fillcolor="#ffffff", fontname="Helvetica", fontsize=10];',
    '  edge [fontname="Helvetica", fontsize=9];',
  ];
  const inside = (parent: string) => p.servers.filter((s) => s.parent === parent).map((s) => `      ${s.id} [label="${escape(s.label)}", fillcolor="#fff4d6"];`);
  for (const vpc of p.vpcs) {
    lines.push(`  subgraph cluster_${vpc.id} {`, `    label="${escape(vpc.label)}"; style="rounded"; color="#4a6fa5"; bgcolor="#eef3fb";`);
    lines.push(`    ${vpc.id} [shape=point, style=invis, width=0.01];`);
    lines.push(...inside(vpc.id).map((l) => l.slice(2)));
    for (const subnet of vpc.subnets) {
      lines.push(`    subgraph cluster_${subnet.id} {`, `      label="${escape(subnet.label)}"; style="dashed"; color="#8899aa"; bgcolor="#f8fafc";`);
      lines.push(`      ${subnet.id} [shape=point, style=invis, width=0.01];`, ...inside(subnet.id), "    }");
    }
    lines.push("  }");
  }
  for (const g of p.gateways) lines.push(`  ${g.id} [label="${escape(g.label)}", shape=component, fillcolor="#e8f5e9"];`);
  for (const l of p.links) {
    const lhead = p.vpcs.some((v) => v.id === l.to) ? `, lhead=cluster_${l.to}` : "";
    lines.push(`  ${l.from} -> ${l.to} [label="${escape(l.label)}", dir=both, arrowhead=none, arrowtail=none, color="#4a6fa5", penwidth=2, ltail=cluster_${l.from}${lhead}];`);
  }
  const styles = { allowed: 'color="#2e7d32", fontcolor="#2e7d32"', denied: 'color="#9e9e9e", fontcolor="#757575", style=dashed', broken: 'color="#c62828", fontcolor="#c62828", style=dashed, penwidth=2' };
  for (const f of p.flows) lines.push(`  ${f.from} -> ${f.to} [label="${escape(f.label)}", ${styles[f.kind]}];`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}

/** The Mermaid text of a picture (GitHub renders it in Markdown). */
export function toMermaid(p: StackPicture): string {
  const text = (s: string) => `"${s.replace(/"/g, "'").replace(/\n/g, "<br/>")}"`;
  const lines = ["flowchart LR"];
  for (const vpc of p.vpcs) {
    lines.push(`  subgraph ${vpc.id}[${text(vpc.label)}]`);
    for (const s of p.servers.filter((x) => x.parent === vpc.id)) lines.push(`    ${s.id}[${text(s.label)}]`);
    for (const subnet of vpc.subnets) {
      lines.push(`    subgraph ${subnet.id}[${text(subnet.label)}]`);
      const members = p.servers.filter((x) => x.parent === subnet.id);
      lines.push(...(members.length > 0 ? members.map((s) => `      ${s.id}[${text(s.label)}]`) : [`      ${subnet.id}_empty[" "]`]));
      lines.push("    end");
    }
    lines.push("  end");
  }
  for (const g of p.gateways) lines.push(`  ${g.id}[${text(g.label)}]`);
  for (const l of p.links) lines.push(`  ${l.from} ---|${text(l.label)}| ${l.to}`);
  for (const f of p.flows) lines.push(`  ${f.from} ${f.kind === "allowed" ? "-->" : "-.->"}|${text(f.label)}| ${f.to}`);
  return `${lines.join("\n")}\n`;
}

/** SVG of a Graphviz text, laid out by Graphviz's dot. */
export async function toSvg(dot: string): Promise<string> {
  const viz = await instance();
  return viz.renderString(dot, { format: "svg", engine: "dot" });
}
