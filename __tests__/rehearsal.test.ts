import * as fs from "fs";
import * as path from "path";
import { squidPolicyOf } from "../lib/allowlist-sync";
import { AMAZON_LINUX_2023_PARAMETER, EnvironmentConfig } from "../lib/config";
import { allowlistParameterName } from "../lib/naming";
import { renderAllowlist } from "../lib/squid";
import {
  allowlistChange,
  allowlistPlanProblems,
  allowlistReadbackProblems,
  classifyDrift,
  deploymentProblems,
  EmulatorInventory,
  emulatorEnvironment,
  leftovers,
  otherInstanceType,
  PlannedChange,
  proxyInstanceIds,
  rollingChangeProblems,
} from "../proof/rehearsal";
import { configFrom, verificationConfig, verificationRaw } from "./helpers/stack";

/** What a proxy's user data holds of its allowlist: Squid, the include of the allowlist file, the fetch of its parameter. */
const proxyUserData = (env: string) =>
  `dnf install -y squid\ninclude /etc/squid/allowlist.conf\naws ssm get-parameter --name '/proxy-over-peering/${env}/squid-allowlist'\n`;

/** The allowlist parameter as SSM reads it back after a deploy of `env`. */
const parameterOf = (env: EnvironmentConfig, version = 1) => ({
  name: allowlistParameterName(env.name),
  value: renderAllowlist(squidPolicyOf(env)),
  version,
});

/** The VPCs of environment `env` as the emulator lists them: the proxy VPC, the service side and the app VPCs (id "vpc-<name>"). */
const vpcsOf = (env: string, apps: Record<string, string>) => [
  ...Object.entries(apps).map(([id, cidr]) => ({ id, cidr, name: `${env}-${id.slice("vpc-".length)}` })),
  { id: "vpc-proxy", cidr: "10.0.0.0/24", name: `${env}-proxy` },
  { id: "vpc-svc", cidr: "172.16.0.0/24", name: `${env}-service` },
];

/** The inventory of a correct deployment of the verification environment. */
function goodInventory(): EmulatorInventory {
  const squid = proxyUserData("verification");
  const instance = (id: string, name: string, privateIp: string, userData: string) => ({
    id,
    name,
    state: "running",
    privateIp,
    httpTokens: "required",
    userData,
    securityGroups: ["sg-1"],
  });
  return {
    vpcs: vpcsOf("verification", { "vpc-app": "192.168.0.0/24" }),
    peerings: [
      { id: "pcx-app", status: "active", requesterVpcId: "vpc-app", accepterVpcId: "vpc-proxy" },
      { id: "pcx-svc", status: "active", requesterVpcId: "vpc-proxy", accepterVpcId: "vpc-svc" },
    ],
    routes: [
      { vpcId: "vpc-app", destination: "10.0.0.0/24", peering: "pcx-app" },
      { vpcId: "vpc-proxy", destination: "192.168.0.0/24", peering: "pcx-app" },
      { vpcId: "vpc-proxy", destination: "172.16.0.0/24", peering: "pcx-svc" },
      { vpcId: "vpc-svc", destination: "10.0.0.0/24", peering: "pcx-svc" },
    ],
    instances: [
      instance("i-proxy", "verification-proxy", "10.0.0.10", squid),
      instance("i-app", "verification-app-server", "192.168.0.4", "$proxy = '10.0.0.10:3128'"),
      instance("i-svc", "verification-service", "172.16.0.10", "dnf install -y httpd"),
    ],
    subnets: [
      { id: "subnet-r1", vpcId: "vpc-proxy", cidr: "10.0.0.128/28", zone: "ap-northeast-1a" },
      { id: "subnet-r2", vpcId: "vpc-proxy", cidr: "10.0.0.144/28", zone: "ap-northeast-1c" },
    ],
    resolverEndpoints: [
      {
        id: "rslvr-out-1",
        direction: "OUTBOUND",
        status: "OPERATIONAL",
        securityGroups: ["sg-resolver"],
        addresses: [
          { subnetId: "subnet-r1", ip: "10.0.0.132" },
          { subnetId: "subnet-r2", ip: "10.0.0.148" },
        ],
      },
    ],
    resolverRules: [
      {
        id: "rslvr-rr-1",
        domain: "service.example",
        type: "FORWARD",
        endpointId: "rslvr-out-1",
        targets: [{ ip: "172.16.0.10", port: 53 }],
      },
    ],
    resolverRuleAssociations: [{ id: "rslvr-rrassoc-1", ruleId: "rslvr-rr-1", vpcId: "vpc-proxy" }],
    securityGroups: [{ id: "sg-resolver", name: "verification-proxy-resolver", vpcId: "vpc-proxy" }],
    vpcEndpoints: [],
    networkInterfaces: [],
    iamRoles: [],
    instanceProfiles: [],
    logGroups: ["/vpc-flow-logs/verification-proxy", "/proxy-over-peering/verification/squid-access"],
    alarms: ["verification-proxy-auto-recover"],
    flowLogs: ["fl-1", "fl-2", "fl-3"],
    allowlistParameter: parameterOf(verificationConfig()),
  };
}

/** What an environment without DNS forwarding leaves of goodInventory's resolver parts: nothing. */
const NO_DNS = { resolverEndpoints: [], resolverRules: [], resolverRuleAssociations: [], securityGroups: [] };

const outputs = {
  proxy_address: "10.0.0.10",
  proxy_url: "http://10.0.0.10:3128",
  service_url: "http://172.16.0.10:80/",
  resolver_endpoint_id: "rslvr-out-1",
  peering_app_id: "pcx-app",
  service_peering_id: "pcx-svc",
  app_server_app_id: "i-app",
};

describe("deploymentProblems", () => {
  const env = verificationConfig();

  it("finds nothing wrong with a deployment as designed", () => {
    expect(deploymentProblems(env, outputs, goodInventory())).toEqual([]);
  });

  it("notices DNS forwarding that differs from the design: a rule to another server, no association, an endpoint in one zone, one too many rules", () => {
    const inv = goodInventory();
    inv.resolverRules![0].targets[0].ip = "172.16.0.53";
    expect(deploymentProblems(env, outputs, inv)).toEqual([
      "resolver rule for service.example forwards to 172.16.0.53:53, expected 172.16.0.10:53",
    ]);
    const unassociated = { ...goodInventory(), resolverRuleAssociations: [] };
    expect(deploymentProblems(env, outputs, unassociated)).toEqual([
      "resolver rule for service.example is associated with no VPC, expected the proxy VPC vpc-proxy alone",
    ]);
    const oneZone = goodInventory();
    (oneZone.subnets as unknown as { zone: string }[])[1].zone = "ap-northeast-1a";
    expect(deploymentProblems(env, outputs, oneZone)).toEqual(["resolver endpoint rslvr-out-1 sits in fewer than two zones"]);
    const extra = goodInventory();
    (extra.resolverRules as unknown[]).push({
      id: "rslvr-rr-2",
      domain: "other.example",
      type: "FORWARD",
      endpointId: "rslvr-out-1",
      targets: [],
    });
    expect(deploymentProblems(env, outputs, extra)).toEqual(["2 resolver rules, expected 1"]);
    expect(deploymentProblems(env, { ...outputs, resolver_endpoint_id: "rslvr-out-9" }, goodInventory())).toEqual([
      "output resolver_endpoint_id is rslvr-out-9, which is no resolver endpoint (there are rslvr-out-1)",
    ]);
  });

  it("notices a missing direction of a peering's routes", () => {
    const inv = goodInventory();
    (inv.routes as any[]).splice(1, 1);
    expect(deploymentProblems(env, outputs, inv)).toEqual(["no route in verification-proxy to 192.168.0.0/24 via pcx-app"]);
  });

  it("notices a transitive route from the app VPC to the service side", () => {
    const inv = goodInventory();
    (inv.routes as any[]).push({ vpcId: "vpc-app", destination: "172.16.0.0/24", peering: "pcx-app" });
    expect(deploymentProblems(env, outputs, inv)).toEqual([expect.stringMatching(/app VPC app has a route to the service side/)]);
  });

  it("notices a pending peering, IMDSv1, a public address and outputs that do not match", () => {
    const inv = goodInventory();
    (inv.peerings as any[])[1].status = "pending-acceptance";
    (inv.instances as any[])[2].httpTokens = "optional";
    (inv.instances as any[])[1].publicIp = "203.0.113.9";
    const problems = deploymentProblems(env, { ...outputs, service_url: "http://172.16.0.99:80/" }, inv);
    expect(problems).toEqual(
      expect.arrayContaining([
        "peering pcx-svc between verification-proxy and verification-service is pending-acceptance, not active",
        "instance verification-service allows IMDSv1 (http_tokens optional)",
        "instance verification-app-server has a public address 203.0.113.9",
        "output service_url is http://172.16.0.99:80/, but the service runs at 172.16.0.10",
      ]),
    );
  });

  it("notices missing flow logs, access log group and recovery alarm", () => {
    const problems = deploymentProblems(env, outputs, { ...goodInventory(), logGroups: [], alarms: [], flowLogs: ["fl-1"] });
    expect(problems).toEqual([
      "1 flow logs, expected one for each of the 3 VPCs",
      "no log group /proxy-over-peering/verification/squid-access for Squid's access log",
      "no alarm verification-proxy-auto-recover",
    ]);
  });

  it("notices a proxy whose user data neither includes the allowlist file nor fetches the parameter", () => {
    const inv = goodInventory();
    (inv.instances as any[])[0].userData = "dnf install -y squid\nacl localnet src 192.168.0.0/24\n";
    expect(deploymentProblems(env, outputs, inv)).toEqual([
      "the user data of proxy i-proxy lacks the line include /etc/squid/allowlist.conf",
      "the user data of proxy i-proxy does not fetch the allowlist parameter /proxy-over-peering/verification/squid-allowlist",
    ]);
  });

  it("reads the app VPCs' ACLs from the allowlist parameter, which must be the allowlist rendered from the environment", () => {
    const lacking = { ...goodInventory(), allowlistParameter: { ...parameterOf(env), value: "http_access deny all\n" } };
    expect(deploymentProblems(env, outputs, lacking)).toEqual([
      "the allowlist parameter /proxy-over-peering/verification/squid-allowlist lacks the ACL for 192.168.0.0/24 (app VPC app)",
    ]);
    const other = {
      ...goodInventory(),
      allowlistParameter: { ...parameterOf(env, 3), value: `${parameterOf(env).value}# edited by hand\n` },
    };
    expect(deploymentProblems(env, outputs, other)).toEqual([
      "the allowlist parameter /proxy-over-peering/verification/squid-allowlist (version 3) is not the allowlist rendered from the environment",
    ]);
    expect(deploymentProblems(env, outputs, { ...goodInventory(), allowlistParameter: undefined })).toEqual([
      "no allowlist parameter /proxy-over-peering/verification/squid-allowlist to read back",
    ]);
  });
});

describe("leftovers", () => {
  const empty = {
    ...goodInventory(),
    ...NO_DNS,
    vpcs: [],
    peerings: [],
    routes: [],
    instances: [],
    logGroups: [],
    alarms: [],
    flowLogs: [],
  };

  it("is empty for an emptied emulator", () => {
    expect(leftovers(empty)).toEqual({ left: [], tolerated: [] });
  });

  it("names what remains, and tells the emulator's own artefacts apart", () => {
    const result = leftovers({
      ...empty,
      vpcs: [{ id: "vpc-1", cidr: "10.0.0.0/24" }],
      networkInterfaces: [
        { id: "eni-old", status: "in-use", attachedToTerminated: true },
        { id: "eni-nat", status: "in-use", attachedToTerminated: false, ofDeletedNatGateway: true },
        { id: "eni-loose", status: "available", attachedToTerminated: false },
      ],
      transitGateways: [{ id: "tgw-1", state: "available" }],
      natGateways: [{ id: "nat-1", subnetId: "subnet-1", state: "available" }],
    });
    expect(result.left).toEqual([
      expect.stringMatching(/^1 VPCs/),
      '1 network interfaces: ["eni-loose"]',
      '1 Transit Gateways: ["tgw-1"]',
      '1 NAT gateways: ["nat-1"]',
    ]);
    expect(result.tolerated).toEqual([
      expect.stringMatching(/eni-nat.*moto 5\.2 keeps a NAT gateway's interface/),
      expect.stringMatching(/eni-old.*moto 5\.2 keeps/),
    ]);
  });

  it("names resolver endpoints, rules and associations that remain", () => {
    const inv = goodInventory();
    const result = leftovers({
      ...empty,
      resolverEndpoints: inv.resolverEndpoints,
      resolverRules: inv.resolverRules,
      resolverRuleAssociations: inv.resolverRuleAssociations,
    });
    expect(result.left).toEqual([
      '1 resolver endpoints: ["rslvr-out-1"]',
      '1 resolver rules: ["rslvr-rr-1"]',
      '1 resolver rule associations: ["rslvr-rrassoc-1"]',
    ]);
  });
});

describe("classifyDrift", () => {
  const change = (type: string, before: any, after: any): PlannedChange => ({
    address: `${type}.x`,
    type,
    change: { actions: ["update"], before, after },
  });

  it("tolerates only the listed emulator quirks, each with its reason", () => {
    const { tolerated, drift } = classifyDrift({
      resource_changes: [
        change(
          "aws_vpc_security_group_egress_rule",
          { prefix_list_id: "pl-1", description: null },
          { prefix_list_id: "pl-1", description: "HTTPS to S3" },
        ),
        change(
          "aws_instance",
          { private_ip: "10.0.0.10", vpc_security_group_ids: [] },
          { private_ip: "10.0.0.10", vpc_security_group_ids: ["sg-1"] },
        ),
        { address: "aws_vpc.a", type: "aws_vpc", change: { actions: ["no-op"], before: {}, after: {} } },
      ],
    });
    expect(tolerated).toEqual([
      expect.stringMatching(/prefix-list-rule-description: moto/),
      expect.stringMatching(/fixed-address-instance-groups: moto/),
    ]);
    expect(drift).toEqual([]);
  });

  it("reports any other change as drift", () => {
    const { drift } = classifyDrift({
      resource_changes: [
        change(
          "aws_vpc_security_group_egress_rule",
          { cidr_ipv4: "10.0.0.0/24", description: null },
          { cidr_ipv4: "10.0.0.0/24", description: "x" },
        ),
        change(
          "aws_vpc_security_group_egress_rule",
          { prefix_list_id: "pl-1", description: null, to_port: 80 },
          { prefix_list_id: "pl-1", description: "x", to_port: 443 },
        ),
        {
          address: "aws_instance.p",
          type: "aws_instance",
          change: { actions: ["delete", "create"], before: { ami: "a" }, after: { ami: "b" } },
        },
      ],
    });
    expect(drift).toEqual([
      "aws_vpc_security_group_egress_rule.x: update description",
      "aws_vpc_security_group_egress_rule.x: update description, to_port",
      "aws_instance.p: delete+create ami",
    ]);
  });
});

describe("emulatorEnvironment", () => {
  it("swaps only what moto cannot run, says why, and still validates", () => {
    const { raw, adjustments } = emulatorEnvironment(verificationRaw());
    expect(raw.appVpcs?.[0].appServer?.amiParameter).toBe(AMAZON_LINUX_2023_PARAMETER);
    expect(raw.proxy?.detailedMonitoring).toBe(false);
    expect(adjustments.map((a) => a.setting)).toEqual([
      "proxy.detailedMonitoring",
      "appVpcs[0].appServer.amiParameter",
      "appVpcs[0].appServer.detailedMonitoring",
      "serviceSide.server.detailedMonitoring",
    ]);
    expect(adjustments.every((a) => a.reason.startsWith("moto"))).toBe(true);
    const env = configFrom(raw);
    expect({ ...env, proxy: { ...env.proxy, detailedMonitoring: true } }.proxy).toEqual(verificationConfig().proxy);
  });
});

describe("deploymentProblems of a fleet", () => {
  const env = configFrom(
    JSON.parse(require("fs").readFileSync(require("path").join(__dirname, "..", "demos", "verification-fleet.json"), "utf8")),
  );
  const dns = "verification-fleet-proxy-1.ap-northeast-1.elb.amazonaws.com";
  const squid = proxyUserData("verification-fleet");
  function fleetInventory(): EmulatorInventory {
    const base = goodInventory();
    const proxy = (id: string, ip: string) => ({
      id,
      name: "verification-fleet-proxy",
      state: "running",
      privateIp: ip,
      httpTokens: "optional",
      userData: squid,
      securityGroups: ["sg-1"],
    });
    return {
      ...base,
      ...NO_DNS,
      vpcs: vpcsOf("verification-fleet", { "vpc-app": "192.168.0.0/24" }),
      instances: [
        proxy("i-a", "10.0.0.37"),
        proxy("i-c", "10.0.0.166"),
        { ...base.instances[1], userData: `$proxy = '${dns}:3128'` },
        base.instances[2],
      ],
      logGroups: ["/proxy-over-peering/verification-fleet/squid-access"],
      allowlistParameter: parameterOf(env),
      alarms: ["verification-fleet-proxy-unhealthy-hosts"],
      loadBalancers: [
        {
          arn: "arn:lb",
          name: "verification-fleet-proxy",
          dnsName: dns,
          scheme: "internal",
          type: "network",
          addresses: [],
          listeners: [{ port: 3128, protocol: "TCP", targetGroups: ["arn:tg"] }],
        },
      ],
      targetGroups: [
        {
          arn: "arn:tg",
          name: "verification-fleet-squid",
          protocol: "TCP",
          port: 3128,
          preserveClientIp: "true",
          deregistrationDelaySeconds: "60",
        },
      ],
      autoScalingGroups: [
        {
          name: "verification-fleet-proxy",
          desired: 2,
          instances: ["i-a", "i-c"],
          launchTemplate: { LaunchTemplateId: "lt-1", Version: "1" },
          targetGroups: ["arn:tg"],
          healthCheckType: "ELB",
          zones: 2,
        },
      ],
      launchTemplates: [
        { id: "lt-1", name: "verification-fleet-proxy", latestVersion: 1, httpTokens: "required", encrypted: ["true"], userData: squid },
      ],
    };
  }
  const fleetOutputs = { ...outputs, proxy_address: dns, proxy_url: `http://${dns}:3128` };

  it("finds nothing wrong with a fleet as designed (the group's instances judged by their template)", () => {
    expect(deploymentProblems(env, fleetOutputs, fleetInventory())).toEqual([]);
  });

  it("notices a group on another version than the template's latest, a target group that hides clients, and a public load balancer", () => {
    const inv = fleetInventory() as any;
    inv.autoScalingGroups[0].launchTemplate.Version = "$Latest";
    inv.launchTemplates[0].latestVersion = 2;
    inv.targetGroups[0].preserveClientIp = "false";
    inv.loadBalancers[0].scheme = "internet-facing";
    expect(deploymentProblems(env, fleetOutputs, inv)).toEqual([
      "load balancer verification-fleet-proxy is internet-facing network, expected an internal network load balancer",
      "target group verification-fleet-squid does not keep client addresses (preserve_client_ip false)",
      'group verification-fleet-proxy uses version $Latest of verification-fleet-proxy, not its latest 2 (a "$Latest" reference never starts an instance refresh)',
    ]);
  });

  it("notices a group smaller than the fleet and a template that allows IMDSv1", () => {
    const inv = fleetInventory() as any;
    inv.autoScalingGroups[0].desired = 1;
    inv.autoScalingGroups[0].instances = ["i-a"];
    inv.launchTemplates[0].httpTokens = "optional";
    expect(deploymentProblems(env, fleetOutputs, inv)).toEqual(
      expect.arrayContaining([
        "group verification-fleet-proxy wants 1 and has 1 instances, expected 2",
        "launch template verification-fleet-proxy allows IMDSv1 (http_tokens optional)",
      ]),
    );
  });
  describe("rollingChangeProblems", () => {
    const change = { instanceType: "t3.small", minHealthyPercentage: 100, maxHealthyPercentage: 200 };
    const before = (): any => ({ ...fleetInventory(), autoScalingGroups: [{ ...fleetInventory().autoScalingGroups![0], refreshes: [] }] });
    const after = (): any => {
      const inv = before();
      inv.launchTemplates = [{ ...inv.launchTemplates[0], latestVersion: 2, instanceType: "t3.small" }];
      inv.autoScalingGroups = [
        {
          ...inv.autoScalingGroups[0],
          launchTemplate: { LaunchTemplateId: "lt-1", Version: "2" },
          instances: ["i-b", "i-d"],
          refreshes: [{ status: "Successful", minHealthyPercentage: 100, maxHealthyPercentage: 200 }],
        },
      ];
      return inv;
    };

    it("finds nothing wrong with one new version, the group on it, one refresh as the stack asks, and every proxy replaced", () => {
      expect(rollingChangeProblems(env, before(), after(), change)).toEqual([]);
    });

    it("names each way the change can fall short", () => {
      const inv = after();
      inv.launchTemplates[0] = { ...inv.launchTemplates[0], latestVersion: 3, instanceType: "t3.micro" };
      inv.autoScalingGroups[0] = {
        ...inv.autoScalingGroups[0],
        instances: ["i-a", "i-b", "i-d"],
        refreshes: [{ status: "Cancelled", minHealthyPercentage: 90, maxHealthyPercentage: 200 }],
      };
      expect(rollingChangeProblems(env, before(), inv, change)).toEqual([
        "launch template verification-fleet-proxy went from version 1 to 3, expected one new version",
        "launch template verification-fleet-proxy launches t3.micro, expected t3.small",
        "group verification-fleet-proxy stays on version 2 of verification-fleet-proxy, not the new 3",
        "the instance refresh of group verification-fleet-proxy ended Cancelled, expected Successful",
        "the instance refresh of group verification-fleet-proxy kept 90% to 200% healthy, the stack asks 100% to 200%",
        "group verification-fleet-proxy still runs i-a from before the change",
        "group verification-fleet-proxy has 3 instances after the change, expected 2",
      ]);
    });

    it("counts the refreshes the change started, and needs the group and its template on both sides", () => {
      const none = after();
      none.autoScalingGroups[0].refreshes = [];
      expect(rollingChangeProblems(env, before(), none, change)).toEqual([
        "the change started 0 instance refreshes of group verification-fleet-proxy, expected 1",
      ]);
      const two = after();
      two.autoScalingGroups[0].refreshes = [...two.autoScalingGroups[0].refreshes, { status: "Successful" }];
      expect(rollingChangeProblems(env, before(), two, change)).toEqual([
        "the change started 2 instance refreshes of group verification-fleet-proxy, expected 1",
      ]);
      expect(rollingChangeProblems(env, before(), { ...after(), autoScalingGroups: [] }, change)).toEqual([
        "no Auto Scaling group verification-fleet-proxy after the change",
      ]);
      expect(rollingChangeProblems(env, { ...before(), autoScalingGroups: [] }, after(), change)).toEqual([
        "no Auto Scaling group verification-fleet-proxy before the change",
      ]);
      expect(
        rollingChangeProblems(env, before(), { ...after(), launchTemplates: [{ ...after().launchTemplates[0], id: "lt-2" }] }, change),
      ).toEqual(["group verification-fleet-proxy does not keep its launch template through the change"]);
    });

    it("changes the instance type to another one, either way", () => {
      expect(otherInstanceType("t3.micro")).toBe("t3.small");
      expect(otherInstanceType("t3.small")).toBe("t3.micro");
      expect(otherInstanceType("m7i.large")).toBe("t3.small");
    });
  });
});

describe("classifyDrift of a fleet in moto", () => {
  const plan = JSON.parse(require("fs").readFileSync(require("path").join(__dirname, "fixtures", "moto-fleet-second-plan.json"), "utf8"));

  it("explains every change of the recorded second plan by a listed emulator quirk", () => {
    const { tolerated, drift } = classifyDrift(plan);
    expect(drift).toEqual([]);
    expect(tolerated.map((t) => /\((\S+):/.exec(t)?.[1]).sort()).toEqual([
      "fixed-address-instance-groups",
      "group-reference-owner",
      "prefix-list-rule-description",
      "prefix-list-rule-description",
    ]);
  });

  // proof/emulator/moto_server.py keeps these as AWS does, so each is drift now; tolerating them let the
  // next apply change the fleet's template and hang in an instance refresh.
  it("calls a new launch template version, the group that follows it, and a change of the load balancer's mappings drift", () => {
    const change = (address: string, before: Record<string, unknown>, after: Record<string, unknown>): PlannedChange => ({
      address,
      type: address.split(".")[0],
      change: { actions: ["update"], before, after },
    });
    const { tolerated, drift } = classifyDrift({
      resource_changes: [
        change(
          "aws_launch_template.T",
          { latest_version: 1, tag_specifications: [{ resource_type: "launch-template", tags: { Name: "t" } }] },
          { tag_specifications: [] },
        ),
        change("aws_autoscaling_group.G", { launch_template: [{ id: "lt-1", version: "1" }] }, { launch_template: [{ id: "lt-1" }] }),
        change(
          "aws_lb.L",
          { subnet_mapping: [{ subnet_id: "subnet-1", private_ipv4_address: "" }] },
          { subnet_mapping: [{ subnet_id: "subnet-1", private_ipv4_address: "10.0.0.10" }] },
        ),
      ],
    });
    expect(tolerated).toEqual([]);
    expect(drift).toEqual([
      "aws_launch_template.T: update latest_version, tag_specifications",
      "aws_autoscaling_group.G: update launch_template",
      "aws_lb.L: update subnet_mapping",
    ]);
  });

  it("calls a change drift when its quirk's own condition does not hold", () => {
    const rule = JSON.parse(
      JSON.stringify(plan.resource_changes.find((c: PlannedChange) => c.type === "aws_vpc_security_group_ingress_rule")),
    );
    rule.change.before.referenced_security_group_id = "123456789012/sg-other";
    expect(classifyDrift({ resource_changes: [rule] }).drift).toHaveLength(1);
  });
});

describe("deploymentProblems of the Transit Gateway environment", () => {
  const env = configFrom(JSON.parse(fs.readFileSync(path.join(__dirname, "..", "demos", "transit-gateway.json"), "utf8")));
  const tgwOutputs = {
    service_url: "http://172.16.0.10:80/",
    service_peering_id: "pcx-svc",
    app_server_app_id: "i-app",
    app_server_app2_id: "i-app2",
    transit_gateway_id: "tgw-1",
    nat_gateway_addresses: ["10.0.0.30"] as unknown as string,
  };
  /** The inventory of a correct deployment of demos/transit-gateway.json. */
  function tgwInventory(): EmulatorInventory {
    const server = (id: string, privateIp: string) => ({
      id,
      name: id,
      state: "running",
      privateIp,
      httpTokens: "required",
      userData: "<powershell># no proxy</powershell>",
      securityGroups: ["sg-1"],
    });
    return {
      ...goodInventory(),
      ...NO_DNS,
      vpcs: vpcsOf("transit-gateway", { "vpc-app": "192.168.0.0/24", "vpc-app2": "192.168.1.0/24" }),
      peerings: [{ id: "pcx-svc", status: "active", requesterVpcId: "vpc-proxy", accepterVpcId: "vpc-svc" }],
      routes: [
        { vpcId: "vpc-proxy", destination: "172.16.0.0/24", peering: "pcx-svc" },
        { vpcId: "vpc-svc", destination: "10.0.0.0/24", peering: "pcx-svc" },
        { vpcId: "vpc-app", destination: "172.16.0.0/24", transitGateway: "tgw-1" },
        { vpcId: "vpc-app2", destination: "172.16.0.0/24", transitGateway: "tgw-1" },
        { vpcId: "vpc-proxy", destination: "192.168.0.0/24", transitGateway: "tgw-1" },
        { vpcId: "vpc-proxy", destination: "192.168.1.0/24", transitGateway: "tgw-1" },
        { vpcId: "vpc-proxy", routeTableId: "rtb-attach", destination: "172.16.0.0/24", natGateway: "nat-a" },
      ],
      subnets: [
        { id: "subnet-nat", vpcId: "vpc-proxy", cidr: "10.0.0.0/25", zone: "ap-northeast-1a" },
        { id: "subnet-attach", vpcId: "vpc-proxy", cidr: "10.0.0.240/28", zone: "ap-northeast-1a" },
      ],
      instances: [server("i-app", "192.168.0.4"), server("i-app2", "192.168.1.4"), server("i-svc", "172.16.0.10")],
      flowLogs: ["fl-1", "fl-2", "fl-3", "fl-4"],
      transitGateways: [
        { id: "tgw-1", state: "available", defaultAssociation: "disable", defaultPropagation: "disable", autoAccept: "disable" },
      ],
      tgwAttachments: [
        {
          id: "att-proxy",
          transitGatewayId: "tgw-1",
          vpcId: "vpc-proxy",
          subnetIds: ["subnet-attach"],
          state: "available",
          applianceMode: "enable",
        },
        { id: "att-app", transitGatewayId: "tgw-1", vpcId: "vpc-app", subnetIds: ["s"], state: "available", applianceMode: "disable" },
        { id: "att-app2", transitGatewayId: "tgw-1", vpcId: "vpc-app2", subnetIds: ["s"], state: "available", applianceMode: "disable" },
      ],
      tgwRouteTables: [
        {
          id: "rt-apps",
          transitGatewayId: "tgw-1",
          name: "transit-gateway-hub-apps",
          associations: ["att-app", "att-app2"],
          propagations: [],
          routes: [{ destination: "172.16.0.0/24", type: "static", state: "active", attachments: ["att-proxy"] }],
        },
        {
          id: "rt-proxy",
          transitGatewayId: "tgw-1",
          name: "transit-gateway-hub-proxy",
          associations: ["att-proxy"],
          propagations: ["att-app", "att-app2"],
          routes: [],
        },
      ],
      natGateways: [{ id: "nat-a", subnetId: "subnet-nat", connectivity: "private", state: "available", privateIp: "10.0.0.30" }],
    };
  }

  it("finds nothing wrong with the design as deployed", () => {
    expect(deploymentProblems(env, tgwOutputs, tgwInventory())).toEqual([]);
  });

  it("notices default tables on, a route between app VPCs, a missing propagation, appliance mode off and a public NAT gateway", () => {
    const inv = tgwInventory() as any;
    inv.transitGateways[0].defaultAssociation = "enable";
    inv.tgwRouteTables[0].routes.push({ destination: "192.168.1.0/24", type: "propagated", state: "active", attachments: ["att-app2"] });
    inv.tgwRouteTables[1].propagations = ["att-app"];
    inv.tgwAttachments[0].applianceMode = "disable";
    inv.natGateways[0].connectivity = "public";
    expect(deploymentProblems(env, tgwOutputs, inv)).toEqual([
      "Transit Gateway tgw-1 has default route table association enable and propagation disable, expected both disable",
      "the proxy VPC's attachment att-proxy has appliance mode disable, expected enable",
      "transit-gateway-hub-apps sends 192.168.1.0/24 elsewhere than the proxy VPC's attachment; app VPCs must not reach each other",
      "app VPC app2 does not propagate into transit-gateway-hub-proxy",
      "NAT gateway nat-a is public, expected private",
    ]);
  });

  it("notices a missing NAT route, a route back, and a proxy setting on an app server", () => {
    const inv = tgwInventory() as any;
    inv.routes = inv.routes.filter((r: any) => !r.natGateway && r.destination !== "192.168.1.0/24");
    inv.instances[0].userData = "$proxy = '10.0.0.10:3128'";
    expect(deploymentProblems(env, tgwOutputs, inv)).toEqual([
      "the proxy VPC has no route back to 192.168.1.0/24 via the Transit Gateway",
      "no route from the attachment subnet 10.0.0.240/28 to 172.16.0.0/24 via the NAT gateway of ap-northeast-1a",
      "app server app has a proxy setting, but no proxy runs with privateNat",
    ]);
  });
});

describe("the allowlist phase's judgements", () => {
  const parameterName = "/proxy-over-peering/verification/squid-allowlist";
  /** The plan the rehearsal recorded for port 8090 added to the verification's service (attributes trimmed to what changed). */
  const recorded = (): { resource_changes: PlannedChange[] } =>
    JSON.parse(fs.readFileSync(path.join(__dirname, "fixtures", "rehearsal-allowlist-plan.json"), "utf8"));
  const withChange = (extra: PlannedChange) => ({ resource_changes: [...recorded().resource_changes, extra] });

  it("passes the recorded plan: the parameter updated in place, two rules created, the stand-in service replaced, moto's quirks noted", () => {
    const { problems, notes } = allowlistPlanProblems(recorded(), parameterName);
    expect(problems).toEqual([]);
    expect(notes).toEqual(
      expect.arrayContaining([
        "aws_ssm_parameter.Proxy_Allowlist_B67C9D31: update in place (a new version)",
        "aws_instance.ServiceSide_Server_1035C2D6: delete+create: the verification's stand-in service listens on every service port (production has none)",
        "aws_vpc_security_group_egress_rule.Proxy_Server_SecurityGroup_Out-172_16_0_0_24-8090_E2C19A48: create",
        "aws_vpc_security_group_ingress_rule.ServiceSide_Server_SecurityGroup_In-10_0_0_0_24-8090_1A05EB21: create",
        "aws_instance.Proxy_Server_6DCE2D66: update (fixed-address-instance-groups, an emulator artefact)",
      ]),
    );
    expect(notes).toHaveLength(7);
  });

  it("fails a replacement of the proxy's instance, naming it", () => {
    const plan = recorded();
    const proxy = plan.resource_changes.find((c) => c.address === "aws_instance.Proxy_Server_6DCE2D66")! as any;
    proxy.change = { actions: ["delete", "create"], before: { user_data: "a", private_ip: "10.0.0.10" }, after: { user_data: "b" } };
    expect(allowlistPlanProblems(plan, parameterName).problems).toEqual([
      "aws_instance.Proxy_Server_6DCE2D66: delete+create (private_ip, user_data): an allowlist change must not touch an instance, a launch template or a group (the proxies stay)",
    ]);
  });

  it("fails a change of a launch template or of a group, naming each", () => {
    const template: PlannedChange = {
      address: "aws_launch_template.Proxy_Template_1A2B3C4D",
      type: "aws_launch_template",
      change: { actions: ["update"], before: { user_data: "a", latest_version: 1 }, after: { user_data: "b" } },
    };
    const group: PlannedChange = {
      address: "aws_autoscaling_group.Proxy_Group_5E6F7A8B",
      type: "aws_autoscaling_group",
      change: { actions: ["update"], before: { launch_template: [{ version: "1" }] }, after: { launch_template: [{ version: "2" }] } },
    };
    const { problems } = allowlistPlanProblems({ resource_changes: [...recorded().resource_changes, template, group] }, parameterName);
    expect(problems).toEqual([
      expect.stringMatching(
        /^aws_launch_template\.Proxy_Template_1A2B3C4D: update \(latest_version, user_data\): an allowlist change must not touch/,
      ),
      expect.stringMatching(/^aws_autoscaling_group\.Proxy_Group_5E6F7A8B: update \(launch_template\): an allowlist change must not touch/),
    ]);
  });

  it("fails a plan that leaves the parameter alone, changes another parameter, replaces a rule or changes anything else", () => {
    const without = { resource_changes: recorded().resource_changes.filter((c) => c.type !== "aws_ssm_parameter") };
    expect(allowlistPlanProblems(without, parameterName).problems).toEqual([
      `the plan does not update the allowlist parameter ${parameterName} in place`,
    ]);
    expect(allowlistPlanProblems(recorded(), "/proxy-over-peering/other/squid-allowlist").problems).toEqual([
      "the plan does not update the allowlist parameter /proxy-over-peering/other/squid-allowlist in place",
      expect.stringMatching(
        /^aws_ssm_parameter\.Proxy_Allowlist_B67C9D31: update \(insecure_value, value, version\): only the allowlist parameter/,
      ),
    ]);
    const rule: PlannedChange = {
      address: "aws_vpc_security_group_egress_rule.Proxy_Server_SecurityGroup_Out-172_16_0_0_24-80_11111111",
      type: "aws_vpc_security_group_egress_rule",
      change: { actions: ["delete", "create"], before: { from_port: 80 }, after: { from_port: 81 } },
    };
    expect(allowlistPlanProblems(withChange(rule), parameterName).problems).toEqual([
      expect.stringMatching(/: delete\+create \(from_port\): a rule or route may be created or deleted, not replaced/),
    ]);
    const lb: PlannedChange = {
      address: "aws_lb.Proxy_Lb_22222222",
      type: "aws_lb",
      change: { actions: ["update"], before: { a: 1 }, after: { a: 2 } },
    };
    expect(allowlistPlanProblems(withChange(lb), parameterName).problems).toEqual([
      "aws_lb.Proxy_Lb_22222222: update: an allowlist change may only update the parameter and create or delete security group rules and routes",
    ]);
    const route: PlannedChange = {
      address: "aws_route.Proxy_Route_33333333",
      type: "aws_route",
      change: { actions: ["create"], before: null, after: {} },
    };
    expect(allowlistPlanProblems(withChange(route), parameterName)).toEqual(
      expect.objectContaining({ problems: [], notes: expect.arrayContaining(["aws_route.Proxy_Route_33333333: create"]) }),
    );
  });

  it("adds a free port to the first service of a copy, leaving the file's JSON alone", () => {
    const raw = verificationRaw();
    const change = allowlistChange(raw, verificationConfig());
    expect([change.service, change.port]).toEqual(["service", 8090]);
    expect((change.raw as any).services[0].ports).toEqual([80, { port: 8443, carries: "tls" }, 8090]);
    expect(raw.services[0].ports).toHaveLength(2);
  });

  it("reads back one new version holding the edited allowlist and the same proxies, or says what differs", () => {
    const edited = configFrom(allowlistChange(verificationRaw(), verificationConfig()).raw as unknown as object);
    const before = { parameter: parameterOf(verificationConfig(), 1), proxies: ["i-proxy"] };
    expect(allowlistReadbackProblems(edited, before, { parameter: parameterOf(edited, 2), proxies: ["i-proxy"] })).toEqual([]);
    expect(allowlistReadbackProblems(edited, before, { parameter: parameterOf(verificationConfig(), 3), proxies: ["i-new"] })).toEqual([
      `the allowlist parameter ${parameterName} (version 3) is not the allowlist rendered from the environment`,
      "the allowlist parameter went from version 1 to 3, expected 2",
      "the proxies were i-proxy before the change and are i-new after: an allowlist change must not replace them",
    ]);
  });

  it("finds the proxies' instances: the one at the proxy's address, or the fleet group's", () => {
    expect(proxyInstanceIds(verificationConfig(), goodInventory())).toEqual(["i-proxy"]);
    const fleet = configFrom(JSON.parse(fs.readFileSync(path.join(__dirname, "..", "demos", "verification-fleet.json"), "utf8")));
    const inv = { ...goodInventory(), autoScalingGroups: [{ name: "verification-fleet-proxy", instances: ["i-c", "i-a"] }] } as any;
    expect(proxyInstanceIds(fleet, inv)).toEqual(["i-a", "i-c"]);
  });
});
