import * as fs from "fs";
import * as path from "path";
import { CloudWatchClient, PutDashboardCommand, PutMetricAlarmCommand } from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient, CreateLogGroupCommand, PutMetricFilterCommand } from "@aws-sdk/client-cloudwatch-logs";
import {
  CreateSecurityGroupCommand,
  CreateSubnetCommand,
  CreateVpcCommand,
  CreateVpcEndpointCommand,
  CreateVpcEndpointServiceConfigurationCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { CreateLoadBalancerCommand, ElasticLoadBalancingV2Client } from "@aws-sdk/client-elastic-load-balancing-v2";
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from "@aws-sdk/client-iam";
import { CreateAliasCommand, CreateKeyCommand, KMSClient, ScheduleKeyDeletionCommand } from "@aws-sdk/client-kms";
import {
  AssociateResolverRuleCommand,
  CreateResolverEndpointCommand,
  CreateResolverRuleCommand,
  Route53ResolverClient,
} from "@aws-sdk/client-route53resolver";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { ownerTags } from "../lib/naming";
import { readInventory } from "../operations/orphan-inventory";
import { FoundResource, importBlocks, judgeUnknown, placeOrphans, SynthesizedStack } from "../operations/orphans";
import { suiteMotoWithTestCredentials } from "./helpers/moto";
import { CONFIG_DIR, configFrom, synthEnvironment, verificationRaw } from "./helpers/stack";

/**
 * The sweep's reading of Route 53 Resolver against the emulator: the Tagging API does not list
 * these kinds there, so the sweep's own listings must find them, with what places them.
 */
describe("the orphan sweep reads Route 53 Resolver", () => {
  // The run's shared emulator (global-setup.ts), in its default account: readInventory makes its own clients.
  const suiteEmulator = suiteMotoWithTestCredentials();

  it("finds an owned endpoint, its rule and the rule's association, leaves others' alone, and places them on the synthesized resources", async () => {
    const common = { region: "ap-northeast-1", endpoint: suiteEmulator().endpoint };
    const ec2 = new EC2Client(common);
    const resolver = new Route53ResolverClient(common);
    const owner = [
      { Key: "Project", Value: "proxy-over-peering" },
      { Key: "Environment", Value: "verification" },
    ];
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/24" }))).Vpc!.VpcId!;
    const subnets = await Promise.all(
      [
        ["10.0.0.128/28", "ap-northeast-1a"],
        ["10.0.0.144/28", "ap-northeast-1c"],
      ].map(
        async ([cidr, zone]) =>
          (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: cidr, AvailabilityZone: zone }))).Subnet!.SubnetId!,
      ),
    );
    const group = (
      await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpc, GroupName: "verification-proxy-resolver", Description: "test" }))
    ).GroupId!;
    const endpoint = async (name: string, tags: { Key: string; Value: string }[]) =>
      (
        await resolver.send(
          new CreateResolverEndpointCommand({
            CreatorRequestId: name,
            Name: name,
            Direction: "OUTBOUND",
            SecurityGroupIds: [group],
            IpAddresses: subnets.map((SubnetId) => ({ SubnetId })),
            Tags: tags,
          }),
        )
      ).ResolverEndpoint!.Id!;
    const ours = await endpoint("verification-proxy-resolver", [...owner, { Key: "Name", Value: "verification-proxy-resolver" }]);
    await endpoint("someone-elses", [{ Key: "Project", Value: "other" }]);
    const rule = (
      await resolver.send(
        new CreateResolverRuleCommand({
          CreatorRequestId: "rule",
          Name: "verification-service-example",
          RuleType: "FORWARD",
          DomainName: "service.example",
          TargetIps: [{ Ip: "172.16.0.10", Port: 53 }],
          ResolverEndpointId: ours,
          Tags: [...owner, { Key: "Name", Value: "verification-service-example" }],
        }),
      )
    ).ResolverRule!.Id!;
    const association = (
      await resolver.send(new AssociateResolverRuleCommand({ ResolverRuleId: rule, VPCId: vpc, Name: "verification-service-example" }))
    ).ResolverRuleAssociation!.Id!;

    const { found, unknownKinds } = await readInventory({
      region: "ap-northeast-1",
      project: "proxy-over-peering",
      environment: "verification",
      endpoint: suiteEmulator().endpoint,
    });
    const resolverKinds = found.filter((f) => f.type.startsWith("aws_route53_resolver"));
    expect(resolverKinds.map((f) => [f.type, f.importId])).toEqual([
      ["aws_route53_resolver_endpoint", ours],
      ["aws_route53_resolver_rule", rule],
      ["aws_route53_resolver_rule_association", association],
    ]);
    expect(resolverKinds[1].attributes).toEqual(
      expect.objectContaining({ domain_name: "service.example", rule_type: "FORWARD", resolver_endpoint_id: ours }),
    );
    expect(unknownKinds).toEqual([]);

    // With nothing in the state, the endpoint and the rule land on the stack's own; the association follows its rule.
    const synthesized = JSON.parse(synthEnvironment().json);
    const placed = placeOrphans(resolverKinds, synthesized, { resources: [] });
    expect(placed.map((o) => o.address)).toEqual([
      expect.stringMatching(/^aws_route53_resolver_endpoint\.DnsForwarding_Endpoint_/),
      expect.stringMatching(/^aws_route53_resolver_rule\.DnsForwarding_Rule-service_example_Rule_/),
      expect.stringMatching(/^aws_route53_resolver_rule_association\.DnsForwarding_Rule-service_example_Association_/),
    ]);
  });
});

/** An inline policy for the test role (the stack's own names references, which only a deploy resolves). */
const READ_POLICY = {
  Version: "2012-10-17",
  Statement: [{ Effect: "Allow", Action: ["ssm:GetParameter"], Resource: "arn:aws:ssm:ap-northeast-1:123456789012:parameter/x" }],
};

/** The synthesized resources of one type, each with its logical id. */
function synthesizedOf(stack: SynthesizedStack, type: string): [string, Record<string, any>][] {
  return Object.entries(stack.resource?.[type] ?? {});
}

/** A `${type.name.attribute}` reference's target, resolved to that resource's literal setting. */
function resolved(stack: SynthesizedStack, value: string): string {
  const match = /^\$\{(\w+)\.(\w+)\.(\w+)\}$/.exec(value);
  return match ? String(stack.resource![match[1]][match[2]][match[3]]) : value;
}

/**
 * The proxy's day-two resources (allowlist parameter, monitoring, alerts) as a killed apply leaves them in the emulator,
 * made from an alerts environment's synthesized settings with the provider's default tags where the provider puts them.
 */
async function createDayTwo(
  endpoint: string,
  stack: SynthesizedStack,
  project: string,
  environment: string,
): Promise<Record<string, string>> {
  const common = { region: "ap-northeast-1", endpoint };
  const [ssm, logs, cloudwatch, kms, sns, iam] = [
    new SSMClient(common),
    new CloudWatchLogsClient(common),
    new CloudWatchClient(common),
    new KMSClient(common),
    new SNSClient(common),
    new IAMClient(common),
  ];
  const owner = (extra: Record<string, unknown> = {}) =>
    Object.entries(ownerTags(project, environment, extra as Record<string, string>)).map(([Key, Value]) => ({ Key, Value }));
  const [[, parameter]] = synthesizedOf(stack, "aws_ssm_parameter");
  await ssm.send(new PutParameterCommand({ Name: parameter.name, Value: "acl x", Type: "String", Tags: owner(parameter.tags) }));
  // The same folder, another owner: not the environment's.
  await ssm.send(
    new PutParameterCommand({ Name: `${parameter.name}-copy`, Value: "acl y", Type: "String", Tags: [{ Key: "Project", Value: "other" }] }),
  );
  for (const [, group] of synthesizedOf(stack, "aws_cloudwatch_log_group").filter(([id]) => id.startsWith("Proxy_")))
    await logs.send(
      new CreateLogGroupCommand({ logGroupName: group.name, tags: Object.fromEntries(owner(group.tags).map((t) => [t.Key, t.Value])) }),
    );
  for (const [, f] of synthesizedOf(stack, "aws_cloudwatch_log_metric_filter")) {
    const t = f.metric_transformation;
    await logs.send(
      new PutMetricFilterCommand({
        logGroupName: resolved(stack, f.log_group_name),
        filterName: f.name,
        filterPattern: f.pattern,
        metricTransformations: [{ metricName: t.name, metricNamespace: t.namespace, metricValue: t.value }],
      }),
    );
  }
  const [[, dashboard]] = synthesizedOf(stack, "aws_cloudwatch_dashboard");
  await cloudwatch.send(new PutDashboardCommand({ DashboardName: dashboard.dashboard_name, DashboardBody: dashboard.dashboard_body }));
  for (const [, alarm] of synthesizedOf(stack, "aws_cloudwatch_metric_alarm"))
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        AlarmName: alarm.alarm_name,
        MetricName: alarm.metric_name ?? "StatusCheckFailed_System",
        Namespace: alarm.namespace ?? "AWS/EC2",
        Statistic: "Sum",
        Period: 60,
        EvaluationPeriods: 1,
        Threshold: 1,
        ComparisonOperator: "GreaterThanOrEqualToThreshold",
        Tags: owner(),
      }),
    );
  const [[, keySettings]] = synthesizedOf(stack, "aws_kms_key");
  const kmsTags = owner(keySettings.tags).map((t) => ({ TagKey: t.Key, TagValue: t.Value }));
  const key = (await kms.send(new CreateKeyCommand({ Description: keySettings.description, Tags: kmsTags }))).KeyMetadata!.KeyId!;
  // An earlier deploy's key, destroyed: pending deletion for its waiting period, with the same settings.
  const oldKey = (await kms.send(new CreateKeyCommand({ Description: keySettings.description, Tags: kmsTags }))).KeyMetadata!.KeyId!;
  await kms.send(new ScheduleKeyDeletionCommand({ KeyId: oldKey, PendingWindowInDays: 7 }));
  const alias = `alias/${environment}-proxy-alerts`;
  await kms.send(new CreateAliasCommand({ AliasName: alias, TargetKeyId: key }));
  const [[, topicSettings]] = synthesizedOf(stack, "aws_sns_topic");
  const topic = (await sns.send(new CreateTopicCommand({ Name: topicSettings.name, Tags: owner(topicSettings.tags) }))).TopicArn!;
  const [[, subscriptionSettings]] = synthesizedOf(stack, "aws_sns_topic_subscription");
  const subscription = (
    await sns.send(
      new SubscribeCommand({
        TopicArn: topic,
        Protocol: subscriptionSettings.protocol,
        Endpoint: subscriptionSettings.endpoint,
        ReturnSubscriptionArn: true,
      }),
    )
  ).SubscriptionArn!;
  const [, policy] = synthesizedOf(stack, "aws_iam_role_policy").find(([id]) => id.startsWith("ProxyRole_"))!;
  const [, role] = synthesizedOf(stack, "aws_iam_role").find(([id]) => id.startsWith("ProxyRole_"))!;
  await iam.send(new CreateRoleCommand({ RoleName: role.name, AssumeRolePolicyDocument: role.assume_role_policy, Tags: owner() }));
  await iam.send(new PutRolePolicyCommand({ RoleName: role.name, PolicyName: policy.name, PolicyDocument: JSON.stringify(READ_POLICY) }));
  return {
    parameter: parameter.name,
    dashboard: dashboard.dashboard_name,
    key,
    oldKey,
    alias,
    topic,
    subscription,
    role: role.name,
    policy: policy.name,
  };
}

/**
 * The sweep's reading of what the proxy gained on day two (allowlist parameter, monitoring, alerts), against the emulator:
 * each kind found through the listing it allows, judged, and placed on the synthesized resource with the provider's import id.
 */
describe("the orphan sweep reads the proxy's day-two resources", () => {
  const suiteEmulator = suiteMotoWithTestCredentials();

  it("finds an alerts environment's parameter, metric filters, dashboard, key, alias, topic, subscription and inline policy, and no unknown kinds", async () => {
    const raw = verificationRaw();
    raw.name = "day-two";
    raw.alerts = { email: "ops@example.com" };
    const config = configFrom(raw);
    const stack: SynthesizedStack = JSON.parse(synthEnvironment(config).json);
    const made = await createDayTwo(suiteEmulator().endpoint, stack, config.project, config.name);

    const { found, unknownKinds } = await readInventory({
      region: config.region,
      project: config.project,
      environment: config.name,
      endpoint: suiteEmulator().endpoint,
    });
    expect(unknownKinds).toEqual([]);
    const ids = (type: string) => found.filter((f) => f.type === type).map((f) => f.importId);
    const filters = synthesizedOf(stack, "aws_cloudwatch_log_metric_filter").map(
      ([, f]) => `${resolved(stack, f.log_group_name)}:${f.name}`,
    );
    expect(filters).toHaveLength(5);
    expect(ids("aws_ssm_parameter")).toEqual([made.parameter]);
    expect(ids("aws_cloudwatch_log_metric_filter").sort()).toEqual(filters.sort());
    expect(ids("aws_cloudwatch_dashboard")).toEqual([made.dashboard]);
    expect(ids("aws_kms_key").sort()).toEqual([made.key, made.oldKey].sort());
    expect(ids("aws_kms_alias")).toEqual([made.alias]);
    expect(ids("aws_sns_topic")).toEqual([made.topic]);
    expect(ids("aws_sns_topic_subscription")).toEqual([made.subscription]);
    expect(ids("aws_iam_role_policy")).toEqual([`${made.role}:${made.policy}`]);
    expect(ids("aws_cloudwatch_log_group").sort()).toEqual([
      `/proxy-over-peering/day-two/squid-access`,
      `/proxy-over-peering/day-two/squid-allowlist`,
    ]);
    expect(ids("aws_cloudwatch_metric_alarm")).toHaveLength(synthesizedOf(stack, "aws_cloudwatch_metric_alarm").length);

    // The key pending deletion is judged no orphan; everything else lands on the stack's own resource.
    const { adoptable, notAdopted } = judgeUnknown(found);
    expect(notAdopted.map((n) => [n.resource.importId, n.reason])).toEqual([
      [made.oldKey, expect.stringMatching(/^pending deletion \(deleted on .*\): not an orphan to adopt/)],
    ]);
    const placed = placeOrphans(adoptable, stack, { resources: [] });
    const at = (resource: FoundResource) => placed.find((o) => o.resource === resource)?.address;
    const addressOf = (type: string) => adoptable.filter((f) => f.type === type).map(at);
    expect(addressOf("aws_ssm_parameter")).toEqual([expect.stringMatching(/^aws_ssm_parameter\.Proxy_Allowlist_/)]);
    expect(new Set(addressOf("aws_cloudwatch_log_metric_filter"))).toEqual(
      new Set(synthesizedOf(stack, "aws_cloudwatch_log_metric_filter").map(([id]) => `aws_cloudwatch_log_metric_filter.${id}`)),
    );
    expect(addressOf("aws_cloudwatch_dashboard")).toEqual([expect.stringMatching(/^aws_cloudwatch_dashboard\.ProxyMonitoring_Dashboard_/)]);
    expect(addressOf("aws_kms_key")).toEqual([expect.stringMatching(/^aws_kms_key\.ProxyMonitoring_AlertsKey_/)]);
    expect(addressOf("aws_sns_topic")).toEqual([expect.stringMatching(/^aws_sns_topic\.ProxyMonitoring_AlertsTopic_/)]);
    expect(addressOf("aws_sns_topic_subscription")).toEqual([
      expect.stringMatching(/^aws_sns_topic_subscription\.ProxyMonitoring_AlertsEmail_/),
    ]);
    expect(addressOf("aws_iam_role_policy")).toEqual([expect.stringMatching(/^aws_iam_role_policy\.ProxyRole_AllowlistRead_/)]);
    // The stack makes no alias: found, with no address to import it to.
    expect(addressOf("aws_kms_alias")).toEqual([undefined]);

    const blocks = importBlocks(placed).import;
    const block = (prefix: string) => blocks.filter((b) => b.to.startsWith(prefix)).map((b) => b.id);
    expect(block("aws_cloudwatch_log_metric_filter.").sort()).toEqual(filters.sort());
    expect(block("aws_kms_key.")).toEqual([made.key]);
    expect(block("aws_sns_topic.")).toEqual([made.topic]);
    expect(block("aws_sns_topic_subscription.")).toEqual([made.subscription]);
    expect(block("aws_ssm_parameter.")).toEqual([made.parameter]);
    expect(block("aws_cloudwatch_dashboard.")).toEqual([made.dashboard]);
  });
});

/**
 * The sweep's reading of PrivateLink against the emulator: an endpoint service and an app VPC's interface endpoint
 * left by an apply are found by their owner tags (another's service is left alone) and placed on the stack's own.
 */
describe("the orphan sweep reads PrivateLink's endpoint service and interface endpoints", () => {
  const suiteEmulator = suiteMotoWithTestCredentials();

  it("finds the owned endpoint service and endpoint, no unknown kinds, and places both", async () => {
    const raw = JSON.parse(fs.readFileSync(path.join(CONFIG_DIR, "privatelink.json"), "utf8"));
    raw.name = "pl-sweep";
    const config = configFrom(raw);
    const stack: SynthesizedStack = JSON.parse(synthEnvironment(config).json);
    const common = { region: config.region, endpoint: suiteEmulator().endpoint };
    const ec2 = new EC2Client(common);
    const tagged = (type: "vpc-endpoint-service" | "vpc-endpoint", name: string, owner = true) => [
      {
        ResourceType: type,
        Tags: [
          { Key: "Name", Value: name },
          ...(owner ? Object.entries(ownerTags(config.project, config.name, {})).map(([Key, Value]) => ({ Key, Value })) : []),
        ],
      },
    ];
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/24" }))).Vpc!.VpcId!;
    const subnet = (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: "10.0.0.0/25", AvailabilityZone: "ap-northeast-1a" })))
      .Subnet!.SubnetId!;
    const lb = (
      await new ElasticLoadBalancingV2Client(common).send(
        new CreateLoadBalancerCommand({ Name: "pl-sweep-proxy", Subnets: [subnet], Scheme: "internal", Type: "network" }),
      )
    ).LoadBalancers![0].LoadBalancerArn!;
    const service = async (name: string, owner: boolean) =>
      (
        await ec2.send(
          new CreateVpcEndpointServiceConfigurationCommand({
            NetworkLoadBalancerArns: [lb],
            AcceptanceRequired: false,
            TagSpecifications: tagged("vpc-endpoint-service", name, owner),
          }),
        )
      ).ServiceConfiguration!;
    const ours = await service("pl-sweep-proxy-service", true);
    await service("someone-elses-service", false);
    const endpoint = (
      await ec2.send(
        new CreateVpcEndpointCommand({
          VpcId: vpc,
          ServiceName: ours.ServiceName,
          VpcEndpointType: "Interface",
          SubnetIds: [subnet],
          TagSpecifications: tagged("vpc-endpoint", "pl-sweep-app1-proxy-endpoint"),
        }),
      )
    ).VpcEndpoint!.VpcEndpointId!;

    const { found, unknownKinds } = await readInventory({ ...common, project: config.project, environment: config.name });
    expect(unknownKinds).toEqual([]);
    const ids = (type: string) => found.filter((f) => f.type === type).map((f) => f.importId);
    expect(ids("aws_vpc_endpoint_service")).toEqual([ours.ServiceId]);
    expect(ids("aws_vpc_endpoint")).toEqual([endpoint]);
    const placed = placeOrphans(found, stack, { resources: [] });
    const at = (type: string) => placed.filter((o) => o.resource.type === type).map((o) => o.address);
    expect(at("aws_vpc_endpoint_service")).toEqual([expect.stringMatching(/^aws_vpc_endpoint_service\.EndpointService_/)]);
    expect(at("aws_vpc_endpoint")).toEqual([expect.stringMatching(/^aws_vpc_endpoint\.App-app1_ProxyEndpoint_/)]);
  });
});
