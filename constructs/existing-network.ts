import { DataAwsRouteTables } from "@cdktf/provider-aws/lib/data-aws-route-tables";
import { DataAwsVpc } from "@cdktf/provider-aws/lib/data-aws-vpc";
import { TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import { cidrProblem } from "../lib/cidr";
import type { INetwork, NetworkRouteTables } from "./network-ref";

/** Props of {@link ExistingNetwork}. */
export interface ExistingNetworkProps {
  /** The VPC's name in this project, for names and messages. */
  readonly name: string;
  /** The VPC's id. */
  readonly vpcId: string;
  /** The VPC's IPv4 block as configured; planning fails when the VPC has another. */
  readonly cidr: string;
  /** The route tables that learn the proxy VPC's block, or "all" of the VPC's (looked up). @default none: nothing routes into the VPC (PrivateLink) */
  readonly routeTableIds?: readonly string[] | "all";
  /** The VPC's account, when it is not the stack's. @default the stack's account */
  readonly accountId?: string;
  /** The provider for that account. @default the stack's provider */
  readonly provider?: TerraformProvider;
}

/**
 * An app VPC that exists already. Nothing is created in it here: it is read (its block checked
 * against the configuration when planning) and offered to a peering, which adds its routes.
 */
export class ExistingNetwork extends Construct implements INetwork {
  public readonly name: string;
  public readonly cidr: string;
  public readonly vpcId: string;
  public readonly routeTables: NetworkRouteTables;
  /** None: the project places nothing in an existing VPC. */
  public readonly subnetIds: readonly string[] = [];
  public readonly hasInterfaceEndpoints = false;
  public readonly accountId?: string;
  public readonly provider?: TerraformProvider;

  constructor(scope: Construct, id: string, props: ExistingNetworkProps) {
    super(scope, id);
    const problem = cidrProblem(props.cidr);
    if (problem) throw new Error(`ExistingNetwork ${props.name}: cidr "${props.cidr}" ${problem}`);
    if (props.routeTableIds !== undefined && props.routeTableIds !== "all" && props.routeTableIds.length === 0) {
      throw new Error(`ExistingNetwork ${props.name}: routeTableIds is empty; list the route tables or say "all"`);
    }
    this.name = props.name;
    this.cidr = props.cidr;
    this.accountId = props.accountId;
    this.provider = props.provider;
    const vpc = new DataAwsVpc(this, "Resource", {
      id: props.vpcId,
      provider: props.provider,
      lifecycle: {
        postcondition: [
          {
            // The configured block may be the VPC's primary block or any secondary one associated with it.
            condition: `\${self.cidr_block == "${props.cidr}" || contains([for a in self.cidr_block_associations : a.cidr_block], "${props.cidr}")}`,
            errorMessage: `The VPC ${props.vpcId} (app VPC ${props.name}) has no block ${props.cidr}, the one the environment file gives (neither primary nor secondary); correct appVpcs[].cidr.`,
          },
        ],
      },
    });
    this.vpcId = vpc.id;
    if (props.routeTableIds === "all") {
      const tables = new DataAwsRouteTables(this, "RouteTables", { vpcId: vpc.id, provider: props.provider });
      this.routeTables = { lookedUp: tables.ids };
    } else {
      this.routeTables = { known: (props.routeTableIds ?? []).map((id) => ({ key: id, id })) };
    }
  }
}
