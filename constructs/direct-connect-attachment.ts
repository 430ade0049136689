import { DxGatewayAssociation } from "@cdktf/provider-aws/lib/dx-gateway-association";
import { Route } from "@cdktf/provider-aws/lib/route";
import { VpnGateway } from "@cdktf/provider-aws/lib/vpn-gateway";
import { VpnGatewayRoutePropagation } from "@cdktf/provider-aws/lib/vpn-gateway-route-propagation";
import { Construct } from "constructs";
import { cidrsOverlap } from "../lib/cidr";
import type { INetwork } from "./network-ref";

/** Props of {@link DirectConnectAttachment}. */
export interface DirectConnectAttachmentProps {
  /** The proxy VPC. */
  readonly network: INetwork;
  /** The services' blocks, which the proxy VPC's route tables send to the gateway. */
  readonly destinations: readonly string[];
  /**
   * "static": exactly `destinations` go to the gateway; "propagation": the route tables take what
   * the provider advertises over BGP.
   */
  readonly routing: "static" | "propagation";
  /** The gateway's private ASN. @default Amazon's */
  readonly amazonSideAsn?: number;
  /** An existing Direct Connect gateway to associate the gateway with. @default none: attach a private VIF to the gateway directly */
  readonly directConnectGatewayId?: string;
}

/**
 * The proxy VPC's way to the provider's network: a virtual private gateway, its routes (or route
 * propagation) in every route table of the proxy VPC, and optionally an association with a Direct
 * Connect gateway that advertises only the proxy VPC's block, the one the provider accepts.
 */
export class DirectConnectAttachment extends Construct {
  /** The virtual private gateway. */
  public readonly gateway: VpnGateway;
  /** The Direct Connect gateway association, when there is one. */
  public readonly association?: DxGatewayAssociation;

  constructor(scope: Construct, id: string, props: DirectConnectAttachmentProps) {
    super(scope, id);
    const local = props.destinations.find((d) => cidrsOverlap(d, props.network.cidr));
    if (local)
      throw new Error(
        `DirectConnectAttachment: destination ${local} overlaps the proxy VPC ${props.network.cidr}; route only the services' blocks`,
      );
    if (props.routing === "static" && props.destinations.length === 0)
      throw new Error("DirectConnectAttachment: static routing needs at least one destination");
    const tables = props.network.routeTables;
    if (!("known" in tables)) {
      throw new Error(
        `DirectConnectAttachment: the route tables of ${props.network.name} are looked up when planning; attach the gateway to a VPC the project creates`,
      );
    }

    this.gateway = new VpnGateway(this, "Resource", {
      vpcId: props.network.vpcId,
      amazonSideAsn: props.amazonSideAsn === undefined ? undefined : String(props.amazonSideAsn),
      tags: { Name: `${props.network.name}-vgw` },
    });
    for (const table of tables.known) {
      if (props.routing === "propagation") {
        new VpnGatewayRoutePropagation(this, `Propagation-${table.key}`, { routeTableId: table.id, vpnGatewayId: this.gateway.id });
        continue;
      }
      for (const destination of [...new Set(props.destinations)]) {
        new Route(this, `${table.key}-${destination.replace(/[./]/g, "_")}`, {
          routeTableId: table.id,
          destinationCidrBlock: destination,
          gatewayId: this.gateway.id,
        });
      }
    }
    if (props.directConnectGatewayId) {
      this.association = new DxGatewayAssociation(this, "Association", {
        dxGatewayId: props.directConnectGatewayId,
        associatedGatewayId: this.gateway.id,
        allowedPrefixes: [props.network.cidr],
      });
    }
  }
}
