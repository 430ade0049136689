import * as path from "path";
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { Testing } from "cdktf";
import { Construct } from "constructs";
import type { IProxy } from "../constructs/egress/egress";
import {
  ACCESS_LOG_FILTER_FIELDS,
  ACCESS_LOG_PATTERNS,
  ALLOWLIST_LOG_PATTERNS,
  ProxyMonitoring,
  ProxyMonitoringProps,
} from "../constructs/egress/proxy-monitoring";
import { EnvironmentStack } from "../constructs/environment-stack";
import { loadEnvironmentFile } from "../lib/config";
import { allowlistLogGroupName, outputNames, PROXY_METRICS } from "../lib/naming";
import { enforcePolicy } from "../lib/policy/pack";
import { ACCESS_LOG_FIELDS, ACCESS_LOG_FORMAT, APP_VPC_NOTE, renderSquidBase } from "../lib/squid";
import { CONFIG_DIR, configFrom, fleetRaw, localBackend, resourcesOf, synthEnvironment, verificationRaw } from "./helpers/stack";

/** Squid 5.7's own access log lines (Debian), written with the proxies' log format and app VPC note on loopback. */
const SQUID_LINES = {
  denied: "1796456810.175      1 127.0.0.1 TCP_DENIED/403 3427 GET http://10.255.255.1/y - HIER_NONE/- text/html verification-app",
  deniedConnect: "1796456810.183      1 127.0.0.1 TCP_DENIED/403 3419 CONNECT 10.255.255.1:8443 - HIER_NONE/- text/html verification-app",
  deniedOutsider: "1796456820.921      0 127.0.0.2 TCP_DENIED/403 3433 GET http://127.0.0.1:31999/z - HIER_NONE/- text/html -",
  upstreamRefused:
    "1796456810.164      3 127.0.0.1 TCP_MISS/503 3452 GET http://127.0.0.1:31999/x - HIER_DIRECT/127.0.0.1 text/html verification-app",
  tunnelRefused: "1796456810.190      0 127.0.0.1 NONE_NONE/503 0 CONNECT 127.0.0.1:443 - HIER_DIRECT/127.0.0.1 - verification-app",
  relayed:
    "1796456837.957      1 127.0.0.1 TCP_MISS/200 763 GET http://127.0.0.1:31999/ - HIER_DIRECT/127.0.0.1 text/html verification-app",
};

/** The codes of the access log format the proxies' squid.conf defines, one per column. */
const formatCodes = () => {
  const line = renderSquidBase({ environment: "verification", port: 3128 })
    .split("\n")
    .find((l) => l.startsWith(`logformat ${ACCESS_LOG_FORMAT} `))!;
  return line.split(" ").slice(2);
};

const withAlerts = (alerts: Record<string, string>, raw: any = verificationRaw()) => ({ ...raw, alerts });
const TOPIC = "arn:aws:sns:ap-northeast-1:111122223333:network-alerts";

/** A stack's resources of one type, as a list. */
const all = (json: string, type: string) => Object.values(resourcesOf(json, type));

/** The named fields of a space-delimited pattern and the condition on each, in order (the leading `...` left out). */
function patternFields(pattern: string): { name: string; condition?: string }[] {
  expect(pattern).toMatch(/^\[\.\.\., .*\]$/);
  return pattern
    .slice("[..., ".length, -1)
    .split(", ")
    .map((f) => {
      const [name, condition] = f.split(" = ");
      return { name, condition };
    });
}

describe("the proxy's metric filters", () => {
  const { json } = synthEnvironment();
  const filters = Object.fromEntries(all(json, "aws_cloudwatch_log_metric_filter").map((f) => [f.metric_transformation.name, f]));
  const group = (name: string) => Object.entries(resourcesOf(json, "aws_cloudwatch_log_group")).find(([, g]) => g.name === name)![0];

  it("count every request, denied requests by app VPC and upstream errors on Squid's access log, in the environment's namespace", () => {
    const access = `\${aws_cloudwatch_log_group.${group("/proxy-over-peering/verification/squid-access")}.name}`;
    for (const metric of [PROXY_METRICS.requests, PROXY_METRICS.denied, PROXY_METRICS.upstreamErrors]) {
      expect(filters[metric]).toEqual(
        expect.objectContaining({
          log_group_name: access,
          metric_transformation: expect.objectContaining({ namespace: "ProxyOverPeering/verification", value: "1" }),
        }),
      );
    }
    expect(filters.Requests.pattern).toBe("[..., result, bytes, method, url, user, hierarchy, type, app_vpc]");
    expect(filters.Denied.pattern).toBe("[..., result = TCP_DENIED*, bytes, method, url, user, hierarchy, type, app_vpc]");
    expect(filters.UpstreamErrors.pattern).toBe("[..., result = %/50[234]$%, bytes, method, url, user, hierarchy, type, app_vpc]");
  });

  it("takes the AppVpc dimension from the last column, without a default value (CloudWatch refuses one beside dimensions)", () => {
    expect(filters.Denied.metric_transformation.dimensions).toEqual({ AppVpc: "$app_vpc" });
    expect(filters.Denied.metric_transformation.default_value).toBeUndefined();
    expect(filters.Requests.metric_transformation.default_value).toBe("0");
    expect(filters.UpstreamErrors.metric_transformation.default_value).toBe("0");
  });

  it("counts refused allowlist versions and records the version each instance applied, from the allowlist update log", () => {
    const updates = `\${aws_cloudwatch_log_group.${group(allowlistLogGroupName("verification"))}.name}`;
    expect(filters.AllowlistRefused).toEqual(
      expect.objectContaining({
        log_group_name: updates,
        pattern: '{ $.event = "refused" }',
        metric_transformation: expect.objectContaining({ value: "1", default_value: "0" }),
      }),
    );
    expect(filters.AllowlistVersion).toEqual(
      expect.objectContaining({
        log_group_name: updates,
        pattern: '{ $.event = "applied" }',
        metric_transformation: expect.objectContaining({ value: "$.version", dimensions: { Instance: "$.instance" } }),
      }),
    );
  });

  it("names the access log format's columns from the result on, one to one, the app VPC last", () => {
    const codes = formatCodes();
    expect(codes).toHaveLength(ACCESS_LOG_FIELDS.length);
    expect(codes[ACCESS_LOG_FIELDS.indexOf("result")]).toBe("%Ss/%03>Hs");
    expect(codes[codes.length - 1]).toBe(`%note{${APP_VPC_NOTE}}`);
    for (const pattern of Object.values(ACCESS_LOG_PATTERNS)) {
      const named = patternFields(pattern).map((f) => f.name);
      // The ellipsis stands for the time, Squid's space-padded elapsed time and the client: the rest is named one to one.
      expect(named).toEqual(ACCESS_LOG_FIELDS.slice(3));
      expect(named).toHaveLength(codes.length - 3);
    }
    for (const line of Object.values(SQUID_LINES)) expect(line.split(/\s+/)).toHaveLength(codes.length);
  });

  it("tests the result field that holds Squid's code and status in its own lines (a check of positions, not CloudWatch's matcher)", () => {
    const resultOf = (line: string) =>
      line.split(/\s+/).slice(-ACCESS_LOG_FILTER_FIELDS.length)[ACCESS_LOG_FILTER_FIELDS.indexOf("result")];
    const denied = patternFields(ACCESS_LOG_PATTERNS.denied).find((f) => f.name === "result")!.condition!;
    const upstream = patternFields(ACCESS_LOG_PATTERNS.upstreamErrors).find((f) => f.name === "result")!.condition!;
    expect(denied).toBe("TCP_DENIED*");
    const prefix = denied.slice(0, -1);
    const regex = new RegExp(upstream.slice(1, -1));
    const verdicts = Object.fromEntries(
      Object.entries(SQUID_LINES).map(([name, line]) => [
        name,
        { denied: resultOf(line).startsWith(prefix), upstream: regex.test(resultOf(line)) },
      ]),
    );
    expect(verdicts).toEqual({
      denied: { denied: true, upstream: false },
      deniedConnect: { denied: true, upstream: false },
      deniedOutsider: { denied: true, upstream: false },
      upstreamRefused: { denied: false, upstream: true },
      tunnelRefused: { denied: false, upstream: true },
      relayed: { denied: false, upstream: false },
    });
    const appVpcOf = (line: string) => line.split(/\s+/).pop();
    expect([appVpcOf(SQUID_LINES.denied), appVpcOf(SQUID_LINES.deniedOutsider)]).toEqual(["verification-app", "-"]);
  });

  it("reads the keys the allowlist update log writes", () => {
    expect(ALLOWLIST_LOG_PATTERNS).toEqual({ applied: '{ $.event = "applied" }', refused: '{ $.event = "refused" }' });
  });
});

describe("alarms and notifications", () => {
  it("creates no alarm of its own and nothing of SNS without alerts, and leaves the recovery alarm's actions alone", () => {
    const { json } = synthEnvironment();
    const alarms = all(json, "aws_cloudwatch_metric_alarm");
    expect(alarms.map((a) => a.alarm_name)).toEqual(["verification-proxy-auto-recover"]);
    expect(alarms[0].alarm_actions).toEqual([expect.stringMatching(/:ec2:recover$/)]);
    expect(alarms[0].ok_actions).toBeUndefined();
    expect(JSON.parse(json).resource.aws_sns_topic).toBeUndefined();
    expect(JSON.parse(json).resource.aws_kms_key).toBeUndefined();
  });

  it("alarms on denials per app VPC, upstream errors and refused versions, each notifying an existing topic when set and when cleared", () => {
    const { json } = synthEnvironment(configFrom(withAlerts({ topicArn: TOPIC })));
    expect(JSON.parse(json).resource.aws_sns_topic).toBeUndefined();
    const alarms = Object.fromEntries(all(json, "aws_cloudwatch_metric_alarm").map((a) => [a.alarm_name, a]));
    expect(Object.keys(alarms).sort()).toEqual([
      "verification-proxy-allowlist-refused",
      "verification-proxy-auto-recover",
      "verification-proxy-denied-app",
      "verification-proxy-upstream-errors",
    ]);
    expect(alarms["verification-proxy-denied-app"]).toEqual(
      expect.objectContaining({
        namespace: "ProxyOverPeering/verification",
        metric_name: "Denied",
        dimensions: { AppVpc: "verification-app" },
        statistic: "Sum",
        period: 300,
        evaluation_periods: 1,
        threshold: 1,
        comparison_operator: "GreaterThanOrEqualToThreshold",
        treat_missing_data: "notBreaching",
        alarm_actions: [TOPIC],
        ok_actions: [TOPIC],
      }),
    );
    expect(alarms["verification-proxy-upstream-errors"]).toEqual(
      expect.objectContaining({ metric_name: "UpstreamErrors", period: 300, evaluation_periods: 2, datapoints_to_alarm: 2, threshold: 1 }),
    );
    expect(alarms["verification-proxy-allowlist-refused"]).toEqual(
      expect.objectContaining({ metric_name: "AllowlistRefused", period: 60, evaluation_periods: 1, threshold: 1, alarm_actions: [TOPIC] }),
    );
  });

  it("gives each app VPC its own denial alarm, on the name the access log writes for it", () => {
    const raw = withAlerts({ topicArn: TOPIC });
    raw.appVpcs.push({ name: "batch", cidr: "192.168.1.0/24", subnets: [{ availabilityZone: "ap-northeast-1a", cidr: "192.168.1.0/25" }] });
    const { json } = synthEnvironment(configFrom(raw));
    const denied = all(json, "aws_cloudwatch_metric_alarm").filter((a) => a.metric_name === "Denied");
    expect(denied.map((a) => [a.alarm_name, a.dimensions.AppVpc])).toEqual([
      ["verification-proxy-denied-app", "verification-app"],
      ["verification-proxy-denied-batch", "verification-batch"],
    ]);
  });

  it("keeps the single proxy's recover action and adds the topic to its recovery alarm", () => {
    const { json } = synthEnvironment(configFrom(withAlerts({ topicArn: TOPIC })));
    const recover = all(json, "aws_cloudwatch_metric_alarm").find((a) => a.alarm_name === "verification-proxy-auto-recover");
    expect(recover.alarm_actions).toEqual([expect.stringMatching(/^arn:\$\{data\.aws_partition\..*:ec2:recover$/), TOPIC]);
    expect(recover.ok_actions).toEqual([TOPIC]);
  });

  it("adds the topic to the fleet's unhealthy-targets alarm", () => {
    const { json } = synthEnvironment(configFrom(withAlerts({ topicArn: TOPIC }, fleetRaw({ size: 2 }))));
    const unhealthy = all(json, "aws_cloudwatch_metric_alarm").find((a) => a.alarm_name === "verification-proxy-unhealthy-hosts");
    expect(unhealthy).toEqual(expect.objectContaining({ metric_name: "UnHealthyHostCount", alarm_actions: [TOPIC], ok_actions: [TOPIC] }));
  });

  it("creates a topic only for an email address: encrypted with a key CloudWatch may use, with the address subscribed", () => {
    const { json } = synthEnvironment(configFrom(withAlerts({ email: "network-team@example.com" })));
    const [[topicId, topic]] = Object.entries(resourcesOf(json, "aws_sns_topic"));
    const [[keyId, key]] = Object.entries(resourcesOf(json, "aws_kms_key"));
    expect(topic).toEqual(
      expect.objectContaining({ name: "verification-proxy-alerts", kms_master_key_id: `\${aws_kms_key.${keyId}.arn}` }),
    );
    expect(key).toEqual(expect.objectContaining({ enable_key_rotation: true, deletion_window_in_days: 7 }));
    const statements = JSON.parse(key.policy).Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: "Allow",
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      }),
    );
    expect(statements).toContainEqual(expect.objectContaining({ Action: "kms:*", Principal: { AWS: expect.stringMatching(/:root$/) } }));
    expect(json).toHaveResourceWithProperties(SnsTopicSubscription, {
      topic_arn: `\${aws_sns_topic.${topicId}.arn}`,
      protocol: "email",
      endpoint: "network-team@example.com",
    });
    for (const alarm of all(json, "aws_cloudwatch_metric_alarm")) expect(alarm.alarm_actions).toContain(`\${aws_sns_topic.${topicId}.arn}`);
  });

  it("notifies both the existing topic and the created one when both are set", () => {
    const { json } = synthEnvironment(configFrom(withAlerts({ topicArn: TOPIC, email: "network-team@example.com" })));
    const [topicId] = Object.keys(resourcesOf(json, "aws_sns_topic"));
    const refused = all(json, "aws_cloudwatch_metric_alarm").find((a) => a.metric_name === "AllowlistRefused");
    expect(refused.alarm_actions).toEqual([TOPIC, `\${aws_sns_topic.${topicId}.arn}`]);
  });

  it("passes the policy pack with a topic, a key and every alarm", () => {
    const app = Testing.app();
    new EnvironmentStack(app, "verification", {
      config: configFrom(withAlerts({ topicArn: TOPIC, email: "network-team@example.com" })),
      stateBackend: localBackend,
    });
    expect(enforcePolicy(app)).toEqual([]);
  });
});

describe("the dashboard", () => {
  const bodyOf = (json: string) => {
    const [dashboard] = all(json, "aws_cloudwatch_dashboard");
    expect(dashboard.dashboard_name).toBe("verification-proxy");
    return JSON.parse(dashboard.dashboard_body) as { widgets: { properties: { title: string; region: string; metrics: any[][] } }[] };
  };
  const widget = (body: ReturnType<typeof bodyOf>, title: RegExp) => body.widgets.find((w) => title.test(w.properties.title))!.properties;

  it("shows requests, denials by app VPC, upstream errors and refused versions in the environment's region", () => {
    const body = bodyOf(synthEnvironment().json);
    expect(body.widgets.map((w) => w.properties.region)).toEqual(body.widgets.map(() => "ap-northeast-1"));
    expect(widget(body, /^Requests/).metrics).toEqual([["ProxyOverPeering/verification", "Requests"]]);
    expect(widget(body, /^Denied/).metrics).toEqual([
      ["ProxyOverPeering/verification", "Denied", "AppVpc", "verification-app", { label: "app" }],
    ]);
    expect(widget(body, /^Upstream errors/).metrics).toEqual([["ProxyOverPeering/verification", "UpstreamErrors"]]);
    expect(widget(body, /refused/).metrics).toEqual([["ProxyOverPeering/verification", "AllowlistRefused"]]);
  });

  it("shows the allowlist version each proxy runs, whatever instances the proxies are", () => {
    const versions = widget(bodyOf(synthEnvironment().json), /Allowlist version each proxy/);
    expect(versions.metrics).toEqual([
      [
        expect.objectContaining({
          expression: `SEARCH('{ProxyOverPeering/verification,Instance} MetricName="AllowlistVersion"', 'Maximum', 300)`,
        }),
      ],
    ]);
  });

  it("shows the single proxy's failed status checks, by a reference to its instance", () => {
    const { json } = synthEnvironment();
    const [instanceId] = Object.entries(resourcesOf(json, "aws_instance")).find(([, i]) => i.tags.Name === "verification-proxy")!;
    expect(widget(bodyOf(json), /status checks/).metrics).toEqual([
      ["AWS/EC2", "StatusCheckFailed", "InstanceId", `\${aws_instance.${instanceId}.id}`],
    ]);
  });

  it("shows the fleet's healthy and unhealthy targets, by its target group and load balancer", () => {
    const { json } = synthEnvironment(configFrom(fleetRaw({ size: 2 })));
    const [tg] = Object.keys(resourcesOf(json, "aws_lb_target_group"));
    const [lb] = Object.keys(resourcesOf(json, "aws_lb"));
    const dims = ["TargetGroup", `\${aws_lb_target_group.${tg}.arn_suffix}`, "LoadBalancer", `\${aws_lb.${lb}.arn_suffix}`];
    expect(widget(bodyOf(json), /Healthy proxies/).metrics).toEqual([
      ["AWS/NetworkELB", "HealthyHostCount", ...dims, { stat: "Minimum" }],
      ["AWS/NetworkELB", "UnHealthyHostCount", ...dims, { stat: "Maximum" }],
    ]);
  });

  it("is a stack output, by name and by its address in the console", () => {
    const { json } = synthEnvironment();
    const outputs = JSON.parse(json).output;
    const [id] = Object.keys(resourcesOf(json, "aws_cloudwatch_dashboard"));
    expect(outputs[outputNames.proxyDashboard].value).toBe(`\${aws_cloudwatch_dashboard.${id}.dashboard_name}`);
    expect(outputs[outputNames.proxyDashboardUrl].value).toBe(
      "https://ap-northeast-1.console.aws.amazon.com/cloudwatch/home?region=ap-northeast-1#dashboards/dashboard/verification-proxy",
    );
  });
});

describe("an environment without Squid", () => {
  it("gets no metric filter, alarm, topic, dashboard or dashboard output (private NAT keeps no access log)", () => {
    const config = loadEnvironmentFile(path.join(CONFIG_DIR, "transit-gateway.json"));
    expect(config.connectivity).toEqual(expect.objectContaining({ egress: "privateNat" }));
    const { stack, json } = synthEnvironment(config);
    expect(stack.monitoring).toBeUndefined();
    for (const type of [CloudwatchLogMetricFilter, CloudwatchMetricAlarm, CloudwatchDashboard]) expect(json).not.toHaveResource(type);
    expect(Object.keys(JSON.parse(json).output)).not.toContain(outputNames.proxyDashboard);
  });
});

/** A stand-in Squid proxy for the construct on its own: an access log group and one alarm of its own. */
class StandInProxy extends Construct implements IProxy {
  public readonly host = "10.0.0.10";
  public readonly addresses = ["10.0.0.10"];
  public readonly port = 3128;
  public readonly proxyUrl = "http://10.0.0.10:3128";
  public readonly squidConf = "";
  public readonly accessLogGroupName: string;
  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.accessLogGroupName = new CloudwatchLogGroup(this, "AccessLog", { name: "/test/access" }).name;
    new CloudwatchMetricAlarm(this, "Health", {
      alarmName: "health",
      namespace: "AWS/EC2",
      metricName: "StatusCheckFailed",
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      evaluationPeriods: 1,
      threshold: 1,
      alarmActions: ["arn:aws:automate:ap-northeast-1:ec2:recover"],
    });
  }
}

describe("ProxyMonitoring on its own", () => {
  const build = (props: Partial<ProxyMonitoringProps> = {}, before?: (scope: Construct) => void) =>
    Testing.synthScope((scope) => {
      before?.(scope);
      new ProxyMonitoring(scope, "Monitoring", {
        environment: "test",
        region: "ap-northeast-1",
        proxy: new StandInProxy(scope, "Proxy"),
        health: { kind: "instance", instanceId: "i-0123456789abcdef0" },
        appVpcs: [{ name: "app", logName: "test-app" }],
        logRetentionDays: 365,
        ...props,
      });
    });

  it("uses the stack's own allowlist update log group when there is one, and creates it otherwise", () => {
    const own = build({}, (scope) => void new CloudwatchLogGroup(scope, "Updates", { name: allowlistLogGroupName("test") }));
    expect(all(own, "aws_cloudwatch_log_group").filter((g) => g.name === allowlistLogGroupName("test"))).toHaveLength(1);
    const refused = all(own, "aws_cloudwatch_log_metric_filter").find((f) => f.metric_transformation.name === "AllowlistRefused");
    expect(refused.log_group_name).toMatch(/^\$\{aws_cloudwatch_log_group\.Updates(_[0-9A-F]+)?\.name\}$/);
    const created = build();
    expect(all(created, "aws_cloudwatch_log_group").find((g) => g.name === allowlistLogGroupName("test"))).toEqual(
      expect.objectContaining({ retention_in_days: 365 }),
    );
  });

  it("adds the topic to every alarm under the proxy, keeping what it had", () => {
    const json = build({ alerts: { topicArn: "arn:aws:sns:ap-northeast-1:111122223333:t" } });
    expect(all(json, "aws_cloudwatch_metric_alarm").find((a) => a.alarm_name === "health").alarm_actions).toEqual([
      "arn:aws:automate:ap-northeast-1:ec2:recover",
      "arn:aws:sns:ap-northeast-1:111122223333:t",
    ]);
  });

  it("links the dashboard in the console of the region's partition", () => {
    const host = (region: string) => {
      let url = "";
      Testing.synthScope((scope) => {
        url = new ProxyMonitoring(scope, "Monitoring", {
          environment: "test",
          region,
          proxy: new StandInProxy(scope, "Proxy"),
          health: { kind: "instance", instanceId: "i-0123456789abcdef0" },
          appVpcs: [{ name: "app", logName: "test-app" }],
          logRetentionDays: 365,
        }).dashboardUrl;
      });
      return new URL(url).host;
    };
    expect(host("eu-west-1")).toBe("eu-west-1.console.aws.amazon.com");
    expect(host("cn-north-1")).toBe("cn-north-1.console.amazonaws.cn");
    expect(host("us-gov-west-1")).toBe("console.amazonaws-us-gov.com");
  });

  it.each([
    [{ appVpcs: [] }, /appVpcs is empty; give the app VPCs whose denials are counted/],
    [
      {
        appVpcs: [
          { name: "a", logName: "test-app" },
          { name: "b", logName: "test-app" },
        ],
      },
      /appVpcs names test-app twice; each app VPC once/,
    ],
    [{ alerts: {} }, /alerts names neither topicArn nor email; give one of them, or leave alerts out/],
    [
      { alerts: { topicArn: "network-alerts" } },
      /alerts\.topicArn network-alerts is not an SNS topic ARN; write one such as arn:aws:sns:ap-northeast-1:/,
    ],
    [
      { alerts: { topicArn: "arn:aws:sns:us-east-1:111122223333:t" } },
      /alerts\.topicArn arn:aws:sns:us-east-1:111122223333:t is a topic in us-east-1; alarms in ap-northeast-1 notify topics of their own region only/,
    ],
  ] as [Partial<ProxyMonitoringProps>, RegExp][])("refuses %j before creating anything", (props, message) => {
    expect(() => build(props)).toThrow(message);
  });
});
