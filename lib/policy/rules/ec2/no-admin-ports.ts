import { INGRESS_TYPES, coversPort, ingressRules } from "../../../tf-json";
import { PolicyRule } from "../../rule";

const ADMIN_PORTS: Record<number, string> = { 22: "SSH", 3389: "RDP" };

/** No SSH or RDP from anywhere: Session Manager replaces both. */
export const noAdminPorts: PolicyRule = {
  id: "PX-SG-NO-SSH-RDP",
  description: "No security group admits SSH (22) or RDP (3389).",
  fix: "remove the rule and connect with Session Manager",
  resourceTypes: INGRESS_TYPES,
  check: (r) => {
    const hits = ingressRules(r).flatMap((rule) =>
      Object.keys(ADMIN_PORTS)
        .map(Number)
        .filter((p) => coversPort(rule, p)),
    );
    return hits.length === 0 ? undefined : `ingress admits ${[...new Set(hits)].map((p) => `${ADMIN_PORTS[p]} (${p})`).join(" and ")}`;
  },
};
