import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { isAbsolute } from "path";
import { LocalBackend, TerraformOutput } from "cdktf";
import { Construct } from "constructs";
import { PLACEHOLDER_STATE_BUCKETS } from "../lib/naming";
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
  /**
   * The absolute path of the stack's local state file. It must lie outside the synthesis output
   * (cdktf.out), which cdktf prunes: a relative path would be taken from the stack's folder there.
   */
  readonly statePath: string;
}

/**
 * The state bucket, deployed once before the environments. Its own state cannot live in the
 * bucket it creates, so it stays in a local file at `statePath` (main.ts: state/<stack>.tfstate in
 * the project folder, git-ignored); README says how to keep it or move it into the bucket.
 */
export class BootstrapStack extends ProjectStack {
  /** The bucket. */
  public readonly stateBucket: StateBucket;

  constructor(scope: Construct, id: string, props: BootstrapStackProps) {
    super(scope, id);
    if (!isAbsolute(props.statePath)) {
      throw new Error(
        `BootstrapStack ${id}: statePath "${props.statePath}" is relative, so Terraform would put the state in the stack's synthesis folder, which synthesis deletes; give an absolute path outside cdktf.out`,
      );
    }
    new LocalBackend(this, { path: props.statePath });
    new AwsProvider(this, "aws", {
      region: props.region,
      defaultTags: [{ tags: { Project: props.project, Purpose: "terraform-state", ManagedBy: "cdktf" } }],
    });
    this.stateBucket = new StateBucket(this, "StateBucket", {
      bucketName: props.bucketName,
      noncurrentVersionExpirationDays: props.noncurrentVersionExpirationDays,
      refusedNames: PLACEHOLDER_STATE_BUCKETS,
    });
    new TerraformOutput(this, "state_bucket", {
      value: this.stateBucket.bucket.bucket,
      description: "The bucket that holds the environments' state",
    });
  }
}
