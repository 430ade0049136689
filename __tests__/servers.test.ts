import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Testing } from "cdktf";
import { Construct } from "constructs";
import { AppServer } from "../constructs/app-server";
import { FlowLogRole } from "../constructs/flow-log-role";
import { InstanceRole } from "../constructs/instance-role";
import { Network } from "../constructs/network";
import { ProxyServer, ProxyServerProps } from "../constructs/egress/proxy-server";
import { ServiceServer } from "../constructs/service-server";
import { resourcesOf, testFlowLogs } from "./helpers/stack";

const AL2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";

function world(scope: Construct, proxyOverrides: Partial<ProxyServerProps> = {}) {
  const net = (id: string, cidr: string, endpoints = false, s3 = true) =>
    new Network(scope, id, {
      name: id.toLowerCase(),
      region: "ap-northeast-1",
      cidr,
      subnets: [{ availabilityZone: "ap-northeast-1a", cidr }],
      enableSessionManagerEndpoints: endpoints,
      enableS3Endpoint: s3,
      flowLogs: testFlowLogs(scope),
    });
  const role = new InstanceRole(scope, "Role", { name: "test-instance" });
  const app = net("App", "192.168.0.0/24", false, false);
  const batch = net("Batch", "100.64.0.0/24");
  const proxyNet = net("Proxy", "10.0.0.0/24", true);
  const serviceNet = net("Service", "172.16.0.0/24");
  const proxy = new ProxyServer(scope, "ProxyServer", {
    environment: "test",
    network: proxyNet,
    clients: [app, batch],
    destinations: [
      {
        name: "service",
        cidr: "172.16.0.0/24",
        ports: [
          { port: 80, carries: "http" },
          { port: 443, carries: "tls" },
        ],
      },
    ],
    port: 3128,
    accessLogRetentionDays: 7,
    privateIp: "10.0.0.10",
    instanceType: "t3.micro",
    amiParameter: AL2023,
    rootVolumeSizeGiB: 8,
    detailedMonitoring: true,
    role,
    ...proxyOverrides,
  });
  return { role, app, proxyNet, serviceNet, proxy };
}

/** Rules of the security group whose Name tag is `name`. */
function rulesOf(json: string, name: string) {
  const groups = resourcesOf(json, "aws_security_group");
  const id = Object.keys(groups).find((k) => groups[k].name === name)!;
  const mine = (r: any) => r.security_group_id === `\${aws_security_group.${id}.id}`;
  return {
    ingress: Object.values(resourcesOf(json, "aws_vpc_security_group_ingress_rule")).filter(mine),
    egress: Object.values(resourcesOf(json, "aws_vpc_security_group_egress_rule")).filter(mine),
  };
}

describe("ProxyServer", () => {
  const json = Testing.synthScope((scope) => void world(scope));

  it("keeps its fixed address, so a replaced proxy comes back where the app servers look", () => {
    const instance = Object.values(resourcesOf(json, "aws_instance"))[0];
    expect(instance.private_ip).toBe("10.0.0.10");
    expect(instance.vpc_security_group_ids).toEqual([
      expect.stringMatching(/^\$\{aws_security_group\.ProxyServer_\w*SecurityGroup_\w+\.id\}$/),
    ]);
  });

  it("runs Squid on Amazon Linux with the base squid.conf in its user data and the allowlist in its parameter", () => {
    const instance = Object.values(resourcesOf(json, "aws_instance"))[0];
    expect(instance.user_data).toContain("dnf install -y squid");
    const allowlist = Object.values(resourcesOf(json, "aws_ssm_parameter"))[0].value;
    expect(allowlist).toContain("acl localnet src 192.168.0.0/24\n");
    expect(allowlist).toContain("acl localnet src 100.64.0.0/24\n");
    expect(instance.user_data_replace_on_change).toBe(true);
  });

  it("accepts the proxy port from each app VPC and nothing else", () => {
    const { ingress } = rulesOf(json, "test-proxy");
    expect(ingress.map((r) => [r.cidr_ipv4, r.from_port, r.to_port, r.ip_protocol]).sort()).toEqual([
      ["100.64.0.0/24", 3128, 3128, "tcp"],
      ["192.168.0.0/24", 3128, 3128, "tcp"],
    ]);
  });

  it("sends only to the services' ports, S3 for packages and the endpoints of its VPC", () => {
    const { egress } = rulesOf(json, "test-proxy");
    expect(egress.map((r) => [r.cidr_ipv4 ?? "prefix-list", r.from_port]).sort()).toEqual([
      ["10.0.0.0/24", 443],
      ["172.16.0.0/24", 443],
      ["172.16.0.0/24", 80],
      ["prefix-list", 443],
    ]);
    expect(egress.find((r) => r.prefix_list_id)?.prefix_list_id).toMatch(/^\$\{aws_vpc_endpoint\.Proxy_S3Endpoint_\w+\.prefix_list_id\}$/);
  });

  it("describes every group and rule, and opens nothing to the world", () => {
    const rules = [
      ...Object.values(resourcesOf(json, "aws_vpc_security_group_ingress_rule")),
      ...Object.values(resourcesOf(json, "aws_vpc_security_group_egress_rule")),
    ];
    expect(rules.length).toBeGreaterThan(0);
    expect(rules.every((r) => typeof r.description === "string" && r.description.length > 0)).toBe(true);
    expect(rules.some((r) => r.cidr_ipv4 === "0.0.0.0/0" || r.cidr_ipv6 === "::/0")).toBe(false);
    expect(json).toHaveResourceWithProperties(SecurityGroup, {
      name: "test-proxy",
      description: expect.stringContaining("port 3128 from the app VPCs"),
    });
    expect(json).toHaveResource(VpcSecurityGroupIngressRule);
    expect(json).toHaveResource(VpcSecurityGroupEgressRule);
  });

  it("ships Squid's access log to a log group with the given retention, and recovers itself on a failed status check", () => {
    expect(json).toHaveResourceWithProperties(CloudwatchLogGroup, { name: "/proxy-over-peering/test/squid-access", retention_in_days: 7 });
    const instance = Object.values(resourcesOf(json, "aws_instance"))[0];
    expect(instance.user_data).toContain('"log_group_name": "/proxy-over-peering/test/squid-access"');
    expect(instance.user_data).toContain('"file_path": "/var/log/squid/access.log"');
    expect(json).toHaveResourceWithProperties(CloudwatchMetricAlarm, {
      metric_name: "StatusCheckFailed_System",
      namespace: "AWS/EC2",
      dimensions: { InstanceId: expect.stringMatching(/^\$\{aws_instance\.ProxyServer_\w+\.id\}$/) },
      alarm_actions: [
        expect.stringMatching(/^arn:\$\{data\.aws_partition\.\w+\.partition\}:automate:\$\{data\.aws_region\.\w+\.name\}:ec2:recover$/),
      ],
    });
  });

  it("refuses an address outside the proxy VPC", () => {
    expect(() => Testing.synthScope((scope) => void world(scope, { privateIp: "10.0.1.10" }))).toThrow(
      /privateIp 10\.0\.1\.10 is outside the proxy VPC 10\.0\.0\.0\/24/,
    );
  });
});

describe("every server", () => {
  const json = Testing.synthScope((scope) => {
    const { role, app, proxyNet, serviceNet, proxy } = world(scope);
    new AppServer(scope, "AppServer", {
      environment: "test",
      appName: "app",
      network: app,
      egress: proxy,
      bypass: ["<local>", "169.254.169.254"],
      instanceType: "t3.medium",
      amiParameter: "/aws/service/ami-windows-latest/x",
      rootVolumeSizeGiB: 30,
      detailedMonitoring: true,
      role,
    });
    new ServiceServer(scope, "ServiceServer", {
      environment: "test",
      network: serviceNet,
      allowedFrom: proxyNet,
      ports: [
        { port: 80, carries: "http" },
        { port: 443, carries: "tls" },
      ],
      instanceType: "t3.micro",
      amiParameter: AL2023,
      rootVolumeSizeGiB: 8,
      detailedMonitoring: true,
      role,
    });
  });

  it("requires IMDSv2, encrypts its root volume, has no public address and uses the Session Manager profile", () => {
    const instances = Object.values(resourcesOf(json, "aws_instance"));
    expect(instances).toHaveLength(3);
    for (const instance of instances) {
      expect(instance.metadata_options).toEqual({ http_endpoint: "enabled", http_tokens: "required", http_put_response_hop_limit: 1 });
      expect(instance.root_block_device).toEqual({ encrypted: true, volume_type: "gp3", volume_size: expect.any(Number) });
      expect(instance.associate_public_ip_address).toBeUndefined();
      expect(instance.monitoring).toBe(true);
      expect(instance.iam_instance_profile).toMatch(/^\$\{aws_iam_instance_profile\.Role_InstanceProfile_\w+\.name\}$/);
      expect(instance.ami).toMatch(/^\$\{data\.aws_ssm_parameter\.\w+\.value\}$/);
      expect(instance.lifecycle).toEqual({ ignore_changes: ["ami"] });
    }
    expect(json).toHaveResourceWithProperties(Instance, { instance_type: "t3.medium" });
  });

  it("reads AMI ids from the configured SSM parameters", () => {
    const names = Object.values(JSON.parse(json).data.aws_ssm_parameter)
      .map((p: any) => p.name)
      .sort();
    expect(names).toEqual([AL2023, AL2023, "/aws/service/ami-windows-latest/x"]);
  });

  it("lets the app server send only to the proxy's address and port", () => {
    const { ingress, egress } = rulesOf(json, "test-app-server");
    expect(ingress).toEqual([]);
    expect(egress.map((r) => [r.cidr_ipv4, r.from_port])).toEqual([["10.0.0.10/32", 3128]]);
    const appInstance = Object.values(resourcesOf(json, "aws_instance")).find((i) => i.user_data.startsWith("<powershell>"));
    expect(appInstance.user_data).toContain("$proxy = '10.0.0.10:3128'");
  });

  it("lets the service accept its ports from the proxy VPC only", () => {
    const { ingress } = rulesOf(json, "test-service");
    expect(ingress.map((r) => [r.cidr_ipv4, r.from_port]).sort()).toEqual([
      ["10.0.0.0/24", 443],
      ["10.0.0.0/24", 80],
    ]);
  });

  it("gives the role only the Session Manager managed policy", () => {
    const attachments = Object.values(resourcesOf(json, "aws_iam_role_policy_attachment"));
    expect(attachments.map((a) => a.policy_arn)).toEqual([
      expect.stringMatching(/^arn:\$\{data\.aws_partition\.Role_Partition_\w+\.partition\}:iam::aws:policy\/AmazonSSMManagedInstanceCore$/),
    ]);
    const roles = resourcesOf(json, "aws_iam_role");
    const trust = JSON.parse(roles[Object.keys(roles).find((k) => k.startsWith("Role_"))!].assume_role_policy);
    expect(trust.Statement).toEqual([{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }]);
  });
});

describe("FlowLogRole", () => {
  const json = Testing.synthScope(
    (scope) => void new FlowLogRole(scope, "FlowLogRole", { name: "test-flow-logs", vpcNamePrefix: "test-" }),
  );
  const role = Object.values(resourcesOf(json, "aws_iam_role"))[0];
  const policy = JSON.parse(Object.values(resourcesOf(json, "aws_iam_role_policy"))[0].policy);

  it("may be assumed by VPC Flow Logs only for flow logs of its own account", () => {
    const trust = JSON.parse(role.assume_role_policy).Statement[0];
    expect(trust.Principal).toEqual({ Service: "vpc-flow-logs.amazonaws.com" });
    expect(trust.Condition.StringEquals["aws:SourceAccount"]).toMatch(/^\$\{data\.aws_caller_identity\.\w+\.account_id\}$/);
    expect(trust.Condition.ArnLike["aws:SourceArn"]).toMatch(
      /^arn:\$\{data\.aws_partition\.\w+\.partition\}:ec2:\$\{data\.aws_region\.\w+\.name\}:\$\{data\.aws_caller_identity\.\w+\.account_id\}:vpc-flow-log\/\*$/,
    );
  });

  it("writes to and lists the streams of the environment's flow-log groups only; only listing the groups takes every resource", () => {
    const actions = (s: any): string[] => [s.Action].flat();
    const own = (s: any) => {
      expect(s.Resource).toHaveLength(2);
      for (const r of s.Resource) expect(r).toMatch(/:log-group:\/vpc-flow-logs\/test-\*(:\*)?$/);
    };
    const write = policy.Statement.find((s: any) => actions(s).includes("logs:PutLogEvents"));
    expect(actions(write).sort()).toEqual(["logs:CreateLogStream", "logs:PutLogEvents"]);
    own(write);
    const streams = policy.Statement.filter((s: any) => actions(s).includes("logs:DescribeLogStreams"));
    expect(streams).toHaveLength(1);
    own(streams[0]);
    const star = policy.Statement.filter((s: any) => [s.Resource].flat().includes("*"));
    expect(star.flatMap(actions)).toEqual(["logs:DescribeLogGroups"]);
  });
});
