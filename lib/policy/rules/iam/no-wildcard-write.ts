import { isReadOnlyAction } from "../../../iam";
import { PolicyRule } from "../../rule";

/** The policy types whose documents the rule reads. */
const POLICY_TYPES = ["aws_iam_role_policy", "aws_iam_policy", "aws_iam_user_policy", "aws_iam_group_policy"];

/** Write actions are scoped to the resources they are for, never to every resource of the account. */
export const iamNoWildcardWrite: PolicyRule = {
  id: "PX-IAM-NO-WILDCARD-WRITE",
  description: 'No IAM policy allows a write action on Resource "*".',
  fix: 'name the resources the write actions are for (ARNs or ARN patterns); keep "*" for Describe/Get/List only',
  resourceTypes: POLICY_TYPES,
  check: (r) => {
    let doc: any;
    try {
      doc = typeof r.attrs.policy === "string" ? JSON.parse(r.attrs.policy) : r.attrs.policy;
    } catch {
      return "its policy is not a JSON document the rule can read";
    }
    const writes = [doc?.Statement]
      .flat()
      .filter((s: any) => s?.Effect === "Allow" && [s.Resource].flat().includes("*"))
      .flatMap((s: any) => [s.Action].flat().filter((a: unknown) => typeof a === "string" && !isReadOnlyAction(a)));
    return writes.length === 0 ? undefined : `allows ${[...new Set(writes)].join(", ")} on Resource "*"`;
  },
};
