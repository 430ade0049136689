import { blocks } from "../../../tf-json";
import { PolicyRule } from "../../rule";

/** A destroy of the stack cannot take the state of every environment with it. */
export const bucketPreventDestroy: PolicyRule = {
  id: "PX-S3-PREVENT-DESTROY",
  description: "Buckets are protected against destroy.",
  fix: "set lifecycle { prevent_destroy = true } on the bucket",
  resourceTypes: ["aws_s3_bucket"],
  check: (r) => (blocks(r.attrs.lifecycle)[0]?.prevent_destroy === true ? undefined : "lifecycle.prevent_destroy is not true"),
};
