/**
 * What a policy rule is: one small pure check of one kind of resource, in the style of cdk-nag.
 * Rules see resources as they will be synthesized (snake_case attributes, references resolved to
 * ${type.name.attr} text, read with lib/tf-json.ts), so that what they check is what Terraform
 * receives.
 */
import type { ResourceView } from "../tf-json";

/** The other resources of the same stack, for rules that relate resources. */
export interface StackView {
  /** The resources of one type. */
  resourcesOf(type: string): readonly ResourceView[];
}

/** One rule of the pack. */
export interface PolicyRule {
  /** A stable id, such as PX-EC2-IMDSV2, used in messages and suppressions. */
  readonly id: string;
  /** What the rule requires, in one line. */
  readonly description: string;
  /** How to comply. */
  readonly fix: string;
  /** The resource types the rule looks at. */
  readonly resourceTypes: readonly string[];
  /** Why `resource` breaks the rule, or undefined when it complies. */
  check(resource: ResourceView, stack: StackView): string | undefined;
}
