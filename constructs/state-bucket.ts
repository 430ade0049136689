import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { TerraformLocal } from "cdktf";
import { Construct } from "constructs";

/** Props of {@link StateBucket}. */
export interface StateBucketProps {
  /** The bucket's name. */
  readonly bucketName: string;
  /** Days after which a replaced state version is deleted. */
  readonly noncurrentVersionExpirationDays: number;
  /**
   * Bucket names that no plan may create, such as the placeholders that templates ship with: a plan
   * with one of them fails (a precondition), whichever command runs it (cdktf deploy included).
   * @default no name is refused
   */
  readonly refusedNames?: readonly string[];
}

/**
 * The S3 bucket that holds Terraform state: versioned, encrypted by default, closed to the public,
 * reachable over TLS only, old versions expired, and protected against `destroy`.
 */
export class StateBucket extends Construct {
  /** The bucket. */
  public readonly bucket: S3Bucket;

  constructor(scope: Construct, id: string, props: StateBucketProps) {
    super(scope, id);
    if (!Number.isInteger(props.noncurrentVersionExpirationDays) || props.noncurrentVersionExpirationDays < 1) {
      throw new Error(
        `StateBucket ${props.bucketName}: noncurrentVersionExpirationDays is ${props.noncurrentVersionExpirationDays}; give a whole number of days, at least 1`,
      );
    }
    const refused = props.refusedNames ?? [];
    // Terraform wants a precondition to refer to something of the configuration: the name, as a local.
    const name = new TerraformLocal(this, "Name", props.bucketName);
    name.overrideLogicalId("state_bucket_name");
    this.bucket = new S3Bucket(this, "Resource", {
      bucket: props.bucketName,
      tags: { Name: props.bucketName },
      lifecycle: {
        preventDestroy: true,
        ...(refused.length > 0 && {
          precondition: [
            {
              condition: `\${!contains(${JSON.stringify(refused)}, local.state_bucket_name)}`,
              errorMessage: `The state bucket name "${props.bucketName}" is a placeholder that the demos and examples ship with. S3 bucket names are global, so it is not yours: set state.bucket in your environment file to a name of your own, synthesize again and deploy with npm run deploy.`,
            },
          ],
        }),
      },
    });
    const bucket = this.bucket.id;
    new S3BucketOwnershipControls(this, "Ownership", { bucket, rule: { objectOwnership: "BucketOwnerEnforced" } });
    new S3BucketVersioningA(this, "Versioning", { bucket, versioningConfiguration: { status: "Enabled" } });
    new S3BucketServerSideEncryptionConfigurationA(this, "Encryption", {
      bucket,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    new S3BucketPublicAccessBlock(this, "PublicAccessBlock", {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketPolicy(this, "TlsOnly", {
      bucket,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "DenyWithoutTls",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [this.bucket.arn, `${this.bucket.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
    });
    new S3BucketLifecycleConfiguration(this, "Lifecycle", {
      bucket,
      rule: [
        {
          id: "expire-noncurrent-state-versions",
          status: "Enabled",
          filter: [{}],
          noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentVersionExpirationDays }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });
  }
}
