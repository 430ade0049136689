import { ResourceView } from "../../../tf-json";
import { loadBalancersOf, sendsProxyProtocol, squidOnTargetPort, targetGroupsOf } from "../../proxy-targets";
import { PolicyRule, StackView } from "../../rule";

/** What disagrees between one target group behind the service and its proxies' Squid, if anything. */
function disagreement(group: ResourceView, stack: StackView): string | undefined {
  const squids = squidOnTargetPort(group, stack);
  const sends = sendsProxyProtocol(group);
  const name = `target group ${group.logicalId}`;
  const port = group.attrs.port;
  const requiring = squids.filter((s) => s.requiresProxyHeader).map((s) => s.source);
  const notRequiring = squids.filter((s) => !s.requiresProxyHeader).map((s) => s.source);
  if (!sends && requiring.length > 0)
    return `${name} does not send PROXY protocol v2 (proxy_protocol_v2 is not true) but the Squid of ${requiring.join(", ")} requires the header on port ${port} (require-proxy-header): every connection through the endpoint service would be refused`;
  if (sends && notRequiring.length > 0)
    return `${name} sends PROXY protocol v2 but the Squid of ${notRequiring.join(", ")} does not require the header on port ${port}: Squid would read the header as the start of a request and refuse it`;
  return undefined;
}

/**
 * An endpoint service's load balancer and the proxies behind it agree on PROXY protocol v2: PrivateLink hides the
 * app server's address, and only the header, sent by the target group and required by Squid, gives it back.
 */
export const endpointServiceProxyProtocol: PolicyRule = {
  id: "PX-VPCE-PROXY-PROTOCOL",
  description:
    "An endpoint service's target groups send PROXY protocol v2 exactly when the Squid behind them requires the header (require-proxy-header).",
  fix: "set proxy_protocol_v2 = true on the target group and require-proxy-header (with proxy_protocol_access for the load balancer's addresses) on Squid's http_port, or neither",
  resourceTypes: ["aws_vpc_endpoint_service"],
  check: (r, stack) => {
    const groups = loadBalancersOf(r, stack).flatMap((lb) => targetGroupsOf(lb, stack));
    const problems = groups.map((g) => disagreement(g, stack)).filter((p): p is string => p !== undefined);
    return problems.length === 0 ? undefined : problems.join("; ");
  },
};
