/**
 * The policy pack: every rule of lib/policy/rules, applied to every resource as an Aspect, with a
 * documented way to suppress a rule for one construct (and what it contains) with a reason.
 * `enforcePolicy` runs it over a whole app before anything is synthesized and throws one error
 * listing every violation, so a violating app writes nothing.
 */
import { IAspect, TerraformResource, TerraformStack } from "cdktf";
import { Construct, IConstruct } from "constructs";
import { PolicyRule, ResourceView, StackView } from "./rule";
import { amiFromParameter } from "./rules/ami-from-parameter";
import { bucketEncryption } from "./rules/bucket-encryption";
import { bucketNoncurrentExpiry } from "./rules/bucket-noncurrent-expiry";
import { bucketPreventDestroy } from "./rules/bucket-prevent-destroy";
import { bucketPublicAccessBlock } from "./rules/bucket-public-access-block";
import { bucketTlsOnly } from "./rules/bucket-tls-only";
import { bucketVersioning } from "./rules/bucket-versioning";
import { defaultSecurityGroupClosed } from "./rules/default-security-group-closed";
import { describedSecurityGroups } from "./rules/described-security-groups";
import { detailedMonitoring } from "./rules/detailed-monitoring";
import { ebsEncrypted } from "./rules/ebs-encrypted";
import { imdsv2Required } from "./rules/imdsv2-required";
import { noAdminPorts } from "./rules/no-admin-ports";
import { noPublicIp } from "./rules/no-public-ip";
import { noWorldIngress } from "./rules/no-world-ingress";
import { vpcFlowLogs } from "./rules/vpc-flow-logs";

/** Every rule of the pack. */
export const POLICY_RULES: readonly PolicyRule[] = [
  imdsv2Required,
  ebsEncrypted,
  noPublicIp,
  detailedMonitoring,
  amiFromParameter,
  noWorldIngress,
  noAdminPorts,
  describedSecurityGroups,
  defaultSecurityGroupClosed,
  vpcFlowLogs,
  bucketVersioning,
  bucketEncryption,
  bucketPublicAccessBlock,
  bucketTlsOnly,
  bucketNoncurrentExpiry,
  bucketPreventDestroy,
];

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
  if (!POLICY_RULES.some((r) => r.id === rule)) {
    throw new Error(`suppressRule: unknown rule "${rule}" for ${scope.node.path}; the rules are ${POLICY_RULES.map((r) => r.id).join(", ")}`);
  }
  if (reason.trim().length < MIN_REASON) {
    throw new Error(`suppressRule: the reason for suppressing ${rule} on ${scope.node.path} is "${reason}"; write why (at least ${MIN_REASON} characters)`);
  }
  scope.node.addMetadata(SUPPRESSION, { rule, reason } satisfies Suppression);
}

/** The suppression of `rule` that applies to `node`, if any. */
function suppressionOf(node: IConstruct, rule: string): Suppression | undefined {
  for (const scope of node.node.scopes.reverse()) {
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

/** Every resource of a stack as synthesized (references resolved), by type and logical id. */
function stackResources(stack: TerraformStack): ResourceView[] {
  const json = stack.toTerraform() as { resource?: Record<string, Record<string, any>> };
  return Object.entries(json.resource ?? {}).flatMap(([type, byId]) =>
    Object.entries(byId).map(([logicalId, attrs]) => ({ type, logicalId, path: attrs["//"]?.metadata?.path ?? logicalId, attrs })),
  );
}

/** The pack as an Aspect: visiting collects violations and applied suppressions. */
export class PolicyPack implements IAspect {
  /** Violations found so far. */
  public readonly violations: Violation[] = [];
  /** Suppressions that took effect so far. */
  public readonly suppressed: AppliedSuppression[] = [];
  private readonly stacks = new Map<TerraformStack, StackView>();

  /** Builds the pack; by default with every rule. */

  constructor(private readonly rules: readonly PolicyRule[] = POLICY_RULES) {}

  public visit(node: IConstruct): void {
    if (!(node instanceof TerraformResource)) return;
    const rules = this.rules.filter((r) => r.resourceTypes.includes(node.terraformResourceType));
    if (rules.length === 0) return;
    const stack = this.stackView(TerraformStack.of(node));
    const resource = stack.resourcesOf(node.terraformResourceType).find((r) => r.logicalId === node.friendlyUniqueId);
    if (!resource) return;
    for (const rule of rules) {
      const problem = rule.check(resource, stack);
      if (problem === undefined) continue;
      const suppression = suppressionOf(node, rule.id);
      if (suppression) this.suppressed.push({ ...suppression, path: node.node.path });
      else this.violations.push({ rule: rule.id, path: node.node.path, type: resource.type, problem, fix: rule.fix });
    }
  }

  private stackView(stack: TerraformStack): StackView {
    let cached = this.stacks.get(stack);
    if (!cached) {
      const resources = stackResources(stack);
      cached = { resourcesOf: (type) => resources.filter((r) => r.type === type) };
      this.stacks.set(stack, cached);
    }
    return cached;
  }
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

/** Runs the pack over every construct of `scope`; throws on any violation, returns the suppressions. */
export function enforcePolicy(scope: Construct, pack = new PolicyPack()): readonly AppliedSuppression[] {
  for (const node of scope.node.findAll()) pack.visit(node);
  if (pack.violations.length > 0) throw new PolicyViolationError(pack.violations);
  return pack.suppressed;
}
