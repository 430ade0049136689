import { blocks } from "../../../tf-json";
import { PolicyRule } from "../../rule";

/** One-minute metrics, so status checks and alarms react within minutes. */
export const detailedMonitoring: PolicyRule = {
  id: "PX-EC2-DETAILED-MONITORING",
  description: "Instances have detailed (one-minute) monitoring.",
  fix: "set monitoring = true (detailedMonitoring in the environment file)",
  resourceTypes: ["aws_instance", "aws_launch_template"],
  check: (r) => {
    const on = r.type === "aws_launch_template" ? blocks(r.attrs.monitoring)[0]?.enabled === true : r.attrs.monitoring === true;
    return on ? undefined : r.type === "aws_launch_template" ? "monitoring.enabled is not true" : "monitoring is not true";
  },
};
