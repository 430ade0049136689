import { blocks } from "../../../tf-json";
import { PolicyRule } from "../../rule";
import { companions } from "../../bucket-companions";

/** Every state write keeps the previous version, so a bad apply can be rolled back. */
export const bucketVersioning: PolicyRule = {
  id: "PX-S3-VERSIONING",
  description: "Buckets keep versions.",
  fix: 'add an aws_s3_bucket_versioning with versioning_configuration { status = "Enabled" }',
  resourceTypes: ["aws_s3_bucket"],
  check: (r, stack) =>
    companions(r, stack, "aws_s3_bucket_versioning").some((v) => blocks(v.attrs.versioning_configuration)[0]?.status === "Enabled")
      ? undefined
      : "versioning is not enabled",
};
