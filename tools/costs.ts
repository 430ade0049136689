/**
 * What each environment costs per month, counted from its synthesized stack (the instances, their
 * volumes and monitoring, interface endpoints per zone (PrivateLink's to the proxy apart), alarms, load balancers, Transit Gateway
 * attachments, NAT gateways, resolver addresses, the proxy's custom metrics, dashboards and keys) and priced from its own region's row of
 * tools/prices.ts. A region without a row, or an instance type its row lacks, is said to have no
 * known price: the estimate never shows another region's figures. The README's cost section is
 * generated from it by `npm run docs`, and a test fails when it is stale.
 */
import { OWNER_TAGS, serverNames } from "../lib/naming";
import { Attributes, blocks, ResourceView, resourceViews, TerraformJson } from "../lib/tf-json";
import { DETAILED_MONITORING_METRICS, HOURS_PER_MONTH, PRICES_TAKEN, pricesFor, REGION_PRICES, RegionPrices } from "./prices";

/** One line of an estimate. */
export interface CostLine {
  readonly item: string;
  readonly quantity: string;
  /** Such as "$0.0104/h"; "not known" where the region's row has no price for it. */
  readonly unitPrice: string;
  /** USD per month for what is billed by the hour or the month; undefined for what is charged by use or has no known price. */
  readonly monthly?: number;
  /** Charged by use (per GB, per query), so without a monthly figure. */
  readonly byUse?: boolean;
}

/** The estimate of one stack: its region, the prices used (none when the region has no row), its lines, and what has no known price. */
export interface CostEstimate {
  readonly region: string;
  readonly prices?: RegionPrices;
  readonly lines: readonly CostLine[];
  /** What could not be priced (the region, or instance types in it); the fixed total is not known when this is not empty. */
  readonly notKnown: readonly string[];
}

const usd = (n: number) => `$${n.toFixed(2)}`;

/** The region of a synthesized stack: its AWS provider's (the one without an alias). */
export function stackRegion(stack: TerraformJson): string {
  const providers = blocks((stack as { provider?: Record<string, unknown> }).provider?.aws);
  const region = (providers.find((p) => p.alias === undefined) ?? providers[0])?.region;
  if (typeof region !== "string") throw new Error("the stack has no AWS provider with a region; the estimate prices a region's resources");
  return region;
}

/** A counted item before pricing: how many, and how its price is read from a region's row. */
interface Counted {
  readonly item: string;
  readonly quantity: string;
  /** How many units are billed by the hour or month; undefined for what is charged by use. */
  readonly count?: number;
  readonly price: (p: RegionPrices) => number | undefined;
  /** How the unit price is written, from the price. */
  readonly unit: (price: number) => string;
  /** Per month for one unit, from the price (hourly prices times the hours of a month). */
  readonly perMonth?: (price: number) => number;
}

const hourly = (price: number) => `$${price}/h`;
const monthOfHours = (price: number) => price * HOURS_PER_MONTH;
const perGb = (price: number) => `$${price}/GB`;

/** The instances a stack runs: its own, and those an Auto Scaling group keeps running from its launch template. */
function runningInstances(resources: readonly ResourceView[]): { attrs: Attributes }[] {
  const templates = new Map(
    resources.filter((r) => r.type === "aws_launch_template").map((t) => [`\${aws_launch_template.${t.logicalId}.id}`, t]),
  );
  const launched = resources
    .filter((r) => r.type === "aws_autoscaling_group")
    .flatMap((g) => {
      const template = templates.get(String(blocks(g.attrs.launch_template)[0]?.id));
      if (!template) return [];
      const attrs = {
        ami: template.attrs.image_id,
        instance_type: template.attrs.instance_type,
        monitoring: blocks(template.attrs.monitoring)[0]?.enabled === true,
        root_block_device: blocks(template.attrs.block_device_mappings).map((m) => ({ volume_size: blocks(m.ebs)[0]?.volume_size })),
      };
      return Array.from({ length: Number(g.attrs.desired_capacity ?? g.attrs.min_size ?? 0) }, () => ({ attrs }));
    });
  return [...resources.filter((r) => r.type === "aws_instance"), ...launched];
}

/** The instances by operating system and type, then their root volumes and detailed monitoring. */
function instanceItems(stack: TerraformJson, instances: readonly { attrs: Attributes }[]): Counted[] {
  const amiNames = new Map(
    Object.entries(stack.data?.aws_ssm_parameter ?? {}).map(([id, d]) => [`\${data.aws_ssm_parameter.${id}.value}`, String(d.name)]),
  );
  const items: Counted[] = [];
  const byKind = new Map<string, number>();
  for (const i of instances) {
    const os = /windows/i.test(amiNames.get(String(i.attrs.ami)) ?? "") ? "windows" : "linux";
    const key = `${os} ${i.attrs.instance_type}`;
    byKind.set(key, (byKind.get(key) ?? 0) + 1);
  }
  for (const [key, count] of [...byKind].sort()) {
    const [os, type] = key.split(" ") as ["linux" | "windows", string];
    items.push({
      item: `EC2 ${type} (${os === "windows" ? "Windows" : "Linux"})`,
      quantity: String(count),
      count,
      price: (p) => (Object.prototype.hasOwnProperty.call(p.instanceHour[os], type) ? p.instanceHour[os][type] : undefined),
      unit: hourly,
      perMonth: monthOfHours,
    });
  }
  const gib = instances.reduce((n, i) => n + blocks(i.attrs.root_block_device).reduce((m, d) => m + Number(d.volume_size ?? 0), 0), 0);
  if (gib > 0)
    items.push({
      item: "EBS gp3 root volumes",
      quantity: `${gib} GiB`,
      count: gib,
      price: (p) => p.gp3GiBMonth,
      unit: (price) => `$${price}/GiB-month`,
      perMonth: (price) => price,
    });
  const monitored = instances.filter((i) => i.attrs.monitoring === true).length;
  if (monitored > 0) {
    items.push({
      item: "EC2 detailed monitoring",
      quantity: `${monitored} instance${monitored === 1 ? "" : "s"}`,
      count: monitored,
      price: (p) => p.metricMonth * DETAILED_MONITORING_METRICS,
      unit: (price) => `${usd(price)}/month`,
      perMonth: (price) => price,
    });
  }
  return items;
}

/** Does an interface endpoint connect to an endpoint service of the stack (PrivateLink to the proxy) rather than to an AWS service? */
function toOwnService(endpoint: ResourceView): boolean {
  return /^\$\{aws_vpc_endpoint_service\.[A-Za-z0-9_-]+\.service_name\}$/.test(String(endpoint.attrs.service_name));
}

/** How many of each network part billed by the hour a stack has (interface endpoints counted per zone, the proxy's apart). */
function networkCounts(resources: readonly ResourceView[]) {
  const count = (type: string) => resources.filter((r) => r.type === type).length;
  const interfaces = resources.filter((r) => r.type === "aws_vpc_endpoint" && r.attrs.vpc_endpoint_type === "Interface");
  const zones = (endpoints: readonly ResourceView[]) =>
    endpoints.reduce((n, r) => n + (Array.isArray(r.attrs.subnet_ids) ? r.attrs.subnet_ids.length : 1), 0);
  return {
    endpointZones: zones(interfaces.filter((r) => !toOwnService(r))),
    proxyEndpointZones: zones(interfaces.filter(toOwnService)),
    nlbs: resources.filter((r) => r.type === "aws_lb" && r.attrs.load_balancer_type === "network").length,
    attachments: count("aws_ec2_transit_gateway_vpc_attachment"),
    nats: count("aws_nat_gateway"),
    resolverAddresses: resources
      .filter((r) => r.type === "aws_route53_resolver_endpoint")
      .reduce((n, r) => n + blocks(r.attrs.ip_address).length, 0),
    alarms: count("aws_cloudwatch_metric_alarm"),
  };
}
type NetworkCounts = ReturnType<typeof networkCounts>;

/** The network parts and alarms, billed by the hour or the month. */
function networkItems({ endpointZones, proxyEndpointZones, nlbs, attachments, nats, resolverAddresses, alarms }: NetworkCounts): Counted[] {
  const items: Counted[] = [];
  if (proxyEndpointZones > 0) {
    items.push({
      item: "PrivateLink endpoints to the proxy (app VPC x zone, billed hourly; the endpoint service itself is free)",
      quantity: String(proxyEndpointZones),
      count: proxyEndpointZones,
      price: (p) => p.interfaceEndpointHour,
      unit: hourly,
      perMonth: monthOfHours,
    });
  }
  if (endpointZones > 0) {
    items.push({
      item: "Interface endpoints (endpoint x zone, billed hourly)",
      quantity: String(endpointZones),
      count: endpointZones,
      price: (p) => p.interfaceEndpointHour,
      unit: hourly,
      perMonth: monthOfHours,
    });
  }
  if (nlbs > 0) {
    items.push({
      item: "Network Load Balancer",
      quantity: String(nlbs),
      count: nlbs,
      price: (p) => p.networkLoadBalancerHour,
      unit: hourly,
      perMonth: monthOfHours,
    });
    items.push({
      item: "Network Load Balancer capacity units (about one NLCU at light load)",
      quantity: String(nlbs),
      count: nlbs,
      price: (p) => p.nlcuHour,
      unit: (price) => `$${price}/NLCU-h`,
      perMonth: monthOfHours,
    });
  }
  if (attachments > 0) {
    items.push({
      item: "Transit Gateway VPC attachments",
      quantity: String(attachments),
      count: attachments,
      price: (p) => p.transitGatewayAttachmentHour,
      unit: hourly,
      perMonth: monthOfHours,
    });
  }
  if (nats > 0)
    items.push({
      item: "NAT gateways (private)",
      quantity: String(nats),
      count: nats,
      price: (p) => p.natGatewayHour,
      unit: hourly,
      perMonth: monthOfHours,
    });
  if (resolverAddresses > 0) {
    items.push({
      item: "Route 53 Resolver endpoint addresses",
      quantity: String(resolverAddresses),
      count: resolverAddresses,
      price: (p) => p.resolverEndpointAddressHour,
      unit: hourly,
      perMonth: monthOfHours,
    });
  }
  if (alarms > 0)
    items.push({
      item: "CloudWatch alarms",
      quantity: String(alarms),
      count: alarms,
      price: (p) => p.alarmMonth,
      unit: (price) => `${usd(price)}/month`,
      perMonth: (price) => price,
    });
  return items;
}

/** The Squid proxies a stack runs: its instances and its groups' capacity named as the environment's proxy. */
function squidProxyCount(stack: TerraformJson, resources: readonly ResourceView[]): number {
  const provider = blocks((stack as { provider?: Record<string, unknown> }).provider?.aws)[0];
  const environment = blocks(provider?.default_tags)[0]?.tags as Record<string, string> | undefined;
  const name = serverNames.proxy(environment?.[OWNER_TAGS.environment] ?? "");
  const instances = resources.filter((r) => r.type === "aws_instance" && (r.attrs.tags as Attributes | undefined)?.Name === name).length;
  const launched = resources
    .filter((r) => r.type === "aws_autoscaling_group" && blocks(r.attrs.tag).some((t) => t.key === "Name" && t.value === name))
    .reduce((n, g) => n + Number(g.attrs.desired_capacity ?? 0), 0);
  return instances + launched;
}

/** The metric series the stack's dashboards draw: explicit ones by namespace, name and dimensions; searched ones by metric name. */
function dashboardSeries(resources: readonly ResourceView[]): { explicit: Map<string, string[]>; searched: Set<string> } {
  const explicit = new Map<string, string[]>();
  const searched = new Set<string>();
  for (const d of resources.filter((r) => r.type === "aws_cloudwatch_dashboard")) {
    const body = JSON.parse(String(d.attrs.dashboard_body)) as { widgets?: { properties?: { metrics?: unknown[][] } }[] };
    for (const series of (body.widgets ?? []).flatMap((w) => w.properties?.metrics ?? [])) {
      const first = series[0] as string | { expression?: string };
      const names = series.filter((p): p is string => typeof p === "string");
      if (typeof first === "string") explicit.set(JSON.stringify(names), names);
      else for (const m of (first.expression ?? "").matchAll(/MetricName="([^"]+)"/g)) searched.add(m[1]);
    }
  }
  return { explicit, searched };
}

/**
 * The custom metrics the stack's log metric filters publish: one per filter without dimensions; for a dimensioned one, a
 * series per value its dashboards draw, or one per Squid proxy where a dashboard searches it (the proxies' own series).
 */
function customMetricCount(stack: TerraformJson, resources: readonly ResourceView[]): number {
  const { explicit, searched } = dashboardSeries(resources);
  const proxies = squidProxyCount(stack, resources);
  return resources
    .filter((r) => r.type === "aws_cloudwatch_log_metric_filter")
    .map((f) => blocks(f.attrs.metric_transformation)[0] ?? {})
    .reduce((n, t) => {
      if (t.dimensions === undefined) return n + 1;
      const drawn = [...explicit.values()].filter(([ns, name, ...dims]) => ns === t.namespace && name === t.name && dims.length > 0).length;
      return n + drawn + (searched.has(String(t.name)) ? proxies : 0);
    }, 0);
}

/** The proxy's monitoring, billed by the month: custom metrics from its log metric filters, dashboards, the alerts topic's key. */
function monitoringItems(stack: TerraformJson, resources: readonly ResourceView[]): Counted[] {
  const month = (price: number) => `${usd(price)}/month`;
  const perUnit = (price: number) => price;
  const counts: [string, number, (p: RegionPrices) => number][] = [
    ["CloudWatch custom metrics (the proxy's log metric filters)", customMetricCount(stack, resources), (p) => p.metricMonth],
    ["CloudWatch dashboards", resources.filter((r) => r.type === "aws_cloudwatch_dashboard").length, (p) => p.dashboardMonth],
    ["KMS keys (the alerts topic's)", resources.filter((r) => r.type === "aws_kms_key").length, (p) => p.kmsKeyMonth],
  ];
  return counts
    .filter(([, count]) => count > 0)
    .map(([item, count, price]) => ({ item, quantity: String(count), count, price, unit: month, perMonth: perUnit }));
}

/** What is charged by use: data through the network parts the stack has, DNS queries, logs, traffic between zones. */
function byUseItems({ endpointZones, proxyEndpointZones, attachments, nats, resolverAddresses }: NetworkCounts): Counted[] {
  const items: Counted[] = [];
  if (proxyEndpointZones > 0)
    items.push({
      item: "Data through the PrivateLink endpoints to the proxy (requests and responses)",
      quantity: "per GB",
      price: (p) => p.interfaceEndpointGb,
      unit: perGb,
    });
  if (endpointZones > 0)
    items.push({ item: "Data through interface endpoints", quantity: "per GB", price: (p) => p.interfaceEndpointGb, unit: perGb });
  if (attachments > 0)
    items.push({
      item: "Data sent into the Transit Gateway (both directions)",
      quantity: "per GB",
      price: (p) => p.transitGatewayGb,
      unit: perGb,
    });
  if (nats > 0) items.push({ item: "Data through the NAT gateways", quantity: "per GB", price: (p) => p.natGatewayGb, unit: perGb });
  if (resolverAddresses > 0)
    items.push({
      item: "DNS queries forwarded through the resolver endpoint",
      quantity: "per million",
      price: (p) => p.resolverQueriesMillion,
      unit: (price) => `$${price}/million`,
    });
  items.push({ item: "Logs ingested (flow logs, Squid's access log)", quantity: "per GB", price: (p) => p.logIngestionGb, unit: perGb });
  items.push({ item: "Logs stored", quantity: "per GB-month", price: (p) => p.logStorageGbMonth, unit: (price) => `$${price}/GB-month` });
  items.push({ item: "Traffic between zones (peering included)", quantity: "per GB each way", price: (p) => p.crossZoneGb, unit: perGb });
  return items;
}

/** What one synthesized stack runs, counted, in the order the estimate lists it. */
function countedItems(stack: TerraformJson): Counted[] {
  const resources = resourceViews(stack);
  const counts = networkCounts(resources);
  return [
    ...instanceItems(stack, runningInstances(resources)),
    ...networkItems(counts),
    ...monitoringItems(stack, resources),
    ...byUseItems(counts),
  ];
}

/**
 * The estimate of one synthesized stack, priced from `prices` (by default its region's row of
 * tools/prices.ts). Without prices every line says "not known"; an instance type the row lacks is
 * "not known" on its own line and listed in notKnown.
 */
export function costEstimate(stack: TerraformJson, prices: RegionPrices | undefined = pricesFor(stackRegion(stack))): CostEstimate {
  const region = stackRegion(stack);
  const notKnown: string[] = prices ? [] : [`prices for ${region}`];
  const lines = countedItems(stack).map((c): CostLine => {
    const byUse = c.count === undefined ? { byUse: true } : {};
    const price = prices ? c.price(prices) : undefined;
    if (price === undefined) {
      if (prices) notKnown.push(`${c.item} in ${region}`);
      return { item: c.item, quantity: c.quantity, unitPrice: "not known", ...byUse };
    }
    const monthly = c.count !== undefined && c.perMonth ? c.count * c.perMonth(price) : undefined;
    return { item: c.item, quantity: c.quantity, unitPrice: c.unit(price), ...(monthly === undefined ? byUse : { monthly }) };
  });
  return { region, prices, lines, notKnown };
}

/** The monthly lines of one synthesized stack, priced for its own region. */
export function costLines(stack: TerraformJson): readonly CostLine[] {
  return costEstimate(stack).lines;
}

/** The regions the price table has. */
export const PRICED_REGIONS: readonly string[] = Object.keys(REGION_PRICES);

/** The Markdown of one stack's estimate: a table with its fixed monthly total, after a sentence when its region's prices are not known. */
export function costTable(stack: TerraformJson, estimate: CostEstimate = costEstimate(stack)): string {
  const { region, prices, lines, notKnown } = estimate;
  const fixed = lines.reduce((n, l) => n + (l.monthly ?? 0), 0);
  const total =
    notKnown.length === 0
      ? `**${usd(fixed)}**`
      : prices
        ? `**not known**: no price for ${notKnown.join(", ")}; the rest comes to ${usd(fixed)}`
        : "**not known**";
  return [
    ...(prices
      ? []
      : [
          `Prices for ${region} are not known to this project: tools/prices.ts has AWS's list prices for ${PRICED_REGIONS.join(", ")} only, and the estimate does not borrow another region's. The quantities below are what the stack runs; price them for ${region} with the AWS Pricing Calculator.`,
          "",
        ]),
    "| item | quantity | unit price | per month |",
    "| --- | --- | --- | --- |",
    ...lines.map(
      (l) =>
        `| ${l.item} | ${l.quantity} | ${l.unitPrice} | ${l.monthly !== undefined ? usd(l.monthly) : l.byUse ? "by use" : "not known"} |`,
    ),
    `| **fixed per month** | | | ${total} |`,
  ].join("\n");
}

/** The markers around the generated cost section in README.md. */
export const COSTS_START = "<!-- costs:start (generated by npm run docs from tools/costs.ts) -->";
export const COSTS_END = "<!-- costs:end -->";

/** The README's cost section for named stacks: the prices by region, what each way of connecting adds, then each stack's estimate. */
export function costSection(stacks: readonly { readonly name: string; readonly source: string; readonly json: TerraformJson }[]): string {
  const regions = [...new Set(stacks.map((s) => stackRegion(s.json)))].sort();
  return [
    `Prices: AWS on-demand list prices in USD for each environment's own region, from \`tools/prices.ts\` (figures taken ${PRICES_TAKEN}; its header names the price list offer file of each item), ${HOURS_PER_MONTH} hours a month, before tax, free tier and discounts; check the AWS Pricing Calculator before budgeting. Counts come from the synthesized stacks. The table has the regions below; for any other region the estimate lists the quantities and says that prices there are not known, rather than showing another region's.`,
    "",
    regionPriceTable(),
    ...regions.flatMap((region) => {
      const prices = pricesFor(region);
      return prices
        ? [
            "",
            `What the way between the app VPCs and the proxy VPC adds in ${region}, besides instances and endpoints:`,
            "",
            connectivityPriceTable(prices),
          ]
        : [];
    }),
    ...stacks.flatMap((s) => ["", `**${s.name}** (\`${s.source}\`, ${stackRegion(s.json)})`, "", costTable(s.json)]),
  ].join("\n");
}

/** The fixed monthly total of one stack's estimate, or "not known" (with what is missing). */
export function fixedTotal(estimate: CostEstimate): string {
  const fixed = estimate.lines.reduce((n, l) => n + (l.monthly ?? 0), 0);
  return estimate.notKnown.length === 0 ? usd(fixed) : `not known (no price for ${estimate.notKnown.join(", ")})`;
}

/** The README's short cost section: each stack's region and fixed monthly total, and where the full estimates are. */
export function costSummary(stacks: readonly EstimatedStack[], page: string): string {
  return [
    `Fixed monthly cost of each demo and example, at AWS on-demand list prices of its own region (taken ${PRICES_TAKEN}, ${HOURS_PER_MONTH} hours a month, before tax, free tier and discounts; traffic is charged by use on top). Every line with its quantity and unit price, the prices of each region the project knows (${PRICED_REGIONS.join(", ")}) and what each way of connecting adds: [${page}](${page}). For your own environment: \`npx cdktf synth && npm run costs\`.`,
    "",
    "| environment | file | region | fixed per month |",
    "| --- | --- | --- | --- |",
    ...stacks.map((s) => `| ${s.name} | \`${s.source}\` | ${stackRegion(s.json)} | ${fixedTotal(costEstimate(s.json))} |`),
  ].join("\n");
}

/** The generated page of full estimates (docs/costs.md). */
export function costPage(stacks: readonly EstimatedStack[]): string {
  return [
    "# What the demos and examples cost",
    "",
    "<!-- generated by npm run docs from tools/costs.ts and tools/prices.ts; do not edit -->",
    "",
    costSection(stacks),
    "",
  ].join("\n");
}

/** The main hourly and per-GB prices of every region the table has, one row each. */
export function regionPriceTable(): string {
  const figure = (n: number | undefined) => (n === undefined ? "not known" : `$${n}`);
  return [
    "| region | t3.micro Linux /h | t3.medium Windows /h | gp3 /GiB-month | interface endpoint /h per zone | NLB /h | Transit Gateway attachment /h | NAT gateway /h and /GB | resolver address /h | logs ingested /GB |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...Object.entries(REGION_PRICES).map(
      ([region, p]) =>
        `| ${region} (${p.location}) | ${figure(p.instanceHour.linux["t3.micro"])} | ${figure(p.instanceHour.windows["t3.medium"])} | $${p.gp3GiBMonth} | $${p.interfaceEndpointHour} | $${p.networkLoadBalancerHour} | $${p.transitGatewayAttachmentHour} | $${p.natGatewayHour} / $${p.natGatewayGb} | $${p.resolverEndpointAddressHour} | $${p.logIngestionGb} |`,
    ),
  ].join("\n");
}

/** What each way of connecting app VPCs costs by the hour and by the GB, from one region's prices. */
export function connectivityPriceTable(p: RegionPrices): string {
  return [
    "| way | per hour | per GB from an app VPC to the service |",
    "| --- | --- | --- |",
    `| peering + Squid | nothing (peering has no hourly charge) | nothing within a zone; $${p.crossZoneGb} each way between zones |`,
    `| Transit Gateway + Squid | $${p.transitGatewayAttachmentHour} per attachment (each app VPC and the proxy VPC) | $${p.transitGatewayGb} into the gateway |`,
    `| Transit Gateway + private NAT | $${p.transitGatewayAttachmentHour} per attachment, plus $${p.natGatewayHour} per NAT gateway (one per zone); no proxy instance | $${p.transitGatewayGb} into the gateway + $${p.natGatewayGb} through the NAT gateway |`,
    `| PrivateLink + Squid fleet | $${p.interfaceEndpointHour} per app VPC endpoint per zone; the endpoint service is free, its Network Load Balancer ($${p.networkLoadBalancerHour} + $${p.nlcuHour} per NLCU) is the fleet's own | $${p.interfaceEndpointGb} processed by the endpoint, requests and responses |`,
  ].join("\n");
}

/** What each way of connecting costs in one region, per month, from its prices: the figures of the README's comparison. */
export interface ConnectivityMonthly {
  /** Per app VPC: nothing for peering, an attachment, or an endpoint in each zone. */
  readonly perAppVpc: { readonly peering: number; readonly transitGateway: number; readonly privateLink: number };
  /** The proxy VPC's side: the Transit Gateway's attachment; PrivateLink's load balancer (with one NLCU), which a fleet has anyway. */
  readonly proxySide: { readonly transitGateway: number; readonly privateLink: number };
}

/** The monthly figures of each way of connecting, with endpoints in `zones` zones. */
export function connectivityMonthly(p: RegionPrices, zones: number): ConnectivityMonthly {
  return {
    perAppVpc: {
      peering: 0,
      transitGateway: p.transitGatewayAttachmentHour * HOURS_PER_MONTH,
      privateLink: zones * p.interfaceEndpointHour * HOURS_PER_MONTH,
    },
    proxySide: {
      transitGateway: p.transitGatewayAttachmentHour * HOURS_PER_MONTH,
      privateLink: (p.networkLoadBalancerHour + p.nlcuHour) * HOURS_PER_MONTH,
    },
  };
}

/** The markers around the README's generated comparison of the ways of connecting. */
export const CONNECTIVITY_START = "<!-- connectivity:start (generated by npm run docs from tools/costs.ts) -->";
export const CONNECTIVITY_END = "<!-- connectivity:end -->";

/** The README's comparison of peering, a Transit Gateway and PrivateLink: what each gives, and what it costs in `region` with `zones` zones. */
export function connectivityComparison(region: string, zones: number): string {
  const p = pricesFor(region);
  if (!p)
    throw new Error(
      `connectivityComparison: tools/prices.ts has no row for ${region}; compare in a region it lists (${PRICED_REGIONS.join(", ")})`,
    );
  const m = connectivityMonthly(p, zones);
  return [
    `| | peering (default) | Transit Gateway | PrivateLink |`,
    "| --- | --- | --- | --- |",
    '| `connectivity` | `{ "type": "peering" }` | `{ "type": "transitGateway" }` | `{ "type": "privateLink" }`, with `proxy.fleet` |',
    "| app VPC blocks | unique, apart from each other | the same | may overlap each other (`10.0.0.0/16` twice) |",
    "| routes between VPCs | app VPC <-> proxy VPC | app VPCs -> proxy VPC through the gateway's tables | none: an endpoint in each app VPC |",
    "| Squid sees | the app server's address | the same | the app server's address and the endpoint's id, from the PROXY protocol v2 header |",
    `| per app VPC, ${region} | ${usd(m.perAppVpc.peering)} | ${usd(m.perAppVpc.transitGateway)} a month (an attachment) | ${usd(m.perAppVpc.privateLink)} a month (an endpoint in ${zones} zones) |`,
    `| proxy VPC side | ${usd(0)} | ${usd(m.proxySide.transitGateway)} a month (its attachment) | ${usd(m.proxySide.privateLink)} a month (the load balancer a fleet has anyway) |`,
    `| per GB | free within a zone, $${p.crossZoneGb} each way between zones | $${p.transitGatewayGb} into the gateway | $${p.interfaceEndpointGb} through the endpoint |`,
  ].join("\n");
}

/** README text with the comparison of the ways of connecting between the markers replaced. */
export function withConnectivitySection(readme: string, section: string): string {
  const start = readme.indexOf(CONNECTIVITY_START);
  const end = readme.indexOf(CONNECTIVITY_END);
  if (start < 0 || end < start)
    throw new Error(
      `README.md has no comparison markers (${CONNECTIVITY_START} ... ${CONNECTIVITY_END}); add them where the comparison goes`,
    );
  return `${readme.slice(0, start + CONNECTIVITY_START.length)}\n${section}\n${readme.slice(end)}`;
}

/** README text with the cost section between the markers replaced. */
export function withCostSection(readme: string, section: string): string {
  const start = readme.indexOf(COSTS_START);
  const end = readme.indexOf(COSTS_END);
  if (start < 0 || end < start)
    throw new Error(`README.md has no cost markers (${COSTS_START} ... ${COSTS_END}); add them where the estimate goes`);
  return `${readme.slice(0, start + COSTS_START.length)}\n${section}\n${readme.slice(end)}`;
}

/** The environments whose estimate the README shows, synthesized in memory: `[name, source file, stack JSON]`. */
export type EstimatedStack = Parameters<typeof costSection>[0][number];
