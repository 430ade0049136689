import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { Construct } from "constructs";
import { trustPolicyFor } from "../lib/iam";

/** Props of {@link InstanceRole}. */
export interface InstanceRoleProps {
  /** The role's name, also the instance profile's. */
  readonly name: string;
  /**
   * AWS managed policies the role gets besides AmazonSSMManagedInstanceCore.
   * @default none
   */
  readonly extraManagedPolicies?: readonly string[];
}

/**
 * The role of the project's instances: Systems Manager's managed core policy, so administrators
 * use Session Manager instead of SSH or RDP, and only the extra managed policies asked for.
 */
export class InstanceRole extends Construct {
  /** The role. */
  public readonly role: IamRole;
  /** The instance profile's name, for `iam_instance_profile`. */
  public readonly instanceProfileName: string;

  constructor(scope: Construct, id: string, props: InstanceRoleProps) {
    super(scope, id);
    const partition = new DataAwsPartition(this, "Partition");
    this.role = new IamRole(this, "Resource", {
      name: props.name,
      description: "EC2 instances of the proxy-over-peering project: Session Manager only",
      assumeRolePolicy: trustPolicyFor("ec2.amazonaws.com"),
      tags: { Name: props.name },
    });
    new IamRolePolicyAttachment(this, "SessionManager", {
      role: this.role.name,
      policyArn: `arn:${partition.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore`,
    });
    for (const policy of props.extraManagedPolicies ?? []) {
      new IamRolePolicyAttachment(this, policy, {
        role: this.role.name,
        policyArn: `arn:${partition.partition}:iam::aws:policy/${policy}`,
      });
    }
    const profile = new IamInstanceProfile(this, "InstanceProfile", { name: props.name, role: this.role.name, tags: { Name: props.name } });
    this.instanceProfileName = profile.name;
  }

  /** Lets the role's instances take `actions` on `resources` only, by an inline policy named `name`. */
  public allow(id: string, name: string, actions: readonly string[], resources: readonly string[]): void {
    new IamRolePolicy(this, id, {
      name,
      role: this.role.name,
      policy: JSON.stringify({ Version: "2012-10-17", Statement: [{ Effect: "Allow", Action: actions, Resource: resources }] }),
    });
  }
}
