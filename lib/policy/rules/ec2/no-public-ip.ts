import { blocks } from "../../../tf-json";
import { PolicyRule } from "../../rule";

/** Nothing gets a public address: administrators use Session Manager. */
export const noPublicIp: PolicyRule = {
  id: "PX-EC2-NO-PUBLIC-IP",
  description: "Instances and subnets give out no public IPv4 addresses.",
  fix: "leave associate_public_ip_address unset or false, and set map_public_ip_on_launch = false",
  resourceTypes: ["aws_instance", "aws_subnet", "aws_launch_template"],
  check: (r) => {
    if (r.type === "aws_subnet") return r.attrs.map_public_ip_on_launch === true ? "map_public_ip_on_launch is true" : undefined;
    if (r.type === "aws_launch_template") {
      return blocks(r.attrs.network_interfaces).some((n) => String(n.associate_public_ip_address) === "true")
        ? "a network interface has associate_public_ip_address true"
        : undefined;
    }
    return r.attrs.associate_public_ip_address === true ? "associate_public_ip_address is true" : undefined;
  },
};
