import { Route } from "@cdktf/provider-aws/lib/route";
import { VpcPeeringConnection } from "@cdktf/provider-aws/lib/vpc-peering-connection";
import { VpcPeeringConnectionAccepterA } from "@cdktf/provider-aws/lib/vpc-peering-connection-accepter";
import { Construct } from "constructs";
import { cidrsOverlap } from "../lib/cidr";
import { vpcOverlapProblem } from "../lib/config/rules";
import type { INetwork } from "./network-ref";
import { routesTo } from "./routes";

/** Props of {@link Peering}. */
export interface PeeringProps {
  /** The VPC that requests the peering; it must be in the stack's account. */
  readonly requester: INetwork;
  /**
   * The VPC that accepts it: in the same account the request is accepted at once; in another
   * account (accountId and provider set) an accepter resource accepts it there.
   */
  readonly accepter: INetwork;
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
    const overlap = vpcOverlapProblem(requester.cidr, accepter.name, accepter.cidr);
    if (overlap) throw new Error(`Peering ${id}: ${requester.name} ${requester.cidr} ${overlap}`);
    const requesterDestinations = props.requesterDestinations ?? [accepter.cidr];
    const accepterDestinations = props.accepterDestinations ?? [requester.cidr];
    for (const [side, own, destinations] of [
      ["requesterDestinations", requester, requesterDestinations],
      ["accepterDestinations", accepter, accepterDestinations],
    ] as const) {
      const local = destinations.find((d) => cidrsOverlap(d, own.cidr));
      if (local)
        throw new Error(
          `Peering ${id}: ${side} holds ${local}, which overlaps ${own.name}'s own ${own.cidr}; route only the other side's blocks`,
        );
    }

    if (requester.accountId !== undefined)
      throw new Error(`Peering ${id}: the requester ${requester.name} must be in the stack's own account`);
    if ((accepter.accountId === undefined) !== (accepter.provider === undefined)) {
      throw new Error(`Peering ${id}: the accepter ${accepter.name} needs both accountId and provider, or neither`);
    }
    const crossAccount = accepter.accountId !== undefined;

    this.connection = new VpcPeeringConnection(this, "Resource", {
      vpcId: requester.vpcId,
      peerVpcId: accepter.vpcId,
      peerOwnerId: accepter.accountId,
      autoAccept: !crossAccount,
      tags: { Name: `${requester.name}-to-${accepter.name}` },
    });
    this.peeringConnectionId = this.connection.id;
    // In another account the accepter's routes wait for the acceptance, by referring to it.
    const acceptedId = crossAccount
      ? new VpcPeeringConnectionAccepterA(this, "Accepter", {
          provider: accepter.provider,
          vpcPeeringConnectionId: this.connection.id,
          autoAccept: true,
          tags: { Name: `${requester.name}-to-${accepter.name}` },
        }).id
      : this.peeringConnectionId;
    this.requesterRoutes = routesTo(this, "RequesterRoutes", requester, requesterDestinations, {
      vpcPeeringConnectionId: this.peeringConnectionId,
    });
    this.accepterRoutes = routesTo(this, "AccepterRoutes", accepter, accepterDestinations, { vpcPeeringConnectionId: acceptedId });
  }
}
