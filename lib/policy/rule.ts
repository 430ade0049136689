/**
 * What a policy rule is: one small pure check of one kind of resource, in the style of cdk-nag.
 * Rules see resources as they will be synthesized (snake_case attributes, references resolved to
 * ${type.name.attr} text), so that what they check is what Terraform receives.
 */

/** A resource as a rule sees it. */
export interface ResourceView {
  /** The Terraform resource type, such as aws_instance. */
  readonly type: string;
  /** The Terraform logical id. */
  readonly logicalId: string;
  /** The construct path, such as verification/Proxy/Server/Resource. */
  readonly path: string;
  /** The attributes as synthesized. */
  readonly attrs: Record<string, any>;
}

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

/** The ${type.name.id} text by which other resources refer to `resource`. */
export function referenceTo(resource: ResourceView, attribute = "id"): string {
  return `\${${resource.type}.${resource.logicalId}.${attribute}}`;
}

/** A Terraform list or single block as an array (nested blocks synthesize either way). */
export function blocks(value: unknown): Record<string, any>[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]) as Record<string, any>[];
}

/** Does a security group rule's port range (or protocol -1) take in `port`? */
export function coversPort(rule: Record<string, any>, port: number): boolean {
  const protocol = String(rule.ip_protocol ?? rule.protocol ?? "");
  if (protocol === "-1" || protocol.toLowerCase() === "all") return true;
  const from = Number(rule.from_port);
  const to = Number(rule.to_port ?? rule.from_port);
  return ["tcp", "6", "udp", "17"].includes(protocol.toLowerCase()) && from <= port && port <= to;
}

/** Every ingress rule of a stack's security groups, in all the forms Terraform knows. */
export function ingressRules(resource: ResourceView): Record<string, any>[] {
  switch (resource.type) {
    case "aws_vpc_security_group_ingress_rule":
      return [resource.attrs];
    case "aws_security_group_rule":
      return resource.attrs.type === "ingress" ? [resource.attrs] : [];
    case "aws_security_group":
    case "aws_default_security_group":
      return blocks(resource.attrs.ingress);
    default:
      return [];
  }
}

/** The resource types that can carry ingress rules. */
export const INGRESS_TYPES = ["aws_vpc_security_group_ingress_rule", "aws_security_group_rule", "aws_security_group", "aws_default_security_group"] as const;
