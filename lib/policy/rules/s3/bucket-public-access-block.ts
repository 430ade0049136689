import { PolicyRule } from "../../rule";
import { companions } from "../../bucket-companions";

const SETTINGS = ["block_public_acls", "block_public_policy", "ignore_public_acls", "restrict_public_buckets"];

/** No ACL or policy can make the bucket public. */
export const bucketPublicAccessBlock: PolicyRule = {
  id: "PX-S3-PUBLIC-ACCESS-BLOCK",
  description: "Buckets block every kind of public access.",
  fix: `add an aws_s3_bucket_public_access_block with ${SETTINGS.join(", ")} all true`,
  resourceTypes: ["aws_s3_bucket"],
  check: (r, stack) => {
    const block = companions(r, stack, "aws_s3_bucket_public_access_block")[0];
    if (!block) return "no public access block";
    const off = SETTINGS.filter((s) => block.attrs[s] !== true);
    return off.length === 0 ? undefined : `${off.join(", ")} not true`;
  },
};
