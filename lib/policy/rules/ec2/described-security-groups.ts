import { blocks } from "../../../tf-json";
import { PolicyRule } from "../../rule";

const TERRAFORM_DEFAULT = "Managed by Terraform";

/** Reviewers read why each group and rule exists. */
export const describedSecurityGroups: PolicyRule = {
  id: "PX-SG-DESCRIPTION",
  description: "Every security group and rule has a description of its own.",
  fix: "give the group and each rule a description that says what it lets through and why",
  resourceTypes: [
    "aws_security_group",
    "aws_vpc_security_group_ingress_rule",
    "aws_vpc_security_group_egress_rule",
    "aws_security_group_rule",
  ],
  check: (r) => {
    const empty = (d: unknown) => typeof d !== "string" || d.trim() === "" || d === TERRAFORM_DEFAULT;
    if (empty(r.attrs.description))
      return `no description${r.attrs.description === TERRAFORM_DEFAULT ? ` (only Terraform's default "${TERRAFORM_DEFAULT}")` : ""}`;
    if (r.type === "aws_security_group") {
      const bare = [...blocks(r.attrs.ingress), ...blocks(r.attrs.egress)].filter((rule) => empty(rule.description));
      if (bare.length > 0) return `${bare.length} inline rule(s) without a description`;
    }
    return undefined;
  },
};
