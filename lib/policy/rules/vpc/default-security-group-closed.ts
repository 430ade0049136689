import { blocks, referenceTo } from "../../../tf-json";
import { PolicyRule } from "../../rule";

/** A VPC's default security group allows nothing, so only the project's groups admit traffic. */
export const defaultSecurityGroupClosed: PolicyRule = {
  id: "PX-VPC-DEFAULT-SG-CLOSED",
  description: "The default security group of each VPC we create allows nothing.",
  fix: "add an aws_default_security_group for the VPC with no ingress and no egress blocks",
  resourceTypes: ["aws_vpc"],
  check: (r, stack) => {
    const group = stack.resourcesOf("aws_default_security_group").find((g) => g.attrs.vpc_id === referenceTo(r));
    if (!group) return "no aws_default_security_group takes over the VPC's default group, which admits all traffic among its members";
    const rules = blocks(group.attrs.ingress).length + blocks(group.attrs.egress).length;
    return rules === 0 ? undefined : `its default security group (${group.path}) keeps ${rules} rule(s)`;
  },
};
