import { blocks } from "../../../tf-json";
import { PolicyRule } from "../../rule";

/** A target that stopped answering gets no new connections. */
export const targetGroupHealthChecks: PolicyRule = {
  id: "PX-ELB-HEALTH-CHECK",
  description: "Target groups check their targets' health on a stated protocol and interval.",
  fix: "add health_check { enabled = true, protocol, interval, healthy_threshold, unhealthy_threshold }",
  resourceTypes: ["aws_lb_target_group", "aws_alb_target_group"],
  check: (r) => {
    const check = blocks(r.attrs.health_check)[0];
    if (!check) return "no health_check block, so the defaults decide silently";
    if (check.enabled === false) return "health_check.enabled is false";
    const missing = ["protocol", "interval", "healthy_threshold", "unhealthy_threshold"].filter((k) => check[k] === undefined);
    return missing.length === 0 ? undefined : `health_check does not state ${missing.join(", ")}`;
  },
};
