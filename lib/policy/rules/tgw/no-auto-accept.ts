import { PolicyRule } from "../../rule";

/** A Transit Gateway does not accept attachments from accounts it is shared with by itself. */
export const transitGatewayNoAutoAccept: PolicyRule = {
  id: "PX-TGW-NO-AUTO-ACCEPT",
  description: "Transit Gateways do not accept shared attachments automatically.",
  fix: 'set auto_accept_shared_attachments to "disable" (the default) and accept each attachment on purpose',
  resourceTypes: ["aws_ec2_transit_gateway"],
  check: (r) =>
    r.attrs.auto_accept_shared_attachments === "enable"
      ? "auto_accept_shared_attachments is enable: any account the gateway is shared with could attach a VPC and reach the proxy VPC without review"
      : undefined,
};
