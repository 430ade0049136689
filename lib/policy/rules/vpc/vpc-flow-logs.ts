import { referenceTo } from "../../../tf-json";
import { PolicyRule } from "../../rule";

/** Every VPC we create records its traffic, so "who talked to whom" has an answer. */
export const vpcFlowLogs: PolicyRule = {
  id: "PX-VPC-FLOW-LOGS",
  description: "Each VPC we create has a flow log of all traffic.",
  fix: 'add an aws_flow_log with vpc_id set to the VPC and traffic_type = "ALL"',
  resourceTypes: ["aws_vpc"],
  check: (r, stack) => {
    const logs = stack.resourcesOf("aws_flow_log").filter((f) => f.attrs.vpc_id === referenceTo(r));
    if (logs.length === 0) return "no flow log";
    return logs.some((f) => f.attrs.traffic_type === "ALL") ? undefined : `its flow log records ${logs[0].attrs.traffic_type} traffic only`;
  },
};
