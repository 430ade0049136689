/**
 * What each environment costs per month, counted from its synthesized stack (the instances, their
 * volumes and monitoring, interface endpoints per zone, alarms) and priced from one table. The
 * README's cost section is generated from it by `npm run docs`, and a test fails when it is stale.
 */
import { blocks, resourceViews, TerraformJson } from "../lib/tf-json";

/** On-demand prices in USD for Asia Pacific (Tokyo), ap-northeast-1, from AWS's price pages. */
export const PRICES = {
  region: "ap-northeast-1",
  asOf: "2026-11",
  hoursPerMonth: 730,
  /** EC2 On-Demand, per instance-hour, by operating system and type. */
  instanceHour: {
    linux: { "t3.micro": 0.0136, "t3.small": 0.0272, "t3.medium": 0.0544, "t3.large": 0.1088 },
    windows: { "t3.micro": 0.0228, "t3.small": 0.0364, "t3.medium": 0.0728, "t3.large": 0.1384 },
  } as Record<"linux" | "windows", Record<string, number>>,
  /** Network Load Balancer, per hour; and per NLCU-hour (a light proxy load stays near one NLCU). */
  networkLoadBalancerHour: 0.0243,
  nlcuHour: 0.006,
  /** EBS gp3, per GiB-month. */
  gp3GiBMonth: 0.096,
  /** Interface VPC endpoint, per endpoint and zone, per hour; and per GB processed. */
  interfaceEndpointHour: 0.014,
  interfaceEndpointGb: 0.01,
  /** CloudWatch: detailed monitoring (seven metrics at $0.30) per instance-month; a standard alarm per month. */
  detailedMonitoringMonth: 2.1,
  alarmMonth: 0.1,
  /** CloudWatch Logs: ingestion (standard and vended, such as flow logs) per GB; storage per GB-month. */
  logIngestionGb: 0.76,
  logStorageGbMonth: 0.033,
  /** Data between availability zones (peering included), per GB in each direction. */
  crossZoneGb: 0.01,
  /** Transit Gateway: per VPC attachment-hour; per GB sent into the gateway (between zones no extra charge). */
  transitGatewayAttachmentHour: 0.07,
  transitGatewayGb: 0.02,
  /** NAT gateway (public or private): per gateway-hour; per GB processed. */
  natGatewayHour: 0.062,
  natGatewayGb: 0.062,
  /** Route 53 Resolver endpoint, per address (ENI) per hour; per million queries through it. */
  resolverEndpointAddressHour: 0.125,
  resolverQueriesMillion: 0.4,
};

/** One line of an estimate. */
export interface CostLine {
  readonly item: string;
  readonly quantity: string;
  readonly unitPrice: string;
  /** USD per month; undefined for what is charged by use (per GB). */
  readonly monthly?: number;
}

const usd = (n: number) => `$${n.toFixed(2)}`;

/** The monthly lines of one synthesized stack. */
export function costLines(stack: TerraformJson): CostLine[] {
  const resources = resourceViews(stack);
  const amiNames = new Map(Object.entries(stack.data?.aws_ssm_parameter ?? {}).map(([id, d]) => [`\${data.aws_ssm_parameter.${id}.value}`, String(d.name)]));
  const lines: CostLine[] = [];
  // Instances, and the instances an Auto Scaling group keeps running from its launch template.
  const templates = new Map(resources.filter((r) => r.type === "aws_launch_template").map((t) => [`\${aws_launch_template.${t.logicalId}.id}`, t]));
  const launched = resources
    .filter((r) => r.type === "aws_autoscaling_group")
    .flatMap((g) => {
      const template = templates.get(blocks(g.attrs.launch_template)[0]?.id);
      if (!template) return [];
      const attrs = {
        ami: template.attrs.image_id,
        instance_type: template.attrs.instance_type,
        monitoring: blocks(template.attrs.monitoring)[0]?.enabled === true,
        root_block_device: blocks(template.attrs.block_device_mappings).map((m) => ({ volume_size: blocks(m.ebs)[0]?.volume_size })),
      };
      return Array.from({ length: Number(g.attrs.desired_capacity ?? g.attrs.min_size ?? 0) }, () => ({ attrs }));
    });
  const instances = [...resources.filter((r) => r.type === "aws_instance"), ...launched];
  const byKind = new Map<string, number>();
  for (const i of instances) {
    const os = /windows/i.test(amiNames.get(i.attrs.ami) ?? "") ? "windows" : "linux";
    const key = `${os} ${i.attrs.instance_type}`;
    byKind.set(key, (byKind.get(key) ?? 0) + 1);
  }
  for (const [key, count] of [...byKind].sort()) {
    const [os, type] = key.split(" ") as ["linux" | "windows", string];
    const hourly = PRICES.instanceHour[os][type];
    if (hourly === undefined) throw new Error(`tools/costs.ts has no ${os} price for ${type}; add it to PRICES.instanceHour`);
    lines.push({ item: `EC2 ${type} (${os === "windows" ? "Windows" : "Linux"})`, quantity: String(count), unitPrice: `$${hourly}/h`, monthly: count * hourly * PRICES.hoursPerMonth });
  }
  const gib = instances.reduce((n, i) => n + blocks(i.attrs.root_block_device).reduce((m, d) => m + Number(d.volume_size ?? 0), 0), 0);
  if (gib > 0) lines.push({ item: "EBS gp3 root volumes", quantity: `${gib} GiB`, unitPrice: `$${PRICES.gp3GiBMonth}/GiB-month`, monthly: gib * PRICES.gp3GiBMonth });
  const monitored = instances.filter((i) => i.attrs.monitoring === true).length;
  if (monitored > 0) lines.push({ item: "EC2 detailed monitoring", quantity: `${monitored} instance${monitored === 1 ? "" : "s"}`, unitPrice: `${usd(PRICES.detailedMonitoringMonth)}/month`, monthly: monitored * PRICES.detailedMonitoringMonth });
  const endpointZones = resources
    .filter((r) => r.type === "aws_vpc_endpoint" && r.attrs.vpc_endpoint_type === "Interface")
    .reduce((n, r) => n + (Array.isArray(r.attrs.subnet_ids) ? r.attrs.subnet_ids.length : 1), 0);
  if (endpointZones > 0) {
    lines.push({ item: "Interface endpoints (endpoint x zone, billed hourly)", quantity: String(endpointZones), unitPrice: `$${PRICES.interfaceEndpointHour}/h`, monthly: endpointZones * PRICES.interfaceEndpointHour * PRICES.hoursPerMonth });
  }
  const nlbs = resources.filter((r) => r.type === "aws_lb" && r.attrs.load_balancer_type === "network").length;
  if (nlbs > 0) {
    lines.push({ item: "Network Load Balancer", quantity: String(nlbs), unitPrice: `$${PRICES.networkLoadBalancerHour}/h`, monthly: nlbs * PRICES.networkLoadBalancerHour * PRICES.hoursPerMonth });
    lines.push({ item: "Network Load Balancer capacity units (about one NLCU at light load)", quantity: String(nlbs), unitPrice: `$${PRICES.nlcuHour}/NLCU-h`, monthly: nlbs * PRICES.nlcuHour * PRICES.hoursPerMonth });
  }
  const attachments = resources.filter((r) => r.type === "aws_ec2_transit_gateway_vpc_attachment").length;
  if (attachments > 0) {
    lines.push({ item: "Transit Gateway VPC attachments", quantity: String(attachments), unitPrice: `$${PRICES.transitGatewayAttachmentHour}/h`, monthly: attachments * PRICES.transitGatewayAttachmentHour * PRICES.hoursPerMonth });
  }
  const nats = resources.filter((r) => r.type === "aws_nat_gateway").length;
  if (nats > 0) lines.push({ item: "NAT gateways (private)", quantity: String(nats), unitPrice: `$${PRICES.natGatewayHour}/h`, monthly: nats * PRICES.natGatewayHour * PRICES.hoursPerMonth });
  const resolverAddresses = resources.filter((r) => r.type === "aws_route53_resolver_endpoint").reduce((n, r) => n + blocks(r.attrs.ip_address).length, 0);
  if (resolverAddresses > 0) {
    lines.push({ item: "Route 53 Resolver endpoint addresses", quantity: String(resolverAddresses), unitPrice: `$${PRICES.resolverEndpointAddressHour}/h`, monthly: resolverAddresses * PRICES.resolverEndpointAddressHour * PRICES.hoursPerMonth });
  }
  const alarms = resources.filter((r) => r.type === "aws_cloudwatch_metric_alarm").length;
  if (alarms > 0) lines.push({ item: "CloudWatch alarms", quantity: String(alarms), unitPrice: `${usd(PRICES.alarmMonth)}/month`, monthly: alarms * PRICES.alarmMonth });
  if (endpointZones > 0) lines.push({ item: "Data through interface endpoints", quantity: "per GB", unitPrice: `$${PRICES.interfaceEndpointGb}/GB` });
  if (attachments > 0) lines.push({ item: "Data sent into the Transit Gateway (both directions)", quantity: "per GB", unitPrice: `$${PRICES.transitGatewayGb}/GB` });
  if (nats > 0) lines.push({ item: "Data through the NAT gateways", quantity: "per GB", unitPrice: `$${PRICES.natGatewayGb}/GB` });
  if (resolverAddresses > 0) lines.push({ item: "DNS queries forwarded through the resolver endpoint", quantity: "per million", unitPrice: `$${PRICES.resolverQueriesMillion}/million` });
  lines.push({ item: "Logs ingested (flow logs, Squid's access log)", quantity: "per GB", unitPrice: `$${PRICES.logIngestionGb}/GB` });
  lines.push({ item: "Logs stored", quantity: "per GB-month", unitPrice: `$${PRICES.logStorageGbMonth}/GB-month` });
  lines.push({ item: "Traffic between zones (peering included)", quantity: "per GB each way", unitPrice: `$${PRICES.crossZoneGb}/GB` });
  return lines;
}

/** The Markdown table of one stack's estimate, with its fixed monthly total. */
export function costTable(stack: TerraformJson): string {
  const lines = costLines(stack);
  const fixed = lines.reduce((n, l) => n + (l.monthly ?? 0), 0);
  return [
    "| item | quantity | unit price | per month |",
    "| --- | --- | --- | --- |",
    ...lines.map((l) => `| ${l.item} | ${l.quantity} | ${l.unitPrice} | ${l.monthly === undefined ? "by use" : usd(l.monthly)} |`),
    `| **fixed per month** | | | **${usd(fixed)}** |`,
  ].join("\n");
}

/** The markers around the generated cost section in README.md. */
export const COSTS_START = "<!-- costs:start (generated by npm run docs from tools/costs.ts) -->";
export const COSTS_END = "<!-- costs:end -->";

/** The README's cost section for named stacks. */
export function costSection(stacks: readonly { readonly name: string; readonly source: string; readonly json: TerraformJson }[]): string {
  return [
    `Prices: AWS on-demand list prices for ${PRICES.region} in USD as of ${PRICES.asOf}, ${PRICES.hoursPerMonth} hours a month, before tax, free tier and discounts; check the AWS Pricing Calculator before budgeting. Counts come from the synthesized stacks.`,
    "",
    "What the way between the app VPCs and the proxy VPC adds, besides instances and endpoints:",
    "",
    connectivityPriceTable(),
    ...stacks.flatMap((s) => ["", `**${s.name}** (\`${s.source}\`)`, "", costTable(s.json)]),
  ].join("\n");
}

/** What each way of connecting app VPCs costs by the hour and by the GB, from PRICES. */
export function connectivityPriceTable(): string {
  const p = PRICES;
  return [
    "| way | per hour | per GB from an app VPC to the service |",
    "| --- | --- | --- |",
    `| peering + Squid | nothing (peering has no hourly charge) | nothing within a zone; $${p.crossZoneGb} each way between zones |`,
    `| Transit Gateway + Squid | $${p.transitGatewayAttachmentHour} per attachment (each app VPC and the proxy VPC) | $${p.transitGatewayGb} into the gateway |`,
    `| Transit Gateway + private NAT | $${p.transitGatewayAttachmentHour} per attachment, plus $${p.natGatewayHour} per NAT gateway (one per zone); no proxy instance | $${p.transitGatewayGb} into the gateway + $${p.natGatewayGb} through the NAT gateway |`,
  ].join("\n");
}

/** README text with the cost section between the markers replaced. */
export function withCostSection(readme: string, section: string): string {
  const start = readme.indexOf(COSTS_START);
  const end = readme.indexOf(COSTS_END);
  if (start < 0 || end < start) throw new Error(`README.md has no cost markers (${COSTS_START} ... ${COSTS_END}); add them where the estimate goes`);
  return `${readme.slice(0, start + COSTS_START.length)}\n${section}\n${readme.slice(end)}`;
}

/** The environments whose estimate the README shows, synthesized in memory: `[name, source file, stack JSON]`. */
export type EstimatedStack = Parameters<typeof costSection>[0][number];
