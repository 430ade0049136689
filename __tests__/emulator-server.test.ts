import { execFileSync } from "child_process";
import * as path from "path";
import {
  AutoScalingClient,
  CancelInstanceRefreshCommand,
  CreateAutoScalingGroupCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeInstanceRefreshesCommand,
  StartInstanceRefreshCommand,
} from "@aws-sdk/client-auto-scaling";
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointServiceConfigurationCommand,
  DescribeLaunchTemplateVersionsCommand,
  DescribeVpcEndpointServiceConfigurationsCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  CreateLoadBalancerCommand,
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingV2Client,
  SetSecurityGroupsCommand,
} from "@aws-sdk/client-elastic-load-balancing-v2";
import { DescribeInstanceInformationCommand, SSMClient } from "@aws-sdk/client-ssm";
import { MOTO_SERVER_SCRIPT } from "../proof/moto";
import { inAccount, SuiteMoto, suiteMoto, suiteMotoWithTestCredentials } from "./helpers/moto";

/**
 * proof/emulator/moto_server.py's fixes for the proxy fleet, against the emulator itself. Without them an
 * apply that follows a deploy (the rehearsal's after an adoption) changed the group's launch
 * template and then hung for ten minutes in an instance refresh that moto answers with HTTP 500.
 */
describe("the emulator behind the rehearsal, for the proxy fleet", () => {
  // The run's shared emulator (global-setup.ts), in an account of this suite's own.
  const ACCOUNT = "111111111111";
  let moto: SuiteMoto;
  let common: { region: string; endpoint: string; maxAttempts: number };
  let ec2: EC2Client;
  let autoscaling: AutoScalingClient;
  const saved = { ...process.env };
  beforeAll(async () => {
    moto = await suiteMoto();
    const endpoint = moto.endpoint;
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_EC2_METADATA_DISABLED: "true" });
    // One attempt: a server error must fail the test, not be retried for minutes.
    common = { region: "ap-northeast-1", endpoint, maxAttempts: 1 };
    ec2 = inAccount(new EC2Client(common), ACCOUNT);
    autoscaling = inAccount(new AutoScalingClient(common), ACCOUNT);
  });
  afterAll(async () => {
    process.env = saved;
    await moto?.release();
  });

  const template = async (name: string) =>
    (
      await ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: name,
          LaunchTemplateData: {
            ImageId: "ami-12c6146b",
            InstanceType: "t3.micro",
            TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: name }] }],
          },
          TagSpecifications: [{ ResourceType: "launch-template", Tags: [{ Key: "Name", Value: name }] }],
        }),
      )
    ).LaunchTemplate!.LaunchTemplateId!;

  it("lists each running instance as an online Systems Manager node (moto answered HTTP 500), so npm run verify gets past its agent check", async () => {
    const ssm = inAccount(new SSMClient(common), ACCOUNT);
    const launched = (await ec2.send(new RunInstancesCommand({ ImageId: "ami-12c6146b", MinCount: 2, MaxCount: 2 }))).Instances!.map(
      (i) => i.InstanceId!,
    );
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [launched[1]] }));
    const nodes = await ssm.send(new DescribeInstanceInformationCommand({ Filters: [{ Key: "InstanceIds", Values: launched }] }));
    expect(nodes.InstanceInformationList!.map((n) => [n.InstanceId, n.PingStatus])).toEqual([[launched[0], "Online"]]);
  });

  it("keeps a launch template's own tags out of its versions' data, as AWS does (moto copies them, so every plan made a new version)", async () => {
    const id = await template("tags-test");
    const versions = (await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: id }))).LaunchTemplateVersions!;
    expect(versions.map((v) => v.LaunchTemplateData?.TagSpecifications)).toEqual([
      [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: "tags-test" }] }],
    ]);
  });

  it("answers an instance refresh by replacing every instance of the group at once, and then has none under way to cancel", async () => {
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.9.0.0/24" }))).Vpc!.VpcId!;
    const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: "10.9.0.0/25", AvailabilityZone: "ap-northeast-1a" })))
      .Subnet!.SubnetId!;
    const id = await template("refresh-test");
    const name = "refresh-test";
    await autoscaling.send(
      new CreateAutoScalingGroupCommand({
        AutoScalingGroupName: name,
        LaunchTemplate: { LaunchTemplateId: id, Version: "1" },
        MinSize: 2,
        MaxSize: 2,
        DesiredCapacity: 2,
        VPCZoneIdentifier: subnet,
      }),
    );
    const instances = async () =>
      (
        await autoscaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }))
      ).AutoScalingGroups![0].Instances!.map((i) => i.InstanceId!);
    const before = await instances();
    expect(before).toHaveLength(2);

    await ec2.send(
      new CreateLaunchTemplateVersionCommand({
        LaunchTemplateId: id,
        SourceVersion: "1",
        LaunchTemplateData: { InstanceType: "t3.small" },
      }),
    );
    const started = await autoscaling.send(
      new StartInstanceRefreshCommand({ AutoScalingGroupName: name, Strategy: "Rolling", Preferences: { MinHealthyPercentage: 100 } }),
    );
    expect(started.InstanceRefreshId).toMatch(/^[0-9a-f-]{36}$/);

    const after = await instances();
    expect(after).toHaveLength(2);
    expect(after.filter((i) => before.includes(i))).toEqual([]);
    const refreshes = (
      await autoscaling.send(
        new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: name, InstanceRefreshIds: [started.InstanceRefreshId!] }),
      )
    ).InstanceRefreshes!;
    expect(refreshes.map((r) => [r.InstanceRefreshId, r.Status, r.PercentageComplete, r.Preferences?.MinHealthyPercentage])).toEqual([
      [started.InstanceRefreshId, "Successful", 100, 100],
    ]);

    await expect(autoscaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: name }))).rejects.toMatchObject({
      name: "ActiveInstanceRefreshNotFoundFault",
    });
    await expect(autoscaling.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: "no-such-group" }))).rejects.toMatchObject({
      name: "ValidationError",
    });
  });
});

/**
 * Terraform writes a group's rules in parallel, and moto's server answers on threads; moto 5.2.1
 * replaces a group's rule list on a revoke without a lock, so a rule authorized meanwhile was lost
 * (one rehearsal's destroy then met InvalidPermission.NotFound). A revoke whose read of the list is
 * slowed on purpose makes the race certain: without moto_server.py's lock this prints [].
 */
describe("the emulator's security group writes", () => {
  const script = `
import sys, threading, time
sys.argv = ["moto_server"]
sys.path.insert(0, ${JSON.stringify(path.dirname(MOTO_SERVER_SCRIPT))})
import moto_server
from moto.ec2.models import ec2_backends

ec2 = ec2_backends["123456789012"]["ap-northeast-1"]
group = ec2.create_security_group("lost-update", "test", ec2.create_vpc("10.7.0.0/24").id)
def rule(port): return dict(ip_protocol="tcp", from_port=str(port), to_port=str(port), ip_ranges=[{"CidrIp": "10.0.0.0/24"}])
ec2.authorize_security_group_ingress(group.id, **rule(1))

class SlowList(list):
    def __iter__(self):
        snapshot = list(super().__iter__())
        time.sleep(0.3)
        return iter(snapshot)

group.ingress_rules = SlowList(group.ingress_rules)
revoke = threading.Thread(target=lambda: ec2.revoke_security_group_ingress(group.id, **rule(1)))
revoke.start()
time.sleep(0.1)
ec2.authorize_security_group_ingress(group.id, **rule(2))
revoke.join()
print(sorted(int(r.from_port) for r in group.ingress_rules))
`;

  it("takes one at a time, so a rule authorized while another of the same group is revoked is kept", () => {
    const out = execFileSync("python3", ["-c", script], { encoding: "utf8", timeout: 60000 });
    expect(JSON.parse(out.trim())).toEqual([2]);
  });
});

/**
 * PrivateLink: moto 5.2.1 drops a load balancer's EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic and an endpoint
 * service's SupportedIpAddressTypes, so every plan after a deploy of the privatelink demo changed both back.
 */
describe("the emulator behind the rehearsal, for PrivateLink", () => {
  const ACCOUNT = "222222222222";
  const suiteEmulator = suiteMotoWithTestCredentials();

  it("keeps the load balancer's PrivateLink setting and the endpoint service's address types (ipv4 when none are given)", async () => {
    const common = { region: "ap-northeast-1", endpoint: suiteEmulator().endpoint, maxAttempts: 1 };
    const ec2 = inAccount(new EC2Client(common), ACCOUNT);
    const elb = inAccount(new ElasticLoadBalancingV2Client(common), ACCOUNT);
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.9.0.0/24" }))).Vpc!.VpcId!;
    const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: "10.9.0.0/25", AvailabilityZone: "ap-northeast-1a" })))
      .Subnet!.SubnetId!;
    const group = (await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpc, GroupName: "pl-lb", Description: "test" }))).GroupId!;
    const lb = (
      await elb.send(new CreateLoadBalancerCommand({ Name: "pl-emulator", Subnets: [subnet], Scheme: "internal", Type: "network" }))
    ).LoadBalancers![0].LoadBalancerArn!;
    const set = await elb.send(
      new SetSecurityGroupsCommand({
        LoadBalancerArn: lb,
        SecurityGroups: [group],
        EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: "off",
      }),
    );
    expect(set.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic).toBe("off");
    const [described] = (await elb.send(new DescribeLoadBalancersCommand({ LoadBalancerArns: [lb] }))).LoadBalancers!;
    expect(described.EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic).toBe("off");
    expect(described.SecurityGroups).toEqual([group]);

    const service = async (types?: string[]) =>
      (await ec2.send(new CreateVpcEndpointServiceConfigurationCommand({ NetworkLoadBalancerArns: [lb], SupportedIpAddressTypes: types })))
        .ServiceConfiguration!.ServiceId!;
    const [given, unsaid] = [await service(["ipv4", "ipv6"]), await service()];
    const configurations = (await ec2.send(new DescribeVpcEndpointServiceConfigurationsCommand({ ServiceIds: [given, unsaid] })))
      .ServiceConfigurations!;
    expect(configurations.map((c) => c.SupportedIpAddressTypes)).toEqual([["ipv4", "ipv6"], ["ipv4"]]);
  });
});
