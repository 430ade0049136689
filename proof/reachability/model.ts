/**
 * The model of the reachability analysis: the parts of a synthesized stack that decide who reaches whom, by Terraform address,
 * and the places its environment names outside it ({@link Surroundings}).
 */
import { addressOf, blocks, referencedAddress, TerraformJson } from "../../lib/tf-json";
import { blocksOf, dataOf, NaclEntryJson, ResourceShapes, Resources, resourcesOf, RouteJson, RuleJson } from "./json-shapes";

/** A security group rule: the ports and protocol it admits, and the block, group or prefix list of its peer. */
export interface Rule {
  readonly address: string;
  readonly description?: string;
  readonly protocol: string;
  readonly fromPort: number;
  readonly toPort: number;
  readonly cidr?: string;
  readonly groupRef?: string;
  readonly prefixList?: string;
}

/** A network ACL rule. */
export interface NaclRule {
  readonly number: number;
  readonly egress: boolean;
  readonly protocol: string;
  readonly action: "allow" | "deny";
  readonly cidr: string;
  readonly fromPort: number;
  readonly toPort: number;
}

/** Where traffic starts or ends: a subnet, the addresses used there, and the security groups. */
export interface Place {
  /** The Name tag, or the Terraform address, of what sits there. */
  readonly name: string;
  readonly vpc: string;
  readonly vpcCidr: string;
  readonly subnet: string;
  /** A fixed address as a /32, or the subnet's block when AWS picks the address. */
  readonly range: string;
  readonly groups: readonly string[];
  /** Who filters there, for a place whose security groups and network ACLs are not in the stack; named, not judged. */
  readonly outside?: string;
}

/** A block the environment names but the stack does not build, as an end of flows named `name`. */
export interface OutsideBlock {
  readonly name: string;
  readonly cidr: string;
}

/** An app VPC without a server of the stack's: its servers, anywhere in `cidr`, are the user's. */
export interface OutsideVpc extends OutsideBlock {
  /** The Name tag of the VPC the stack creates for it, which tells it from a VPC with the same block. @default found by its block */
  readonly vpcName?: string;
  /**
   * An existing VPC: its id, and the route tables the stack routes (their ids, or "all" of them, looked up when planning).
   * @default a VPC the stack creates (found by its block)
   */
  readonly existing?: { readonly vpcId: string; readonly routeTableIds?: readonly string[] | "all" };
}

/** What the environment says about places the stack does not build, which its JSON cannot tell. */
export interface Surroundings {
  /** The services beyond the stack's virtual private gateway. @default none */
  readonly beyondGateway?: readonly OutsideBlock[];
  /** App VPCs without a server of the stack's. @default none */
  readonly appVpcs?: readonly OutsideVpc[];
}

/**
 * A virtual private gateway: the VPC it is attached to, and the prefixes the provider's network learns through it.
 * Traffic from the provider's side can reach only those prefixes.
 */
export interface VpnGatewayInfo {
  readonly address: string;
  readonly name: string;
  /** The VPC it is attached to; undefined when it is attached to none. */
  readonly vpc?: string;
  /** The prefixes, and where they come from (an association's allowed prefixes, or the VPC's block). */
  readonly advertised: { readonly prefixes: readonly string[]; readonly by: string };
  /** The key of the provider's network beyond it, the `vpc` of the places there. */
  readonly beyond: string;
}

/** A server as the analysis sees it: an instance (one place), or an Auto Scaling group (a place per subnet); reports show the first. */
export interface Endpoint extends Place {
  readonly address: string;
  /** Every place the server can run in. */
  readonly placements: readonly Place[];
}

/** A Network Load Balancer in front of an Auto Scaling group: its nodes, groups and listeners. */
export interface Frontend {
  readonly address: string;
  /** A node per subnet mapping, at its fixed address (or the subnet's block). */
  readonly nodes: readonly Place[];
  /** Listener port -> the target group's address and port, and whether it sends PROXY protocol v2 headers. */
  readonly listeners: ReadonlyMap<
    number,
    { readonly targetGroup: string; readonly targetPort: number; readonly listener: string; readonly proxyProtocol?: boolean }
  >;
  /**
   * Its security groups' inbound rules judge what arrives through PrivateLink (the setting's default, "on"), seeing the client's address.
   * @default true
   */
  readonly privateLinkInbound?: boolean;
}

/** A VPC endpoint service of the stack: the load balancers that take its endpoints' connections. */
export interface EndpointServiceInfo {
  readonly address: string;
  readonly name: string;
  readonly loadBalancers: readonly string[];
  /** An endpoint's connection waits until the service's owner accepts it. */
  readonly acceptanceRequired: boolean;
}

/**
 * An interface endpoint for an endpoint service of the stack: an address in each of its subnets (AWS picks it, so the place is the
 * subnet's block, as for a NAT gateway without a fixed address), with its security groups.
 */
export interface InterfaceEndpointInfo {
  readonly address: string;
  readonly name: string;
  readonly vpc: string;
  /** The endpoint service it connects to. */
  readonly service: string;
  readonly placements: readonly Place[];
  /** What accepts its connection where the service requires acceptance (undefined: nothing does, so it carries nothing). */
  readonly acceptedBy?: string;
}

/** A Transit Gateway's VPC attachment: the gateway, the VPC, the subnets it sits in. */
export interface TgwAttachment {
  readonly address: string;
  readonly gateway: string;
  readonly vpc: string;
  readonly subnets: readonly string[];
}

/** A route of a Transit Gateway route table: static (to an attachment, or a blackhole) or propagated. */
export interface TgwRoute {
  readonly destination: string;
  /** The attachment it sends to; undefined for a blackhole. */
  readonly attachment?: string;
  readonly address: string;
}

/** A NAT gateway: where it sits and the address it gives the connections it re-originates. */
export interface NatGatewayInfo {
  readonly address: string;
  readonly name: string;
  readonly subnet: string;
  /** Its fixed address as a /32, or its subnet's block when AWS picks one. */
  readonly range: string;
  readonly connectivity: "public" | "private";
}

/** A route of a route table: the block it sends, where to, and the resource that makes it. */
export interface Route {
  readonly destination: string;
  readonly target: string;
  readonly address: string;
}

/** A gateway endpoint (S3): the route tables that send its service's prefix list to it, and the prefix list rules name. */
export interface GatewayEndpointInfo {
  readonly address: string;
  readonly name: string;
  readonly vpc: string;
  readonly service: string;
  readonly routeTables: readonly string[];
  /** The reference a security group rule's prefix_list_id holds for it. */
  readonly prefixList: string;
}

/** The parts of a stack the analysis uses, read from its synthesized JSON. */
export class Model {
  readonly vpcs = new Map<string, string>(); // vpc key -> cidr
  readonly subnets = new Map<string, { vpc: string; cidr: string; zone?: string }>();
  readonly routeTableOfSubnet = new Map<string, string>();
  readonly routes = new Map<string, Route[]>(); // route table -> routes
  readonly peerings = new Map<string, [string, string]>();
  readonly groups = new Map<string, { vpc: string; ingress: Rule[]; egress: Rule[] }>();
  readonly naclOfSubnet = new Map<string, { address: string; rules: NaclRule[] }>();
  readonly endpoints: Endpoint[] = [];
  /** The load balancer in front of an endpoint (by the endpoint's address), where one is. */
  readonly frontends = new Map<string, Frontend>();
  readonly tgwAttachments = new Map<string, TgwAttachment>();
  /** Attachment -> the Transit Gateway route table it is associated with. */
  readonly tgwTableOf = new Map<string, string>();
  /** Transit Gateway route table -> its static routes and the routes its propagations bring. */
  readonly tgwRoutes = new Map<string, TgwRoute[]>();
  readonly natGateways = new Map<string, NatGatewayInfo>();
  readonly vpnGateways = new Map<string, VpnGatewayInfo>();
  /** Route tables looked up when planning (data.aws_route_tables, an existing VPC's "all") -> their VPC. */
  readonly lookedUpTablesOf = new Map<string, string>();
  /** Gateway endpoints (the package repositories in S3), by address. */
  readonly gatewayEndpoints = new Map<string, GatewayEndpointInfo>();
  /** Route 53 Resolver endpoints that take queries from the VPCs (direction INBOUND), by address. */
  readonly inboundResolvers = new Set<string>();
  /** The Name tags of the VPCs the stack creates, by VPC key. */
  readonly vpcNames = new Map<string, string>();
  /** The ids of the existing VPCs the stack reads (data.aws_vpc), by VPC key. */
  readonly existingVpcIds = new Map<string, string>();
  /** VPC endpoint services of the stack, by address. */
  readonly endpointServices = new Map<string, EndpointServiceInfo>();
  /** Interface endpoints for the stack's endpoint services, by address. */
  readonly interfaceEndpoints = new Map<string, InterfaceEndpointInfo>();
  /** What a degraded model lost with an availability zone: a resource's address -> the zone. */
  readonly lost = new Map<string, string>();

  /** A VPC's block, or its key when the stack does not hold it (an existing VPC given by id). */
  cidrOf(vpc: string): string {
    return this.vpcs.get(vpc) ?? vpc;
  }

  /** The virtual private gateway whose provider's network `vpc` is, if it is one. */
  gatewayBeyond(vpc: string): VpnGatewayInfo | undefined {
    return [...this.vpnGateways.values()].find((g) => g.beyond === vpc);
  }

  /** Reads `stack` resource kind by resource kind; throws for a stack with shapes it does not read, whose verdicts could be wrong. */
  constructor(stack: TerraformJson, surroundings: Surroundings = {}) {
    const resources: Resources = stack.resource ?? {};
    refuseUnreadShapes(resources);
    const existingVpcs = this.readVpcsAndSubnets(stack, resources, surroundings.appVpcs ?? []);
    this.readRoutes(resources, surroundings.beyondGateway ?? []);
    for (const [n, r] of resourcesOf(resources, "aws_vpc_peering_connection"))
      this.peerings.set(addressOf("aws_vpc_peering_connection", n), [keyOf(r.vpc_id), keyOf(r.peer_vpc_id)]);
    this.readTransitGateways(resources);
    this.readNatGateways(resources);
    this.readSecurityGroups(resources);
    this.readSecurityGroupRules(resources);
    this.readNetworkAcls(resources);
    this.readInstances(resources);
    this.readAutoScalingGroups(resources);
    this.readResolverEndpoints(resources);
    this.readGatewayEndpoints(resources);
    this.readPrivateLink(resources);
    this.addOutsidePlaces(surroundings, existingVpcs);
  }

  /** VPCs (created, and existing ones read by data.aws_vpc), route tables looked up in them, subnets; returns the existing VPCs. */
  private readVpcsAndSubnets(stack: TerraformJson, resources: Resources, apps: readonly OutsideVpc[]): Map<string, OutsideVpc> {
    for (const [n, r] of resourcesOf(resources, "aws_vpc")) {
      this.vpcs.set(addressOf("aws_vpc", n), r.cidr_block);
      if (r.tags?.Name) this.vpcNames.set(addressOf("aws_vpc", n), r.tags.Name);
    }
    const existingVpcs = existingVpcKeys(stack, apps);
    for (const [key, app] of existingVpcs) {
      this.vpcs.set(key, app.cidr);
      this.existingVpcIds.set(key, app.existing!.vpcId);
    }
    for (const [n, r] of dataOf(stack, "aws_route_tables")) this.lookedUpTablesOf.set(`data.aws_route_tables.${n}`, keyOf(r.vpc_id));
    for (const [n, r] of resourcesOf(resources, "aws_subnet"))
      this.subnets.set(addressOf("aws_subnet", n), { vpc: keyOf(r.vpc_id), cidr: r.cidr_block, zone: r.availability_zone });
    return existingVpcs;
  }

  /** Route tables, their subnets, inline and separate routes, then the routes virtual private gateways propagate. */
  private readRoutes(resources: Resources, beyond: readonly OutsideBlock[]): void {
    for (const [, r] of resourcesOf(resources, "aws_route_table_association")) {
      const subnet = referencedAddress(r.subnet_id);
      const table = referencedAddress(r.route_table_id);
      if (subnet && table) this.routeTableOfSubnet.set(subnet, table);
    }
    // A cross-account peering's routes on the accepter's side name its accepter, which stands for the peering.
    const accepted = new Map<string, string>();
    for (const [n, r] of resourcesOf(resources, "aws_vpc_peering_connection_accepter")) {
      const peering = referencedAddress(r.vpc_peering_connection_id);
      if (peering) accepted.set(addressOf("aws_vpc_peering_connection_accepter", n), peering);
    }
    const addRoute: AddRoute = (table, destination, target, address) => {
      if (!this.routes.has(table)) this.routes.set(table, []);
      this.routes.get(table)!.push({ destination, target: accepted.get(target) ?? target, address });
    };
    for (const [n, r] of resourcesOf(resources, "aws_route_table")) {
      this.routes.set(addressOf("aws_route_table", n), []);
      for (const inline of blocksOf<RouteJson>(r.route)) {
        if (inline.cidr_block)
          addRoute(addressOf("aws_route_table", n), inline.cidr_block, routeTarget(inline), `aws_route_table.${n} (inline route)`);
      }
    }
    for (const [n, r] of resourcesOf(resources, "aws_route")) {
      const table = routeTableKey(r);
      if (table && r.destination_cidr_block) addRoute(table, r.destination_cidr_block, routeTarget(r), `aws_route.${n}`);
    }
    this.readVpnGateways(resources, beyond, addRoute);
  }

  /** NAT gateways in a subnet of the stack, with the address they give the connections they re-originate. */
  private readNatGateways(resources: Resources): void {
    for (const [n, r] of resourcesOf(resources, "aws_nat_gateway")) {
      const subnet = referencedAddress(r.subnet_id);
      const info = subnet ? this.subnets.get(subnet) : undefined;
      if (!subnet || !info) continue;
      const fixed = typeof r.private_ip === "string" && !r.private_ip.includes("${");
      this.natGateways.set(addressOf("aws_nat_gateway", n), {
        address: addressOf("aws_nat_gateway", n),
        name: r.tags?.Name ?? addressOf("aws_nat_gateway", n),
        subnet,
        range: fixed ? `${r.private_ip}/32` : info.cidr,
        connectivity: r.connectivity_type === "private" ? "private" : "public",
      });
    }
  }

  /** Security groups with their inline rules, one rule per CIDR block or group each inline rule names. */
  private readSecurityGroups(resources: Resources): void {
    for (const [n, r] of resourcesOf(resources, "aws_security_group")) {
      const group = { vpc: keyOf(r.vpc_id), ingress: [] as Rule[], egress: [] as Rule[] };
      for (const direction of ["ingress", "egress"] as const) {
        const address = `aws_security_group.${n} (inline ${direction})`;
        for (const inline of blocksOf<RuleJson>(r[direction])) {
          for (const c of inline.cidr_blocks ?? []) group[direction].push(ruleOf(address, inline, inline.protocol, c));
          for (const g of inline.security_groups ?? [])
            group[direction].push(ruleOf(address, inline, inline.protocol, undefined, referencedAddress(g)));
        }
      }
      this.groups.set(addressOf("aws_security_group", n), group);
    }
  }

  /** The separate rules (aws_vpc_security_group_*_rule, then aws_security_group_rule), added to their groups. */
  private readSecurityGroupRules(resources: Resources): void {
    for (const [type, direction] of [
      ["aws_vpc_security_group_ingress_rule", "ingress"],
      ["aws_vpc_security_group_egress_rule", "egress"],
    ] as const) {
      for (const [n, r] of resourcesOf(resources, type)) {
        const group = referencedAddress(r.referenced_security_group_id);
        this.attachRule(
          referencedAddress(r.security_group_id),
          direction,
          ruleOf(`${type}.${n}`, r, r.ip_protocol, r.cidr_ipv4, group, r.prefix_list_id),
        );
      }
    }
    for (const [n, r] of resourcesOf(resources, "aws_security_group_rule")) {
      const direction = r.type === "egress" ? "egress" : "ingress";
      const address = `aws_security_group_rule.${n}`;
      for (const c of r.cidr_blocks ?? [])
        this.attachRule(referencedAddress(r.security_group_id), direction, ruleOf(address, r, r.protocol, c));
      if (r.source_security_group_id)
        this.attachRule(
          referencedAddress(r.security_group_id),
          direction,
          ruleOf(address, r, r.protocol, undefined, referencedAddress(r.source_security_group_id)),
        );
    }
  }

  /** Adds `rule` to the group `groupRef` names, when the stack has that group. */
  private attachRule(groupRef: string | undefined, direction: "ingress" | "egress", rule: Rule): void {
    const group = groupRef ? this.groups.get(groupRef) : undefined;
    if (group) group[direction].push(rule);
  }

  /** Network ACLs with their inline entries and subnets, then their separate rules (aws_network_acl_rule). */
  private readNetworkAcls(resources: Resources): void {
    for (const [n, r] of resourcesOf(resources, "aws_network_acl")) {
      const rules: NaclRule[] = [];
      for (const egress of [false, true]) {
        for (const e of blocksOf<NaclEntryJson>(r[egress ? "egress" : "ingress"])) {
          rules.push({
            number: e.rule_no,
            egress,
            protocol: String(e.protocol),
            action: e.action,
            cidr: e.cidr_block,
            fromPort: e.from_port,
            toPort: e.to_port,
          });
        }
      }
      const acl = { address: `aws_network_acl.${n}`, rules };
      for (const s of blocks(r.subnet_ids)) {
        const subnet = referencedAddress(s);
        if (subnet) this.naclOfSubnet.set(subnet, acl);
      }
    }
    for (const [, r] of resourcesOf(resources, "aws_network_acl_rule")) {
      const aclKey = referencedAddress(r.network_acl_id);
      for (const acl of new Set(this.naclOfSubnet.values())) {
        if (acl.address === aclKey) {
          acl.rules.push({
            number: r.rule_number,
            egress: r.egress === true,
            protocol: String(r.protocol),
            action: r.rule_action,
            cidr: r.cidr_block,
            fromPort: r.from_port,
            toPort: r.to_port,
          });
        }
      }
    }
  }

  /** A place in a subnet of the stack, at a fixed address or anywhere in the subnet; undefined for a subnet the stack lacks. */
  private placeOf(name: string, subnet: string | undefined, ip: unknown, groups: unknown): Place | undefined {
    const info = subnet ? this.subnets.get(subnet) : undefined;
    if (!subnet || !info) return undefined;
    const fixed = typeof ip === "string" && !ip.includes("${");
    return {
      name,
      vpc: info.vpc,
      vpcCidr: this.cidrOf(info.vpc),
      subnet,
      range: fixed ? `${ip}/32` : info.cidr,
      groups: blocks(groups)
        .map(referencedAddress)
        .filter((g): g is string => g !== undefined),
    };
  }

  /** Instances, each an endpoint with one place. */
  private readInstances(resources: Resources): void {
    for (const [n, r] of resourcesOf(resources, "aws_instance")) {
      const at = this.placeOf(r.tags?.Name ?? `aws_instance.${n}`, referencedAddress(r.subnet_id), r.private_ip, r.vpc_security_group_ids);
      if (at) this.endpoints.push({ ...at, address: `aws_instance.${n}`, placements: [at] });
    }
  }

  /** Auto Scaling groups: their instances take the launch template's groups and Name tag, in any of the group's subnets. */
  private readAutoScalingGroups(resources: Resources): void {
    const templates: Record<string, ResourceShapes["aws_launch_template"]> = resources.aws_launch_template ?? {};
    for (const [n, r] of resourcesOf(resources, "aws_autoscaling_group")) {
      const template = templates[keyOf(r.launch_template?.id).split(".")[1]];
      if (!template) continue;
      const tagged = blocksOf<TagSpecificationJson>(template.tag_specifications).find((t) => t.resource_type === "instance")?.tags?.Name;
      const name = tagged ?? blocksOf<AsgTagJson>(r.tag).find((t) => t.key === "Name")?.value ?? `aws_autoscaling_group.${n}`;
      const placements = (r.vpc_zone_identifier ?? [])
        .map((s) => this.placeOf(name, referencedAddress(s), undefined, template.vpc_security_group_ids))
        .filter((p): p is Place => p !== undefined);
      if (placements.length === 0) continue;
      const address = `aws_autoscaling_group.${n}`;
      this.endpoints.push({ ...placements[0], address, placements });
      this.readLoadBalancers(resources, address, blocks(r.target_group_arns).map(referencedAddress));
    }
  }

  /** The Network Load Balancer in front of the Auto Scaling group `address`: one that forwards to one of its `targetGroups`. */
  private readLoadBalancers(resources: Resources, address: string, targetGroups: readonly (string | undefined)[]): void {
    for (const [lbName, lb] of resourcesOf(resources, "aws_lb")) {
      const forwarded = forwardingListeners(resources, `aws_lb.${lbName}`, targetGroups);
      if (forwarded.size === 0) continue;
      const nodes = blocksOf<SubnetMappingJson>(lb.subnet_mapping)
        .map((m) => this.placeOf(`aws_lb.${lbName}`, referencedAddress(m.subnet_id), m.private_ipv4_address, lb.security_groups))
        .filter((p): p is Place => p !== undefined);
      const privateLinkInbound = String(lb.enforce_security_group_inbound_rules_on_private_link_traffic ?? "on") !== "off";
      this.frontends.set(address, {
        address: `aws_lb.${lbName}`,
        nodes,
        listeners: forwarded,
        ...(privateLinkInbound ? {} : { privateLinkInbound }),
      });
    }
  }

  /** Route 53 Resolver endpoints: an address in each of their subnets, with their security groups. */
  private readResolverEndpoints(resources: Resources): void {
    for (const [n, r] of resourcesOf(resources, "aws_route53_resolver_endpoint")) {
      const address = `aws_route53_resolver_endpoint.${n}`;
      const placements = blocksOf<ResolverAddressJson>(r.ip_address)
        .map((ip) => this.placeOf(r.tags?.Name ?? address, referencedAddress(ip.subnet_id), ip.ip, r.security_group_ids))
        .filter((p): p is Place => p !== undefined);
      if (placements.length > 0) this.endpoints.push({ ...placements[0], address, placements });
      if (String(r.direction).toUpperCase() === "INBOUND") this.inboundResolvers.add(address);
    }
  }

  /** Gateway endpoints: the route tables they join and the prefix list their service's rules name. */
  private readGatewayEndpoints(resources: Resources): void {
    for (const [n, r] of resourcesOf(resources, "aws_vpc_endpoint")) {
      if (r.vpc_endpoint_type !== "Gateway") continue;
      const address = addressOf("aws_vpc_endpoint", n);
      this.gatewayEndpoints.set(address, {
        address,
        name: r.tags?.Name ?? address,
        vpc: keyOf(r.vpc_id),
        service: String(r.service_name),
        routeTables: blocks(r.route_table_ids)
          .map(referencedAddress)
          .filter((t): t is string => t !== undefined),
        prefixList: `\${${address}.prefix_list_id}`,
      });
    }
  }

  /**
   * PrivateLink: the endpoint services and their load balancers, then the interface endpoints for them, a place per subnet.
   * Endpoints for services outside the stack (AWS's own, such as SSM) carry nothing between the stack's places and are left out.
   */
  private readPrivateLink(resources: Resources): void {
    for (const [n, r] of resourcesOf(resources, "aws_vpc_endpoint_service")) {
      const address = addressOf("aws_vpc_endpoint_service", n);
      const loadBalancers = blocks(r.network_load_balancer_arns)
        .map(referencedAddress)
        .filter((a): a is string => a !== undefined);
      this.endpointServices.set(address, {
        address,
        name: r.tags?.Name ?? address,
        loadBalancers,
        acceptanceRequired: r.acceptance_required === true,
      });
    }
    const accepters = new Map(
      resourcesOf(resources, "aws_vpc_endpoint_connection_accepter").map(([n, r]) => [
        referencedAddress(r.vpc_endpoint_id),
        addressOf("aws_vpc_endpoint_connection_accepter", n),
      ]),
    );
    for (const [n, r] of resourcesOf(resources, "aws_vpc_endpoint")) {
      const service = referencedAddress(r.service_name);
      if (r.vpc_endpoint_type !== "Interface" || !service || !this.endpointServices.has(service)) continue;
      const address = addressOf("aws_vpc_endpoint", n);
      const name = r.tags?.Name ?? address;
      const vpc = keyOf(r.vpc_id);
      if (!this.vpcs.has(vpc))
        throw new Error(
          `${address} is an endpoint of ${service} in ${vpc}, a VPC the stack neither creates nor reads; the analysis cannot place it, so it gives no verdict`,
        );
      const placements = blocks(r.subnet_ids).map((s) => {
        const subnet = referencedAddress(s) ?? String(s);
        // A subnet the stack does not hold (an existing VPC's, by id) stands in with the VPC's block, in no known zone.
        if (!this.subnets.has(subnet)) this.subnets.set(subnet, { vpc, cidr: this.cidrOf(vpc) });
        return this.placeOf(name, subnet, undefined, r.security_group_ids)!;
      });
      const acceptedBy = !this.endpointServices.get(service)!.acceptanceRequired
        ? `${service} (acceptance not required)`
        : r.auto_accept === true
          ? `${address} (auto_accept, in the service's account)`
          : accepters.get(address);
      this.interfaceEndpoints.set(address, { address, name, vpc, service, placements, ...(acceptedBy ? { acceptedBy } : {}) });
    }
    refuseAclsOnPrivateLink(this);
  }

  /**
   * Virtual private gateways: the VPC each is attached to, what the provider's network learns through it, and the routes it propagates.
   * Propagated routes come after the static ones, so that a static route of the same prefix wins, as in AWS.
   */
  private readVpnGateways(resources: Resources, beyond: readonly OutsideBlock[], addRoute: AddRoute): void {
    const attachedTo = new Map<string, string>();
    for (const [, r] of resourcesOf(resources, "aws_vpn_gateway_attachment")) {
      const gateway = referencedAddress(r.vpn_gateway_id);
      if (gateway && r.vpc_id) attachedTo.set(gateway, keyOf(r.vpc_id));
    }
    const associations = resourcesOf(resources, "aws_dx_gateway_association");
    for (const [n, r] of resourcesOf(resources, "aws_vpn_gateway")) {
      const address = addressOf("aws_vpn_gateway", n);
      const vpc = r.vpc_id ? keyOf(r.vpc_id) : attachedTo.get(address);
      const association = associations.find(([, a]) => referencedAddress(a.associated_gateway_id) === address);
      const allowed = association ? blocks(association[1].allowed_prefixes).map(String) : [];
      this.vpnGateways.set(address, {
        address,
        name: r.tags?.Name ?? address,
        vpc,
        advertised:
          association && allowed.length > 0
            ? { prefixes: allowed, by: `aws_dx_gateway_association.${association[0]} (allowed_prefixes)` }
            : { prefixes: vpc && this.vpcs.has(vpc) ? [this.vpcs.get(vpc)!] : [], by: "the block of the VPC it is attached to" },
        beyond: `${address} (the provider's network)`,
      });
    }
    for (const { table, gateway, address } of vpnPropagations(resources)) {
      if (!this.vpnGateways.has(gateway)) continue;
      for (const block of beyond)
        addRoute(table, block.cidr, gateway, `${address} (propagated, assuming the provider advertises ${block.cidr} over BGP)`);
    }
  }

  /** The places the environment names but the stack does not build: services beyond its gateway, app VPCs of the user's servers. */
  private addOutsidePlaces(surroundings: Surroundings, existingVpcs: ReadonlyMap<string, OutsideVpc>): void {
    this.addServicesBeyondGateway(surroundings.beyondGateway ?? []);
    for (const app of surroundings.appVpcs ?? []) this.addOutsideAppVpc(app, existingVpcs);
  }

  /** An endpoint per service block beyond the stack's virtual private gateway, of which there must be exactly one. */
  private addServicesBeyondGateway(beyond: readonly OutsideBlock[]): void {
    if (beyond.length === 0) return;
    const gateways = [...this.vpnGateways.values()];
    if (gateways.length !== 1) {
      throw new Error(
        `the environment puts ${beyond.map((b) => b.name).join(", ")} beyond a virtual private gateway, and the stack has ${gateways.length === 0 ? "none" : `${gateways.length} (${gateways.map((g) => g.address).join(", ")})`}; the analysis needs exactly one`,
      );
    }
    const [gateway] = gateways;
    for (const block of beyond) {
      const at: Place = {
        name: block.name,
        vpc: gateway.beyond,
        vpcCidr: `the provider's network beyond ${gateway.name}`,
        subnet: gateway.beyond,
        range: block.cidr,
        groups: [],
        outside: "the provider's own filtering, outside this stack",
      };
      this.endpoints.push({ ...at, address: `${gateway.beyond}: ${block.cidr}`, placements: [at] });
    }
  }

  /** An app VPC whose servers are the user's: a place per subnet of a created VPC, or per stand-in subnet of an existing one. */
  private addOutsideAppVpc(app: OutsideVpc, existingVpcs: ReadonlyMap<string, OutsideVpc>): void {
    const existing = [...existingVpcs].find(([, a]) => a === app)?.[0];
    const created = [...this.vpcs].filter(([key]) => key.startsWith("aws_vpc."));
    const named = created.find(([key]) => app.vpcName !== undefined && this.vpcNames.get(key) === app.vpcName);
    // Two VPCs may share a block: the Name tag tells them apart; without one that matches, the block finds it.
    const vpc = existing ?? (named ?? created.find(([, cidr]) => cidr === app.cidr))?.[0];
    if (!vpc) return;
    const subnets = existing ? this.standInSubnets(existing, app) : [...this.subnets].filter(([, s]) => s.vpc === vpc).map(([key]) => key);
    const placements: Place[] = subnets.map((subnet) => ({
      name: app.name,
      vpc,
      vpcCidr: this.cidrOf(vpc),
      subnet,
      range: this.subnets.get(subnet)!.cidr,
      groups: [],
      outside: "the servers' own security groups and network ACLs, outside this stack",
    }));
    if (placements.length > 0) this.endpoints.push({ ...placements[0], address: vpc, placements });
  }

  /**
   * Stand-in subnets of an existing VPC, one per route table the stack routes there (listed, or looked up for "all").
   * Each has the VPC's block, since its real subnets are not in the stack.
   */
  private standInSubnets(vpc: string, app: OutsideVpc): string[] {
    const listed = app.existing!.routeTableIds ?? [];
    const tables = listed === "all" ? [...this.lookedUpTablesOf].filter(([, of]) => of === vpc).map(([table]) => table) : listed;
    const subnets = (tables.length > 0 ? tables : [undefined]).map((table) => {
      const subnet = `${app.existing!.vpcId}'s subnets${table ? ` that use ${table}` : ""}`;
      this.subnets.set(subnet, { vpc, cidr: app.cidr });
      if (table) this.routeTableOfSubnet.set(subnet, table);
      return subnet;
    });
    return subnets;
  }

  /** Transit Gateways: VPC attachments, the table each is associated with, and each table's static and propagated routes. */
  private readTransitGateways(resources: Resources): void {
    refuseDefaultTgwTables(resources);
    const table = (key: string) => {
      if (!this.tgwRoutes.has(key)) this.tgwRoutes.set(key, []);
      return this.tgwRoutes.get(key)!;
    };
    for (const [n] of resourcesOf(resources, "aws_ec2_transit_gateway_route_table"))
      table(addressOf("aws_ec2_transit_gateway_route_table", n));
    for (const [n, r] of resourcesOf(resources, "aws_ec2_transit_gateway_vpc_attachment")) {
      const address = addressOf("aws_ec2_transit_gateway_vpc_attachment", n);
      this.tgwAttachments.set(address, {
        address,
        gateway: keyOf(r.transit_gateway_id),
        vpc: keyOf(r.vpc_id),
        subnets: blocks(r.subnet_ids)
          .map(referencedAddress)
          .filter((x: string | undefined): x is string => x !== undefined),
      });
    }
    for (const [, r] of resourcesOf(resources, "aws_ec2_transit_gateway_route_table_association")) {
      const attachment = referencedAddress(r.transit_gateway_attachment_id);
      const key = referencedAddress(r.transit_gateway_route_table_id);
      if (attachment && key) this.tgwTableOf.set(attachment, key);
    }
    for (const [n, r] of resourcesOf(resources, "aws_ec2_transit_gateway_route_table_propagation")) {
      // A propagation adds the attached VPC's block to the table.
      const attachment = this.tgwAttachments.get(keyOf(r.transit_gateway_attachment_id));
      const key = referencedAddress(r.transit_gateway_route_table_id);
      if (!attachment || !key) continue;
      const cidr = this.vpcs.get(attachment.vpc);
      if (cidr)
        table(key).push({
          destination: cidr,
          attachment: attachment.address,
          address: `aws_ec2_transit_gateway_route_table_propagation.${n} (propagated)`,
        });
    }
    for (const [n, r] of resourcesOf(resources, "aws_ec2_transit_gateway_route")) {
      const key = referencedAddress(r.transit_gateway_route_table_id);
      if (!key || !r.destination_cidr_block) continue;
      table(key).push({
        destination: r.destination_cidr_block,
        attachment: r.blackhole === true ? undefined : referencedAddress(r.transit_gateway_attachment_id),
        address: `aws_ec2_transit_gateway_route.${n}${r.blackhole === true ? " (blackhole)" : ""}`,
      });
    }
  }
}

/** Adds a route to a route table of the model. */
type AddRoute = (table: string, destination: string, target: string, address: string) => void;

/** A launch template's tag specification. */
interface TagSpecificationJson {
  readonly resource_type?: string;
  readonly tags?: { readonly Name?: string };
}

/** An Auto Scaling group's tag block. */
interface AsgTagJson {
  readonly key?: string;
  readonly value?: string;
}

/** A load balancer's subnet mapping. */
interface SubnetMappingJson {
  readonly subnet_id?: unknown;
  readonly private_ipv4_address?: unknown;
}

/** An address of a Route 53 Resolver endpoint. */
interface ResolverAddressJson {
  readonly subnet_id?: unknown;
  readonly ip?: unknown;
}

/** A listener's default action. */
interface ListenerActionJson {
  readonly type?: string;
  readonly target_group_arn?: unknown;
}

/** A security group rule of the model, from any of Terraform's rule shapes. */
function ruleOf(address: string, r: RuleJson, protocol: unknown, cidr?: string, group?: string, prefixList?: string): Rule {
  return {
    address,
    description: r.description,
    protocol: String(protocol),
    fromPort: Number(r.from_port ?? 0),
    toPort: Number(r.to_port ?? 65535),
    cidr,
    groupRef: group,
    prefixList,
  };
}

/** The listeners of the load balancer `lb` that forward to one of `targetGroups`, by listener port. */
function forwardingListeners(
  resources: Resources,
  lb: string,
  targetGroups: readonly (string | undefined)[],
): Map<number, { targetGroup: string; targetPort: number; listener: string; proxyProtocol?: boolean }> {
  const forwarded = new Map<number, { targetGroup: string; targetPort: number; listener: string; proxyProtocol?: boolean }>();
  const targetGroupsOfStack: Record<string, ResourceShapes["aws_lb_target_group"]> | undefined = resources.aws_lb_target_group;
  for (const [listenerName, listener] of resourcesOf(resources, "aws_lb_listener")) {
    if (referencedAddress(listener.load_balancer_arn) !== lb) continue;
    for (const action of blocksOf<ListenerActionJson>(listener.default_action)) {
      const tg = referencedAddress(action.target_group_arn);
      if (action.type === "forward" && tg && targetGroups.includes(tg)) {
        const group = targetGroupsOfStack?.[tg.split(".")[1]];
        forwarded.set(Number(listener.port), {
          targetGroup: tg,
          targetPort: Number(group?.port),
          listener: `aws_lb_listener.${listenerName}`,
          ...(group?.proxy_protocol_v2 === true ? { proxyProtocol: true } : {}),
        });
      }
    }
  }
  return forwarded;
}

/** Route tables that learn routes from a virtual private gateway: by aws_vpn_gateway_route_propagation, then by propagating_vgws. */
function vpnPropagations(resources: Resources): { table: string; gateway: string; address: string }[] {
  const propagations: { table: string; gateway: string; address: string }[] = [];
  for (const [n, r] of resourcesOf(resources, "aws_vpn_gateway_route_propagation")) {
    const table = referencedAddress(r.route_table_id);
    const gateway = referencedAddress(r.vpn_gateway_id);
    if (table && gateway) propagations.push({ table, gateway, address: `aws_vpn_gateway_route_propagation.${n}` });
  }
  for (const [n, r] of resourcesOf(resources, "aws_route_table")) {
    for (const gateway of blocks(r.propagating_vgws).map(referencedAddress)) {
      if (gateway)
        propagations.push({ table: addressOf("aws_route_table", n), gateway, address: `aws_route_table.${n} (propagating_vgws)` });
    }
  }
  return propagations;
}

/**
 * Refuses a Transit Gateway or attachment whose default route table association or propagation is on.
 * Attachments would then join a table that is not in the stack.
 */
function refuseDefaultTgwTables(resources: Resources): void {
  const defaultsOn = [
    ...resourcesOf(resources, "aws_ec2_transit_gateway")
      .filter(([, r]) => r.default_route_table_association !== "disable" || r.default_route_table_propagation !== "disable")
      .map(([n]) => `aws_ec2_transit_gateway.${n}`),
    ...resourcesOf(resources, "aws_ec2_transit_gateway_vpc_attachment")
      .filter(
        ([, r]) =>
          r.transit_gateway_default_route_table_association !== false || r.transit_gateway_default_route_table_propagation !== false,
      )
      .map(([n]) => `aws_ec2_transit_gateway_vpc_attachment.${n}`),
  ];
  if (defaultsOn.length > 0) {
    throw new Error(
      `the reachability analysis does not read a Transit Gateway's default route table, which ${defaultsOn.join(", ")} use(s) (its association or propagation is not off); its verdicts could be wrong, so it gives none`,
    );
  }
}

/** Where a route (an aws_route or an inline route) sends its block: a peering, gateway, NAT gateway or Transit Gateway, or "other". */
function routeTarget(r: RouteJson): string {
  return (
    referencedAddress(r.vpc_peering_connection_id) ??
    referencedAddress(r.gateway_id) ??
    referencedAddress(r.nat_gateway_id) ??
    referencedAddress(r.transit_gateway_id) ??
    "other"
  );
}

/** The route table a route is in: a table of the stack, a table of an existing VPC by id (rtb-...), or those a data source looks up. */
function routeTableKey(r: RouteJson): string | undefined {
  const table = r.route_table_id;
  if (typeof table !== "string") return undefined;
  const each = typeof r.for_each === "string" ? /^\$\{toset\((data\.aws_route_tables\.[A-Za-z0-9_-]+)\.ids\)\}$/.exec(r.for_each) : null;
  if (each && table === "${each.value}") return each[1];
  return referencedAddress(table) ?? (/^rtb-[0-9a-f]+$/.test(table) ? table : undefined);
}

/**
 * Refuses network ACLs on the subnets of a load balancer behind an endpoint service: which addresses they see of PrivateLink
 * traffic is not documented, so a verdict through them could be wrong.
 */
function refuseAclsOnPrivateLink(model: Model): void {
  const served = new Set([...model.endpointServices.values()].flatMap((s) => s.loadBalancers));
  const acls = [...model.frontends.values()]
    .filter((f) => served.has(f.address))
    .flatMap((f) =>
      f.nodes.flatMap((n) =>
        model.naclOfSubnet.has(n.subnet) ? [`${model.naclOfSubnet.get(n.subnet)!.address} (on ${n.subnet} of ${f.address})`] : [],
      ),
    );
  if (acls.length > 0)
    throw new Error(
      `the reachability analysis does not read network ACLs on the subnets of a load balancer behind an endpoint service, such as ${[...new Set(acls)].join(", ")}: what they see of PrivateLink traffic is not documented, so it gives no verdict`,
    );
}

/** The data sources (data.aws_vpc) by which the stack reads the existing VPCs of `apps`, matched by id. */
function existingVpcKeys(stack: TerraformJson, apps: readonly OutsideVpc[]): Map<string, OutsideVpc> {
  const keys = new Map<string, OutsideVpc>();
  for (const [n, r] of dataOf(stack, "aws_vpc")) {
    const app = apps.find((a) => a.existing?.vpcId === r.id);
    if (app) keys.set(`data.aws_vpc.${n}`, app);
  }
  return keys;
}

/** The address a setting refers to, or the setting itself as text (an id given literally). */
function keyOf(value: unknown): string {
  return referencedAddress(value) ?? String(value);
}

/**
 * Resource types that change who reaches whom but that the analysis does not read, so a stack with any of them is refused.
 * A verdict that ignored them could say "allowed" where AWS says no, or the other way round.
 */
export const UNREAD_TYPES: Readonly<Record<string, string>> = {
  aws_network_acl_association: "associates a network ACL with a subnet",
  aws_default_network_acl: "sets the rules of the VPC's default network ACL",
  aws_default_route_table: "sets the routes of the VPC's main route table",
  aws_main_route_table_association: "changes which route table a VPC's unassociated subnets use",
  aws_network_interface_sg_attachment: "adds a security group to an instance's interface",
  aws_ec2_transit_gateway_peering_attachment: "joins two transit gateways",
  aws_ec2_transit_gateway_connect: "attaches an appliance to a transit gateway",
  aws_vpn_connection: "joins a network over VPN, which may route anywhere",
  aws_ec2_transit_gateway_prefix_list_reference: "routes a prefix list inside a transit gateway",
  aws_vpc_endpoint_subnet_association: "gives an interface endpoint an address in another subnet",
  aws_vpc_endpoint_security_group_association: "adds a security group to an interface endpoint",
};

/** Refuses a stack with a resource of {@link UNREAD_TYPES} or a security group rule with self = true. */
function refuseUnreadShapes(resources: Resources): void {
  const problems: string[] = [];
  for (const [type, what] of Object.entries(UNREAD_TYPES)) {
    const names = Object.keys(resources[type] ?? {});
    if (names.length > 0) problems.push(`${names.map((n) => `${type}.${n}`).join(", ")} (${what})`);
  }
  const selfRules = [
    ...resourcesOf(resources, "aws_security_group_rule")
      .filter(([, r]) => r.self === true)
      .map(([n]) => `aws_security_group_rule.${n}`),
    ...resourcesOf(resources, "aws_security_group").flatMap(([n, g]) =>
      (["ingress", "egress"] as const).some((d) => blocksOf<RuleJson>(g[d]).some((r) => r.self === true))
        ? [`aws_security_group.${n}`]
        : [],
    ),
  ];
  if (selfRules.length > 0) problems.push(`${selfRules.join(", ")} (a rule with self = true)`);
  if (problems.length > 0) {
    throw new Error(
      `the reachability analysis does not read ${problems.join("; ")}; its verdicts for this stack could be wrong, so it gives none`,
    );
  }
}
