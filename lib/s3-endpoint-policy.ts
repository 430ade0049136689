/**
 * The policy of the S3 gateway endpoints: the instances read packages and agent updates from
 * AWS-owned buckets and nothing else, so a compromised proxy cannot write to any bucket.
 */

/**
 * The buckets instances need through the endpoint: Amazon Linux 2023's package repositories (dnf
 * installs Squid, httpd and the CloudWatch agent from them) and the SSM Agent's update buckets.
 */
export function packageBuckets(region: string): string[] {
  return [`al2023-repos-${region}-de612dc2`, `amazon-ssm-${region}`, `amazon-ssm-packages-${region}`, `aws-ssm-${region}`];
}

/** The endpoint policy document: GetObject on those buckets' objects only. */
export function s3EndpointPolicy(region: string, partition: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ReadPackageRepositoriesOnly",
        Effect: "Allow",
        Principal: "*",
        Action: ["s3:GetObject"],
        Resource: packageBuckets(region).map((bucket) => `arn:${partition}:s3:::${bucket}/*`),
      },
    ],
  });
}
