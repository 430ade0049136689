/**
 * The policy pack: every rule of lib/policy/rules checked against every resource of every stack as
 * synthesized, with a documented way to suppress a rule for one construct (and what it contains)
 * with a reason. `enforcePolicy` runs it over a whole app before anything is written and throws
 * one error listing every violation, so a violating app writes nothing. It reads each stack's
 * `toTerraform()` once; the project's stacks keep that result for app.synth() (see
 * constructs/project-stack.ts), so checking costs no second resolution.
 */
import { TerraformStack } from "cdktf";
import { Construct, IConstruct } from "constructs";
import { ResourceView, resourceViews } from "../tf-json";
import { PolicyRule, StackView } from "./rule";
import { POLICY_RULE_IDS, POLICY_RULES } from "./rules";

const SUPPRESSION = "proxy-over-peering:policy-suppression";
const MIN_REASON = 10;

/** A rule switched off for a construct and everything in it. */
export interface Suppression {
  readonly rule: string;
  readonly reason: string;
}

/**
 * Switches `rule` off for `scope` and every construct inside it. The reason is required and is
 * printed with every synthesis, so suppressions stay visible in review.
 */
export function suppressRule(scope: IConstruct, rule: string, reason: string): void {
  if (!POLICY_RULE_IDS.includes(rule)) {
    throw new Error(`suppressRule: unknown rule "${rule}" for ${scope.node.path}; the rules are ${POLICY_RULE_IDS.join(", ")}`);
  }
  if (reason.trim().length < MIN_REASON) {
    throw new Error(
      `suppressRule: the reason for suppressing ${rule} on ${scope.node.path} is "${reason}"; write why (at least ${MIN_REASON} characters)`,
    );
  }
  scope.node.addMetadata(SUPPRESSION, { rule, reason } satisfies Suppression);
}

/** A suppression as an environment file gives it: a construct path inside the stack. */
export interface PathSuppression extends Suppression {
  /** The construct's path without the stack's name, such as Proxy/Server. */
  readonly path: string;
}

/**
 * Applies suppressions that name constructs by path (policySuppressions in an environment file).
 * Throws, naming the setting, for a path that names no construct of the stack.
 */
export function suppressByPath(stack: TerraformStack, suppressions: readonly PathSuppression[], setting = "policySuppressions"): void {
  suppressions.forEach((suppression, i) => {
    const ids = suppression.path === "" ? [] : suppression.path.split("/");
    const target = ids.reduce<Construct | undefined>((node, id) => node?.node.tryFindChild(id) as Construct | undefined, stack);
    if (!target) {
      throw new Error(
        `\`${setting}[${i}].path\` = "${suppression.path}" names no construct of stack ${stack.node.id}; use a path from cdk.tf.json's //.metadata.path without the leading "${stack.node.id}/"`,
      );
    }
    suppressRule(target, suppression.rule, suppression.reason);
  });
}

/** The suppression of `rule` that applies to `node`, if any (the nearest scope's wins). */
function suppressionOf(node: IConstruct, rule: string): Suppression | undefined {
  for (const scope of [...node.node.scopes].reverse()) {
    const entry = scope.node.metadata.find((m) => m.type === SUPPRESSION && (m.data as Suppression).rule === rule);
    if (entry) return entry.data as Suppression;
  }
  return undefined;
}

/** A rule broken by a resource. */
export interface Violation {
  readonly rule: string;
  readonly path: string;
  readonly type: string;
  readonly problem: string;
  readonly fix: string;
}

/** A suppression that took effect. */
export interface AppliedSuppression extends Suppression {
  readonly path: string;
}

/** What checking found. */
export interface PolicyReport {
  readonly violations: readonly Violation[];
  readonly suppressed: readonly AppliedSuppression[];
}

/** Checks one stack's resources as synthesized against `rules`. */
export function checkStack(stack: TerraformStack, rules: readonly PolicyRule[] = POLICY_RULES): PolicyReport {
  const resources = resourceViews(stack.toTerraform());
  const byType = new Map<string, ResourceView[]>();
  for (const r of resources) byType.set(r.type, [...(byType.get(r.type) ?? []), r]);
  const view: StackView = { resourcesOf: (type) => byType.get(type) ?? [] };
  const constructs = new Map(stack.node.findAll().map((c) => [c.node.path, c]));
  const violations: Violation[] = [];
  const suppressed: AppliedSuppression[] = [];
  for (const resource of resources) {
    for (const rule of rules.filter((r) => r.resourceTypes.includes(resource.type))) {
      const problem = rule.check(resource, view);
      if (problem === undefined) continue;
      const construct = constructs.get(resource.path);
      const suppression = construct && suppressionOf(construct, rule.id);
      if (suppression) suppressed.push({ ...suppression, path: resource.path });
      else violations.push({ rule: rule.id, path: resource.path, type: resource.type, problem, fix: rule.fix });
    }
  }
  return { violations, suppressed };
}

/** Thrown when an app breaks the policy; the message lists every violation with its fix. */
export class PolicyViolationError extends Error {
  constructor(public readonly violations: readonly Violation[]) {
    super(
      `The policy pack found ${violations.length} violation(s); nothing was synthesized:\n${violations
        .map((v) => `  - ${v.rule} ${v.path} (${v.type}): ${v.problem}. Fix: ${v.fix}`)
        .join("\n")}\nA deliberate exception takes suppressRule(construct, rule, reason), or policySuppressions in the environment file.`,
    );
    this.name = "PolicyViolationError";
  }
}

/** Checks every stack of `scope`; throws on any violation, returns the suppressions that applied. */
export function enforcePolicy(scope: Construct, rules: readonly PolicyRule[] = POLICY_RULES): readonly AppliedSuppression[] {
  const stacks = scope.node.findAll().filter((c): c is TerraformStack => TerraformStack.isStack(c));
  const reports = stacks.map((stack) => checkStack(stack, rules));
  const violations = reports.flatMap((r) => r.violations);
  if (violations.length > 0) throw new PolicyViolationError(violations);
  return reports.flatMap((r) => r.suppressed);
}
