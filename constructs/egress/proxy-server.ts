import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsRegion } from "@cdktf/provider-aws/lib/data-aws-region";
import { Construct } from "constructs";
import { addressInCidr, isIpv4Address } from "../../lib/cidr";
import { accessLogGroupName, constructIds, recoveryAlarmName, serverNames } from "../../lib/naming";
import type { SingleProxyEgress } from "../../lib/config";
import { Peer } from "../security-group";
import { Server, serverSettings } from "../server";
import type { EgressOutput, EgressProvider, EgressRule, IEgress, IProxy } from "./egress";
import { allowRelays, createProxyAllowlist, ProxyCommonProps, proxyCommonProps, proxyOutputs, proxyRules, SQUID_ENDPOINTS } from "./squid";

/** Props of {@link ProxyServer}. */
export interface ProxyServerProps extends ProxyCommonProps {
  /** The proxy's fixed private address in the proxy VPC's first subnet. */
  readonly privateIp: string;
}

/**
 * The Squid forward proxy: it accepts its port only from the app VPCs and connects only to the
 * allowed destinations, from its own address, the one the service accepts. Its address is fixed,
 * so app servers keep a working setting when the proxy is replaced.
 */
export class ProxyServer extends Construct implements IProxy, IEgress {
  /** The single proxy, built for an environment in its stack. */
  public static provider(egress: SingleProxyEgress): EgressProvider {
    return {
      ...SQUID_ENDPOINTS,
      provide: (stack, context) =>
        new ProxyServer(stack, constructIds.proxy, { ...proxyCommonProps(stack, context, egress), privateIp: egress.privateIp }),
    };
  }

  public readonly kind = "proxy";
  /** The server underneath. */
  public readonly server: Server;
  /** The effective squid.conf: the base the user data installs, with the allowlist in place of its include. */
  public readonly squidConf: string;
  /** The base squid.conf that the user data installs; it never changes with the services. */
  public readonly baseSquidConf: string;
  /** The allowlist: its parameter's value, which the proxies apply at run time. */
  public readonly allowlist: string;
  /** The SSM parameter that holds the allowlist. */
  public readonly allowlistParameterName: string;
  /** The proxy's private address. */
  public readonly privateIp: string;
  /** The proxy's private address, as app servers' proxy setting names it. */
  public readonly host: string;
  /** The proxy's private address, the one app servers connect to. */
  public readonly addresses: readonly string[];
  /** The port Squid listens on. */
  public readonly port: number;
  /** `http://address:port`, for proxy settings. */
  public readonly proxyUrl: string;
  /** The CloudWatch Logs group that receives Squid's access log. */
  public readonly accessLogGroupName: string;
  /** The proxy's address, as a /32: what app VPCs route to it. */
  public readonly destinations: readonly string[];
  /** The proxy VPC's subnets. */
  public readonly attachmentSubnetIds: readonly string[];
  /** `host:port`. */
  public readonly proxySetting: string;
  public readonly appServerRules: readonly EgressRule[];
  /** The proxy's own address: it opens every connection to the service. */
  public readonly sourceBlocks: readonly string[];
  /** The proxy's address, URL and access log group. */
  public readonly outputs: readonly EgressOutput[];
  public readonly proxy: IProxy = this;

  constructor(scope: Construct, id: string, props: ProxyServerProps) {
    super(scope, id);
    if (!isIpv4Address(props.privateIp) || !addressInCidr(props.privateIp, props.network.cidr)) {
      throw new Error(
        `ProxyServer: privateIp ${props.privateIp} is outside the proxy VPC ${props.network.cidr}; pick an address in its first subnet`,
      );
    }
    if (props.clients.length === 0) throw new Error("ProxyServer: clients is empty; give at least one app VPC");

    this.port = props.port;
    this.privateIp = props.privateIp;
    this.host = props.privateIp;
    this.addresses = [props.privateIp];
    this.proxyUrl = `http://${props.privateIp}:${props.port}`;
    this.proxySetting = `${props.privateIp}:${props.port}`;
    this.destinations = [`${props.privateIp}/32`];
    this.sourceBlocks = [`${props.privateIp}/32`];
    this.attachmentSubnetIds = props.network.subnetIds;
    this.appServerRules = proxyRules(this);
    const configuration = createProxyAllowlist(this, props);
    this.squidConf = configuration.squidConf;
    this.baseSquidConf = configuration.baseSquidConf;
    this.allowlist = configuration.allowlist;
    this.allowlistParameterName = configuration.parameterName;
    const logGroupName = accessLogGroupName(props.environment);
    const accessLogGroup = new CloudwatchLogGroup(this, "AccessLog", {
      name: logGroupName,
      retentionInDays: props.accessLogRetentionDays,
      tags: { Name: `${props.environment}-squid-access` },
    });
    this.accessLogGroupName = accessLogGroup.name;
    this.outputs = proxyOutputs(this, "The proxy's fixed private address");
    this.server = new Server(this, "Server", {
      network: props.network,
      name: serverNames.proxy(props.environment),
      description: `Squid forward proxy of ${props.environment}: port ${props.port} from the app VPCs, out to the services only`,
      ...serverSettings(props),
      privateIp: props.privateIp,
      userData: configuration.userData,
    });
    // A failed system status check moves the proxy to healthy hardware, same address and all.
    const partition = new DataAwsPartition(this, "Partition");
    const region = new DataAwsRegion(this, "Region");
    new CloudwatchMetricAlarm(this, "AutoRecover", {
      alarmName: recoveryAlarmName(props.environment),
      alarmDescription: "Recover the proxy instance when its system status check fails",
      namespace: "AWS/EC2",
      metricName: "StatusCheckFailed_System",
      dimensions: { InstanceId: this.server.instance.id },
      statistic: "Maximum",
      period: 60,
      evaluationPeriods: 2,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      alarmActions: [`arn:${partition.partition}:automate:${region.name}:ec2:recover`],
    });

    const group = this.server.securityGroup;
    for (const client of props.clients) {
      group.allowTcpIn(Peer.cidr(client.cidr), props.port, `Squid from app VPC ${client.name}`);
    }
    allowRelays(group, props.destinations);
  }
}
