/** IAM documents the constructs share. */

/** Who may make the service assume the role: the confused-deputy guard AWS recommends. */
export interface TrustSource {
  /** The account whose resources may act through the service (aws:SourceAccount). */
  readonly account: string;
  /** The ARN pattern of those resources (aws:SourceArn), such as arn:aws:ec2:region:account:vpc-flow-log/*. */
  readonly arnLike: string;
}

/**
 * A role trust policy that lets one AWS service principal, such as vpc-flow-logs.amazonaws.com,
 * assume the role; with `source`, only on behalf of that account's resources. EC2 instance roles
 * take no source: EC2 passes the role by instance profile and sets neither key.
 */
export function trustPolicyFor(servicePrincipal: string, source?: TrustSource): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Service: servicePrincipal },
        Action: "sts:AssumeRole",
        ...(source && {
          Condition: { StringEquals: { "aws:SourceAccount": source.account }, ArnLike: { "aws:SourceArn": source.arnLike } },
        }),
      },
    ],
  });
}

/** Actions that only read, by the verbs AWS uses for them. */
export function isReadOnlyAction(action: string): boolean {
  return /^[a-z0-9-]+:(Describe|Get|List|Head|Select)[A-Za-z0-9]*$/.test(action);
}
