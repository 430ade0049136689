import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsRegion } from "@cdktf/provider-aws/lib/data-aws-region";
import { Construct } from "constructs";
import { addressInCidr, isIpv4Address } from "../lib/cidr";
import { accessLogGroupName, recoveryAlarmName, serverNames } from "../lib/naming";
import { AMAZON_LINUX_SQUID, renderSquidConf, SquidClient, SquidDestination } from "../lib/squid";
import { renderProxyUserData } from "../lib/user-data";
import type { INetwork } from "./network-ref";
import { Peer, SecurityGroup } from "./security-group";
import { Server, serverSettings, ServerSettings } from "./server";

/** Where app servers send their requests, whatever stands in front of Squid. */
export interface IProxyEndpoint {
  /** The host of the app servers' proxy setting: an address, or a DNS name that no single zone carries. */
  readonly host: string;
  /** The addresses app servers connect to, for their security group rules. */
  readonly addresses: readonly string[];
  /** The port Squid listens on. */
  readonly port: number;
}

/** A proxy of an environment: one instance ({@link ProxyServer}) or a fleet ({@link ProxyFleet}). */
export interface IProxy extends IProxyEndpoint {
  /** `http://host:port`, for proxy settings. */
  readonly proxyUrl: string;
  /** The squid.conf that every proxy's user data installs. */
  readonly squidConf: string;
  /** The CloudWatch Logs group that receives Squid's access log. */
  readonly accessLogGroupName: string;
}

/** What every kind of proxy takes: where it runs, whom it serves, where it may go. */
export interface ProxyCommonProps extends ServerSettings {
  /** The environment's name, for names and the squid.conf header. */
  readonly environment: string;
  /** The proxy VPC (the CIDR the Direct Connect provider dictates). */
  readonly network: INetwork;
  /** The app VPCs whose servers may use the proxy: their names and blocks. */
  readonly clients: readonly SquidClient[];
  /** Where the proxy may forward to, with ports. */
  readonly destinations: readonly SquidDestination[];
  /** The port Squid listens on. */
  readonly port: number;
  /** How long CloudWatch Logs keeps Squid's access log, in days. */
  readonly accessLogRetentionDays: number;
}

/** Props of {@link ProxyServer}. */
export interface ProxyServerProps extends ProxyCommonProps {
  /** The proxy's fixed private address in the proxy VPC's first subnet. */
  readonly privateIp: string;
}

/**
 * Lets a proxy's group send to every destination's block on its ports: one rule per block and
 * port, naming every service it serves (services may share a block and a port).
 */
export function allowRelays(group: SecurityGroup, destinations: readonly SquidDestination[]): void {
  const relays = new Map<string, { cidr: string; port: number; names: string[] }>();
  for (const destination of destinations) {
    for (const { port } of destination.ports) {
      const key = `${destination.cidr} ${port}`;
      relays.set(key, { cidr: destination.cidr, port, names: [...(relays.get(key)?.names ?? []), destination.name] });
    }
  }
  for (const relay of relays.values()) {
    group.allowTcpOut(Peer.cidr(relay.cidr), relay.port, `Relay to service ${relay.names.join(", ")} on ${relay.port}`);
  }
}

/**
 * The Squid forward proxy: it accepts its port only from the app VPCs and connects only to the
 * allowed destinations, from its own address, the one the service accepts. Its address is fixed,
 * so app servers keep a working setting when the proxy is replaced.
 */
export class ProxyServer extends Construct implements IProxy {
  /** The server underneath. */
  public readonly server: Server;
  /** The squid.conf that the user data installs. */
  public readonly squidConf: string;
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
    this.squidConf = renderSquidConf({
      environment: props.environment,
      port: props.port,
      clients: props.clients.map((c) => ({ name: c.name, cidr: c.cidr })),
      destinations: props.destinations,
    });
    const logGroupName = accessLogGroupName(props.environment);
    const accessLogGroup = new CloudwatchLogGroup(this, "AccessLog", {
      name: logGroupName,
      retentionInDays: props.accessLogRetentionDays,
      tags: { Name: `${props.environment}-squid-access` },
    });
    this.accessLogGroupName = accessLogGroup.name;
    this.server = new Server(this, "Server", {
      network: props.network,
      name: serverNames.proxy(props.environment),
      description: `Squid forward proxy of ${props.environment}: port ${props.port} from the app VPCs, out to the services only`,
      ...serverSettings(props),
      privateIp: props.privateIp,
      userData: renderProxyUserData(this.squidConf, { file: AMAZON_LINUX_SQUID.accessLog, logGroupName }),
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
