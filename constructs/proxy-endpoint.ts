import { DataAwsSubnet } from "@cdktf/provider-aws/lib/data-aws-subnet";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { Construct } from "constructs";
import { endpointSubnetOutsideVpcProblem } from "../lib/config/rules";
import { privateLinkNames } from "../lib/naming";
import type { EgressRule, IAppServerEgress } from "./egress/egress";
import type { INetwork } from "./network-ref";
import { Peer, SecurityGroup } from "./security-group";

/** Props of {@link ProxyEndpoint}. */
export interface ProxyEndpointProps {
  /** The app VPC the endpoint serves; another account's VPC carries that account's provider. */
  readonly network: INetwork;
  /** The VPC's subnets for the endpoint's addresses, at most one per zone. */
  readonly subnetIds: readonly string[];
  /**
   * The id of an existing VPC as configured: each subnet is looked up when planning, and the plan
   * fails when one is not in this VPC.
   * @default none: the subnets must be the network's own (a VPC the project creates)
   */
  readonly existingVpcId?: string;
  /** The endpoint service's name (com.amazonaws.vpce.<region>.vpce-svc-...). */
  readonly serviceName: string;
  /** The port Squid listens on behind the service's load balancer. */
  readonly port: number;
}

/**
 * An app VPC's interface endpoint to the proxy's endpoint service, with a security group that
 * admits the proxy port from the VPC's own block only. App servers use its DNS name as their
 * proxy setting; nothing is routed between this VPC and the proxy VPC.
 */
export class ProxyEndpoint extends Construct implements IAppServerEgress {
  /** The interface endpoint. */
  public readonly endpoint: VpcEndpoint;
  /** The endpoint's id (vpce-...), which AWS puts in the PROXY protocol header it sends Squid. */
  public readonly endpointId: string;
  /** The endpoint's regional DNS name, which answers with its address in each zone. */
  public readonly dnsName: string;
  /** The endpoint's security group. */
  public readonly securityGroup: SecurityGroup;
  /** `dnsName:port`: the app servers' proxy setting. */
  public readonly proxySetting: string;
  /** App servers may send to their own block (the endpoint's addresses) on the proxy port. */
  public readonly appServerRules: readonly EgressRule[];

  constructor(scope: Construct, id: string, props: ProxyEndpointProps) {
    super(scope, id);
    const { network } = props;
    if (props.subnetIds.length === 0) throw new Error(`ProxyEndpoint ${network.name}: subnetIds is empty; give one subnet per zone`);
    if (props.existingVpcId === undefined) {
      const outside = props.subnetIds.find((s) => !network.subnetIds.includes(s));
      if (outside !== undefined)
        throw new Error(`ProxyEndpoint ${network.name}: ${endpointSubnetOutsideVpcProblem(outside, network.name)}`);
    } else {
      this.checkSubnets(props.existingVpcId, props);
    }
    const name = privateLinkNames.endpoint(network.name);
    this.securityGroup = new SecurityGroup(this, "SecurityGroup", {
      network,
      name,
      description: `Interface endpoint of ${network.name} to the proxy: port ${props.port} from ${network.name}'s own block only`,
    });
    this.securityGroup.allowTcpIn(Peer.cidr(network.cidr), props.port, `The proxy port from ${network.name}'s own block`);
    this.endpoint = new VpcEndpoint(this, "Resource", {
      provider: network.provider,
      vpcId: network.vpcId,
      serviceName: props.serviceName,
      vpcEndpointType: "Interface",
      subnetIds: [...props.subnetIds],
      securityGroupIds: [this.securityGroup.securityGroupId],
      // The endpoint service has no private DNS name of its own: app servers use the endpoint's name.
      privateDnsEnabled: false,
      tags: { Name: name },
    });
    this.endpointId = this.endpoint.id;
    this.dnsName = this.endpoint.dnsEntry.get(0).dnsName;
    this.proxySetting = `${this.dnsName}:${props.port}`;
    this.appServerRules = [{ cidr: network.cidr, port: props.port, description: "HTTP(S) through the proxy's interface endpoint" }];
  }

  /** Looks up each subnet of an existing VPC when planning; the plan fails for a subnet of another VPC. */
  private checkSubnets(vpcId: string, props: ProxyEndpointProps): void {
    for (const subnetId of props.subnetIds) {
      new DataAwsSubnet(this, `Subnet-${subnetId}`, {
        id: subnetId,
        provider: props.network.provider,
        lifecycle: {
          postcondition: [
            {
              condition: `\${self.vpc_id == "${vpcId}"}`,
              errorMessage: `${endpointSubnetOutsideVpcProblem(subnetId, `${props.network.name} (${vpcId})`)}; correct existing.endpointSubnetIds.`,
            },
          ],
        },
      });
    }
  }
}
