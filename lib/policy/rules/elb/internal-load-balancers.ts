import { PolicyRule } from "../../rule";

/** The proxy is for the app VPCs, never for the internet. */
export const internalLoadBalancers: PolicyRule = {
  id: "PX-ELB-INTERNAL",
  description: "Load balancers are internal.",
  fix: "set internal = true",
  resourceTypes: ["aws_lb", "aws_alb"],
  check: (r) => (r.attrs.internal === true ? undefined : "internal is not true, so the load balancer gets public addresses"),
};
