/**
 * What an environment owns in an AWS account, read-only, in Terraform's terms (FoundResource), for
 * the orphan sweep. Resources are found by the environment's owner tags: through the Resource
 * Groups Tagging API, and through each service's own describe calls for the kinds that API does not
 * return (IAM roles and instance profiles, Auto Scaling groups) or that an emulator may leave out.
 * Parts that carry no tags of their own are found through their parents: the routes and subnet
 * associations of the environment's route tables, the policies of its roles, the listeners of its
 * load balancers.
 */
import { AutoScalingClient, paginateDescribeAutoScalingGroups } from "@aws-sdk/client-auto-scaling";
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
import { paginateGetResources, ResourceGroupsTaggingAPIClient } from "@aws-sdk/client-resource-groups-tagging-api";
import {
  ListTagsForResourceCommand,
  paginateListResolverEndpoints,
  paginateListResolverRuleAssociations,
  paginateListResolverRules,
  Route53ResolverClient,
} from "@aws-sdk/client-route53resolver";
import { OWNER_TAGS } from "../lib/naming";
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

/** Reads the inventory of an environment. Read-only: only Describe, List and Get calls. */
export async function readInventory(target: InventoryTarget): Promise<Inventory> {
  const common = { region: target.region, ...(target.endpoint ? { endpoint: target.endpoint } : {}), maxAttempts: 5 };
  const ec2 = new EC2Client(common);
  const iam = new IAMClient(common);
  const tagging = new ResourceGroupsTaggingAPIClient(common);
  const autoscaling = new AutoScalingClient(common);
  const elb = new ElasticLoadBalancingV2Client(common);
  const resolver = new Route53ResolverClient(common);
  const byTag: Filter[] = [
    { Name: `tag:${OWNER_TAGS.project}`, Values: [target.project] },
    { Name: `tag:${OWNER_TAGS.environment}`, Values: [target.environment] },
  ];
  const found: FoundResource[] = [];
  const add = (r: FoundResource) => found.push(r);
  // Ids looked at and left out on purpose (gone, or another resource's), so not "unknown kinds".
  const ignored = new Set<string>();

  /**
   * The items that carry the owner tags, each with its tags. An item that is `gone` (deleted, on
   * its way out, or another resource's) is looked at and left out, so it is never called unknown.
   */
  const ownedItems = <T>(
    items: readonly T[],
    read: (item: T) => { id: string; tags?: readonly Tag[]; gone?: boolean },
  ): [T, Record<string, string>][] => {
    const kept: [T, Record<string, string>][] = [];
    for (const item of items) {
      const { id, tags, gone } = read(item);
      const map = tagMap(tags);
      if (gone) ignored.add(id);
      else if (owned(map, target)) kept.push([item, map]);
    }
    return kept;
  };
  const ec2Client = { client: ec2 };

  // Auto Scaling groups first: the instances they launch carry the owner tags but are the group's.
  const groups = ownedItems(
    await collect(
      paginateDescribeAutoScalingGroups({ client: autoscaling }, { Filters: byTag.map((f) => ({ Name: f.Name, Values: f.Values })) }),
      (p) => p.AutoScalingGroups,
    ),
    (g) => ({ id: g.AutoScalingGroupName!, tags: g.Tags }),
  ).map(([g]) => g);
  const groupInstances = new Set(groups.flatMap((g) => (g.Instances ?? []).map((i) => i.InstanceId!)));
  for (const g of groups)
    add({
      type: "aws_autoscaling_group",
      importId: g.AutoScalingGroupName!,
      aliases: g.AutoScalingGroupARN ? [g.AutoScalingGroupARN] : [],
      attributes: { name: g.AutoScalingGroupName!, arn: g.AutoScalingGroupARN ?? "" },
    });

  const instances = await collect(paginateDescribeInstances(ec2Client, { Filters: byTag }), (p) =>
    (p.Reservations ?? []).flatMap((x) => x.Instances ?? []),
  );
  const instanceGone = (i: Instance) =>
    groupInstances.has(i.InstanceId!) ||
    tagMap(i.Tags)["aws:autoscaling:groupName"] !== undefined ||
    ["terminated", "shutting-down"].includes(i.State?.Name ?? "");
  for (const [i, tags] of ownedItems(instances, (i) => ({ id: i.InstanceId!, tags: i.Tags, gone: instanceGone(i) }))) {
    add({
      type: "aws_instance",
      importId: i.InstanceId!,
      attributes: withName({ id: i.InstanceId, private_ip: i.PrivateIpAddress, subnet_id: i.SubnetId }, tags),
    });
  }
  for (const [v, tags] of ownedItems(await collect(paginateDescribeVpcs(ec2Client, { Filters: byTag }), (p) => p.Vpcs), (v) => ({
    id: v.VpcId!,
    tags: v.Tags,
  }))) {
    add({ type: "aws_vpc", importId: v.VpcId!, attributes: withName({ id: v.VpcId, cidr_block: v.CidrBlock }, tags) });
  }
  for (const [s, tags] of ownedItems(await collect(paginateDescribeSubnets(ec2Client, { Filters: byTag }), (p) => p.Subnets), (s) => ({
    id: s.SubnetId!,
    tags: s.Tags,
  }))) {
    add({
      type: "aws_subnet",
      importId: s.SubnetId!,
      attributes: withName({ id: s.SubnetId, vpc_id: s.VpcId, cidr_block: s.CidrBlock }, tags),
    });
  }
  for (const [g, tags] of ownedItems(
    await collect(paginateDescribeSecurityGroups(ec2Client, { Filters: byTag }), (p) => p.SecurityGroups),
    (g) => ({ id: g.GroupId!, tags: g.Tags }),
  )) {
    const type = g.GroupName === "default" ? "aws_default_security_group" : "aws_security_group";
    add({ type, importId: g.GroupId!, attributes: withName({ id: g.GroupId, vpc_id: g.VpcId, name: g.GroupName }, tags) });
  }
  const rules = await collect(paginateDescribeSecurityGroupRules(ec2Client, { Filters: byTag }), (p) => p.SecurityGroupRules);
  for (const [rule, tags] of ownedItems(rules, (r) => ({ id: r.SecurityGroupRuleId!, tags: r.Tags }))) {
    add({
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
  for (const [t, tags] of ownedItems(
    await collect(paginateDescribeRouteTables(ec2Client, { Filters: byTag }), (p) => p.RouteTables),
    (t) => ({ id: t.RouteTableId!, tags: t.Tags }),
  )) {
    add({ type: "aws_route_table", importId: t.RouteTableId!, attributes: withName({ id: t.RouteTableId, vpc_id: t.VpcId }, tags) });
    for (const route of t.Routes ?? []) {
      // Routes the table came with, and those a gateway endpoint adds, are not Terraform's aws_route.
      if (route.Origin !== "CreateRoute" || route.GatewayId?.startsWith("vpce-") || route.GatewayId === "local") continue;
      const destination = route.DestinationCidrBlock ?? route.DestinationIpv6CidrBlock ?? route.DestinationPrefixListId;
      if (!destination) continue;
      add({
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
      add({
        type: "aws_route_table_association",
        importId: `${association.SubnetId}/${t.RouteTableId}`,
        aliases: association.RouteTableAssociationId ? [association.RouteTableAssociationId] : [],
        attributes: { id: association.RouteTableAssociationId ?? "", route_table_id: t.RouteTableId!, subnet_id: association.SubnetId },
      });
    }
  }
  const peerings = await collect(paginateDescribeVpcPeeringConnections(ec2Client, { Filters: byTag }), (p) => p.VpcPeeringConnections);
  const peeringGone = (p: VpcPeeringConnection) => ["deleted", "rejected", "failed", "expired"].includes(p.Status?.Code ?? "");
  for (const [p, tags] of ownedItems(peerings, (p) => ({ id: p.VpcPeeringConnectionId!, tags: p.Tags, gone: peeringGone(p) }))) {
    add({
      type: "aws_vpc_peering_connection",
      importId: p.VpcPeeringConnectionId!,
      attributes: withName(
        { id: p.VpcPeeringConnectionId, vpc_id: p.RequesterVpcInfo?.VpcId, peer_vpc_id: p.AccepterVpcInfo?.VpcId },
        tags,
      ),
    });
  }
  const endpoints = await collect(paginateDescribeVpcEndpoints(ec2Client, { Filters: byTag }), (p) => p.VpcEndpoints);
  for (const [e, tags] of ownedItems(endpoints, (e) => ({
    id: e.VpcEndpointId!,
    tags: e.Tags,
    gone: ["deleted", "deleting"].includes(String(e.State ?? "").toLowerCase()),
  }))) {
    add({
      type: "aws_vpc_endpoint",
      importId: e.VpcEndpointId!,
      attributes: withName({ id: e.VpcEndpointId, vpc_id: e.VpcId, service_name: e.ServiceName }, tags),
    });
  }
  for (const [f, tags] of ownedItems(await collect(paginateDescribeFlowLogs(ec2Client, { Filter: byTag }), (p) => p.FlowLogs), (f) => ({
    id: f.FlowLogId!,
    tags: f.Tags,
  }))) {
    add({ type: "aws_flow_log", importId: f.FlowLogId!, attributes: withName({ id: f.FlowLogId, vpc_id: f.ResourceId }, tags) });
  }
  const natGateways = await collect(paginateDescribeNatGateways(ec2Client, { Filter: byTag }), (p) => p.NatGateways);
  for (const [n, tags] of ownedItems(natGateways, (n) => ({
    id: n.NatGatewayId!,
    tags: n.Tags,
    gone: ["deleted", "deleting", "failed"].includes(n.State ?? ""),
  }))) {
    add({ type: "aws_nat_gateway", importId: n.NatGatewayId!, attributes: withName({ id: n.NatGatewayId, subnet_id: n.SubnetId }, tags) });
  }
  const internetGateways = await collect(paginateDescribeInternetGateways(ec2Client, { Filters: byTag }), (p) => p.InternetGateways);
  for (const [g, tags] of ownedItems(internetGateways, (g) => ({ id: g.InternetGatewayId!, tags: g.Tags }))) {
    add({
      type: "aws_internet_gateway",
      importId: g.InternetGatewayId!,
      attributes: withName({ id: g.InternetGatewayId, vpc_id: g.Attachments?.[0]?.VpcId }, tags),
    });
  }
  const templates = await collect(paginateDescribeLaunchTemplates(ec2Client, { Filters: byTag }), (p) => p.LaunchTemplates);
  for (const [t, tags] of ownedItems(templates, (t) => ({ id: t.LaunchTemplateId!, tags: t.Tags }))) {
    add({
      type: "aws_launch_template",
      importId: t.LaunchTemplateId!,
      attributes: withName({ id: t.LaunchTemplateId, name: t.LaunchTemplateName }, tags),
    });
  }

  // Transit Gateways, their attachments and route tables by tags; a table's associations,
  // propagations and static routes through the table.
  const leaving = (state: string | undefined) => ["deleted", "deleting"].includes(state ?? "");
  const gateways = await collect(paginateDescribeTransitGateways(ec2Client, { Filters: byTag }), (p) => p.TransitGateways);
  for (const [g, tags] of ownedItems(gateways, (g) => ({ id: g.TransitGatewayId!, tags: g.Tags, gone: leaving(g.State) }))) {
    add({ type: "aws_ec2_transit_gateway", importId: g.TransitGatewayId!, attributes: withName({ id: g.TransitGatewayId }, tags) });
  }
  const attachments = await collect(
    paginateDescribeTransitGatewayVpcAttachments(ec2Client, { Filters: byTag }),
    (p) => p.TransitGatewayVpcAttachments,
  );
  for (const [a, tags] of ownedItems(attachments, (a) => ({ id: a.TransitGatewayAttachmentId!, tags: a.Tags, gone: leaving(a.State) }))) {
    add({
      type: "aws_ec2_transit_gateway_vpc_attachment",
      importId: a.TransitGatewayAttachmentId!,
      attributes: withName({ id: a.TransitGatewayAttachmentId, vpc_id: a.VpcId, transit_gateway_id: a.TransitGatewayId }, tags),
    });
  }
  const gatewayTables = await collect(
    paginateDescribeTransitGatewayRouteTables(ec2Client, { Filters: byTag }),
    (p) => p.TransitGatewayRouteTables,
  );
  for (const [t, tags] of ownedItems(gatewayTables, (t) => ({ id: t.TransitGatewayRouteTableId!, tags: t.Tags, gone: leaving(t.State) }))) {
    const table = t.TransitGatewayRouteTableId!;
    add({
      type: "aws_ec2_transit_gateway_route_table",
      importId: table,
      attributes: withName({ id: table, transit_gateway_id: t.TransitGatewayId }, tags),
    });
    for (const a of (await ec2.send(new GetTransitGatewayRouteTableAssociationsCommand({ TransitGatewayRouteTableId: table })))
      .Associations ?? []) {
      const id = `${table}_${a.TransitGatewayAttachmentId}`;
      add({
        type: "aws_ec2_transit_gateway_route_table_association",
        importId: id,
        attributes: { id, transit_gateway_route_table_id: table, transit_gateway_attachment_id: a.TransitGatewayAttachmentId! },
      });
    }
    for (const p of (await ec2.send(new GetTransitGatewayRouteTablePropagationsCommand({ TransitGatewayRouteTableId: table })))
      .TransitGatewayRouteTablePropagations ?? []) {
      const id = `${table}_${p.TransitGatewayAttachmentId}`;
      add({
        type: "aws_ec2_transit_gateway_route_table_propagation",
        importId: id,
        attributes: { id, transit_gateway_route_table_id: table, transit_gateway_attachment_id: p.TransitGatewayAttachmentId! },
      });
    }
    const statics = await ec2.send(
      new SearchTransitGatewayRoutesCommand({ TransitGatewayRouteTableId: table, Filters: [{ Name: "type", Values: ["static"] }] }),
    );
    for (const r of statics.Routes ?? []) {
      const id = `${table}_${r.DestinationCidrBlock}`;
      add({
        type: "aws_ec2_transit_gateway_route",
        importId: id,
        attributes: { id, transit_gateway_route_table_id: table, destination_cidr_block: r.DestinationCidrBlock! },
      });
    }
  }

  // Route 53 Resolver endpoints and rules by their tags (one call each); a rule's VPC associations,
  // which take no tags, through the rule. The built-in rule for internet names is AWS's.
  const resolverTags = async (arn: string) => tagMap((await resolver.send(new ListTagsForResourceCommand({ ResourceArn: arn }))).Tags);
  const resolverEndpoints = await collect(paginateListResolverEndpoints({ client: resolver }, {}), (p) => p.ResolverEndpoints);
  for (const e of resolverEndpoints) {
    if (e.Status === "DELETING") {
      ignored.add(e.Id!);
      continue;
    }
    const tags = await resolverTags(e.Arn!);
    if (owned(tags, target))
      add({
        type: "aws_route53_resolver_endpoint",
        importId: e.Id!,
        aliases: [e.Arn!],
        attributes: withName({ id: e.Id, arn: e.Arn, name: e.Name, direction: e.Direction }, tags),
      });
  }
  const resolverRules = await collect(paginateListResolverRules({ client: resolver }, {}), (p) => p.ResolverRules);
  const ownedRules = new Set<string>();
  for (const rule of resolverRules) {
    if (rule.OwnerId === "Route 53 Resolver") continue;
    if (rule.Status === "DELETING") {
      ignored.add(rule.Id!);
      continue;
    }
    const tags = await resolverTags(rule.Arn!);
    if (!owned(tags, target)) continue;
    ownedRules.add(rule.Id!);
    add({
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
  if (ownedRules.size > 0) {
    const associations = await collect(paginateListResolverRuleAssociations({ client: resolver }, {}), (p) => p.ResolverRuleAssociations);
    for (const a of associations) {
      if (ownedRules.has(a.ResolverRuleId!) && a.Status !== "DELETING") {
        add({
          type: "aws_route53_resolver_rule_association",
          importId: a.Id!,
          attributes: { id: a.Id!, resolver_rule_id: a.ResolverRuleId!, vpc_id: a.VPCId! },
        });
      }
    }
  }

  // Load balancers, target groups and their listeners: tags come from DescribeTags, 20 ARNs at a time.
  const tagsOf = async (arns: string[]): Promise<Map<string, Record<string, string>>> => {
    const result = new Map<string, Record<string, string>>();
    for (let i = 0; i < arns.length; i += 20) {
      const r = await elb.send(new DescribeTagsCommand({ ResourceArns: arns.slice(i, i + 20) }));
      for (const d of r.TagDescriptions ?? []) result.set(d.ResourceArn!, tagMap(d.Tags));
    }
    return result;
  };
  const loadBalancers = await collect(paginateDescribeLoadBalancers({ client: elb }, {}), (p) => p.LoadBalancers);
  const lbTags = await tagsOf(loadBalancers.map((l) => l.LoadBalancerArn!));
  for (const l of loadBalancers.filter((x) => owned(lbTags.get(x.LoadBalancerArn!) ?? {}, target))) {
    add({
      type: "aws_lb",
      importId: l.LoadBalancerArn!,
      attributes: withName({ id: l.LoadBalancerArn, arn: l.LoadBalancerArn, name: l.LoadBalancerName }, lbTags.get(l.LoadBalancerArn!)!),
    });
    const listeners = await collect(paginateDescribeListeners({ client: elb }, { LoadBalancerArn: l.LoadBalancerArn }), (p) => p.Listeners);
    for (const listener of listeners) {
      add({
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
  const targetGroups = await collect(paginateDescribeTargetGroups({ client: elb }, {}), (p) => p.TargetGroups);
  const tgTags = await tagsOf(targetGroups.map((t) => t.TargetGroupArn!));
  for (const t of targetGroups.filter((x) => owned(tgTags.get(x.TargetGroupArn!) ?? {}, target))) {
    add({
      type: "aws_lb_target_group",
      importId: t.TargetGroupArn!,
      attributes: withName({ id: t.TargetGroupArn, arn: t.TargetGroupArn, name: t.TargetGroupName }, tgTags.get(t.TargetGroupArn!)!),
    });
  }

  // IAM: the Tagging API does not return roles; list them and read each one's tags.
  const roles = await collect(paginateListRoles({ client: iam }, {}), (p) => p.Roles);
  for (const role of roles) {
    const tags = tagMap((await iam.send(new ListRoleTagsCommand({ RoleName: role.RoleName }))).Tags);
    if (!owned(tags, target)) continue;
    add({
      type: "aws_iam_role",
      importId: role.RoleName!,
      aliases: [role.Arn!],
      attributes: withName({ id: role.RoleName, name: role.RoleName, arn: role.Arn }, tags),
    });
    for (const p of (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: role.RoleName }))).AttachedPolicies ?? []) {
      add({
        type: "aws_iam_role_policy_attachment",
        importId: `${role.RoleName}/${p.PolicyArn}`,
        attributes: { role: role.RoleName!, policy_arn: p.PolicyArn! },
      });
    }
    for (const name of (await iam.send(new ListRolePoliciesCommand({ RoleName: role.RoleName }))).PolicyNames ?? []) {
      add({ type: "aws_iam_role_policy", importId: `${role.RoleName}:${name}`, attributes: { role: role.RoleName!, name } });
    }
  }
  const profiles = await collect(paginateListInstanceProfiles({ client: iam }, {}), (p) => p.InstanceProfiles);
  const ownedRoles = new Set(found.filter((f) => f.type === "aws_iam_role").map((f) => f.importId));
  for (const p of profiles) {
    // A profile is the environment's by its own tags, or (where the tags cannot be read, as in
    // the emulator, which lacks ListInstanceProfileTags) by holding one of the environment's roles.
    let mine = (p.Roles ?? []).some((r) => ownedRoles.has(r.RoleName!));
    let tags: Record<string, string> = {};
    try {
      tags = tagMap((await iam.send(new ListInstanceProfileTagsCommand({ InstanceProfileName: p.InstanceProfileName }))).Tags);
      mine = owned(tags, target);
    } catch (e) {
      const unimplemented =
        (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404 ||
        /Deserialization error/.test((e as Error).message);
      if (!unimplemented) throw e;
    }
    if (mine)
      add({
        type: "aws_iam_instance_profile",
        importId: p.InstanceProfileName!,
        aliases: [p.Arn!],
        attributes: withName({ id: p.InstanceProfileName, name: p.InstanceProfileName, arn: p.Arn }, tags),
      });
  }

  // Everything else the Tagging API knows by the owner tags: log groups and alarms, and any kind
  // the calls above missed, which is listed as unknown rather than dropped.
  const ownerTagFilters = [
    { Key: OWNER_TAGS.project, Values: [target.project] },
    { Key: OWNER_TAGS.environment, Values: [target.environment] },
  ];
  const tagged = await collect(paginateGetResources({ client: tagging }, { TagFilters: ownerTagFilters }), (p) => p.ResourceTagMappingList);
  const seen = new Set(found.flatMap((f) => [f.importId, ...(f.aliases ?? []), f.attributes.id, f.attributes.arn].filter(Boolean)));
  // Volumes carry the default tags too, but an attached one is its instance's root or data volume.
  const volumeIds = tagged
    .map((m) => /:volume\/(vol-[0-9a-f]+)$/.exec(m.ResourceARN ?? "")?.[1])
    .filter((v): v is string => v !== undefined);
  for (let i = 0; i < volumeIds.length; i += 200) {
    for (const v of (await ec2.send(new DescribeVolumesCommand({ VolumeIds: volumeIds.slice(i, i + 200) }))).Volumes ?? []) {
      if ((v.Attachments ?? []).length > 0) ignored.add(v.VolumeId!);
    }
  }
  const unknownKinds: UnknownKind[] = [];
  for (const mapping of tagged) {
    const arn = mapping.ResourceARN!;
    const tags = tagMap(mapping.Tags);
    const [, , service, , , ...rest] = arn.split(":");
    const resource = rest.join(":");
    if (service === "logs" && resource.startsWith("log-group:")) {
      const name = resource.slice("log-group:".length).replace(/:\*$/, "");
      add({ type: "aws_cloudwatch_log_group", importId: name, aliases: [arn], attributes: withName({ id: name, name, arn }, tags) });
    } else if (service === "cloudwatch" && resource.startsWith("alarm:")) {
      const name = resource.slice("alarm:".length);
      add({
        type: "aws_cloudwatch_metric_alarm",
        importId: name,
        aliases: [arn],
        attributes: withName({ id: name, alarm_name: name, arn }, tags),
      });
    } else {
      const id = resource.split("/").pop() ?? resource;
      // Network interfaces belong to the instances, endpoints and load balancers that made them.
      if (!seen.has(arn) && !seen.has(id) && !ignored.has(id) && !resource.startsWith("network-interface/")) unknownKinds.push({ arn });
    }
  }
  return { found, unknownKinds };
}
