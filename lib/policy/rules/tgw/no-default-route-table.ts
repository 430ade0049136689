import { PolicyRule } from "../../rule";

/**
 * A Transit Gateway's default route table association and propagation are off, and its
 * attachments do not use them: with them on, every new attachment joins one table and learns every
 * other VPC, so app VPCs would reach each other.
 */
export const transitGatewayNoDefaultRouteTable: PolicyRule = {
  id: "PX-TGW-NO-DEFAULT-ROUTE-TABLE",
  description:
    "Transit Gateways have default route table association and propagation off, and VPC attachments do not use the default table.",
  fix: 'set default_route_table_association and default_route_table_propagation to "disable" (attachments: transit_gateway_default_route_table_association and _propagation false), and associate each attachment with a table of its own kind',
  resourceTypes: ["aws_ec2_transit_gateway", "aws_ec2_transit_gateway_vpc_attachment"],
  check: (r) => {
    const on =
      r.type === "aws_ec2_transit_gateway"
        ? ["default_route_table_association", "default_route_table_propagation"].filter((k) => r.attrs[k] !== "disable")
        : ["transit_gateway_default_route_table_association", "transit_gateway_default_route_table_propagation"].filter(
            (k) => r.attrs[k] !== false,
          );
    // AWS turns them on when the attribute is left out.
    return on.length === 0
      ? undefined
      : `${on.join(" and ")} ${on.length === 1 ? "is" : "are"} not off (AWS's default is on): attachments would join the default table and learn each other's routes`;
  },
};
