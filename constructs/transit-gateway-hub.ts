import { DataAwsEc2TransitGateway } from "@cdktf/provider-aws/lib/data-aws-ec2-transit-gateway";
import { Ec2TransitGateway } from "@cdktf/provider-aws/lib/ec2-transit-gateway";
import { Ec2TransitGatewayRoute } from "@cdktf/provider-aws/lib/ec2-transit-gateway-route";
import { Ec2TransitGatewayRouteTable } from "@cdktf/provider-aws/lib/ec2-transit-gateway-route-table";
import { Ec2TransitGatewayRouteTableAssociation } from "@cdktf/provider-aws/lib/ec2-transit-gateway-route-table-association";
import { Ec2TransitGatewayRouteTablePropagation } from "@cdktf/provider-aws/lib/ec2-transit-gateway-route-table-propagation";
import { Ec2TransitGatewayVpcAttachment } from "@cdktf/provider-aws/lib/ec2-transit-gateway-vpc-attachment";
import { Construct } from "constructs";
import { cidrProblem } from "../lib/cidr";
import { transitGatewayNames } from "../lib/naming";
import type { INetwork } from "./network-ref";

/** Props of {@link TransitGatewayHub}. */
export interface TransitGatewayHubProps {
  /** The environment's name, for names. */
  readonly environment: string;
  /**
   * An existing Transit Gateway to attach to; the hub adds its own route tables to it.
   * @default a new Transit Gateway
   */
  readonly existingId?: string;
  /** The private ASN of a new Transit Gateway. @default Amazon's */
  readonly amazonSideAsn?: number;
}

/**
 * A Transit Gateway hub with an apps table (static routes to the proxy attachment only) and a proxy table (every app block, propagated).
 * Default association and propagation are off, so app VPCs reach the proxy VPC and never each other, and nothing attached later joins a table by itself.
 */
export class TransitGatewayHub extends Construct {
  /** The Transit Gateway's id. */
  public readonly transitGatewayId: string;
  /** The gateway, where the hub created it. */
  public readonly gateway?: Ec2TransitGateway;
  /** The table of the app VPCs' attachments: routes to the proxy VPC only. */
  public readonly appsTable: Ec2TransitGatewayRouteTable;
  /** The table of the proxy VPC's attachment: the app VPCs' blocks, propagated. */
  public readonly proxyTable: Ec2TransitGatewayRouteTable;
  private proxyAttachment?: Ec2TransitGatewayVpcAttachment;
  private readonly names: ReturnType<typeof transitGatewayNames>;

  constructor(scope: Construct, id: string, props: TransitGatewayHubProps) {
    super(scope, id);
    this.names = transitGatewayNames(props.environment);
    if (props.existingId !== undefined && props.amazonSideAsn !== undefined) {
      throw new Error(
        `TransitGatewayHub ${id}: amazonSideAsn is for a new Transit Gateway; an existing one (${props.existingId}) keeps its own`,
      );
    }
    if (props.existingId !== undefined) {
      // Fails the plan early when the id names no gateway in this account and region.
      this.transitGatewayId = new DataAwsEc2TransitGateway(this, "Existing", { id: props.existingId }).id;
    } else {
      this.gateway = new Ec2TransitGateway(this, "Resource", {
        description: `App VPCs to the proxy VPC of ${props.environment}`,
        amazonSideAsn: props.amazonSideAsn,
        defaultRouteTableAssociation: "disable",
        defaultRouteTablePropagation: "disable",
        autoAcceptSharedAttachments: "disable",
        dnsSupport: "enable",
        tags: { Name: this.names.gateway },
      });
      this.transitGatewayId = this.gateway.id;
    }
    this.appsTable = new Ec2TransitGatewayRouteTable(this, "AppsTable", {
      transitGatewayId: this.transitGatewayId,
      tags: { Name: this.names.appsTable },
    });
    this.proxyTable = new Ec2TransitGatewayRouteTable(this, "ProxyTable", {
      transitGatewayId: this.transitGatewayId,
      tags: { Name: this.names.proxyTable },
    });
  }

  /**
   * Attaches the proxy VPC in `subnetIds` (one per zone), with appliance mode on so that both
   * directions of a flow use the same zone's subnet, and sends `destinations` (the services'
   * blocks, or the proxy's addresses) from the apps table to it. Called once.
   */
  public attachProxyVpc(network: INetwork, subnetIds: readonly string[], destinations: readonly string[]): Ec2TransitGatewayVpcAttachment {
    if (this.proxyAttachment) throw new Error(`TransitGatewayHub ${this.node.id}: the proxy VPC is attached already`);
    for (const destination of destinations) {
      const problem = cidrProblem(destination);
      if (problem) throw new Error(`TransitGatewayHub ${this.node.id}: destination "${destination}" ${problem}`);
    }
    const attachment = this.attachment("ProxyAttachment", network, subnetIds, true);
    new Ec2TransitGatewayRouteTableAssociation(this, "ProxyAssociation", {
      transitGatewayAttachmentId: attachment.id,
      transitGatewayRouteTableId: this.proxyTable.id,
    });
    for (const destination of new Set(destinations)) {
      new Ec2TransitGatewayRoute(this, `ToProxy-${destination.replace(/[./]/g, "_")}`, {
        destinationCidrBlock: destination,
        transitGatewayAttachmentId: attachment.id,
        transitGatewayRouteTableId: this.appsTable.id,
      });
    }
    this.proxyAttachment = attachment;
    return attachment;
  }

  /**
   * Attaches an app VPC in `subnetIds` (one per zone): associated with the apps table, and
   * propagating its block into the proxy table only, so no other app VPC learns it.
   */
  public attachAppVpc(id: string, network: INetwork, subnetIds: readonly string[]): Ec2TransitGatewayVpcAttachment {
    const attachment = this.attachment(`${id}Attachment`, network, subnetIds, false);
    new Ec2TransitGatewayRouteTableAssociation(this, `${id}Association`, {
      transitGatewayAttachmentId: attachment.id,
      transitGatewayRouteTableId: this.appsTable.id,
    });
    new Ec2TransitGatewayRouteTablePropagation(this, `${id}Propagation`, {
      transitGatewayAttachmentId: attachment.id,
      transitGatewayRouteTableId: this.proxyTable.id,
    });
    return attachment;
  }

  private attachment(id: string, network: INetwork, subnetIds: readonly string[], applianceMode: boolean): Ec2TransitGatewayVpcAttachment {
    if (subnetIds.length === 0)
      throw new Error(`TransitGatewayHub ${this.node.id}: ${network.name} needs at least one subnet for its attachment`);
    return new Ec2TransitGatewayVpcAttachment(this, id, {
      transitGatewayId: this.transitGatewayId,
      vpcId: network.vpcId,
      subnetIds: [...subnetIds],
      applianceModeSupport: applianceMode ? "enable" : "disable",
      dnsSupport: "enable",
      // Associations and propagations are this hub's, never the gateway's defaults.
      transitGatewayDefaultRouteTableAssociation: false,
      transitGatewayDefaultRouteTablePropagation: false,
      tags: { Name: this.names.attachment(network.name) },
    });
  }
}
