import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Construct } from "constructs";
import { trustPolicyFor } from "../lib/iam";

/** Props of {@link FlowLogRole}. */
export interface FlowLogRoleProps {
  /** The role's name. */
  readonly name: string;
}

/** The role that VPC Flow Logs assumes to write into CloudWatch Logs; shared by a stack's VPCs. */
export class FlowLogRole extends Construct {
  /** The role's ARN, for `iam_role_arn`. */
  public readonly roleArn: string;

  constructor(scope: Construct, id: string, props: FlowLogRoleProps) {
    super(scope, id);
    const role = new IamRole(this, "Resource", {
      name: props.name,
      description: "VPC Flow Logs delivery to CloudWatch Logs",
      assumeRolePolicy: trustPolicyFor("vpc-flow-logs.amazonaws.com"),
      tags: { Name: props.name },
    });
    new IamRolePolicy(this, "Delivery", {
      role: role.name,
      name: "deliver-flow-logs",
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups", "logs:DescribeLogStreams"],
            Resource: "*",
          },
        ],
      }),
    });
    this.roleArn = role.arn;
  }
}
