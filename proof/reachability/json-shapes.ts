/**
 * The attributes the model reads from each resource type of a synthesized stack, as cdktf writes them.
 * A reference is ${type.name.attr} text, so what is only ever looked up as one is `unknown` here.
 */
import { blocks, TerraformJson } from "../../lib/tf-json";

/** The resources of a stack by type, then by name. */
export type Resources = NonNullable<TerraformJson["resource"]>;

/** An inline or separate route: its block and where it sends it. */
export interface RouteJson {
  readonly cidr_block?: string;
  readonly destination_cidr_block?: string;
  readonly route_table_id?: unknown;
  readonly for_each?: unknown;
  readonly vpc_peering_connection_id?: unknown;
  readonly gateway_id?: unknown;
  readonly nat_gateway_id?: unknown;
  readonly transit_gateway_id?: unknown;
}

/** A security group rule in any of Terraform's shapes (inline, aws_security_group_rule, aws_vpc_security_group_*_rule). */
export interface RuleJson {
  readonly description?: string;
  readonly protocol?: unknown;
  readonly ip_protocol?: unknown;
  readonly from_port?: unknown;
  readonly to_port?: unknown;
  readonly cidr_blocks?: readonly string[];
  readonly security_groups?: readonly unknown[];
  readonly self?: unknown;
}

/** An inline network ACL entry. */
export interface NaclEntryJson {
  readonly rule_no: number;
  readonly protocol: unknown;
  readonly action: "allow" | "deny";
  readonly cidr_block: string;
  readonly from_port: number;
  readonly to_port: number;
}

interface Tagged {
  readonly tags?: { readonly Name?: string };
}

/** Each resource type the model reads, with the attributes it reads. */
export interface ResourceShapes {
  aws_vpc: Tagged & { readonly cidr_block: string };
  aws_subnet: { readonly vpc_id: unknown; readonly cidr_block: string; readonly availability_zone?: string };
  aws_route_table_association: { readonly subnet_id: unknown; readonly route_table_id: unknown };
  aws_route_table: { readonly route?: unknown; readonly propagating_vgws?: unknown };
  aws_route: RouteJson;
  aws_vpc_peering_connection: { readonly vpc_id: unknown; readonly peer_vpc_id: unknown };
  aws_vpc_peering_connection_accepter: { readonly vpc_peering_connection_id: unknown };
  aws_nat_gateway: Tagged & { readonly subnet_id: unknown; readonly private_ip?: unknown; readonly connectivity_type?: string };
  aws_security_group: { readonly vpc_id: unknown; readonly ingress?: unknown; readonly egress?: unknown };
  aws_security_group_rule: RuleJson & {
    readonly type: string;
    readonly security_group_id: unknown;
    readonly source_security_group_id?: unknown;
  };
  aws_vpc_security_group_ingress_rule: VpcRuleJson;
  aws_vpc_security_group_egress_rule: VpcRuleJson;
  aws_network_acl: { readonly ingress?: unknown; readonly egress?: unknown; readonly subnet_ids?: unknown };
  aws_network_acl_rule: {
    readonly network_acl_id: unknown;
    readonly rule_number: number;
    readonly egress?: unknown;
    readonly protocol: unknown;
    readonly rule_action: "allow" | "deny";
    readonly cidr_block: string;
    readonly from_port: number;
    readonly to_port: number;
  };
  aws_instance: Tagged & { readonly subnet_id: unknown; readonly private_ip?: unknown; readonly vpc_security_group_ids?: unknown };
  aws_launch_template: { readonly tag_specifications?: unknown; readonly vpc_security_group_ids?: unknown };
  aws_autoscaling_group: {
    readonly launch_template?: { readonly id?: unknown };
    readonly tag?: unknown;
    readonly vpc_zone_identifier?: readonly unknown[];
    readonly target_group_arns?: unknown;
  };
  aws_lb: {
    readonly subnet_mapping?: unknown;
    readonly security_groups?: unknown;
    readonly enforce_security_group_inbound_rules_on_private_link_traffic?: unknown;
  };
  aws_lb_listener: { readonly load_balancer_arn: unknown; readonly port: unknown; readonly default_action?: unknown };
  aws_lb_target_group: { readonly port?: unknown; readonly proxy_protocol_v2?: unknown };
  aws_route53_resolver_endpoint: Tagged & {
    readonly ip_address?: unknown;
    readonly security_group_ids?: unknown;
    readonly direction?: string;
  };
  aws_vpc_endpoint: Tagged & {
    readonly vpc_id: unknown;
    readonly service_name?: unknown;
    readonly vpc_endpoint_type?: string;
    readonly route_table_ids?: unknown;
    readonly subnet_ids?: unknown;
    readonly security_group_ids?: unknown;
    readonly auto_accept?: unknown;
  };
  aws_vpc_endpoint_service: Tagged & { readonly network_load_balancer_arns?: unknown; readonly acceptance_required?: unknown };
  aws_vpc_endpoint_connection_accepter: { readonly vpc_endpoint_service_id?: unknown; readonly vpc_endpoint_id?: unknown };
  aws_vpn_gateway: Tagged & { readonly vpc_id?: unknown };
  aws_vpn_gateway_attachment: { readonly vpn_gateway_id: unknown; readonly vpc_id?: unknown };
  aws_vpn_gateway_route_propagation: { readonly route_table_id: unknown; readonly vpn_gateway_id: unknown };
  aws_dx_gateway_association: { readonly associated_gateway_id: unknown; readonly allowed_prefixes?: unknown };
  aws_ec2_transit_gateway: { readonly default_route_table_association?: string; readonly default_route_table_propagation?: string };
  aws_ec2_transit_gateway_vpc_attachment: {
    readonly transit_gateway_id: unknown;
    readonly vpc_id: unknown;
    readonly subnet_ids?: unknown;
    readonly transit_gateway_default_route_table_association?: boolean;
    readonly transit_gateway_default_route_table_propagation?: boolean;
  };
  aws_ec2_transit_gateway_route_table: object;
  aws_ec2_transit_gateway_route_table_association: {
    readonly transit_gateway_attachment_id: unknown;
    readonly transit_gateway_route_table_id: unknown;
  };
  aws_ec2_transit_gateway_route_table_propagation: {
    readonly transit_gateway_attachment_id: unknown;
    readonly transit_gateway_route_table_id: unknown;
  };
  aws_ec2_transit_gateway_route: {
    readonly transit_gateway_route_table_id: unknown;
    readonly destination_cidr_block?: string;
    readonly transit_gateway_attachment_id?: unknown;
    readonly blackhole?: unknown;
  };
}

/** A rule of aws_vpc_security_group_ingress_rule or aws_vpc_security_group_egress_rule. */
export interface VpcRuleJson extends RuleJson {
  readonly security_group_id: unknown;
  readonly cidr_ipv4?: string;
  readonly referenced_security_group_id?: unknown;
  readonly prefix_list_id?: string;
}

/** The data sources the model reads: route tables looked up by VPC, and existing VPCs by id. */
export interface DataShapes {
  aws_route_tables: { readonly vpc_id: unknown };
  aws_vpc: { readonly id?: unknown };
}

/** The name and attributes of each resource of `type`, in the order of the JSON. */
export function resourcesOf<K extends keyof ResourceShapes>(resources: Resources, type: K): [string, ResourceShapes[K]][] {
  // The shapes say what the model reads of each type; the JSON is cdktf's own output.
  return Object.entries(resources[type] ?? {}) as unknown as [string, ResourceShapes[K]][];
}

/** The name and attributes of each data source of `type`, in the order of the JSON. */
export function dataOf<K extends keyof DataShapes>(stack: TerraformJson, type: K): [string, DataShapes[K]][] {
  return Object.entries(stack.data?.[type] ?? {}) as unknown as [string, DataShapes[K]][];
}

/** The nested blocks of `value` (a list or a single block), read as blocks with the attributes of `T`. */
export function blocksOf<T extends object>(value: unknown): T[] {
  return blocks(value) as T[];
}
