import { PolicyRule } from "../../rule";

/** A fleet survives the loss of a zone only when it spans more than one. */
export const multiZoneGroups: PolicyRule = {
  id: "PX-ASG-MULTI-AZ",
  description: "Auto Scaling groups span at least two subnets (zones).",
  fix: "list subnets of at least two availability zones in vpc_zone_identifier",
  resourceTypes: ["aws_autoscaling_group"],
  check: (r) => {
    const subnets = r.attrs.vpc_zone_identifier;
    if (!Array.isArray(subnets)) return "vpc_zone_identifier is not a list of subnets";
    return new Set(subnets).size >= 2 ? undefined : `vpc_zone_identifier lists ${new Set(subnets).size} subnet`;
  },
};
