import { SecurityGroup as AwsSecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";
import type { Network } from "./network";

/** Props of {@link SecurityGroup}. */
export interface SecurityGroupProps {
  /** The VPC the group belongs to. */
  readonly network: Network;
  /** The group's name, also its Name tag. */
  readonly name: string;
  /** What the group protects, shown in the console and in review. */
  readonly description: string;
}

/** Where a rule lets traffic go to or come from: a CIDR block or a managed prefix list. */
export type RulePeer = { readonly cidr: string } | { readonly prefixListId: string };

/**
 * A security group whose rules are separate resources, one per port and peer, each with a
 * description. It starts with no rules at all: Terraform removes the allow-all egress rule AWS
 * adds, so every permitted flow is one that a rule here names.
 */
export class SecurityGroup extends Construct {
  /** The security group. */
  public readonly resource: AwsSecurityGroup;
  /** The security group's id. */
  public readonly securityGroupId: string;

  constructor(scope: Construct, id: string, props: SecurityGroupProps) {
    super(scope, id);
    this.resource = new AwsSecurityGroup(this, "Resource", {
      name: props.name,
      description: props.description,
      vpcId: props.network.vpcId,
      revokeRulesOnDelete: true,
      tags: { Name: props.name },
    });
    this.securityGroupId = this.resource.id;
  }

  /** Allows TCP `port` in from `peer`. `id` is the rule's construct id, stable and unique here. */
  public allowTcpIn(id: string, peer: RulePeer, port: number, description: string): VpcSecurityGroupIngressRule {
    return new VpcSecurityGroupIngressRule(this, id, { ...this.ruleBase(peer, port, description) });
  }

  /** Allows TCP `port` out to `peer`. `id` is the rule's construct id, stable and unique here. */
  public allowTcpOut(id: string, peer: RulePeer, port: number, description: string): VpcSecurityGroupEgressRule {
    return new VpcSecurityGroupEgressRule(this, id, { ...this.ruleBase(peer, port, description) });
  }

  private ruleBase(peer: RulePeer, port: number, description: string) {
    return {
      securityGroupId: this.securityGroupId,
      ipProtocol: "tcp",
      fromPort: port,
      toPort: port,
      description,
      ...("cidr" in peer ? { cidrIpv4: peer.cidr } : { prefixListId: peer.prefixListId }),
    };
  }
}
