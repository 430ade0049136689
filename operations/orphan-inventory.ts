/**
 * What an environment owns in an AWS account, in Terraform's terms, for the orphan sweep (read-only).
 * Found by the owner tags through the Tagging API and each service's own listings, which find what that API or an emulator leaves out.
 */
import { AutoScalingClient, paginateDescribeAutoScalingGroups } from "@aws-sdk/client-auto-scaling";
import { CloudWatchClient, paginateListDashboards } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient, paginateDescribeMetricFilters } from "@aws-sdk/client-cloudwatch-logs";
import {
  DescribeVolumesCommand,
  EC2Client,
  Filter,
  GetTransitGatewayRouteTableAssociationsCommand,
  GetTransitGatewayRouteTablePropagationsCommand,
  Instance,
  paginateDescribeFlowLogs,
  paginateDescribeInstances,
  paginateDescribeInternetGateways,
  paginateDescribeLaunchTemplates,
  paginateDescribeNatGateways,
  paginateDescribeRouteTables,
  paginateDescribeSecurityGroupRules,
  paginateDescribeSecurityGroups,
  paginateDescribeSubnets,
  paginateDescribeTransitGatewayRouteTables,
  paginateDescribeTransitGateways,
  paginateDescribeTransitGatewayVpcAttachments,
  paginateDescribeVpcEndpoints,
  paginateDescribeVpcEndpointServiceConfigurations,
  paginateDescribeVpcPeeringConnections,
  paginateDescribeVpcs,
  SearchTransitGatewayRoutesCommand,
  Tag,
  VpcPeeringConnection,
} from "@aws-sdk/client-ec2";
import {
  DescribeTagsCommand,
  ElasticLoadBalancingV2Client,
  paginateDescribeListeners,
  paginateDescribeLoadBalancers,
  paginateDescribeTargetGroups,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import {
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListInstanceProfileTagsCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  paginateListInstanceProfiles,
  paginateListRoles,
} from "@aws-sdk/client-iam";
import { DescribeKeyCommand, KMSClient, paginateListAliases } from "@aws-sdk/client-kms";
import { paginateGetResources, ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import {
  ListTagsForResourceCommand,
  paginateListResolverEndpoints,
  paginateListResolverRuleAssociations,
  paginateListResolverRules,
  Route53ResolverClient,
} from "@aws-sdk/client-route53resolver";
import { paginateListSubscriptionsByTopic, SNSClient } from "@aws-sdk/client-sns";
import { ListTagsForResourceCommand as ListParameterTagsCommand, paginateDescribeParameters, SSMClient } from "@aws-sdk/client-ssm";
import { accessLogGroupName, allowlistLogGroupName, allowlistParameterName, monitoringNames, OWNER_TAGS } from "../lib/naming";
import { FoundResource } from "./orphans";

/** Where to look: the account's region, the owner tags' values, and an emulator's endpoint if any. */
export interface InventoryTarget {
  readonly region: string;
  readonly project: string;
  readonly environment: string;
  readonly endpoint?: string;
}

/** A resource found by its tags whose kind the sweep does not know: listed, never dropped. */
export interface UnknownKind {
  readonly arn: string;
}

/** The inventory: resources in Terraform's terms, and tagged resources of kinds the sweep does not map. */
export interface Inventory {
  readonly found: FoundResource[];
  readonly unknownKinds: UnknownKind[];
}

const PAGE_LIMIT = 1000;

/** The items of every page of a listing (an SDK paginator), bounded by PAGE_LIMIT pages. */
async function collect<P, T>(paginator: AsyncIterable<P>, items: (page: P) => readonly T[] | undefined): Promise<T[]> {
  const all: T[] = [];
  let count = 0;
  for await (const page of paginator) {
    if (++count > PAGE_LIMIT) throw new Error(`more than ${PAGE_LIMIT} pages in one listing; narrow the account down`);
    all.push(...(items(page) ?? []));
  }
  return all;
}

function tagMap(tags: readonly (Tag | { Key?: string; Value?: string })[] | undefined): Record<string, string> {
  return Object.fromEntries((tags ?? []).filter((t) => t.Key !== undefined).map((t) => [t.Key!, t.Value ?? ""]));
}

function owned(tags: Record<string, string>, target: InventoryTarget): boolean {
  return tags[OWNER_TAGS.project] === target.project && tags[OWNER_TAGS.environment] === target.environment;
}

function withName(attributes: Record<string, string | undefined>, tags: Record<string, string>): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [k, v] of Object.entries(attributes)) if (v !== undefined && v !== "") result[k] = v;
  if (tags.Name !== undefined) result["tags.Name"] = tags.Name;
  return result;
}
/** What the readers share: the target, the clients, the owner-tag filters, and what was found or left out so far. */
interface Reading {
  readonly target: InventoryTarget;
  readonly ec2: EC2Client;
  readonly iam: IAMClient;
  readonly tagging: ResourceGroupsTaggingAPIClient;
  readonly autoscaling: AutoScalingClient;
  readonly elb: ElasticLoadBalancingV2Client;
  readonly resolver: Route53ResolverClient;
  readonly ssm: SSMClient;
  readonly logs: CloudWatchLogsClient;
  readonly cloudwatch: CloudWatchClient;
  readonly sns: SNSClient;
  readonly kms: KMSClient;
  readonly byTag: Filter[];
  readonly found: FoundResource[];
  /** Ids looked at and left out on purpose (gone, or another resource's), so not "unknown kinds". */
  readonly ignored: Set<string>;
}

function reading(target: InventoryTarget): Reading {
  const common = { region: target.region, ...(target.endpoint ? { endpoint: target.endpoint } : {}), maxAttempts: 5 };
  return {
    target,
    ec2: new EC2Client(common),
    iam: new IAMClient(common),
    tagging: new ResourceGroupsTaggingAPIClient(common),
    autoscaling: new AutoScalingClient(common),
    elb: new ElasticLoadBalancingV2Client(common),
    resolver: new Route53ResolverClient(common),
    ssm: new SSMClient(common),
    logs: new CloudWatchLogsClient(common),
    cloudwatch: new CloudWatchClient(common),
    sns: new SNSClient(common),
    kms: new KMSClient(common),
    byTag: [
      { Name: `tag:${OWNER_TAGS.project}`, Values: [target.project] },
      { Name: `tag:${OWNER_TAGS.environment}`, Values: [target.environment] },
    ],
    found: [],
    ignored: new Set<string>(),
  };
}

/** The items that carry the owner tags, each with its tags; a `gone` item (deleted, leaving, or another's) is ignored. */
function ownedItems<T>(
  r: Reading,
  items: readonly T[],
  read: (item: T) => { id: string; tags?: readonly Tag[]; gone?: boolean },
): [T, Record<string, string>][] {
  const kept: [T, Record<string, string>][] = [];
  for (const item of items) {
    const { id, tags, gone } = read(item);
    const map = tagMap(tags);
    if (gone) r.ignored.add(id);
    else if (owned(map, r.target)) kept.push([item, map]);
  }
  return kept;
}

/** Auto Scaling groups, read first: the instances they launch carry the owner tags but are the group's. Returns those instances. */
async function readAutoScalingGroups(r: Reading): Promise<Set<string>> {
  const filters = r.byTag.map((f) => ({ Name: f.Name, Values: f.Values }));
  const groups = ownedItems(
    r,
    await collect(paginateDescribeAutoScalingGroups({ client: r.autoscaling }, { Filters: filters }), (p) => p.AutoScalingGroups),
    (g) => ({ id: g.AutoScalingGroupName!, tags: g.Tags }),
  ).map(([g]) => g);
  for (const g of groups)
    r.found.push({
      type: "aws_autoscaling_group",
      importId: g.AutoScalingGroupName!,
      aliases: g.AutoScalingGroupARN ? [g.AutoScalingGroupARN] : [],
      attributes: { name: g.AutoScalingGroupName!, arn: g.AutoScalingGroupARN ?? "" },
    });
  return new Set(groups.flatMap((g) => (g.Instances ?? []).map((i) => i.InstanceId!)));
}

async function readInstances(r: Reading, groupInstances: ReadonlySet<string>): Promise<void> {
  const instances = await collect(paginateDescribeInstances({ client: r.ec2 }, { Filters: r.byTag }), (p) =>
    (p.Reservations ?? []).flatMap((x) => x.Instances ?? []),
  );
  const instanceGone = (i: Instance) =>
    groupInstances.has(i.InstanceId!) ||
    tagMap(i.Tags)["aws:autoscaling:groupName"] !== undefined ||
    ["terminated", "shutting-down"].includes(i.State?.Name ?? "");
  for (const [i, tags] of ownedItems(r, instances, (i) => ({ id: i.InstanceId!, tags: i.Tags, gone: instanceGone(i) }))) {
    r.found.push({
      type: "aws_instance",
      importId: i.InstanceId!,
      attributes: withName({ id: i.InstanceId, private_ip: i.PrivateIpAddress, subnet_id: i.SubnetId }, tags),
    });
  }
}

async function readVpcs(r: Reading): Promise<void> {
  const vpcs = await collect(paginateDescribeVpcs({ client: r.ec2 }, { Filters: r.byTag }), (p) => p.Vpcs);
  for (const [v, tags] of ownedItems(r, vpcs, (v) => ({ id: v.VpcId!, tags: v.Tags }))) {
    r.found.push({ type: "aws_vpc", importId: v.VpcId!, attributes: withName({ id: v.VpcId, cidr_block: v.CidrBlock }, tags) });
  }
}

async function readSubnets(r: Reading): Promise<void> {
  const subnets = await collect(paginateDescribeSubnets({ client: r.ec2 }, { Filters: r.byTag }), (p) => p.Subnets);
  for (const [s, tags] of ownedItems(r, subnets, (s) => ({ id: s.SubnetId!, tags: s.Tags }))) {
    r.found.push({
      type: "aws_subnet",
      importId: s.SubnetId!,
      attributes: withName({ id: s.SubnetId, vpc_id: s.VpcId, cidr_block: s.CidrBlock }, tags),
    });
  }
}

async function readSecurityGroups(r: Reading): Promise<void> {
  const groups = await collect(paginateDescribeSecurityGroups({ client: r.ec2 }, { Filters: r.byTag }), (p) => p.SecurityGroups);
  for (const [g, tags] of ownedItems(r, groups, (g) => ({ id: g.GroupId!, tags: g.Tags }))) {
    const type = g.GroupName === "default" ? "aws_default_security_group" : "aws_security_group";
    r.found.push({ type, importId: g.GroupId!, attributes: withName({ id: g.GroupId, vpc_id: g.VpcId, name: g.GroupName }, tags) });
  }
}

async function readSecurityGroupRules(r: Reading): Promise<void> {
  const rules = await collect(paginateDescribeSecurityGroupRules({ client: r.ec2 }, { Filters: r.byTag }), (p) => p.SecurityGroupRules);
  for (const [rule, tags] of ownedItems(r, rules, (x) => ({ id: x.SecurityGroupRuleId!, tags: x.Tags }))) {
    r.found.push({
      type: rule.IsEgress ? "aws_vpc_security_group_egress_rule" : "aws_vpc_security_group_ingress_rule",
      importId: rule.SecurityGroupRuleId!,
      attributes: withName(
        {
          id: rule.SecurityGroupRuleId,
          security_group_id: rule.GroupId,
          ip_protocol: rule.IpProtocol,
          from_port: rule.FromPort === undefined ? undefined : String(rule.FromPort),
          to_port: rule.ToPort === undefined ? undefined : String(rule.ToPort),
          cidr_ipv4: rule.CidrIpv4,
          referenced_security_group_id: rule.ReferencedGroupInfo?.GroupId,
          prefix_list_id: rule.PrefixListId,
        },
        tags,
      ),
    });
  }
}

/** Route tables by their tags; their routes and subnet associations, which take no tags, through the table. */
async function readRouteTables(r: Reading): Promise<void> {
  const tables = await collect(paginateDescribeRouteTables({ client: r.ec2 }, { Filters: r.byTag }), (p) => p.RouteTables);
  for (const [t, tags] of ownedItems(r, tables, (t) => ({ id: t.RouteTableId!, tags: t.Tags }))) {
    r.found.push({
      type: "aws_route_table",
      importId: t.RouteTableId!,
      attributes: withName({ id: t.RouteTableId, vpc_id: t.VpcId }, tags),
    });
    for (const route of t.Routes ?? []) {
      // Routes the table came with, and those a gateway endpoint adds, are not Terraform's aws_route.
      if (route.Origin !== "CreateRoute" || route.GatewayId?.startsWith("vpce-") || route.GatewayId === "local") continue;
      const destination = route.DestinationCidrBlock ?? route.DestinationIpv6CidrBlock ?? route.DestinationPrefixListId;
      if (!destination) continue;
      r.found.push({
        type: "aws_route",
        importId: `${t.RouteTableId}_${destination}`,
        attributes: {
          route_table_id: t.RouteTableId!,
          ...(route.DestinationCidrBlock ? { destination_cidr_block: route.DestinationCidrBlock } : {}),
          ...(route.DestinationPrefixListId ? { destination_prefix_list_id: route.DestinationPrefixListId } : {}),
        },
      });
    }
    for (const association of t.Associations ?? []) {
      if (association.Main || !association.SubnetId || association.AssociationState?.State === "disassociated") continue;
      r.found.push({
        type: "aws_route_table_association",
        importId: `${association.SubnetId}/${t.RouteTableId}`,
        aliases: association.RouteTableAssociationId ? [association.RouteTableAssociationId] : [],
        attributes: { id: association.RouteTableAssociationId ?? "", route_table_id: t.RouteTableId!, subnet_id: association.SubnetId },
      });
    }
  }
}

async function readPeerings(r: Reading): Promise<void> {
  const peerings = await collect(
    paginateDescribeVpcPeeringConnections({ client: r.ec2 }, { Filters: r.byTag }),
    (p) => p.VpcPeeringConnections,
  );
  const peeringGone = (p: VpcPeeringConnection) => ["deleted", "rejected", "failed", "expired"].includes(p.Status?.Code ?? "");
  for (const [p, tags] of ownedItems(r, peerings, (p) => ({ id: p.VpcPeeringConnectionId!, tags: p.Tags, gone: peeringGone(p) }))) {
    r.found.push({
      type: "aws_vpc_peering_connection",
      importId: p.VpcPeeringConnectionId!,
      attributes: withName(
        { id: p.VpcPeeringConnectionId, vpc_id: p.RequesterVpcInfo?.VpcId, peer_vpc_id: p.AccepterVpcInfo?.VpcId },
        tags,
      ),
    });
  }
}

async function readVpcEndpoints(r: Reading): Promise<void> {
  const endpoints = await collect(paginateDescribeVpcEndpoints({ client: r.ec2 }, { Filters: r.byTag }), (p) => p.VpcEndpoints);
  for (const [e, tags] of ownedItems(r, endpoints, (e) => ({
    id: e.VpcEndpointId!,
    tags: e.Tags,
    gone: ["deleted", "deleting"].includes(String(e.State ?? "").toLowerCase()),
  }))) {
    r.found.push({
      type: "aws_vpc_endpoint",
      importId: e.VpcEndpointId!,
      attributes: withName({ id: e.VpcEndpointId, vpc_id: e.VpcId, service_name: e.ServiceName }, tags),
    });
  }
}

/** Endpoint services (PrivateLink) by their tags; a service on its way out is another's to finish. */
async function readVpcEndpointServices(r: Reading): Promise<void> {
  const services = await collect(
    paginateDescribeVpcEndpointServiceConfigurations({ client: r.ec2 }, { Filters: r.byTag }),
    (p) => p.ServiceConfigurations,
  );
  for (const [s, tags] of ownedItems(r, services, (s) => ({
    id: s.ServiceId!,
    tags: s.Tags,
    gone: ["deleted", "deleting", "failed"].includes(String(s.ServiceState ?? "").toLowerCase()),
  }))) {
    r.found.push({
      type: "aws_vpc_endpoint_service",
      importId: s.ServiceId!,
      attributes: withName({ id: s.ServiceId, service_name: s.ServiceName }, tags),
    });
  }
}

async function readFlowLogs(r: Reading): Promise<void> {
  const flowLogs = await collect(paginateDescribeFlowLogs({ client: r.ec2 }, { Filter: r.byTag }), (p) => p.FlowLogs);
  for (const [f, tags] of ownedItems(r, flowLogs, (f) => ({ id: f.FlowLogId!, tags: f.Tags }))) {
    r.found.push({ type: "aws_flow_log", importId: f.FlowLogId!, attributes: withName({ id: f.FlowLogId, vpc_id: f.ResourceId }, tags) });
  }
}

async function readNatGateways(r: Reading): Promise<void> {
  const natGateways = await collect(paginateDescribeNatGateways({ client: r.ec2 }, { Filter: r.byTag }), (p) => p.NatGateways);
  for (const [n, tags] of ownedItems(r, natGateways, (n) => ({
    id: n.NatGatewayId!,
    tags: n.Tags,
    gone: ["deleted", "deleting", "failed"].includes(n.State ?? ""),
  }))) {
    r.found.push({
      type: "aws_nat_gateway",
      importId: n.NatGatewayId!,
      attributes: withName({ id: n.NatGatewayId, subnet_id: n.SubnetId }, tags),
    });
  }
}

async function readInternetGateways(r: Reading): Promise<void> {
  const gateways = await collect(paginateDescribeInternetGateways({ client: r.ec2 }, { Filters: r.byTag }), (p) => p.InternetGateways);
  for (const [g, tags] of ownedItems(r, gateways, (g) => ({ id: g.InternetGatewayId!, tags: g.Tags }))) {
    r.found.push({
      type: "aws_internet_gateway",
      importId: g.InternetGatewayId!,
      attributes: withName({ id: g.InternetGatewayId, vpc_id: g.Attachments?.[0]?.VpcId }, tags),
    });
  }
}

async function readLaunchTemplates(r: Reading): Promise<void> {
  const templates = await collect(paginateDescribeLaunchTemplates({ client: r.ec2 }, { Filters: r.byTag }), (p) => p.LaunchTemplates);
  for (const [t, tags] of ownedItems(r, templates, (t) => ({ id: t.LaunchTemplateId!, tags: t.Tags }))) {
    r.found.push({
      type: "aws_launch_template",
      importId: t.LaunchTemplateId!,
      attributes: withName({ id: t.LaunchTemplateId, name: t.LaunchTemplateName }, tags),
    });
  }
}

const leaving = (state: string | undefined) => ["deleted", "deleting"].includes(state ?? "");

/** Transit Gateways and their VPC attachments, by their tags. */
async function readTransitGateways(r: Reading): Promise<void> {
  const gateways = await collect(paginateDescribeTransitGateways({ client: r.ec2 }, { Filters: r.byTag }), (p) => p.TransitGateways);
  for (const [g, tags] of ownedItems(r, gateways, (g) => ({ id: g.TransitGatewayId!, tags: g.Tags, gone: leaving(g.State) }))) {
    r.found.push({
      type: "aws_ec2_transit_gateway",
      importId: g.TransitGatewayId!,
      attributes: withName({ id: g.TransitGatewayId }, tags),
    });
  }
  const attachments = await collect(
    paginateDescribeTransitGatewayVpcAttachments({ client: r.ec2 }, { Filters: r.byTag }),
    (p) => p.TransitGatewayVpcAttachments,
  );
  for (const [a, tags] of ownedItems(r, attachments, (a) => ({
    id: a.TransitGatewayAttachmentId!,
    tags: a.Tags,
    gone: leaving(a.State),
  }))) {
    r.found.push({
      type: "aws_ec2_transit_gateway_vpc_attachment",
      importId: a.TransitGatewayAttachmentId!,
      attributes: withName({ id: a.TransitGatewayAttachmentId, vpc_id: a.VpcId, transit_gateway_id: a.TransitGatewayId }, tags),
    });
  }
}

/** Transit Gateway route tables by their tags; a table's associations, propagations and static routes through the table. */
async function readTransitGatewayRouteTables(r: Reading): Promise<void> {
  const tables = await collect(
    paginateDescribeTransitGatewayRouteTables({ client: r.ec2 }, { Filters: r.byTag }),
    (p) => p.TransitGatewayRouteTables,
  );
  for (const [t, tags] of ownedItems(r, tables, (t) => ({ id: t.TransitGatewayRouteTableId!, tags: t.Tags, gone: leaving(t.State) }))) {
    const table = t.TransitGatewayRouteTableId!;
    r.found.push({
      type: "aws_ec2_transit_gateway_route_table",
      importId: table,
      attributes: withName({ id: table, transit_gateway_id: t.TransitGatewayId }, tags),
    });
    await readTransitGatewayTableParts(r, table);
  }
}

async function readTransitGatewayTableParts(r: Reading, table: string): Promise<void> {
  for (const a of (await r.ec2.send(new GetTransitGatewayRouteTableAssociationsCommand({ TransitGatewayRouteTableId: table })))
    .Associations ?? []) {
    const id = `${table}_${a.TransitGatewayAttachmentId}`;
    r.found.push({
      type: "aws_ec2_transit_gateway_route_table_association",
      importId: id,
      attributes: { id, transit_gateway_route_table_id: table, transit_gateway_attachment_id: a.TransitGatewayAttachmentId! },
    });
  }
  for (const p of (await r.ec2.send(new GetTransitGatewayRouteTablePropagationsCommand({ TransitGatewayRouteTableId: table })))
    .TransitGatewayRouteTablePropagations ?? []) {
    const id = `${table}_${p.TransitGatewayAttachmentId}`;
    r.found.push({
      type: "aws_ec2_transit_gateway_route_table_propagation",
      importId: id,
      attributes: { id, transit_gateway_route_table_id: table, transit_gateway_attachment_id: p.TransitGatewayAttachmentId! },
    });
  }
  const statics = await r.ec2.send(
    new SearchTransitGatewayRoutesCommand({ TransitGatewayRouteTableId: table, Filters: [{ Name: "type", Values: ["static"] }] }),
  );
  for (const route of statics.Routes ?? []) {
    const id = `${table}_${route.DestinationCidrBlock}`;
    r.found.push({
      type: "aws_ec2_transit_gateway_route",
      importId: id,
      attributes: { id, transit_gateway_route_table_id: table, destination_cidr_block: route.DestinationCidrBlock! },
    });
  }
}

const resolverTags = async (r: Reading, arn: string) =>
  tagMap((await r.resolver.send(new ListTagsForResourceCommand({ ResourceArn: arn }))).Tags);

/** Route 53 Resolver endpoints by their tags (one call each). */
async function readResolverEndpoints(r: Reading): Promise<void> {
  const endpoints = await collect(paginateListResolverEndpoints({ client: r.resolver }, {}), (p) => p.ResolverEndpoints);
  for (const e of endpoints) {
    if (e.Status === "DELETING") {
      r.ignored.add(e.Id!);
      continue;
    }
    const tags = await resolverTags(r, e.Arn!);
    if (owned(tags, r.target))
      r.found.push({
        type: "aws_route53_resolver_endpoint",
        importId: e.Id!,
        aliases: [e.Arn!],
        attributes: withName({ id: e.Id, arn: e.Arn, name: e.Name, direction: e.Direction }, tags),
      });
  }
}

/** Route 53 Resolver rules by their tags; their VPC associations, which take no tags, through the rule. */
async function readResolverRules(r: Reading): Promise<void> {
  const rules = await collect(paginateListResolverRules({ client: r.resolver }, {}), (p) => p.ResolverRules);
  const ownedRules = new Set<string>();
  for (const rule of rules) {
    // The built-in rule for internet names is AWS's.
    if (rule.OwnerId === "Route 53 Resolver") continue;
    if (rule.Status === "DELETING") {
      r.ignored.add(rule.Id!);
      continue;
    }
    const tags = await resolverTags(r, rule.Arn!);
    if (!owned(tags, r.target)) continue;
    ownedRules.add(rule.Id!);
    r.found.push({
      type: "aws_route53_resolver_rule",
      importId: rule.Id!,
      aliases: [rule.Arn!],
      attributes: withName(
        {
          id: rule.Id,
          arn: rule.Arn,
          name: rule.Name,
          domain_name: rule.DomainName?.replace(/\.$/, ""),
          rule_type: rule.RuleType,
          resolver_endpoint_id: rule.ResolverEndpointId,
        },
        tags,
      ),
    });
  }
  if (ownedRules.size === 0) return;
  const associations = await collect(paginateListResolverRuleAssociations({ client: r.resolver }, {}), (p) => p.ResolverRuleAssociations);
  for (const a of associations) {
    if (ownedRules.has(a.ResolverRuleId!) && a.Status !== "DELETING") {
      r.found.push({
        type: "aws_route53_resolver_rule_association",
        importId: a.Id!,
        attributes: { id: a.Id!, resolver_rule_id: a.ResolverRuleId!, vpc_id: a.VPCId! },
      });
    }
  }
}

/** The tags of load balancers or target groups by ARN, from DescribeTags, 20 ARNs at a time. */
async function elbTags(r: Reading, arns: string[]): Promise<Map<string, Record<string, string>>> {
  const result = new Map<string, Record<string, string>>();
  for (let i = 0; i < arns.length; i += 20) {
    const page = await r.elb.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
    for (const d of page.TagDescriptions ?? []) result.set(d.ResourceArn!, tagMap(d.Tags));
  }
  return result;
}

/** Load balancers by their tags, and the listeners of each. */
async function readLoadBalancers(r: Reading): Promise<void> {
  const loadBalancers = await collect(paginateDescribeLoadBalancers({ client: r.elb }, {}), (p) => p.LoadBalancers);
  const lbTags = await elbTags(
    r,
    loadBalancers.map((l) => l.LoadBalancerArn!),
  );
  for (const l of loadBalancers.filter((x) => owned(lbTags.get(x.LoadBalancerArn!) ?? {}, r.target))) {
    r.found.push({
      type: "aws_lb",
      importId: l.LoadBalancerArn!,
      attributes: withName({ id: l.LoadBalancerArn, arn: l.LoadBalancerArn, name: l.LoadBalancerName }, lbTags.get(l.LoadBalancerArn!)!),
    });
    const listeners = await collect(
      paginateDescribeListeners({ client: r.elb }, { LoadBalancerArn: l.LoadBalancerArn }),
      (p) => p.Listeners,
    );
    for (const listener of listeners) {
      r.found.push({
        type: "aws_lb_listener",
        importId: listener.ListenerArn!,
        attributes: {
          id: listener.ListenerArn!,
          arn: listener.ListenerArn!,
          load_balancer_arn: l.LoadBalancerArn!,
          port: String(listener.Port),
        },
      });
    }
  }
}

async function readTargetGroups(r: Reading): Promise<void> {
  const targetGroups = await collect(paginateDescribeTargetGroups({ client: r.elb }, {}), (p) => p.TargetGroups);
  const tgTags = await elbTags(
    r,
    targetGroups.map((t) => t.TargetGroupArn!),
  );
  for (const t of targetGroups.filter((x) => owned(tgTags.get(x.TargetGroupArn!) ?? {}, r.target))) {
    r.found.push({
      type: "aws_lb_target_group",
      importId: t.TargetGroupArn!,
      attributes: withName({ id: t.TargetGroupArn, arn: t.TargetGroupArn, name: t.TargetGroupName }, tgTags.get(t.TargetGroupArn!)!),
    });
  }
}

/** IAM roles and their policies: the Tagging API does not return roles, so each one's tags are read. */
async function readRoles(r: Reading): Promise<void> {
  const roles = await collect(paginateListRoles({ client: r.iam }, {}), (p) => p.Roles);
  for (const role of roles) {
    const tags = tagMap((await r.iam.send(new ListRoleTagsCommand({ RoleName: role.RoleName }))).Tags);
    if (!owned(tags, r.target)) continue;
    r.found.push({
      type: "aws_iam_role",
      importId: role.RoleName!,
      aliases: [role.Arn!],
      attributes: withName({ id: role.RoleName, name: role.RoleName, arn: role.Arn }, tags),
    });
    for (const p of (await r.iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role.RoleName }))).AttachedPolicies ?? []) {
      r.found.push({
        type: "aws_iam_role_policy_attachment",
        importId: `${role.RoleName}/${p.PolicyArn}`,
        attributes: { role: role.RoleName!, policy_arn: p.PolicyArn! },
      });
    }
    for (const name of (await r.iam.send(new ListRolePoliciesCommand({ RoleName: role.RoleName }))).PolicyNames ?? []) {
      r.found.push({ type: "aws_iam_role_policy", importId: `${role.RoleName}:${name}`, attributes: { role: role.RoleName!, name } });
    }
  }
}

/**
 * Instance profiles: the environment's by their own tags, or, where the tags cannot be read (the
 * emulator lacks ListInstanceProfileTags), by holding one of the environment's roles.
 */
async function readInstanceProfiles(r: Reading): Promise<void> {
  const profiles = await collect(paginateListInstanceProfiles({ client: r.iam }, {}), (p) => p.InstanceProfiles);
  const ownedRoles = new Set(r.found.filter((f) => f.type === "aws_iam_role").map((f) => f.importId));
  for (const p of profiles) {
    let mine = (p.Roles ?? []).some((role) => ownedRoles.has(role.RoleName!));
    let tags: Record<string, string> = {};
    try {
      tags = tagMap((await r.iam.send(new ListInstanceProfileTagsCommand({ InstanceProfileName: p.InstanceProfileName }))).Tags);
      mine = owned(tags, r.target);
    } catch (e) {
      const unimplemented =
        (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404 ||
        /Deserialization error/.test((e as Error).message);
      if (!unimplemented) throw e;
    }
    if (mine)
      r.found.push({
        type: "aws_iam_instance_profile",
        importId: p.InstanceProfileName!,
        aliases: [p.Arn!],
        attributes: withName({ id: p.InstanceProfileName, name: p.InstanceProfileName, arn: p.Arn }, tags),
      });
  }
}

/** Volumes carry the default tags too, but an attached one is its instance's root or data volume: ignored. */
async function ignoreAttachedVolumes(r: Reading, arns: readonly string[]): Promise<void> {
  const volumeIds = arns.map((arn) => /:volume\/(vol-[0-9a-f]+)$/.exec(arn)?.[1]).filter((v): v is string => v !== undefined);
  for (let i = 0; i < volumeIds.length; i += 200) {
    for (const v of (await r.ec2.send(new DescribeVolumesCommand({ VolumeIds: volumeIds.slice(i, i + 200) }))).Volumes ?? []) {
      if ((v.Attachments ?? []).length > 0) r.ignored.add(v.VolumeId!);
    }
  }
}

/** The folder of the environment's SSM parameters: that of its allowlist parameter. */
function parameterFolder(environment: string): string {
  const name = allowlistParameterName(environment);
  return name.slice(0, name.lastIndexOf("/") + 1);
}

/** SSM parameters named in the environment's folder that carry its owner tags (one tag call each). */
async function readSsmParameters(r: Reading): Promise<void> {
  const parameters = await collect(
    paginateDescribeParameters(
      { client: r.ssm },
      { ParameterFilters: [{ Key: "Name", Option: "BeginsWith", Values: [parameterFolder(r.target.environment)] }] },
    ),
    (p) => p.Parameters,
  );
  for (const p of parameters) await addSsmParameter(r, p.Name!, p.ARN);
}

async function addSsmParameter(r: Reading, name: string, arn: string | undefined): Promise<void> {
  const tags = tagMap((await r.ssm.send(new ListParameterTagsCommand({ ResourceType: "Parameter", ResourceId: name }))).TagList);
  if (!owned(tags, r.target)) return;
  r.found.push({
    type: "aws_ssm_parameter",
    importId: name,
    aliases: arn ? [arn] : [],
    attributes: withName({ id: name, name, arn }, tags),
  });
}

/** Metric filters on the environment's log groups (the access log and the allowlist update log), which take no tags. */
async function readMetricFilters(r: Reading): Promise<void> {
  for (const logGroupName of [accessLogGroupName(r.target.environment), allowlistLogGroupName(r.target.environment)]) {
    let filters;
    try {
      filters = await collect(paginateDescribeMetricFilters({ client: r.logs }, { logGroupName }), (p) => p.metricFilters);
    } catch (e) {
      // AWS answers so for a log group not created (yet, or any more): it has no filters.
      if ((e as { name?: string }).name === "ResourceNotFoundException") continue;
      throw e;
    }
    for (const f of filters) {
      r.found.push({
        type: "aws_cloudwatch_log_metric_filter",
        importId: `${logGroupName}:${f.filterName}`,
        attributes: { name: f.filterName!, log_group_name: logGroupName },
      });
    }
  }
}

/** The environment's dashboard by its name (dashboards take no tags). */
async function readDashboards(r: Reading): Promise<void> {
  const name = monitoringNames.dashboard(r.target.environment);
  const dashboards = await collect(
    paginateListDashboards({ client: r.cloudwatch }, { DashboardNamePrefix: name }),
    (p) => p.DashboardEntries,
  );
  for (const d of dashboards.filter((x) => x.DashboardName === name)) {
    r.found.push({
      type: "aws_cloudwatch_dashboard",
      importId: name,
      aliases: d.DashboardArn ? [d.DashboardArn] : [],
      attributes: withName({ dashboard_name: name, arn: d.DashboardArn }, {}),
    });
  }
}

/** What one tagged ARN is, in Terraform's terms: its service, the resource part after the account, and its tags. */
interface TaggedResource {
  readonly arn: string;
  readonly service: string;
  readonly resource: string;
  readonly tags: Record<string, string>;
}

/** A CloudWatch Logs log group. */
function addLogGroup(r: Reading, t: TaggedResource): void {
  const name = t.resource.slice("log-group:".length).replace(/:\*$/, "");
  r.found.push({
    type: "aws_cloudwatch_log_group",
    importId: name,
    aliases: [t.arn],
    attributes: withName({ id: name, name, arn: t.arn }, t.tags),
  });
}

/** A CloudWatch metric alarm. */
function addAlarm(r: Reading, t: TaggedResource): void {
  const name = t.resource.slice("alarm:".length);
  r.found.push({
    type: "aws_cloudwatch_metric_alarm",
    importId: name,
    aliases: [t.arn],
    attributes: withName({ id: name, alarm_name: name, arn: t.arn }, t.tags),
  });
}

/** An SNS topic, and its subscriptions (which take no tags) through the topic. */
async function addTopic(r: Reading, t: TaggedResource): Promise<void> {
  r.found.push({ type: "aws_sns_topic", importId: t.arn, attributes: withName({ id: t.arn, arn: t.arn, name: t.resource }, t.tags) });
  const subscriptions = await collect(paginateListSubscriptionsByTopic({ client: r.sns }, { TopicArn: t.arn }), (p) => p.Subscriptions);
  for (const s of subscriptions) {
    // An unconfirmed email subscription is listed as "PendingConfirmation", without its ARN.
    const arn = s.SubscriptionArn?.startsWith("arn:") ? s.SubscriptionArn : undefined;
    r.found.push({
      type: "aws_sns_topic_subscription",
      importId: s.SubscriptionArn ?? "",
      attributes: withName({ id: arn, arn, topic_arn: t.arn, protocol: s.Protocol, endpoint: s.Endpoint }, {}),
    });
  }
}

/** A KMS key with its state (a key pending deletion is judged no orphan), and its aliases (which take no tags) through the key. */
async function addKey(r: Reading, t: TaggedResource): Promise<void> {
  const key = (await r.kms.send(new DescribeKeyCommand({ KeyId: t.arn }))).KeyMetadata!;
  r.found.push({
    type: "aws_kms_key",
    importId: key.KeyId!,
    aliases: [t.arn],
    attributes: withName(
      { id: key.KeyId, arn: t.arn, description: key.Description, key_state: key.KeyState, deletion_date: key.DeletionDate?.toISOString() },
      t.tags,
    ),
  });
  for (const a of await collect(paginateListAliases({ client: r.kms }, { KeyId: key.KeyId }), (p) => p.Aliases)) {
    r.found.push({
      type: "aws_kms_alias",
      importId: a.AliasName!,
      aliases: a.AliasArn ? [a.AliasArn] : [],
      attributes: withName(
        { id: a.AliasName, name: a.AliasName, arn: a.AliasArn, target_key_id: key.KeyId, target_key_state: key.KeyState },
        {},
      ),
    });
  }
}

/** An SSM parameter the folder listing missed (named elsewhere); a name with a slash begins with one, which its ARN leaves out. */
async function addTaggedParameter(r: Reading, t: TaggedResource, seen: ReadonlySet<string>): Promise<void> {
  const rest = t.resource.slice("parameter/".length);
  const names = rest.includes("/") ? [`/${rest}`] : [rest, `/${rest}`];
  if (seen.has(t.arn) || names.some((n) => seen.has(n))) return;
  const listed = await collect(
    paginateDescribeParameters({ client: r.ssm }, { ParameterFilters: [{ Key: "Name", Option: "Equals", Values: names }] }),
    (p) => p.Parameters,
  );
  for (const p of listed) await addSsmParameter(r, p.Name!, t.arn);
}

/** The kinds read from the Tagging API itself, by service and the start of the resource part of their ARN. */
const TAGGED_KINDS: readonly {
  readonly service: string;
  readonly matches: (resource: string) => boolean;
  readonly add: (r: Reading, t: TaggedResource, seen: ReadonlySet<string>) => void | Promise<void>;
}[] = [
  { service: "logs", matches: (x) => x.startsWith("log-group:"), add: addLogGroup },
  { service: "cloudwatch", matches: (x) => x.startsWith("alarm:"), add: addAlarm },
  { service: "sns", matches: (x) => !x.includes(":") && !x.includes("/"), add: addTopic },
  { service: "kms", matches: (x) => x.startsWith("key/"), add: addKey },
  { service: "ssm", matches: (x) => x.startsWith("parameter/"), add: addTaggedParameter },
];

/**
 * Everything else the Tagging API knows by the owner tags: log groups, alarms, SNS topics and KMS keys, and any kind
 * the readers before missed, which is listed as unknown rather than dropped.
 */
async function readTagged(r: Reading): Promise<UnknownKind[]> {
  const ownerTagFilters = [
    { Key: OWNER_TAGS.project, Values: [r.target.project] },
    { Key: OWNER_TAGS.environment, Values: [r.target.environment] },
  ];
  const tagged = await collect(
    paginateGetResources({ client: r.tagging }, { TagFilters: ownerTagFilters }),
    (p) => p.ResourceTagMappingList,
  );
  const seen = new Set(r.found.flatMap((f) => [f.importId, ...(f.aliases ?? []), f.attributes.id, f.attributes.arn].filter(Boolean)));
  await ignoreAttachedVolumes(
    r,
    tagged.map((m) => m.ResourceARN ?? ""),
  );
  const unknownKinds: UnknownKind[] = [];
  for (const mapping of tagged) {
    const arn = mapping.ResourceARN!;
    const [, , service, , , ...rest] = arn.split(":");
    const resource = rest.join(":");
    const kind = TAGGED_KINDS.find((k) => k.service === service && k.matches(resource));
    if (kind) {
      await kind.add(r, { arn, service, resource, tags: tagMap(mapping.Tags) }, seen);
      continue;
    }
    const id = resource.split("/").pop() ?? resource;
    // Network interfaces belong to the instances, endpoints and load balancers that made them.
    if (!seen.has(arn) && !seen.has(id) && !r.ignored.has(id) && !resource.startsWith("network-interface/")) unknownKinds.push({ arn });
  }
  return unknownKinds;
}

/** The readers of what the Tagging API may leave out, in the order their findings are listed. */
const READERS: readonly ((r: Reading) => Promise<void>)[] = [
  readVpcs,
  readSubnets,
  readSecurityGroups,
  readSecurityGroupRules,
  readRouteTables,
  readPeerings,
  readVpcEndpoints,
  readVpcEndpointServices,
  readFlowLogs,
  readNatGateways,
  readInternetGateways,
  readLaunchTemplates,
  readTransitGateways,
  readTransitGatewayRouteTables,
  readResolverEndpoints,
  readResolverRules,
  readLoadBalancers,
  readTargetGroups,
  readRoles,
  readInstanceProfiles,
  readSsmParameters,
  readMetricFilters,
  readDashboards,
];

/** Reads the inventory of an environment. Read-only: only Describe, List and Get calls. */
export async function readInventory(target: InventoryTarget): Promise<Inventory> {
  const r = reading(target);
  await readInstances(r, await readAutoScalingGroups(r));
  for (const read of READERS) await read(r);
  const unknownKinds = await readTagged(r);
  return { found: r.found, unknownKinds };
}
