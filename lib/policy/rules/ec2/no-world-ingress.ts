import { INGRESS_TYPES, ingressRules } from "../../../tf-json";
import { PolicyRule } from "../../rule";

const WORLD = ["0.0.0.0/0", "::/0"];

/** Nothing is open to the whole internet. */
export const noWorldIngress: PolicyRule = {
  id: "PX-SG-NO-WORLD-INGRESS",
  description: "No security group admits 0.0.0.0/0 or ::/0.",
  fix: "admit the client CIDRs or security groups that need the port",
  resourceTypes: INGRESS_TYPES,
  check: (r) => {
    const open = ingressRules(r)
      .flatMap((rule) => [
        rule.cidr_ipv4,
        rule.cidr_ipv6,
        ...((rule.cidr_blocks ?? []) as unknown[]),
        ...((rule.ipv6_cidr_blocks ?? []) as unknown[]),
      ])
      .filter((c): c is string => typeof c === "string" && WORLD.includes(c));
    return open.length === 0 ? undefined : `ingress from ${[...new Set(open)].join(" and ")}`;
  },
};
