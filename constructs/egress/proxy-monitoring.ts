import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchLogMetricFilter } from "@cdktf/provider-aws/lib/cloudwatch-log-metric-filter";
import { CloudwatchMetricAlarm, CloudwatchMetricAlarmConfig } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { TerraformStack, Token } from "cdktf";
import { Construct, IConstruct } from "constructs";
import type { EnvironmentConfig } from "../../lib/config";
import {
  ALLOWLIST_EVENT_FIELDS,
  ALLOWLIST_EVENTS,
  allowlistLogGroupName,
  monitoringNames,
  outputNames,
  PROXY_METRIC_DIMENSIONS,
  PROXY_METRICS,
  proxyMetricsNamespace,
  vpcName,
} from "../../lib/naming";
import { ACCESS_LOG_FIELDS, APP_VPC_NOTE } from "../../lib/squid";
import type { EgressOutput, IEgress, IProxy } from "./egress";
import { ProxyFleet } from "./proxy-fleet";
import { ProxyServer } from "./proxy-server";

/** What shows whether the proxies are healthy: the single proxy's status checks, or the fleet's target group. */
export type ProxyHealth =
  | { readonly kind: "instance"; readonly instanceId: string }
  | { readonly kind: "targetGroup"; readonly targetGroupArnSuffix: string; readonly loadBalancerArnSuffix: string };

/** An app VPC, as the environment file and the access log name it. */
export interface MonitoredAppVpc {
  /** Its name in the environment file, for its alarm's name. */
  readonly name: string;
  /** What the access log's last column writes for its clients: the Denied metric's AppVpc dimension. */
  readonly logName: string;
}

/** Where the alarms notify: an existing topic, a topic created for an email address, or both. */
export interface ProxyAlerts {
  /** An existing SNS topic of the environment's region. @default none */
  readonly topicArn?: string;
  /** An address subscribed (after it confirms) to a topic created here. @default no topic is created */
  readonly email?: string;
}

/** Props of {@link ProxyMonitoring}. */
export interface ProxyMonitoringProps {
  /** The environment's name, for names and the metrics' namespace. */
  readonly environment: string;
  /** The environment's region, where the dashboard's widgets read their metrics. */
  readonly region: string;
  /** The Squid proxy: its access log group, and the construct whose alarms (recovery, target health) notify the topic too. */
  readonly proxy: IProxy & IConstruct;
  /** What the dashboard shows as the proxies' health. */
  readonly health: ProxyHealth;
  /** The app VPCs whose denials are counted apart. */
  readonly appVpcs: readonly MonitoredAppVpc[];
  /** How long the allowlist update log keeps events, in days, when it is created here (no log group of its name in the stack). */
  readonly logRetentionDays: number;
  /**
   * Where alarms notify. Without it, no alarm on denials, errors or refused versions and nothing of SNS is created; the
   * metrics and the dashboard exist anyway.
   * @default no notifications
   */
  readonly alerts?: ProxyAlerts;
}

/** The access log fields the filters name, from the result code on; the leading `...` takes the time, Squid's padded elapsed time and the client. */
export const ACCESS_LOG_FILTER_FIELDS = ACCESS_LOG_FIELDS.slice(ACCESS_LOG_FIELDS.indexOf("result"));
type AccessField = (typeof ACCESS_LOG_FIELDS)[number];

/** A space-delimited pattern over the access log's last fields, with conditions on some of them. */
export function accessLogPattern(conditions: Partial<Record<AccessField, string>> = {}): string {
  const fields = ACCESS_LOG_FILTER_FIELDS.map((f) => (conditions[f] !== undefined ? `${f} = ${conditions[f]}` : f));
  return `[..., ${fields.join(", ")}]`;
}

/** The patterns of the access log's filters: every request, denied ones (TCP_DENIED/403), upstream errors (status 502, 503 or 504). */
export const ACCESS_LOG_PATTERNS = {
  requests: accessLogPattern(),
  denied: accessLogPattern({ result: "TCP_DENIED*" }),
  // A regex: the status follows a slash, and a CONNECT Squid cannot open logs NONE_NONE/503.
  upstreamErrors: accessLogPattern({ result: "%/50[234]$%" }),
} as const;

/** The patterns of the allowlist update log's filters (one JSON line per version applied or refused). */
export const ALLOWLIST_LOG_PATTERNS = {
  applied: `{ $.${ALLOWLIST_EVENT_FIELDS.event} = "${ALLOWLIST_EVENTS.applied}" }`,
  refused: `{ $.${ALLOWLIST_EVENT_FIELDS.event} = "${ALLOWLIST_EVENTS.refused}" }`,
} as const;

const SNS_TOPIC_ARN = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):\d{12}:[A-Za-z0-9_-]{1,256}$/;

/** The console host of a region's partition. */
function consoleHost(region: string): string {
  if (region.startsWith("cn-")) return `${region}.console.amazonaws.cn`;
  if (region.startsWith("us-gov-")) return "console.amazonaws-us-gov.com";
  return `${region}.console.aws.amazon.com`;
}

/**
 * What the proxy tells: metric filters on Squid's access log and the allowlist update log, alarms that notify an SNS topic
 * (with the proxy's own health alarms), and one dashboard. Created once per environment that runs Squid.
 */
export class ProxyMonitoring extends Construct {
  /** The monitoring of an environment's egress, or undefined when no Squid runs (private NAT). */
  public static forEgress(scope: Construct, id: string, config: EnvironmentConfig, egress: IEgress): ProxyMonitoring | undefined {
    let health: ProxyHealth;
    if (egress instanceof ProxyFleet) {
      health = {
        kind: "targetGroup",
        targetGroupArnSuffix: egress.targetGroup.arnSuffix,
        loadBalancerArnSuffix: egress.loadBalancer.arnSuffix,
      };
    } else if (egress instanceof ProxyServer) {
      health = { kind: "instance", instanceId: egress.server.instance.id };
    } else {
      return undefined;
    }
    return new ProxyMonitoring(scope, id, {
      environment: config.name,
      region: config.region,
      proxy: egress,
      health,
      appVpcs: config.appVpcs.map((a) => ({ name: a.name, logName: vpcName(config.name, a.name) })),
      logRetentionDays: config.logRetentionDays,
      alerts: config.alerts,
    });
  }

  /** The namespace of the proxy's metrics. */
  public readonly namespace: string;
  /** The metric filters, by metric name. */
  public readonly metricFilters: ReadonlyMap<string, CloudwatchLogMetricFilter>;
  /** The alarms created here (none without alerts). */
  public readonly alarms: readonly CloudwatchMetricAlarm[];
  /** The topics every alarm notifies, the proxy's health alarms included (none without alerts). */
  public readonly topicArns: readonly string[];
  /** The topic created for `alerts.email`. */
  public readonly topic?: SnsTopic;
  /** The dashboard. */
  public readonly dashboard: CloudwatchDashboard;
  /** The dashboard in the console. */
  public readonly dashboardUrl: string;
  /** The stack outputs: the dashboard's name and address. */
  public readonly outputs: readonly EgressOutput[];

  constructor(scope: Construct, id: string, props: ProxyMonitoringProps) {
    super(scope, id);
    validate(props);
    this.namespace = proxyMetricsNamespace(props.environment);
    this.metricFilters = this.createMetricFilters(props);
    const alerts = props.alerts;
    if (alerts) {
      this.topic = alerts.email !== undefined ? this.createTopic(props.environment, alerts.email) : undefined;
      this.topicArns = [...(alerts.topicArn !== undefined ? [alerts.topicArn] : []), ...(this.topic ? [this.topic.arn] : [])];
      this.alarms = this.createAlarms(props);
      this.notifyHealthAlarms(props.proxy);
    } else {
      this.topicArns = [];
      this.alarms = [];
    }
    const name = monitoringNames.dashboard(props.environment);
    this.dashboard = new CloudwatchDashboard(this, "Dashboard", {
      dashboardName: name,
      dashboardBody: JSON.stringify(this.dashboardBody(props)),
    });
    this.dashboardUrl = `https://${consoleHost(props.region)}/cloudwatch/home?region=${props.region}#dashboards/dashboard/${name}`;
    this.outputs = [
      { name: outputNames.proxyDashboard, value: this.dashboard.dashboardName, description: "The CloudWatch dashboard of the proxy" },
      {
        name: outputNames.proxyDashboardUrl,
        value: this.dashboardUrl,
        description: "The proxy's dashboard in the console: requests, denials by app VPC, errors, health, allowlist versions",
      },
    ];
  }

  /** Requests, Denied (by app VPC) and UpstreamErrors on the access log; AllowlistRefused and AllowlistVersion (by instance) on the update log. */
  private createMetricFilters(props: ProxyMonitoringProps): Map<string, CloudwatchLogMetricFilter> {
    const access = props.proxy.accessLogGroupName;
    const updates = this.allowlistLogGroup(props);
    // CloudWatch refuses a default value beside dimensions: dimensioned metrics have data only where a line matched.
    const filters: [string, string, string, string, Record<string, string>?][] = [
      [PROXY_METRICS.requests, access, ACCESS_LOG_PATTERNS.requests, "1"],
      [PROXY_METRICS.denied, access, ACCESS_LOG_PATTERNS.denied, "1", { [PROXY_METRIC_DIMENSIONS.appVpc]: `$${APP_VPC_NOTE}` }],
      [PROXY_METRICS.upstreamErrors, access, ACCESS_LOG_PATTERNS.upstreamErrors, "1"],
      [PROXY_METRICS.allowlistRefused, updates, ALLOWLIST_LOG_PATTERNS.refused, "1"],
      [
        PROXY_METRICS.allowlistVersion,
        updates,
        ALLOWLIST_LOG_PATTERNS.applied,
        `$.${ALLOWLIST_EVENT_FIELDS.version}`,
        { [PROXY_METRIC_DIMENSIONS.instance]: `$.${ALLOWLIST_EVENT_FIELDS.instance}` },
      ],
    ];
    return new Map(
      filters.map(([metric, logGroupName, pattern, value, dimensions]) => [
        metric,
        new CloudwatchLogMetricFilter(this, `${metric}Filter`, {
          name: monitoringNames.metricFilter(props.environment, metric),
          logGroupName,
          pattern,
          metricTransformation: {
            name: metric,
            namespace: this.namespace,
            value,
            ...(dimensions ? { dimensions } : { defaultValue: "0" }),
          },
        }),
      ]),
    );
  }

  /** The allowlist update log group: the stack's own of that name (a reference, so the filters wait for it), else one created here. */
  private allowlistLogGroup(props: ProxyMonitoringProps): string {
    const name = allowlistLogGroupName(props.environment);
    const existing = TerraformStack.of(this)
      .node.findAll()
      .find((c): c is CloudwatchLogGroup => c instanceof CloudwatchLogGroup && c.nameInput === name);
    if (existing) return existing.name;
    return new CloudwatchLogGroup(this, "AllowlistLog", {
      name,
      retentionInDays: props.logRetentionDays,
      tags: { Name: `${props.environment}-squid-allowlist` },
    }).name;
  }

  /** A topic for the email address, encrypted with a key of its own that CloudWatch may use, and the address's subscription. */
  private createTopic(environment: string, email: string): SnsTopic {
    const name = monitoringNames.alertsTopic(environment);
    const key = new KmsKey(this, "AlertsKey", {
      description: `Encrypts the SNS topic ${name}`,
      enableKeyRotation: true,
      // AWS's shortest wait: the key guards messages in flight only, and waits out deletion after a tear-down.
      deletionWindowInDays: 7,
      policy: JSON.stringify(this.alertsKeyPolicy()),
      tags: { Name: name },
    });
    const topic = new SnsTopic(this, "AlertsTopic", { name, kmsMasterKeyId: key.arn, tags: { Name: name } });
    new SnsTopicSubscription(this, "AlertsEmail", { topicArn: topic.arn, protocol: "email", endpoint: email });
    return topic;
  }

  /**
   * The alerts key's policy: the account administers it; CloudWatch encrypts alarm messages with it.
   * AWS's own SNS key (alias/aws/sns) cannot grant CloudWatch, so alarms would fail to publish to a topic it encrypts.
   */
  private alertsKeyPolicy(): object {
    const partition = new DataAwsPartition(this, "Partition").partition;
    const account = new DataAwsCallerIdentity(this, "Account").accountId;
    return {
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "AccountAdministers",
          Effect: "Allow",
          Principal: { AWS: `arn:${partition}:iam::${account}:root` },
          Action: "kms:*",
          Resource: "*",
        },
        {
          Sid: "CloudWatchAlarmsPublish",
          Effect: "Allow",
          Principal: { Service: "cloudwatch.amazonaws.com" },
          Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
          Resource: "*",
        },
      ],
    };
  }

  /**
   * The alarms, each notifying the topics when it fires and when it clears: Denied per app VPC on any denial in 5 minutes,
   * UpstreamErrors in two 5-minute periods in a row, AllowlistRefused in any minute.
   * Allowed traffic is never denied, so one denial is worth a look by the VPC it names; a restart's single 503 is not; a
   * refused version means the proxies still run the previous allowlist.
   */
  private createAlarms(props: ProxyMonitoringProps): CloudwatchMetricAlarm[] {
    const env = props.environment;
    const alarm = (id: string, config: Omit<CloudwatchMetricAlarmConfig, "namespace" | "statistic" | "comparisonOperator">) =>
      new CloudwatchMetricAlarm(this, id, {
        namespace: this.namespace,
        statistic: "Sum",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        treatMissingData: "notBreaching",
        alarmActions: [...this.topicArns],
        okActions: [...this.topicArns],
        ...config,
      });
    return [
      ...props.appVpcs.map((app) =>
        alarm(`DeniedAlarm-${app.name}`, {
          alarmName: monitoringNames.deniedAlarm(env, app.name),
          alarmDescription: `The proxy denied requests from app VPC ${app.name}: a missing allowlist entry, or a server asking for what it should not`,
          metricName: PROXY_METRICS.denied,
          dimensions: { [PROXY_METRIC_DIMENSIONS.appVpc]: app.logName },
          period: 300,
          evaluationPeriods: 1,
          threshold: 1,
        }),
      ),
      alarm("UpstreamErrorsAlarm", {
        alarmName: monitoringNames.upstreamErrorsAlarm(env),
        alarmDescription: "The proxy could not reach a service (HTTP 502, 503 or 504) in two 5-minute periods in a row",
        metricName: PROXY_METRICS.upstreamErrors,
        period: 300,
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
        threshold: 1,
      }),
      alarm("AllowlistRefusedAlarm", {
        alarmName: monitoringNames.allowlistRefusedAlarm(env),
        alarmDescription: "A proxy refused an allowlist version (squid -k parse failed) and still runs the previous one",
        metricName: PROXY_METRICS.allowlistRefused,
        period: 60,
        evaluationPeriods: 1,
        threshold: 1,
      }),
    ];
  }

  /** The proxy's own alarms (the single proxy's recovery, the fleet's unhealthy targets) notify the topics too, keeping their actions. */
  private notifyHealthAlarms(proxy: IConstruct): void {
    for (const alarm of proxy.node.findAll().filter((c): c is CloudwatchMetricAlarm => c instanceof CloudwatchMetricAlarm)) {
      alarm.alarmActions = [...(alarm.alarmActionsInput ?? []), ...this.topicArns];
      alarm.okActions = [...(alarm.okActionsInput ?? []), ...this.topicArns];
    }
  }

  /** The dashboard: requests, denials by app VPC, upstream errors, the proxies' health, the allowlist version each proxy runs. */
  private dashboardBody(props: ProxyMonitoringProps): object {
    const ns = this.namespace;
    const metric = (title: string, metrics: unknown[][], extra: object = {}) => ({
      type: "metric",
      width: 12,
      height: 6,
      properties: { title, region: props.region, view: "timeSeries", stat: "Sum", period: 300, metrics, ...extra },
    });
    const versions = `SEARCH('{${ns},${PROXY_METRIC_DIMENSIONS.instance}} MetricName="${PROXY_METRICS.allowlistVersion}"', 'Maximum', 300)`;
    const widgets = [
      metric("Requests", [[ns, PROXY_METRICS.requests]]),
      metric(
        "Denied requests by app VPC",
        props.appVpcs.map((a) => [ns, PROXY_METRICS.denied, PROXY_METRIC_DIMENSIONS.appVpc, a.logName, { label: a.name }]),
        { stacked: true },
      ),
      metric("Upstream errors (HTTP 502, 503, 504)", [[ns, PROXY_METRICS.upstreamErrors]]),
      this.healthWidget(props, metric),
      metric("Allowlist version each proxy runs", [[{ expression: versions, id: "versions", label: "" }]], {
        view: "singleValue",
        stat: "Maximum",
        setPeriodToTimeRange: true,
      }),
      metric("Allowlist versions refused", [[ns, PROXY_METRICS.allowlistRefused]]),
    ];
    return { start: "-PT6H", widgets: widgets.map((w, i) => ({ ...w, x: (i % 2) * 12, y: Math.floor(i / 2) * 6 })) };
  }

  /** The fleet's healthy and unhealthy targets, or the single proxy's failed status checks. */
  private healthWidget(props: ProxyMonitoringProps, metric: (title: string, metrics: unknown[][], extra?: object) => object): object {
    const health = props.health;
    if (health.kind === "targetGroup") {
      const dims = ["TargetGroup", health.targetGroupArnSuffix, "LoadBalancer", health.loadBalancerArnSuffix];
      return metric(
        "Healthy proxies",
        [
          ["AWS/NetworkELB", "HealthyHostCount", ...dims, { stat: "Minimum" }],
          ["AWS/NetworkELB", "UnHealthyHostCount", ...dims, { stat: "Maximum" }],
        ],
        { period: 60 },
      );
    }
    return metric("Proxy status checks failed (0 is healthy)", [["AWS/EC2", "StatusCheckFailed", "InstanceId", health.instanceId]], {
      stat: "Maximum",
      period: 60,
    });
  }
}

/** Throws on props the construct cannot build: names the prop, shows the value, says how to fix it. */
function validate(props: ProxyMonitoringProps): void {
  if (props.appVpcs.length === 0) throw new Error("ProxyMonitoring: appVpcs is empty; give the app VPCs whose denials are counted");
  const logNames = props.appVpcs.map((a) => a.logName);
  const repeated = logNames.find((n, i) => logNames.indexOf(n) !== i);
  if (repeated !== undefined) throw new Error(`ProxyMonitoring: appVpcs names ${repeated} twice; each app VPC once`);
  const alerts = props.alerts;
  if (!alerts) return;
  if (alerts.topicArn === undefined && alerts.email === undefined)
    throw new Error("ProxyMonitoring: alerts names neither topicArn nor email; give one of them, or leave alerts out");
  if (alerts.topicArn !== undefined && !Token.isUnresolved(alerts.topicArn)) {
    const region = SNS_TOPIC_ARN.exec(alerts.topicArn)?.[1];
    if (region === undefined)
      throw new Error(
        `ProxyMonitoring: alerts.topicArn ${alerts.topicArn} is not an SNS topic ARN; write one such as arn:aws:sns:${props.region}:111122223333:proxy-alerts`,
      );
    if (region !== props.region)
      throw new Error(
        `ProxyMonitoring: alerts.topicArn ${alerts.topicArn} is a topic in ${region}; alarms in ${props.region} notify topics of their own region only`,
      );
  }
}
