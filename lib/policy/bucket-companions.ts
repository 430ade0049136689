import { ResourceView } from "../tf-json";
import { StackView } from "./rule";

/** The resources of `type` that configure `bucket` (by its id or its name). */
export function companions(bucket: ResourceView, stack: StackView, type: string): readonly ResourceView[] {
  const refs = [`\${aws_s3_bucket.${bucket.logicalId}.id}`, `\${aws_s3_bucket.${bucket.logicalId}.bucket}`, bucket.attrs.bucket].filter(
    Boolean,
  );
  return stack.resourcesOf(type).filter((c) => refs.includes(c.attrs.bucket));
}
