import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Route } from "@cdktf/provider-aws/lib/route";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Construct } from "constructs";
import { cidrContains, cidrsOverlap, outermostBlocks } from "../../lib/cidr";
import { portNumbers, PrivateNatEgressChoice } from "../../lib/config";
import { constructIds, outputNames, transitGatewayNames } from "../../lib/naming";
import type { Network, SubnetSpec } from "../network";
import type { EgressOutput, EgressProvider, EgressRule, IEgress } from "./egress";

/** Props of {@link PrivateNatEgress}. */
export interface PrivateNatEgressProps {
  /** The environment's name, for names. */
  readonly environment: string;
  /** The proxy VPC: a private NAT gateway goes in each of its subnets. */
  readonly network: Network;
  /** The subnets for the Transit Gateway's attachment, one per zone, apart from the NAT gateways' subnets. */
  readonly attachmentSubnets: readonly SubnetSpec[];
  /** The services, whose blocks the attachment subnets send to the NAT gateway of their zone. */
  readonly services: readonly { readonly name: string; readonly cidr: string; readonly ports: readonly number[] }[];
}

/**
 * The proxy VPC as a layer-4 relay (the original's addendum): a private NAT gateway per subnet, and attachment subnets routed to their zone's gateway.
 * The gateway re-originates from its own address in the dictated block; there is no allowlist or access log, which is what Squid adds.
 */
export class PrivateNatEgress extends Construct implements IEgress {
  /** The private NAT gateways, built for an environment in its stack; NAT gateways need no endpoints. */
  public static provider(egress: PrivateNatEgressChoice): EgressProvider {
    return {
      s3Endpoint: false,
      interfaceEndpoints: [],
      provide: (stack, { config, network }) =>
        new PrivateNatEgress(stack, constructIds.privateNat, {
          environment: config.name,
          network,
          attachmentSubnets: egress.attachmentSubnets,
          services: config.services.map((s) => ({ name: s.name, cidr: s.cidr, ports: portNumbers(s) })),
        }),
    };
  }

  public readonly kind = "privateNat";
  /** The NAT gateways, by zone. */
  public readonly natGateways: ReadonlyMap<string, NatGateway>;
  /** The attachment subnets' ids, in the order given. */
  public readonly attachmentSubnetIds: string[];
  /** The services' outermost blocks: app VPCs send them to the Transit Gateway. */
  public readonly destinations: readonly string[];
  /** No proxy setting: app servers reach the services by address. */
  public readonly proxySetting = undefined;
  /** Each service's block on each of its ports. */
  public readonly appServerRules: readonly EgressRule[];
  /** The NAT gateways' subnets: each gateway's address lies in one. */
  public readonly sourceBlocks: readonly string[];
  /** The NAT gateways' addresses. */
  public readonly outputs: readonly EgressOutput[];

  constructor(scope: Construct, id: string, props: PrivateNatEgressProps) {
    super(scope, id);
    const { network } = props;
    const names = transitGatewayNames(props.environment);
    this.destinations = outermostBlocks(props.services.map((s) => s.cidr));
    this.appServerRules = props.services.flatMap((service) =>
      service.ports.map((port) => ({
        cidr: service.cidr,
        port,
        description: `To ${service.name} on ${port}, through the private NAT gateway`,
      })),
    );
    this.sourceBlocks = network.subnets.map((s) => s.cidrBlockInput!);
    const natSubnets = new Map(network.subnets.map((s) => [s.availabilityZoneInput!, s]));
    const gateways = new Map<string, NatGateway>();
    for (const [zone, subnet] of natSubnets) {
      gateways.set(
        zone,
        new NatGateway(this, `Nat-${zone}`, { connectivityType: "private", subnetId: subnet.id, tags: { Name: names.natGateway(zone) } }),
      );
    }
    this.natGateways = gateways;
    this.outputs = [
      {
        name: outputNames.natGatewayAddresses,
        value: [...gateways.values()].map((n) => n.privateIp),
        description: "The private NAT gateways' addresses: the sources the service sees",
      },
    ];
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
      for (const destination of this.destinations) {
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
