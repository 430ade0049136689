import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsRegion } from "@cdktf/provider-aws/lib/data-aws-region";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Construct } from "constructs";
import { trustPolicyFor } from "../lib/iam";
import { flowLogGroupName } from "../lib/naming";

/** Props of {@link FlowLogRole}. */
export interface FlowLogRoleProps {
  /** The role's name. */
  readonly name: string;
  /** The start of the names of the VPCs whose flow logs it delivers, such as verification-. */
  readonly vpcNamePrefix: string;
}

/**
 * The role that VPC Flow Logs assumes to write into CloudWatch Logs; shared by a stack's VPCs. It
 * may write to and list the streams of only the flow-log groups of those VPCs (listing groups alone
 * takes every group), and only flow logs of this account may make the service assume it.
 */
export class FlowLogRole extends Construct {
  /** The role's ARN, for `iam_role_arn`. */
  public readonly roleArn: string;

  constructor(scope: Construct, id: string, props: FlowLogRoleProps) {
    super(scope, id);
    const partition = new DataAwsPartition(this, "Partition").partition;
    const region = new DataAwsRegion(this, "Region").name;
    const account = new DataAwsCallerIdentity(this, "Account").accountId;
    const role = new IamRole(this, "Resource", {
      name: props.name,
      description: "VPC Flow Logs delivery to CloudWatch Logs",
      assumeRolePolicy: trustPolicyFor("vpc-flow-logs.amazonaws.com", {
        account,
        arnLike: `arn:${partition}:ec2:${region}:${account}:vpc-flow-log/*`,
      }),
      tags: { Name: props.name },
    });
    const groups = `arn:${partition}:logs:${region}:${account}:log-group:${flowLogGroupName(props.vpcNamePrefix)}*`;
    new IamRolePolicy(this, "Delivery", {
      role: role.name,
      name: "deliver-flow-logs",
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "WriteOwnFlowLogGroups",
            Effect: "Allow",
            Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
            Resource: [groups, `${groups}:*`],
          },
          // Listing a group's streams takes the group's ARN: only the environment's own groups.
          { Sid: "DescribeOwnFlowLogStreams", Effect: "Allow", Action: "logs:DescribeLogStreams", Resource: [groups, `${groups}:*`] },
          // Listing groups takes no resource narrower than the account's.
          { Sid: "DescribeGroups", Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" },
        ],
      }),
    });
    this.roleArn = role.arn;
  }
}
