import { Route } from "@cdktf/provider-aws/lib/route";
import { VpcPeeringConnection } from "@cdktf/provider-aws/lib/vpc-peering-connection";
import { Construct } from "constructs";
import { cidrsOverlap } from "../lib/cidr";
import type { Network } from "./network";

/** Props of {@link Peering}. */
export interface PeeringProps {
  /** The VPC that requests the peering. */
  readonly requester: Network;
  /** The VPC that accepts it (same account and region: accepted automatically). */
  readonly accepter: Network;
  /**
   * Destinations routed from every route table of the requester through the peering.
   * @default the accepter's whole block
   */
  readonly requesterDestinations?: readonly string[];
  /**
   * Destinations routed from every route table of the accepter through the peering.
   * @default the requester's whole block
   */
  readonly accepterDestinations?: readonly string[];
}

/**
 * A VPC peering connection and both directions of its routes: each side's route tables learn the
 * other side's destinations. Peering is not transitive, so nothing here makes either VPC a path to
 * a third network.
 */
export class Peering extends Construct {
  /** The peering connection. */
  public readonly connection: VpcPeeringConnection;
  /** The peering connection's id. */
  public readonly peeringConnectionId: string;
  /** Routes added to the requester's route tables. */
  public readonly requesterRoutes: Route[];
  /** Routes added to the accepter's route tables. */
  public readonly accepterRoutes: Route[];

  constructor(scope: Construct, id: string, props: PeeringProps) {
    super(scope, id);
    const { requester, accepter } = props;
    if (cidrsOverlap(requester.cidr, accepter.cidr)) {
      throw new Error(`Peering ${id}: ${requester.name} ${requester.cidr} overlaps ${accepter.name} ${accepter.cidr}; peered VPCs need disjoint blocks`);
    }
    const requesterDestinations = props.requesterDestinations ?? [accepter.cidr];
    const accepterDestinations = props.accepterDestinations ?? [requester.cidr];
    for (const [side, own, destinations] of [
      ["requesterDestinations", requester, requesterDestinations],
      ["accepterDestinations", accepter, accepterDestinations],
    ] as const) {
      const local = destinations.find((d) => cidrsOverlap(d, own.cidr));
      if (local) throw new Error(`Peering ${id}: ${side} holds ${local}, which overlaps ${own.name}'s own ${own.cidr}; route only the other side's blocks`);
    }

    this.connection = new VpcPeeringConnection(this, "Resource", {
      vpcId: requester.vpcId,
      peerVpcId: accepter.vpcId,
      autoAccept: true,
      tags: { Name: `${requester.name}-to-${accepter.name}` },
    });
    this.peeringConnectionId = this.connection.id;
    this.requesterRoutes = this.routes("RequesterRoutes", requester, requesterDestinations);
    this.accepterRoutes = this.routes("AccepterRoutes", accepter, accepterDestinations);
  }

  private routes(id: string, side: Network, destinations: readonly string[]): Route[] {
    const scope = new Construct(this, id);
    return side.routeTables.flatMap((table) =>
      [...new Set(destinations)].map(
        (destination) =>
          new Route(scope, `${table.node.id}-${destination.replace(/[./]/g, "_")}`, {
            routeTableId: table.id,
            destinationCidrBlock: destination,
            vpcPeeringConnectionId: this.peeringConnectionId,
          }),
      ),
    );
  }
}
