import { PolicyRule } from "../../rule";
import { companions } from "../../bucket-companions";

/** State holds secrets in clear text: encrypt it at rest by default. */
export const bucketEncryption: PolicyRule = {
  id: "PX-S3-ENCRYPTION",
  description: "Buckets encrypt objects by default.",
  fix: "add an aws_s3_bucket_server_side_encryption_configuration (aws:kms or AES256)",
  resourceTypes: ["aws_s3_bucket"],
  check: (r, stack) =>
    companions(r, stack, "aws_s3_bucket_server_side_encryption_configuration").length > 0
      ? undefined
      : "no default encryption configuration",
};
