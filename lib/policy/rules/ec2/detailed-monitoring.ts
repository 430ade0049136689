import { PolicyRule } from "../../rule";

/** One-minute metrics, so status checks and alarms react within minutes. */
export const detailedMonitoring: PolicyRule = {
  id: "PX-EC2-DETAILED-MONITORING",
  description: "Instances have detailed (one-minute) monitoring.",
  fix: "set monitoring = true (detailedMonitoring in the environment file)",
  resourceTypes: ["aws_instance"],
  check: (r) => (r.attrs.monitoring === true ? undefined : "monitoring is not true"),
};
