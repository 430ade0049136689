import * as os from "os";
import * as path from "path";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { EbsVolume } from "@cdktf/provider-aws/lib/ebs-volume";
import { Ec2TransitGateway } from "@cdktf/provider-aws/lib/ec2-transit-gateway";
import { Ec2TransitGatewayVpcAttachment } from "@cdktf/provider-aws/lib/ec2-transit-gateway-vpc-attachment";
import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { LaunchTemplate, LaunchTemplateConfig } from "@cdktf/provider-aws/lib/launch-template";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { Instance, InstanceConfig } from "@cdktf/provider-aws/lib/instance";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SecurityGroupRule } from "@cdktf/provider-aws/lib/security-group-rule";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { TerraformStack, Testing } from "cdktf";
import { Construct } from "constructs";
import { BootstrapStack } from "../constructs/bootstrap-stack";
import { EnvironmentStack } from "../constructs/environment-stack";
import { StateBucket } from "../constructs/state-bucket";
import { checkStack, enforcePolicy, suppressRule } from "../lib/policy/pack";
import { POLICY_RULES } from "../lib/policy/rules";
import { PolicyRule } from "../lib/policy/rule";
import { endpointService } from "./helpers/privatelink-fixtures";
import { configFrom, localBackend, verificationConfig, verificationRaw } from "./helpers/stack";

function rule(id: string): PolicyRule {
  const found = POLICY_RULES.find((r) => r.id === id);
  if (!found) throw new Error(`no rule ${id}`);
  return found;
}

/** The problems that one rule finds in what `build` creates in a fresh stack. */
function problems(id: string, build: (scope: Construct) => void): string[] {
  const stack = new TerraformStack(Testing.app(), "s");
  build(stack);
  return checkStack(stack, [rule(id)]).violations.map((v) => v.problem);
}

const instance = (scope: Construct, extra: Partial<InstanceConfig> = {}) =>
  new Instance(scope, "I", {
    ami: "${data.aws_ssm_parameter.ami.value}",
    instanceType: "t3.micro",
    metadataOptions: { httpTokens: "required" },
    rootBlockDevice: { encrypted: true },
    monitoring: true,
    ...extra,
  });

const template = (scope: Construct, extra: Partial<LaunchTemplateConfig> = {}) =>
  new LaunchTemplate(scope, "T", {
    imageId: "${data.aws_ssm_parameter.ami.value}",
    metadataOptions: { httpTokens: "required" },
    blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "true", volumeType: "gp3" } }],
    monitoring: { enabled: true },
    ...extra,
  });

function vpcWith(scope: Construct, extras: { defaultGroup?: "closed" | "open" | "none"; flowLog?: "ALL" | "REJECT" | "none" }) {
  const vpc = new Vpc(scope, "V", { cidrBlock: "10.0.0.0/24" });
  if (extras.defaultGroup !== "none") {
    new DefaultSecurityGroup(scope, "D", {
      vpcId: vpc.id,
      ingress: extras.defaultGroup === "open" ? [{ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["10.0.0.0/24"] }] : undefined,
    });
  }
  if (extras.flowLog !== "none")
    new FlowLog(scope, "F", { vpcId: vpc.id, trafficType: extras.flowLog ?? "ALL", logDestination: "arn:aws:logs:x" });
}

describe("every rule has a compliant and a non-compliant case", () => {
  const cases: [string, (s: Construct) => void, (s: Construct) => void, RegExp][] = [
    [
      "PX-EC2-IMDSV2",
      (s) => void instance(s),
      (s) => void instance(s, { metadataOptions: { httpTokens: "optional" } }),
      /http_tokens is "optional"/,
    ],
    [
      "PX-EC2-EBS-ENCRYPTED",
      (s) => void instance(s),
      (s) => void instance(s, { rootBlockDevice: { encrypted: false } }),
      /root_block_device not encrypted/,
    ],
    [
      "PX-EC2-EBS-ENCRYPTED",
      (s) => void new EbsVolume(s, "E", { availabilityZone: "a", size: 8, encrypted: true }),
      (s) => void new EbsVolume(s, "E", { availabilityZone: "a", size: 8 }),
      /the volume is not encrypted/,
    ],
    [
      "PX-EC2-NO-PUBLIC-IP",
      (s) => void instance(s),
      (s) => void instance(s, { associatePublicIpAddress: true }),
      /associate_public_ip_address is true/,
    ],
    [
      "PX-EC2-NO-PUBLIC-IP",
      (s) => void new Subnet(s, "S", { vpcId: "v", cidrBlock: "10.0.0.0/24" }),
      (s) => void new Subnet(s, "S", { vpcId: "v", cidrBlock: "10.0.0.0/24", mapPublicIpOnLaunch: true }),
      /map_public_ip_on_launch is true/,
    ],
    ["PX-EC2-DETAILED-MONITORING", (s) => void instance(s), (s) => void instance(s, { monitoring: false }), /monitoring is not true/],
    [
      "PX-EC2-NO-HARDCODED-AMI",
      (s) => void instance(s),
      (s) => void instance(s, { ami: "ami-0123456789abcdef0" }),
      /AMI id ami-0123456789abcdef0 is written into the code/,
    ],
    [
      "PX-SG-NO-WORLD-INGRESS",
      (s) =>
        void new VpcSecurityGroupIngressRule(s, "R", {
          securityGroupId: "sg",
          ipProtocol: "tcp",
          fromPort: 3128,
          toPort: 3128,
          cidrIpv4: "192.168.0.0/24",
          description: "x",
        }),
      (s) =>
        void new VpcSecurityGroupIngressRule(s, "R", {
          securityGroupId: "sg",
          ipProtocol: "tcp",
          fromPort: 3128,
          toPort: 3128,
          cidrIpv4: "0.0.0.0/0",
          description: "x",
        }),
      /ingress from 0\.0\.0\.0\/0/,
    ],
    [
      "PX-SG-NO-WORLD-INGRESS",
      (s) =>
        void new SecurityGroupRule(s, "R", {
          type: "egress",
          securityGroupId: "sg",
          protocol: "tcp",
          fromPort: 443,
          toPort: 443,
          ipv6CidrBlocks: ["::/0"],
        }),
      (s) =>
        void new SecurityGroupRule(s, "R", {
          type: "ingress",
          securityGroupId: "sg",
          protocol: "tcp",
          fromPort: 443,
          toPort: 443,
          ipv6CidrBlocks: ["::/0"],
        }),
      /ingress from ::\/0/,
    ],
    [
      "PX-SG-NO-SSH-RDP",
      (s) =>
        void new VpcSecurityGroupIngressRule(s, "R", {
          securityGroupId: "sg",
          ipProtocol: "tcp",
          fromPort: 80,
          toPort: 80,
          cidrIpv4: "10.0.0.0/24",
        }),
      (s) =>
        void new SecurityGroup(s, "G", {
          description: "x",
          ingress: [{ protocol: "tcp", fromPort: 20, toPort: 3400, cidrBlocks: ["10.0.0.0/24"], description: "y" }],
        }),
      /admits SSH \(22\) and RDP \(3389\)/,
    ],
    [
      "PX-SG-DESCRIPTION",
      (s) => void new SecurityGroup(s, "G", { description: "Squid from the app VPC" }),
      (s) => void new SecurityGroup(s, "G", {}),
      /no description/,
    ],
    [
      "PX-SG-DESCRIPTION",
      (s) =>
        void new VpcSecurityGroupIngressRule(s, "R", {
          securityGroupId: "sg",
          ipProtocol: "tcp",
          fromPort: 80,
          toPort: 80,
          cidrIpv4: "10.0.0.0/24",
          description: "HTTP from the proxy",
        }),
      (s) =>
        void new VpcSecurityGroupIngressRule(s, "R", {
          securityGroupId: "sg",
          ipProtocol: "tcp",
          fromPort: 80,
          toPort: 80,
          cidrIpv4: "10.0.0.0/24",
        }),
      /no description/,
    ],
    ["PX-VPC-DEFAULT-SG-CLOSED", (s) => vpcWith(s, {}), (s) => vpcWith(s, { defaultGroup: "none" }), /no aws_default_security_group/],
    ["PX-VPC-DEFAULT-SG-CLOSED", (s) => vpcWith(s, {}), (s) => vpcWith(s, { defaultGroup: "open" }), /keeps 1 rule/],
    ["PX-VPC-FLOW-LOGS", (s) => vpcWith(s, {}), (s) => vpcWith(s, { flowLog: "none" }), /no flow log/],
    ["PX-VPC-FLOW-LOGS", (s) => vpcWith(s, {}), (s) => vpcWith(s, { flowLog: "REJECT" }), /records REJECT traffic only/],
    [
      "PX-IAM-NO-WILDCARD-WRITE",
      (s) =>
        void new IamRolePolicy(s, "P", {
          role: "r",
          policy: JSON.stringify({
            Statement: [
              { Effect: "Allow", Action: ["logs:PutLogEvents"], Resource: "arn:aws:logs:*:*:log-group:/vpc-flow-logs/x-*" },
              { Effect: "Allow", Action: "logs:DescribeLogGroups", Resource: "*" },
            ],
          }),
        }),
      (s) =>
        void new IamRolePolicy(s, "P", {
          role: "r",
          policy: JSON.stringify({
            Statement: [{ Effect: "Allow", Action: ["logs:PutLogEvents", "logs:DescribeLogGroups"], Resource: "*" }],
          }),
        }),
      /allows logs:PutLogEvents on Resource "\*"/,
    ],
    [
      "PX-LOGS-RETENTION",
      (s) => void new CloudwatchLogGroup(s, "L", { name: "l", retentionInDays: 365 }),
      (s) => void new CloudwatchLogGroup(s, "L", { name: "l", retentionInDays: 90 }),
      /retention_in_days is 90/,
    ],
    [
      "PX-EC2-IMDSV2",
      (s) => void template(s),
      (s) => void template(s, { metadataOptions: { httpTokens: "optional" } }),
      /http_tokens is "optional"/,
    ],
    [
      "PX-EC2-EBS-ENCRYPTED",
      (s) => void template(s),
      (s) => void template(s, { blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "false" } }] }),
      /ebs volume that is not encrypted/,
    ],
    [
      "PX-EC2-EBS-ENCRYPTED",
      (s) => void template(s),
      (s) => void template(s, { blockDeviceMappings: undefined }),
      /no block_device_mappings/,
    ],
    [
      "PX-EC2-DETAILED-MONITORING",
      (s) => void template(s),
      (s) => void template(s, { monitoring: { enabled: false } }),
      /monitoring\.enabled is not true/,
    ],
    [
      "PX-EC2-NO-PUBLIC-IP",
      (s) => void template(s),
      (s) => void template(s, { networkInterfaces: [{ associatePublicIpAddress: "true", deviceIndex: 0 }] }),
      /associate_public_ip_address true/,
    ],
    [
      "PX-ELB-INTERNAL",
      (s) => void new Lb(s, "L", { internal: true, loadBalancerType: "network" }),
      (s) => void new Lb(s, "L", { loadBalancerType: "network" }),
      /internal is not true/,
    ],
    [
      "PX-ELB-DELETION-PROTECTION",
      (s) => void new Lb(s, "L", { internal: true, loadBalancerType: "network", enableDeletionProtection: true }),
      (s) => void new Lb(s, "L", { internal: true, loadBalancerType: "network" }),
      /enable_deletion_protection is not true, so a destroy or a replacement deletes the load balancer/,
    ],
    [
      "PX-ELB-HEALTH-CHECK",
      (s) =>
        void new LbTargetGroup(s, "G", {
          port: 3128,
          protocol: "TCP",
          healthCheck: { enabled: true, protocol: "TCP", interval: 10, healthyThreshold: 2, unhealthyThreshold: 2 },
        }),
      (s) => void new LbTargetGroup(s, "G", { port: 3128, protocol: "TCP" }),
      /no health_check block/,
    ],
    [
      "PX-ELB-HEALTH-CHECK",
      (s) =>
        void new LbTargetGroup(s, "G", {
          port: 3128,
          protocol: "TCP",
          healthCheck: { enabled: true, protocol: "TCP", interval: 10, healthyThreshold: 2, unhealthyThreshold: 2 },
        }),
      (s) => void new LbTargetGroup(s, "G", { port: 3128, protocol: "TCP", healthCheck: { enabled: false } }),
      /health_check\.enabled is false/,
    ],
    [
      "PX-TGW-NO-DEFAULT-ROUTE-TABLE",
      (s) => void new Ec2TransitGateway(s, "T", { defaultRouteTableAssociation: "disable", defaultRouteTablePropagation: "disable" }),
      (s) => void new Ec2TransitGateway(s, "T", { defaultRouteTableAssociation: "disable" }),
      /default_route_table_propagation is not off \(AWS's default is on\)/,
    ],
    [
      "PX-TGW-NO-DEFAULT-ROUTE-TABLE",
      (s) =>
        void new Ec2TransitGatewayVpcAttachment(s, "A", {
          transitGatewayId: "tgw-1",
          vpcId: "vpc-1",
          subnetIds: ["subnet-1"],
          transitGatewayDefaultRouteTableAssociation: false,
          transitGatewayDefaultRouteTablePropagation: false,
        }),
      (s) => void new Ec2TransitGatewayVpcAttachment(s, "A", { transitGatewayId: "tgw-1", vpcId: "vpc-1", subnetIds: ["subnet-1"] }),
      /transit_gateway_default_route_table_association and transit_gateway_default_route_table_propagation are not off/,
    ],
    [
      "PX-TGW-NO-AUTO-ACCEPT",
      (s) => void new Ec2TransitGateway(s, "T", { autoAcceptSharedAttachments: "disable" }),
      (s) => void new Ec2TransitGateway(s, "T", { autoAcceptSharedAttachments: "enable" }),
      /auto_accept_shared_attachments is enable/,
    ],
    [
      "PX-VPCE-NO-WILDCARD-PRINCIPAL",
      (s) => void endpointService(s, { proxyProtocol: true, httpPort: "http_port 3128 require-proxy-header" }),
      (s) => void endpointService(s, { proxyProtocol: true, httpPort: "http_port 3128 require-proxy-header", principals: ["*"] }),
      /allowed_principals lists "\*": any AWS account could create an endpoint to the proxy and use it at once/,
    ],
    [
      "PX-VPCE-PROXY-PROTOCOL",
      (s) => void endpointService(s, { proxyProtocol: true, httpPort: "http_port 3128 require-proxy-header" }),
      (s) => void endpointService(s, { proxyProtocol: false, httpPort: "http_port 3128 require-proxy-header" }),
      /target group G does not send PROXY protocol v2 .* but the Squid of aws_launch_template\.T requires the header on port 3128/,
    ],
    [
      "PX-ASG-MULTI-AZ",
      (s) => void new AutoscalingGroup(s, "A", { minSize: 2, maxSize: 2, vpcZoneIdentifier: ["subnet-a", "subnet-c"] }),
      (s) => void new AutoscalingGroup(s, "A", { minSize: 2, maxSize: 2, vpcZoneIdentifier: ["subnet-a"] }),
      /vpc_zone_identifier lists 1 subnet/,
    ],
    ...(
      [
        ["PX-S3-VERSIONING", /versioning is not enabled/],
        ["PX-S3-ENCRYPTION", /no default encryption/],
        ["PX-S3-PUBLIC-ACCESS-BLOCK", /no public access block/],
        ["PX-S3-TLS-ONLY", /no bucket policy denies requests without TLS/],
        ["PX-S3-NONCURRENT-EXPIRY", /no enabled lifecycle rule/],
        ["PX-S3-PREVENT-DESTROY", /prevent_destroy is not true/],
      ] as const
    ).map(
      ([id, message]) =>
        [
          id,
          (s: Construct) => void new StateBucket(s, "B", { bucketName: "state-bucket-example", noncurrentVersionExpirationDays: 30 }),
          (s: Construct) => void new S3Bucket(s, "B", { bucket: "plain-bucket-example" }),
          message,
        ] as [string, (s: Construct) => void, (s: Construct) => void, RegExp],
    ),
  ];

  it("covers every rule of the pack", () => {
    expect(new Set(cases.map(([id]) => id))).toEqual(new Set(POLICY_RULES.map((r) => r.id)));
  });

  it.each(cases)("%s: compliant passes, non-compliant is named", (id, compliant, nonCompliant, message) => {
    expect(problems(id, compliant)).toEqual([]);
    expect(problems(id, nonCompliant)).toEqual([expect.stringMatching(message)]);
  });
});

describe("the project's own stacks", () => {
  it("comply with every rule, without suppressions", () => {
    const app = Testing.app();
    new EnvironmentStack(app, "verification", { config: verificationConfig(), stateBackend: localBackend });
    new BootstrapStack(app, "state", {
      bucketName: "proxy-over-peering-tfstate-example",
      region: "ap-northeast-1",
      noncurrentVersionExpirationDays: 90,
      project: "p",
      statePath: path.join(os.tmpdir(), "state.tfstate"),
    });
    expect(enforcePolicy(app)).toEqual([]);
  });
});

describe("violations and suppressions", () => {
  const failing = () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, "s");
    instance(stack, { monitoring: false, metadataOptions: { httpTokens: "optional" } });
    return { app, stack };
  };

  it("lists every violation with the rule, the resource and the fix", () => {
    expect(() => enforcePolicy(failing().app)).toThrow(
      /2 violation\(s\); nothing was synthesized:\n {2}- PX-EC2-IMDSV2 s\/I \(aws_instance\): .*Fix: set metadata_options \{ http_tokens = "required" \}\n {2}- PX-EC2-DETAILED-MONITORING s\/I/,
    );
  });

  it("lets a construct suppress a rule with a reason, and reports the suppression", () => {
    const { app, stack } = failing();
    suppressRule(stack, "PX-EC2-IMDSV2", "a legacy agent needs IMDSv1 until it is upgraded");
    suppressRule(stack.node.findChild("I"), "PX-EC2-DETAILED-MONITORING", "basic monitoring is enough here");
    expect(enforcePolicy(app)).toEqual([
      { rule: "PX-EC2-IMDSV2", reason: "a legacy agent needs IMDSv1 until it is upgraded", path: "s/I" },
      { rule: "PX-EC2-DETAILED-MONITORING", reason: "basic monitoring is enough here", path: "s/I" },
    ]);
  });

  it("refuses a suppression without a real reason or of an unknown rule", () => {
    const { stack } = failing();
    expect(() => suppressRule(stack, "PX-EC2-IMDSV2", "because")).toThrow(/write why \(at least 10 characters\)/);
    expect(() => suppressRule(stack, "PX-NOPE", "a reason that is long")).toThrow(/unknown rule "PX-NOPE"/);
  });

  it("takes suppressions from the environment file, by construct path", () => {
    const raw = verificationRaw();
    raw.proxy.detailedMonitoring = false;
    raw.policySuppressions = [{ rule: "PX-EC2-DETAILED-MONITORING", path: "Proxy", reason: "basic monitoring is enough for a test proxy" }];
    const app = Testing.app();
    new EnvironmentStack(app, "verification", { config: configFrom(raw), stateBackend: localBackend });
    expect(enforcePolicy(app)).toEqual([
      {
        rule: "PX-EC2-DETAILED-MONITORING",
        reason: "basic monitoring is enough for a test proxy",
        path: "verification/Proxy/Server/Resource",
      },
    ]);
  });

  it("names a suppression path that matches no construct", () => {
    const raw = verificationRaw();
    raw.policySuppressions = [{ rule: "PX-EC2-DETAILED-MONITORING", path: "Proxi", reason: "basic monitoring is enough" }];
    expect(() => new EnvironmentStack(Testing.app(), "verification", { config: configFrom(raw), stateBackend: localBackend })).toThrow(
      /`policySuppressions\[0\].path` = "Proxi" names no construct of stack verification/,
    );
  });
});
