import { AwsProvider, AwsProviderConfig } from "@cdktf/provider-aws/lib/provider";
import { S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { egressOf, EnvironmentConfig, firstServicePort, privateLinkService, serviceServerIp, stateKey } from "../lib/config";
import { checkedEmulatorEndpoint, emulatorSettings, EmulatorSettings } from "../lib/emulator";
import { constructIds, outputNames, ownerTags, PROXY_VPC, roleNames, vpcName } from "../lib/naming";
import { suppressByPath } from "../lib/policy/pack";
import { AppVpcConnection, AppVpcLink, AppVpcLinkProps } from "./app-vpc-link";
import { DnsForwarding } from "./dns-forwarding";
import { FlowLogRole } from "./flow-log-role";
import type { IEgress, IProxy } from "./egress/egress";
import { egressProvider } from "./egress/factory";
import { ProxyMonitoring } from "./egress/proxy-monitoring";
import { InstanceRole } from "./instance-role";
import { Network, NetworkProps } from "./network";
import { ProjectStack } from "./project-stack";
import { ProxyEndpointService } from "./proxy-endpoint-service";
import { ServiceSide } from "./service-side";
import { TransitGatewayHub } from "./transit-gateway-hub";

/** Configures where a stack keeps its state; `emulator` is set in emulator mode only. */
export type StateBackendFactory = (stack: TerraformStack, config: EnvironmentConfig, emulator?: EmulatorSettings) => void;

/** Props of {@link EnvironmentStack}. */
export interface EnvironmentStackProps {
  /** The validated environment (see lib/config). */
  readonly config: EnvironmentConfig;
  /**
   * Where state lives. Tests pass a local backend so that `terraform init` needs no S3.
   * @default S3 from `config.state`, encrypted, with S3-native locking
   */
  readonly stateBackend?: StateBackendFactory;
  /**
   * Send every AWS call, state included, to an AWS API emulator at this loopback origin, such as
   * http://127.0.0.1:5000 (moto). For deploy rehearsals only: a non-loopback value is refused.
   * @default real AWS
   */
  readonly emulatorEndpoint?: string;
}

/** S3 state with encryption and S3-native locking (a lock file next to the state). */
export const s3StateBackend: StateBackendFactory = (stack, config, emulator) => {
  const backend = new S3Backend(stack, {
    bucket: config.state.bucket,
    key: stateKey(config),
    region: config.state.region ?? config.region,
    encrypt: true,
    ...emulator?.backend,
  });
  // cdktf 0.21's S3Backend has no property for it yet.
  backend.addOverride("use_lockfile", true);
};

/**
 * One environment: the proxy VPC with its egress (Squid, a Squid fleet, or private NAT), one link
 * per app VPC (the VPC, created or existing, its peering, attachment or interface endpoint, and its
 * app server), with PrivateLink the endpoint service that offers the fleet, and the service side
 * (a simulated service VPC, or the Direct Connect attachment), with state in S3 and tags on every resource.
 */
export class EnvironmentStack extends ProjectStack {
  /** The proxy VPC. */
  public readonly proxyNetwork: Network;
  /** The app VPCs' links, by app VPC name. */
  public readonly appLinks: ReadonlyMap<string, AppVpcLink>;
  /** How traffic leaves the proxy VPC: the single proxy, the fleet or the private NAT gateways. */
  public readonly egress: IEgress;
  /** The Squid proxy, when the egress runs one. */
  public readonly proxy?: IProxy;
  /** The proxy's metrics, alarms and dashboard, when the egress runs Squid. */
  public readonly monitoring?: ProxyMonitoring;
  /** The Transit Gateway hub, when app VPCs connect through one. */
  public readonly hub?: TransitGatewayHub;
  /** The service side. */
  public readonly serviceSide: ServiceSide;
  /** The DNS forwarding to the provider's servers, when the environment has dns. */
  public readonly dnsForwarding?: DnsForwarding;
  /** The endpoint service that offers the proxy fleet, when app VPCs connect by PrivateLink. */
  public readonly endpointService?: ProxyEndpointService;

  constructor(scope: Construct, id: string, props: EnvironmentStackProps) {
    super(scope, id);
    const { config } = props;
    const emulator =
      props.emulatorEndpoint === undefined
        ? undefined
        : emulatorSettings(checkedEmulatorEndpoint(props.emulatorEndpoint, "emulatorEndpoint"));
    (props.stateBackend ?? s3StateBackend)(this, config, emulator);
    const providerDefaults: AwsProviderConfig = {
      region: config.region,
      defaultTags: [{ tags: ownerTags(config.project, config.name, config.tags) }],
      ...emulator?.provider,
    };
    new AwsProvider(this, "aws", providerDefaults);

    const serverRole = new InstanceRole(this, "InstanceRole", { name: roleNames.instance(config.name) });
    const egress = egressProvider(egressOf(config));
    const networkDefaults: Pick<NetworkProps, "region" | "flowLogs"> = {
      region: config.region,
      flowLogs: {
        role: new FlowLogRole(this, "FlowLogRole", { name: roleNames.flowLogs(config.name), vpcNamePrefix: vpcName(config.name, "") }),
        retentionInDays: config.logRetentionDays,
      },
    };

    const proxyVpc = config.proxyVpc;
    this.proxyNetwork = new Network(this, constructIds.proxyVpc, {
      ...networkDefaults,
      name: vpcName(config.name, PROXY_VPC),
      cidr: proxyVpc.cidr,
      subnets: proxyVpc.subnets,
      enableSessionManagerEndpoints: proxyVpc.sessionManagerEndpoints,
      enableS3Endpoint: egress.s3Endpoint,
      extraInterfaceEndpoints: proxyVpc.sessionManagerEndpoints ? [...egress.interfaceEndpoints] : [],
    });
    this.egress = egress.provide(this, { config, network: this.proxyNetwork });
    this.proxy = this.egress.proxy;
    this.monitoring = ProxyMonitoring.forEgress(this, constructIds.proxyMonitoring, config, this.egress);
    const transit = this.connectTransitGateway(config);
    this.hub = transit?.hub;
    const privateLink = this.connectPrivateLink(config);
    this.endpointService = privateLink?.service;

    this.appLinks = this.addAppLinks(config, {
      environment: config.name,
      proxyNetwork: this.proxyNetwork,
      egress: this.egress,
      connect: transit?.connection ?? privateLink?.connection,
      networkDefaults,
      providerDefaults,
      serverRole,
      bypass: config.proxyBypass,
    });

    this.serviceSide = new ServiceSide(this, constructIds.serviceSide, {
      environment: config.name,
      side: config.serviceSide,
      services: config.services,
      proxyNetwork: this.proxyNetwork,
      networkDefaults,
      serverRole,
      ...(config.serviceSide.type === "peeredVpc"
        ? { serverPrivateIp: serviceServerIp(config), dnsDomains: config.dns?.forward.map((r) => r.domain) }
        : {}),
    });
    if (config.dns) {
      this.dnsForwarding = new DnsForwarding(this, constructIds.dnsForwarding, {
        environment: config.name,
        network: this.proxyNetwork,
        endpointSubnets: config.dns.endpointSubnets,
        rules: config.dns.forward,
      });
    }

    this.addOutputs(config);
    suppressByPath(this, config.policySuppressions);
  }

  /** The stack's outputs: each app VPC's peering and server, the service side, then the ways out. */
  private addOutputs(config: EnvironmentConfig): void {
    for (const [name, link] of this.appLinks) {
      if (link.peering) {
        new TerraformOutput(this, outputNames.appPeeringId(name), {
          value: link.peering.peeringConnectionId,
          description: `Peering between app VPC ${name} and the proxy VPC`,
        });
      }
      if (link.proxyEndpoint) {
        new TerraformOutput(this, outputNames.appProxyEndpointDns(name), {
          value: link.proxyEndpoint.dnsName,
          description: `The interface endpoint of app VPC ${name} to the proxy: its servers' proxy setting is this name and the proxy port`,
        });
      }
      if (link.appServer) {
        new TerraformOutput(this, outputNames.appServerId(name), {
          value: link.appServer.server.instance.id,
          description: `The Windows app server in ${name}; connect with Session Manager`,
        });
      }
    }
    this.addServiceSideOutputs(config);
    if (this.dnsForwarding) {
      new TerraformOutput(this, outputNames.resolverEndpointId, {
        value: this.dnsForwarding.endpoint.id,
        description: "The Route 53 Resolver outbound endpoint that forwards the provider's domains",
      });
    }
    if (this.endpointService) {
      new TerraformOutput(this, outputNames.proxyEndpointServiceName, {
        value: this.endpointService.serviceName,
        description: "The proxy's VPC endpoint service: an app VPC reaches the proxy through an interface endpoint for it",
      });
    }
    if (this.hub) {
      new TerraformOutput(this, outputNames.transitGatewayId, {
        value: this.hub.transitGatewayId,
        description: "The Transit Gateway that the app VPCs and the proxy VPC attach to",
      });
    }
    for (const { name, value, description } of [...this.egress.outputs, ...(this.monitoring?.outputs ?? [])]) {
      new TerraformOutput(this, name, { value, description });
    }
  }

  /** One link per app VPC, in the config's order, by app VPC name; `shared` is what every link gets. Squid learns each one's endpoint. */
  private addAppLinks(config: EnvironmentConfig, shared: Omit<AppVpcLinkProps, "app">): Map<string, AppVpcLink> {
    const links = new Map(
      config.appVpcs.map((app) => [app.name, new AppVpcLink(this, constructIds.appLink(app.name), { ...shared, app })]),
    );
    for (const link of links.values()) {
      if (link.proxyEndpoint) this.egress.privateLink?.addEndpoint(link.network.name, link.proxyEndpoint.endpointId);
    }
    return links;
  }

  /**
   * With PrivateLink: the endpoint service that offers the egress's load balancer, and how the app
   * VPCs connect: each through an interface endpoint of its own. Undefined otherwise.
   */
  private connectPrivateLink(config: EnvironmentConfig): { service: ProxyEndpointService; connection: AppVpcConnection } | undefined {
    if (config.connectivity.type !== "privateLink") return undefined;
    const target = this.egress.privateLink;
    if (!target || !this.proxy)
      throw new Error(
        `EnvironmentStack ${config.name}: connectivity.type "privateLink" needs a proxy fleet behind a load balancer (proxy.fleet); the egress is "${this.egress.kind}"`,
      );
    const settings = privateLinkService(config);
    const service = new ProxyEndpointService(this, constructIds.endpointService, {
      environment: config.name,
      loadBalancerArn: target.loadBalancerArn,
      acceptanceRequired: settings.acceptanceRequired,
      allowedPrincipals: settings.allowedPrincipals,
      appAccounts: settings.appAccounts,
    });
    return { service, connection: { kind: "privateLink", service, port: this.proxy.port } };
  }

  /**
   * With a Transit Gateway: the hub, the proxy VPC's attachment in the egress's subnets, and how
   * the app VPCs connect: they send the egress's destinations to the hub. Undefined with peering.
   */
  private connectTransitGateway(config: EnvironmentConfig): { hub: TransitGatewayHub; connection: AppVpcConnection } | undefined {
    const c = config.connectivity;
    if (c.type !== "transitGateway") return undefined;
    const hub = new TransitGatewayHub(this, constructIds.transitGateway, {
      environment: config.name,
      existingId: c.transitGatewayId,
      amazonSideAsn: c.amazonSideAsn,
    });
    const { destinations, attachmentSubnetIds } = this.egress;
    const proxyAttachment = hub.attachProxyVpc(this.proxyNetwork, attachmentSubnetIds, destinations);
    return { hub, connection: { kind: "transitGateway", hub, proxyAttachment, destinations } };
  }

  private addServiceSideOutputs(config: EnvironmentConfig): void {
    const { peering, service, attachment } = this.serviceSide;
    if (peering && service) {
      new TerraformOutput(this, outputNames.servicePeeringId, {
        value: peering.peeringConnectionId,
        description: "Peering between the proxy VPC and the service VPC",
      });
      const http = firstServicePort(config, "http");
      const url =
        http !== undefined
          ? `http://${service.server.instance.privateIp}:${http}/`
          : `https://${service.server.instance.privateIp}:${firstServicePort(config, "tls")}/`;
      new TerraformOutput(this, outputNames.serviceUrl, {
        value: url,
        description: "The stand-in service, reachable only through the proxy",
      });
    }
    if (attachment) {
      new TerraformOutput(this, outputNames.vpnGatewayId, {
        value: attachment.gateway.id,
        description: "The proxy VPC's virtual private gateway, for the Direct Connect private VIF",
      });
      if (attachment.association) {
        new TerraformOutput(this, outputNames.dxGatewayAssociationId, {
          value: attachment.association.id,
          description: "The association with the Direct Connect gateway",
        });
      }
    }
  }
}
