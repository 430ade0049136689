import { AutoscalingGroup } from "@cdktf/provider-aws/lib/autoscaling-group";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DataAwsSsmParameter } from "@cdktf/provider-aws/lib/data-aws-ssm-parameter";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbListener } from "@cdktf/provider-aws/lib/lb-listener";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { Token } from "cdktf";
import { Construct } from "constructs";
import { addressInCidr, isIpv4Address } from "../../lib/cidr";
import { inlineAllowlist } from "../../lib/squid";
import { fleetSizeProblem, fleetSubnetCountProblem, loadBalancerAddressCountProblem } from "../../lib/config/rules";
import type { FleetEgress } from "../../lib/config";
import { accessLogGroupName, constructIds, fleetNames, outputNames, ownerTags, serverNames } from "../../lib/naming";
import { Peer, SecurityGroup } from "../security-group";
import { allowInstanceEssentials } from "../server";
import type { EgressOutput, EgressProvider, EgressRule, IEgress, IPrivateLinkTarget, IProxy } from "./egress";
import {
  allowRelays,
  createProxyAllowlist,
  EndpointIds,
  ProxyCommonProps,
  proxyCommonProps,
  proxyOutputs,
  proxyRules,
  SQUID_ENDPOINTS,
} from "./squid";

/** How the load balancer checks and drains the proxies. */
export interface FleetHealthSettings {
  /** Seconds between TCP health checks of the proxy port (5 to 300). */
  readonly healthCheckIntervalSeconds: number;
  /** Passed checks in a row before a proxy takes traffic (2 to 10). */
  readonly healthyThreshold: number;
  /** Failed checks in a row before a proxy gets no new connections (2 to 10). */
  readonly unhealthyThreshold: number;
  /** Seconds a leaving proxy keeps serving open connections, such as CONNECT tunnels (0 to 3600). */
  readonly deregistrationDelaySeconds: number;
  /** Seconds after launch before a failed health check replaces an instance (0 to 7200). */
  readonly healthCheckGracePeriodSeconds: number;
}

/** Props of {@link ProxyFleet}. */
export interface ProxyFleetProps extends ProxyCommonProps, FleetHealthSettings {
  /** The load balancer's fixed private address in each subnet of the network, in the same order. */
  readonly loadBalancerAddresses: readonly string[];
  /** How many proxies run: at least two, and at least one per subnet. */
  readonly size: number;
  /**
   * AWS refuses to delete the load balancer (a destroy, or a change that replaces it) while this is
   * on, so that an accidental destroy does not cut every app server off; turn it off (and apply)
   * before tearing the fleet down.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Tags of the Auto Scaling group, also given to the proxies it launches. The provider's default
   * tags do not reach a group: pass the stack's here so that the group can be found by them.
   */
  readonly groupTags?: Readonly<Record<string, string>>;
  /**
   * The load balancer is offered as a VPC endpoint service (AWS PrivateLink): it sends PROXY
   * protocol v2, Squid requires the header from the load balancer's addresses only and tells app
   * VPCs apart by endpoint ({@link privateLink}), and app VPCs reach it through their endpoints only.
   * @default false: app VPCs reach the load balancer by routes, with their own addresses
   */
  readonly privateLink?: boolean;
}

/**
 * Squid proxies in an Auto Scaling group over the proxy subnets, behind an internal Network Load Balancer with a fixed address per subnet.
 * The load balancer keeps client addresses, so Squid's ACLs and log still see the app servers; a template change rolls with 100% healthy.
 */
export class ProxyFleet extends Construct implements IProxy, IEgress {
  /** The fleet, built for an environment in its stack. */
  public static provider(egress: FleetEgress): EgressProvider {
    return {
      ...SQUID_ENDPOINTS,
      provide: (stack, context) =>
        new ProxyFleet(stack, constructIds.proxy, {
          ...proxyCommonProps(stack, context, egress),
          ...egress.fleet,
          size: egress.size,
          loadBalancerAddresses: egress.loadBalancerAddresses,
          groupTags: ownerTags(context.config.project, context.config.name, context.config.tags),
          privateLink: egress.privateLink !== undefined,
        }),
    };
  }

  public readonly kind = "fleet";
  public readonly host: string;
  public readonly addresses: readonly string[];
  public readonly port: number;
  public readonly proxyUrl: string;
  public readonly squidConf: string;
  /** The base squid.conf that the user data installs; it never changes with the services. */
  public readonly baseSquidConf: string;
  /** The allowlist: its parameter's value, which the proxies apply at run time. */
  public readonly allowlist: string;
  /** The SSM parameter that holds the allowlist. */
  public readonly allowlistParameterName: string;
  public readonly accessLogGroupName: string;
  /** The load balancer. */
  public readonly loadBalancer: Lb;
  /** The target group the proxies register with. */
  public readonly targetGroup: LbTargetGroup;
  /** The launch template of the proxies. */
  public readonly launchTemplate: LaunchTemplate;
  /** The Auto Scaling group. */
  public readonly group: AutoscalingGroup;
  /** The load balancer's security group. */
  public readonly loadBalancerSecurityGroup: SecurityGroup;
  /** The proxies' security group. */
  public readonly securityGroup: SecurityGroup;
  /** The load balancer's addresses, each as a /32: what app VPCs route to the fleet. */
  public readonly destinations: readonly string[];
  /** The proxy VPC's subnets. */
  public readonly attachmentSubnetIds: readonly string[];
  /** `host:port`, the load balancer's DNS name. */
  public readonly proxySetting: string;
  public readonly appServerRules: readonly EgressRule[];
  /** The proxy VPC's block: the proxies take their addresses from its subnets. */
  public readonly sourceBlocks: readonly string[];
  /** The load balancer's name and addresses, the proxy URL and the access log group. */
  public readonly outputs: readonly EgressOutput[];
  public readonly proxy: IProxy = this;
  /** The load balancer an endpoint service offers, and the app VPCs' endpoints Squid knows; with privateLink only. */
  public readonly privateLink?: IPrivateLinkTarget;
  /** Renders the allowlist with given endpoint ids; with privateLink only. */
  private readonly allowlistWith?: (endpointIdOf: (client: string) => string) => string;

  constructor(scope: Construct, id: string, props: ProxyFleetProps) {
    super(scope, id);
    const subnets = props.network.subnetIds;
    const tooFew = fleetSubnetCountProblem(subnets.length);
    if (tooFew) throw new Error(`ProxyFleet ${id}: the network ${props.network.name} ${tooFew}`);
    const size = fleetSizeProblem(props.size, subnets.length);
    if (size) throw new Error(`ProxyFleet ${id}: size ${props.size} ${size}`);
    const addressCount = loadBalancerAddressCountProblem(props.loadBalancerAddresses.length, subnets.length);
    if (addressCount) throw new Error(`ProxyFleet ${id}: loadBalancerAddresses ${addressCount}`);
    const outside = props.loadBalancerAddresses.find((a) => !isIpv4Address(a) || !addressInCidr(a, props.network.cidr));
    if (outside)
      throw new Error(
        `ProxyFleet ${id}: load balancer address ${outside} is outside the proxy VPC ${props.network.cidr}; pick one in each subnet`,
      );
    if (props.clients.length === 0) throw new Error(`ProxyFleet ${id}: clients is empty; give at least one app VPC`);

    const name = serverNames.proxy(props.environment);
    this.port = props.port;
    this.addresses = props.loadBalancerAddresses;
    const endpointIds = props.privateLink ? new EndpointIds() : undefined;
    const configuration = createProxyAllowlist(
      this,
      props.privateLink ? { ...props, proxyProtocol: { trustedSources: props.loadBalancerAddresses } } : props,
      endpointIds,
    );
    this.squidConf = configuration.squidConf;
    this.baseSquidConf = configuration.baseSquidConf;
    this.allowlist = configuration.allowlist;
    this.allowlistParameterName = configuration.parameterName;
    this.allowlistWith = configuration.allowlistWith;
    const logGroupName = accessLogGroupName(props.environment);
    this.accessLogGroupName = new CloudwatchLogGroup(this, "AccessLog", {
      name: logGroupName,
      retentionInDays: props.accessLogRetentionDays,
      tags: { Name: `${props.environment}-squid-access` },
    }).name;

    this.loadBalancerSecurityGroup = this.createLoadBalancerSecurityGroup(props);
    this.securityGroup = this.createProxySecurityGroup(props, name);
    this.loadBalancer = this.createLoadBalancer(props);
    if (endpointIds) {
      this.privateLink = {
        loadBalancerArn: this.loadBalancer.arn,
        addEndpoint: (client, endpointId) => endpointIds.add(client, endpointId),
      };
    }
    this.host = this.loadBalancer.dnsName;
    this.proxyUrl = `http://${this.host}:${props.port}`;
    this.proxySetting = `${this.host}:${props.port}`;
    this.destinations = this.addresses.map((a) => `${a}/32`);
    this.attachmentSubnetIds = subnets;
    this.sourceBlocks = [props.network.cidr];
    this.appServerRules = proxyRules(this);
    const outputs = proxyOutputs(this, "The proxy fleet's load balancer, by DNS name (it answers with the zones that are up)", [
      {
        name: outputNames.proxyLoadBalancerAddresses,
        value: this.addresses,
        description: "The load balancer's fixed address in each proxy subnet",
      },
    ]);
    // Behind PrivateLink app servers use their own VPC's endpoint, never the load balancer's name.
    this.outputs = props.privateLink
      ? outputs.map((o) =>
          o.name === outputNames.proxyUrl
            ? {
                ...o,
                description: `The load balancer's URL, inside the proxy VPC only; app servers use their VPC's ${outputNames.appProxyEndpointDns("<app>")} and port ${props.port}`,
              }
            : o,
        )
      : outputs;
    this.targetGroup = this.createTargetGroup(props, name);
    this.launchTemplate = this.createLaunchTemplate(props, name, configuration.userData);
    this.group = this.createGroup(props, name);
    this.addUnhealthyHostsAlarm(props);
  }

  /**
   * Behind PrivateLink: the effective squid.conf with the endpoint id of each client (Squid client name, such as
   * privatelink-app1) given, where {@link squidConf} and the parameter hold references; for labs and previews.
   */
  public squidConfWithEndpoints(endpointIds: Readonly<Record<string, string>>): string {
    if (!this.allowlistWith)
      throw new Error(`ProxyFleet ${this.node.id}: squidConfWithEndpoints is for a fleet behind PrivateLink; use squidConf`);
    const allowlist = this.allowlistWith((client) => {
      const id = endpointIds[client];
      if (id === undefined) throw new Error(`ProxyFleet ${this.node.id}: squidConfWithEndpoints has no endpoint id for ${client}`);
      return id;
    });
    return inlineAllowlist(this.baseSquidConf, allowlist);
  }

  /** The load balancer's security group: the proxy port from the app VPCs only, out to the proxies (traffic and health checks). */
  private createLoadBalancerSecurityGroup(props: ProxyFleetProps): SecurityGroup {
    const group = new SecurityGroup(this, "LoadBalancerSecurityGroup", {
      network: props.network,
      name: fleetNames.loadBalancerSecurityGroup(props.environment),
      description: props.privateLink
        ? `Load balancer of the proxy fleet of ${props.environment}: port ${props.port} through PrivateLink endpoints only, to the proxies`
        : `Load balancer of the proxy fleet of ${props.environment}: port ${props.port} from the app VPCs, to the proxies`,
    });
    // Behind PrivateLink no app VPC reaches the load balancer by address, and their blocks may overlap:
    // endpoint traffic bypasses these rules (createLoadBalancer), and nothing else gets in.
    for (const client of props.privateLink ? [] : props.clients) {
      group.allowTcpIn(Peer.cidr(client.cidr), props.port, `Squid from app VPC ${client.name}, through the load balancer`);
    }
    group.allowTcpOut(Peer.cidr(props.network.cidr), props.port, "To the proxies in the proxy VPC: traffic and health checks");
    return group;
  }

  /**
   * The proxies' security group: the proxy port only from the load balancer's group.
   * AWS matches preserved client addresses by that group, so an app server connecting to a proxy directly is refused.
   */
  private createProxySecurityGroup(props: ProxyFleetProps, name: string): SecurityGroup {
    const group = new SecurityGroup(this, "SecurityGroup", {
      network: props.network,
      name,
      description: `Squid proxy fleet of ${props.environment}: port ${props.port} from the load balancer only, out to the services only`,
    });
    group.allowTcpIn(
      Peer.securityGroup(this.loadBalancerSecurityGroup),
      props.port,
      "Squid, as the load balancer delivers it (client addresses preserved)",
    );
    allowInstanceEssentials(group, props.network);
    allowRelays(group, props.destinations);
    return group;
  }

  /** The internal Network Load Balancer, with its fixed address in each subnet. */
  private createLoadBalancer(props: ProxyFleetProps): Lb {
    return new Lb(this, "LoadBalancer", {
      name: fleetNames.loadBalancer(props.environment),
      internal: true,
      loadBalancerType: "network",
      securityGroups: [this.loadBalancerSecurityGroup.securityGroupId],
      subnetMapping: props.network.subnetIds.map((subnetId, i) => ({ subnetId, privateIpv4Address: props.loadBalancerAddresses[i] })),
      enableCrossZoneLoadBalancing: true,
      enableDeletionProtection: props.deletionProtection ?? true,
      // PrivateLink traffic skips the group's inbound rules (the endpoints' own groups and the
      // service's allowed principals decide who gets here); any other source meets no inbound rule.
      ...(props.privateLink ? { enforceSecurityGroupInboundRulesOnPrivateLinkTraffic: "off" } : {}),
      tags: { Name: fleetNames.loadBalancer(props.environment) },
    });
  }

  /** The target group the proxies register with, and the load balancer's listener that forwards to it. */
  private createTargetGroup(props: ProxyFleetProps, name: string): LbTargetGroup {
    const targetGroup = new LbTargetGroup(this, "TargetGroup", {
      name: fleetNames.targetGroup(props.environment),
      port: props.port,
      protocol: "TCP",
      vpcId: props.network.vpcId,
      targetType: "instance",
      // Behind PrivateLink the proxies see the load balancer's addresses anyway; the app server's comes in the PROXY header.
      preserveClientIp: props.privateLink ? "false" : "true",
      ...(props.privateLink ? { proxyProtocolV2: true } : {}),
      deregistrationDelay: String(props.deregistrationDelaySeconds),
      healthCheck: {
        enabled: true,
        protocol: "TCP",
        port: "traffic-port",
        interval: props.healthCheckIntervalSeconds,
        // AWS wants the timeout within the interval; its default (10 s) is not, below 10 s.
        timeout: Math.max(2, Math.min(10, props.healthCheckIntervalSeconds)),
        healthyThreshold: props.healthyThreshold,
        unhealthyThreshold: props.unhealthyThreshold,
      },
      tags: { Name: fleetNames.targetGroup(props.environment) },
    });
    new LbListener(this, "Listener", {
      loadBalancerArn: this.loadBalancer.arn,
      port: props.port,
      protocol: "TCP",
      defaultAction: [{ type: "forward", targetGroupArn: targetGroup.arn }],
      tags: { Name: `${name}-${props.port}` },
    });
    return targetGroup;
  }

  /** The proxies' launch template: the AMI from SSM, Squid's base configuration and the allowlist's poller in the user data. */
  private createLaunchTemplate(props: ProxyFleetProps, name: string, userData: string): LaunchTemplate {
    const ami = new DataAwsSsmParameter(this, "Ami", { name: props.amiParameter });
    return new LaunchTemplate(this, "LaunchTemplate", {
      name,
      description: `Squid proxies of ${props.environment}`,
      imageId: ami.value,
      instanceType: props.instanceType,
      iamInstanceProfile: { name: props.role.instanceProfileName },
      vpcSecurityGroupIds: [this.securityGroup.securityGroupId],
      metadataOptions: { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 },
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: { encrypted: "true", volumeType: "gp3", volumeSize: props.rootVolumeSizeGiB, deleteOnTermination: "true" },
        },
      ],
      monitoring: { enabled: props.detailedMonitoring },
      // Launch templates take user data base64-encoded.
      userData: Buffer.from(userData, "utf8").toString("base64"),
      updateDefaultVersion: true,
      tagSpecifications: [{ resourceType: "instance", tags: { Name: name } }],
      tags: { Name: name },
    });
  }

  /** The Auto Scaling group over the proxy subnets, with a rolling instance refresh that keeps the whole fleet healthy. */
  private createGroup(props: ProxyFleetProps, name: string): AutoscalingGroup {
    return new AutoscalingGroup(this, "Group", {
      name: fleetNames.autoScalingGroup(props.environment),
      minSize: props.size,
      maxSize: props.size,
      desiredCapacity: props.size,
      vpcZoneIdentifier: [...props.network.subnetIds],
      // The template's version number, not "$Latest": a new version is a change Terraform sees,
      // and that change starts the instance refresh below.
      launchTemplate: { id: this.launchTemplate.id, version: Token.asString(this.launchTemplate.latestVersion) },
      targetGroupArns: [this.targetGroup.arn],
      healthCheckType: "ELB",
      healthCheckGracePeriod: props.healthCheckGracePeriodSeconds,
      instanceRefresh: { strategy: "Rolling", preferences: { minHealthyPercentage: 100, maxHealthyPercentage: 200 } },
      tag: Object.entries({ ...props.groupTags, Name: name }).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
    });
  }

  /** Any proxy that fails its health checks shows here; it replaces the single proxy's recovery alarm. */
  private addUnhealthyHostsAlarm(props: ProxyFleetProps): void {
    new CloudwatchMetricAlarm(this, "UnhealthyHosts", {
      alarmName: fleetNames.unhealthyAlarm(props.environment),
      alarmDescription: "A proxy of the fleet fails the load balancer's health checks",
      namespace: "AWS/NetworkELB",
      metricName: "UnHealthyHostCount",
      dimensions: { TargetGroup: this.targetGroup.arnSuffix, LoadBalancer: this.loadBalancer.arnSuffix },
      statistic: "Maximum",
      period: 60,
      evaluationPeriods: 2,
      threshold: 1,
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      treatMissingData: "notBreaching",
    });
  }
}
