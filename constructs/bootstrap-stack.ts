import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { LocalBackend, TerraformOutput } from "cdktf";
import { Construct } from "constructs";
import { ProjectStack } from "./project-stack";
import { StateBucket } from "./state-bucket";

/** Props of {@link BootstrapStack}. */
export interface BootstrapStackProps {
  /** The state bucket's name. */
  readonly bucketName: string;
  /** The bucket's region. */
  readonly region: string;
  /** Days after which a replaced state version is deleted. */
  readonly noncurrentVersionExpirationDays: number;
  /** The Project tag. */
  readonly project: string;
}

/**
 * The state bucket, deployed once before the environments. Its own state cannot live in the
 * bucket it creates, so it stays in a local file, terraform.<stack>.tfstate in the project folder
 * (git-ignored); README says how to keep it or move it into the bucket afterwards.
 */
export class BootstrapStack extends ProjectStack {
  /** The bucket. */
  public readonly stateBucket: StateBucket;

  constructor(scope: Construct, id: string, props: BootstrapStackProps) {
    super(scope, id);
    new LocalBackend(this, { path: `terraform.${id}.tfstate` });
    new AwsProvider(this, "aws", {
      region: props.region,
      defaultTags: [{ tags: { Project: props.project, Purpose: "terraform-state", ManagedBy: "cdktf" } }],
    });
    this.stateBucket = new StateBucket(this, "StateBucket", { bucketName: props.bucketName, noncurrentVersionExpirationDays: props.noncurrentVersionExpirationDays });
    new TerraformOutput(this, "state_bucket", { value: this.stateBucket.bucket.bucket, description: "The bucket that holds the environments' state" });
  }
}
