import { blocks } from "../../../tf-json";
import { PolicyRule } from "../../rule";
import { companions } from "../../bucket-companions";

/** Old versions do not pile up for ever. */
export const bucketNoncurrentExpiry: PolicyRule = {
  id: "PX-S3-NONCURRENT-EXPIRY",
  description: "Buckets expire noncurrent versions after a set time.",
  fix: "add an aws_s3_bucket_lifecycle_configuration rule with noncurrent_version_expiration { noncurrent_days = N }",
  resourceTypes: ["aws_s3_bucket"],
  check: (r, stack) => {
    const rules = companions(r, stack, "aws_s3_bucket_lifecycle_configuration").flatMap((l) => blocks(l.attrs.rule));
    const expiring = rules.some(
      (rule) => rule.status === "Enabled" && Number(blocks(rule.noncurrent_version_expiration)[0]?.noncurrent_days) > 0,
    );
    return expiring ? undefined : "no enabled lifecycle rule expires noncurrent versions";
  },
};
