import { isReadOnlyAction } from "../../../iam";
import { PolicyRule } from "../../rule";

/** A statement of an IAM policy document, as far as the rule reads it. */
interface PolicyStatement {
  readonly Effect?: unknown;
  readonly Resource?: unknown;
  readonly Action?: unknown;
}

/** An IAM policy document: one statement or a list. */
interface PolicyDocument {
  readonly Statement?: PolicyStatement | readonly PolicyStatement[];
}

/** The policy types whose documents the rule reads. */
const POLICY_TYPES = ["aws_iam_role_policy", "aws_iam_policy", "aws_iam_user_policy", "aws_iam_group_policy"];

/** Write actions are scoped to the resources they are for, never to every resource of the account. */
export const iamNoWildcardWrite: PolicyRule = {
  id: "PX-IAM-NO-WILDCARD-WRITE",
  description: 'No IAM policy allows a write action on Resource "*".',
  fix: 'name the resources the write actions are for (ARNs or ARN patterns); keep "*" for Describe/Get/List only',
  resourceTypes: POLICY_TYPES,
  check: (r) => {
    let doc: PolicyDocument | undefined;
    try {
      doc = (typeof r.attrs.policy === "string" ? JSON.parse(r.attrs.policy) : r.attrs.policy) as PolicyDocument | undefined;
    } catch {
      return "its policy is not a JSON document the rule can read";
    }
    const writes = [doc?.Statement]
      .flat()
      .filter((s): s is PolicyStatement => s?.Effect === "Allow" && [s.Resource].flat().includes("*"))
      .flatMap((s) => [s.Action].flat().filter((a): a is string => typeof a === "string" && !isReadOnlyAction(a)));
    return writes.length === 0 ? undefined : `allows ${[...new Set(writes)].join(", ")} on Resource "*"`;
  },
};
