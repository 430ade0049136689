import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { Testing } from "cdktf";
import { BootstrapStack } from "../constructs/bootstrap-stack";
import { PLACEHOLDER_STATE_BUCKETS, bootstrapStackName } from "../lib/naming";
import { StateBucket } from "../constructs/state-bucket";
import { stateBuckets } from "../lib/config";
import { configFrom, resourcesOf, verificationRaw } from "./helpers/stack";

describe("BootstrapStack", () => {
  const app = Testing.app();
  const stack = new BootstrapStack(app, bootstrapStackName("my.state.bucket"), {
    bucketName: "my.state.bucket",
    region: "ap-northeast-1",
    noncurrentVersionExpirationDays: 30,
    project: "p",
    statePath: "/var/lib/proxy-state/state-my-state-bucket.tfstate",
  });
  const json = Testing.synth(stack);

  it("keeps its own state in a local file, since the bucket cannot hold the state that creates it", () => {
    expect(stack.node.id).toBe("state-my-state-bucket");
    expect(JSON.parse(json).terraform.backend).toEqual({ local: { path: "/var/lib/proxy-state/state-my-state-bucket.tfstate" } });
  });

  it("creates a versioned, closed bucket that survives a destroy", () => {
    expect(json).toHaveResourceWithProperties(S3Bucket, {
      bucket: "my.state.bucket",
      lifecycle: expect.objectContaining({ prevent_destroy: true }),
    });
    expect(json).toHaveResourceWithProperties(S3BucketVersioningA, { versioning_configuration: { status: "Enabled" } });
    expect(json).toHaveResourceWithProperties(S3BucketPublicAccessBlock, {
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
  });

  it("expires noncurrent versions after the configured days", () => {
    expect(json).toHaveResourceWithProperties(S3BucketLifecycleConfiguration, {
      rule: [expect.objectContaining({ status: "Enabled", noncurrent_version_expiration: [{ noncurrent_days: 30 }] })],
    });
  });

  it("denies every request without TLS", () => {
    const policy = JSON.parse(Object.values(resourcesOf(json, "aws_s3_bucket_policy"))[0].policy);
    expect(policy.Statement).toEqual([
      expect.objectContaining({ Effect: "Deny", Principal: "*", Action: "s3:*", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    ]);
  });

  it("refuses a retention that is no whole number of days", () => {
    expect(() =>
      Testing.synthScope((s) => void new StateBucket(s, "B", { bucketName: "b-example", noncurrentVersionExpirationDays: 0 })),
    ).toThrow(/noncurrentVersionExpirationDays is 0/);
  });
});

describe("stateBuckets", () => {
  const env = (name: string, edit: (raw: any) => void = () => undefined) => {
    const raw = verificationRaw();
    raw.name = name;
    edit(raw);
    return configFrom(raw);
  };

  it("plans one bucket for environments that share it", () => {
    expect(stateBuckets([env("env-a"), env("env-b")])).toEqual([
      {
        bucket: "proxy-over-peering-tfstate-example",
        region: "ap-northeast-1",
        noncurrentVersionExpirationDays: 90,
        project: "proxy-over-peering",
        environments: ["env-a", "env-b"],
      },
    ]);
  });

  it("refuses environments that want the same bucket in two ways", () => {
    expect(() => stateBuckets([env("env-a"), env("env-b", (r) => (r.state.noncurrentVersionExpirationDays = 30))])).toThrow(
      /environment env-b: `state.noncurrentVersionExpirationDays` = 30 differs from 90 of environment env-a, which uses the same bucket/,
    );
  });
});

describe("BootstrapStack with a placeholder bucket name", () => {
  const synthBucket = (bucketName: string) => {
    const app = Testing.app();
    const stack = new BootstrapStack(app, bootstrapStackName(bucketName), {
      bucketName,
      region: "ap-northeast-1",
      noncurrentVersionExpirationDays: 30,
      project: "p",
      statePath: "/var/lib/proxy-state/x.tfstate",
    });
    const json = JSON.parse(Testing.synth(stack));
    return { json, bucket: Object.values(json.resource.aws_s3_bucket)[0] as any };
  };

  it("makes every plan fail with a message naming the setting, whichever command runs it (evaluated by Terraform)", () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "placeholder-"));
    const holds = (bucketName: string) => {
      const { json, bucket } = synthBucket(bucketName);
      expect(json.locals.state_bucket_name).toBe(bucketName);
      const [precondition] = bucket.lifecycle.precondition;
      expect(precondition.error_message).toContain(`"${bucketName}" is a placeholder`);
      expect(precondition.error_message).toContain("set state.bucket in your environment file to a name of your own");
      const expression = precondition.condition
        .replace(/^\$\{|\}$/g, "")
        .replace(/\blocal\.state_bucket_name\b/g, JSON.stringify(bucketName));
      const r = spawnSync("terraform", ["console"], {
        cwd: work,
        input: `jsonencode({ ok = ${expression} })\n`,
        encoding: "utf8",
        env: { ...process.env, TF_CLI_CONFIG_FILE: "" },
        timeout: 30_000,
      });
      if (r.status !== 0) throw new Error(`terraform console failed: ${r.stderr}`);
      return JSON.parse(JSON.parse(r.stdout.trim())).ok;
    };
    for (const placeholder of PLACEHOLDER_STATE_BUCKETS) expect(holds(placeholder)).toBe(false);
    expect(holds("my-own-state-bucket")).toBe(true);
    fs.rmSync(work, { recursive: true, force: true });
  });
});
