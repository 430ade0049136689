import { SecurityGroup as AwsSecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import type { TerraformProvider } from "cdktf";
import { Construct } from "constructs";
import type { INetwork } from "./network-ref";

/** Props of {@link SecurityGroup}. */
export interface SecurityGroupProps {
  /** The VPC the group belongs to. */
  readonly network: INetwork;
  /** The group's name, also its Name tag. */
  readonly name: string;
  /** What the group protects, shown in the console and in review. */
  readonly description: string;
}

/** Where a rule lets traffic go to or come from, with a stable id for the rule's construct id. */
export interface IPeer {
  /** Stable text naming the peer; rule ids are derived from it. */
  readonly uniqueId: string;
  /** What the peer contributes to a rule. */
  readonly ruleProps: { readonly cidrIpv4: string } | { readonly prefixListId: string } | { readonly referencedSecurityGroupId: string };
}

/** Peers for security group rules, as aws-cdk's `Peer` makes them. */
export const Peer = {
  /** A CIDR block. */
  cidr: (cidr: string): IPeer => ({ uniqueId: cidr, ruleProps: { cidrIpv4: cidr } }),
  /** A managed prefix list, whose id is usually a token: `label` names it in rule ids. */
  prefixList: (prefixListId: string, label: string): IPeer => ({ uniqueId: label, ruleProps: { prefixListId } }),
  /** The members of another security group, named by that group's name in rule ids. */
  securityGroup: (group: { readonly securityGroupId: string; readonly name: string }): IPeer => ({
    uniqueId: group.name,
    ruleProps: { referencedSecurityGroupId: group.securityGroupId },
  }),
};

/**
 * A security group whose rules are separate resources, one per port and peer, each with a
 * description. It starts with no rules at all: Terraform removes the allow-all egress rule AWS
 * adds, so every permitted flow is one that a rule here names. A rule's construct id follows from
 * its direction, peer and port, and the same rule twice is refused.
 */
export class SecurityGroup extends Construct {
  /** The security group. */
  public readonly resource: AwsSecurityGroup;
  /** The security group's id. */
  public readonly securityGroupId: string;
  /** The group's name. */
  public readonly name: string;
  /** The network's provider (another account's VPC), which the group and its rules use. */
  private readonly provider?: TerraformProvider;

  constructor(scope: Construct, id: string, props: SecurityGroupProps) {
    super(scope, id);
    this.name = props.name;
    this.provider = props.network.provider;
    this.resource = new AwsSecurityGroup(this, "Resource", {
      provider: this.provider,
      name: props.name,
      description: props.description,
      vpcId: props.network.vpcId,
      revokeRulesOnDelete: true,
      tags: { Name: props.name },
    });
    this.securityGroupId = this.resource.id;
  }

  /** Allows TCP `port` in from `peer`. The construct id is derived from both unless `id` is given. */
  public allowTcpIn(peer: IPeer, port: number, description: string, id?: string): VpcSecurityGroupIngressRule {
    return new VpcSecurityGroupIngressRule(this, this.ruleId("In", "tcp", peer, port, id), this.ruleBase("tcp", peer, port, description));
  }

  /** Allows TCP `port` out to `peer`. The construct id is derived from both unless `id` is given. */
  public allowTcpOut(peer: IPeer, port: number, description: string, id?: string): VpcSecurityGroupEgressRule {
    return new VpcSecurityGroupEgressRule(this, this.ruleId("Out", "tcp", peer, port, id), this.ruleBase("tcp", peer, port, description));
  }

  /** Allows UDP `port` in from `peer` (such as DNS). The construct id is derived from both. */
  public allowUdpIn(peer: IPeer, port: number, description: string): VpcSecurityGroupIngressRule {
    return new VpcSecurityGroupIngressRule(this, this.ruleId("In", "udp", peer, port), this.ruleBase("udp", peer, port, description));
  }

  /** Allows UDP `port` out to `peer` (such as DNS). The construct id is derived from both. */
  public allowUdpOut(peer: IPeer, port: number, description: string): VpcSecurityGroupEgressRule {
    return new VpcSecurityGroupEgressRule(this, this.ruleId("Out", "udp", peer, port), this.ruleBase("udp", peer, port, description));
  }

  // TCP rules keep ids without the protocol (as before UDP rules existed); UDP rules name it.
  private ruleId(direction: "In" | "Out", protocol: "tcp" | "udp", peer: IPeer, port: number, explicit?: string): string {
    const id = explicit ?? `${direction}-${peer.uniqueId.replace(/[^A-Za-z0-9-]/g, "_")}-${protocol === "udp" ? "udp-" : ""}${port}`;
    if (this.node.tryFindChild(id)) {
      throw new Error(
        `SecurityGroup ${this.name}: a rule ${id} exists already (${protocol} ${port} ${direction === "In" ? "from" : "to"} ${peer.uniqueId}); add each peer and port once`,
      );
    }
    return id;
  }

  private ruleBase(protocol: "tcp" | "udp", peer: IPeer, port: number, description: string) {
    return {
      securityGroupId: this.securityGroupId,
      ipProtocol: protocol,
      fromPort: port,
      toPort: port,
      description,
      ...peer.ruleProps,
      provider: this.provider,
    };
  }
}
