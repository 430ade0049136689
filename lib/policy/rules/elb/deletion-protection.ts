import { PolicyRule } from "../../rule";

/** Every app server reaches the service through the load balancer: it is not deleted by accident. */
export const loadBalancerDeletionProtection: PolicyRule = {
  id: "PX-ELB-DELETION-PROTECTION",
  description: "Load balancers have deletion protection.",
  fix: "set enable_deletion_protection = true (proxy.fleet.deletionProtection in the environment file)",
  resourceTypes: ["aws_lb", "aws_alb"],
  check: (r) =>
    r.attrs.enable_deletion_protection === true
      ? undefined
      : "enable_deletion_protection is not true, so a destroy or a replacement deletes the load balancer and cuts off every client behind it",
};
