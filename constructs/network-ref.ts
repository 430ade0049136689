import { TerraformProvider } from "cdktf";

/** The route tables of a VPC: known ones by a stable key, or ids looked up when planning. */
export type NetworkRouteTables =
  { readonly known: readonly { readonly key: string; readonly id: string }[] } | { readonly lookedUp: string[] };

/**
 * A VPC as the other constructs use it, whether this project creates it ({@link Network}) or it
 * exists already ({@link ExistingNetwork}), as aws-cdk's IVpc serves created and imported VPCs.
 */
export interface INetwork {
  /** The VPC's name, for names and messages. */
  readonly name: string;
  /** The VPC's id. */
  readonly vpcId: string;
  /** The VPC's IPv4 block, as configured (never a token). */
  readonly cidr: string;
  /** The route tables that learn routes to other networks. */
  readonly routeTables: NetworkRouteTables;
  /** The ids of the private subnets servers can go in, in the order given; empty for a VPC we only peer with. */
  readonly subnetIds: readonly string[];
  /** The S3 gateway endpoint's prefix list id, for egress rules. @default no S3 endpoint */
  readonly s3PrefixListId?: string;
  /** True when interface endpoints (Session Manager, logs) exist in the VPC; servers then need 443 to the VPC. */
  readonly hasInterfaceEndpoints: boolean;
  /** The account that owns the VPC, when it is not the stack's. @default the stack's account */
  readonly accountId?: string;
  /** The provider for that account. @default the stack's provider */
  readonly provider?: TerraformProvider;
}
