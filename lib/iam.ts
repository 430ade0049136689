/** IAM documents the constructs share. */

/** A role trust policy that lets one AWS service principal, such as ec2.amazonaws.com, assume the role. */
export function trustPolicyFor(servicePrincipal: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: servicePrincipal }, Action: "sts:AssumeRole" }],
  });
}
