import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Route } from "@cdktf/provider-aws/lib/route";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Construct } from "constructs";
import { cidrContains, cidrsOverlap } from "../lib/cidr";
import { transitGatewayNames } from "../lib/naming";
import type { Network, SubnetSpec } from "./network";

/** Props of {@link PrivateNatEgress}. */
export interface PrivateNatEgressProps {
  /** The environment's name, for names. */
  readonly environment: string;
  /** The proxy VPC: a private NAT gateway goes in each of its subnets. */
  readonly network: Network;
  /** The subnets for the Transit Gateway's attachment, one per zone, apart from the NAT gateways' subnets. */
  readonly attachmentSubnets: readonly SubnetSpec[];
  /** The services' blocks, which the attachment subnets send to the NAT gateway of their zone. */
  readonly destinations: readonly string[];
}

/**
 * The proxy VPC as a layer-4 relay (the original's addendum): a private NAT gateway in each of its
 * subnets, and subnets of their own for the Transit Gateway's attachment, whose route table per
 * zone sends the services' blocks to that zone's NAT gateway. The NAT gateway re-originates the
 * connection from its own address in the proxy VPC's block, the only source the service accepts;
 * the NAT subnets' table (the network's) sends the services onwards and the app blocks back to the
 * Transit Gateway. No domain allowlist and no access log: that is what the Squid proxy adds.
 */
export class PrivateNatEgress extends Construct {
  /** The NAT gateways, by zone. */
  public readonly natGateways: ReadonlyMap<string, NatGateway>;
  /** The attachment subnets' ids, in the order given. */
  public readonly attachmentSubnetIds: string[];

  constructor(scope: Construct, id: string, props: PrivateNatEgressProps) {
    super(scope, id);
    const { network } = props;
    const names = transitGatewayNames(props.environment);
    const natSubnets = new Map(network.subnets.map((s) => [s.availabilityZoneInput!, s]));
    const gateways = new Map<string, NatGateway>();
    for (const [zone, subnet] of natSubnets) {
      gateways.set(
        zone,
        new NatGateway(this, `Nat-${zone}`, { connectivityType: "private", subnetId: subnet.id, tags: { Name: names.natGateway(zone) } }),
      );
    }
    this.natGateways = gateways;
    this.attachmentSubnetIds = props.attachmentSubnets.map((spec) => {
      const gateway = gateways.get(spec.availabilityZone);
      if (!gateway) {
        throw new Error(
          `PrivateNatEgress ${id}: no NAT gateway in ${spec.availabilityZone} for the attachment subnet ${spec.cidr}; give ${network.name} a subnet in that zone`,
        );
      }
      if (!cidrContains(network.cidr, spec.cidr) || network.subnets.some((s) => cidrsOverlap(s.cidrBlockInput!, spec.cidr))) {
        throw new Error(
          `PrivateNatEgress ${id}: attachment subnet ${spec.cidr} must lie in ${network.cidr} apart from the NAT gateways' subnets`,
        );
      }
      const zoneScope = new Construct(this, `Attachment-${spec.availabilityZone}`);
      const subnet = new Subnet(zoneScope, "Subnet", {
        vpcId: network.vpcId,
        cidrBlock: spec.cidr,
        availabilityZone: spec.availabilityZone,
        mapPublicIpOnLaunch: false,
        tags: { Name: names.attachmentSubnet(spec.availabilityZone) },
      });
      const table = new RouteTable(zoneScope, "RouteTable", {
        vpcId: network.vpcId,
        tags: { Name: names.attachmentSubnet(spec.availabilityZone) },
      });
      new RouteTableAssociation(zoneScope, "RouteTableAssociation", { subnetId: subnet.id, routeTableId: table.id });
      for (const destination of new Set(props.destinations)) {
        new Route(zoneScope, `ToNat-${destination.replace(/[./]/g, "_")}`, {
          routeTableId: table.id,
          destinationCidrBlock: destination,
          natGatewayId: gateway.id,
        });
      }
      return subnet.id;
    });
  }
}
