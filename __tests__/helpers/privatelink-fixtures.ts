import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { LbTargetGroupAttachment } from "@cdktf/provider-aws/lib/lb-target-group-attachment";
import { VpcEndpointService } from "@cdktf/provider-aws/lib/vpc-endpoint-service";
import { Construct } from "constructs";

/** A proxy's boot script that writes a squid.conf with this http_port line, as the project's user data does. */
export const squidUserData = (httpPort: string) =>
  [
    "#!/bin/bash",
    "cat > /etc/squid/squid.conf <<'END_OF_SQUID_CONF'",
    httpPort,
    "proxy_protocol_access allow lb",
    "END_OF_SQUID_CONF",
    "",
  ].join("\n");

/** How the hand-made endpoint service is built. */
export interface EndpointServiceShape {
  /** The target group's proxy_protocol_v2. */
  readonly proxyProtocol: boolean;
  /** Squid's http_port line in the targets' user data. */
  readonly httpPort: string;
  /** Targets: an Auto Scaling group from a launch template (base64 user data), or an attached instance (plain user data). */
  readonly targets?: "group" | "instance";
  readonly principals?: string[];
}

/** An endpoint service in front of an internal NLB, its listener, target group and Squid targets. */
export function endpointService(scope: Construct, shape: EndpointServiceShape): VpcEndpointService {
  const lb = new Lb(scope, "L", { internal: true, loadBalancerType: "network", subnets: ["subnet-a", "subnet-c"] });
  const group = new LbTargetGroup(scope, "G", { port: 3128, protocol: "TCP", vpcId: "vpc-1", proxyProtocolV2: shape.proxyProtocol });
  new LbListener(scope, "Li", {
    loadBalancerArn: lb.arn,
    port: 3128,
    protocol: "TCP",
    defaultAction: [{ type: "forward", targetGroupArn: group.arn }],
  });
  if (shape.targets === "instance") {
    const proxy = new Instance(scope, "P", { ami: "ami", instanceType: "t3.micro", userData: squidUserData(shape.httpPort) });
    new LbTargetGroupAttachment(scope, "A", { targetGroupArn: group.arn, targetId: proxy.id });
  } else {
    const template = new LaunchTemplate(scope, "T", { userData: Buffer.from(squidUserData(shape.httpPort)).toString("base64") });
    new AutoscalingGroup(scope, "F", {
      minSize: 2,
      maxSize: 2,
      vpcZoneIdentifier: ["subnet-a", "subnet-c"],
      launchTemplate: { id: template.id, version: "1" },
      targetGroupArns: [group.arn],
    });
  }
  return new VpcEndpointService(scope, "S", {
    acceptanceRequired: false,
    networkLoadBalancerArns: [lb.arn],
    allowedPrincipals: shape.principals ?? ["arn:aws:iam::111122223333:root"],
  });
}
