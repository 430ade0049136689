import type { Ec2TransitGatewayVpcAttachment } from "@cdktf/provider-aws/lib/ec2-transit-gateway-vpc-attachment";
import { AwsProvider, AwsProviderConfig } from "@cdktf/provider-aws/lib/provider";
import { Construct } from "constructs";
import type { AppVpcConfig } from "../lib/config";
import { createdVpcOnlyProblem, createdVpcSubnetsProblem, routeTablesProblem } from "../lib/config/rules";
import { constructIds, vpcName } from "../lib/naming";
import { AppServer } from "./app-server";
import { ExistingNetwork } from "./existing-network";
import type { InstanceRole } from "./instance-role";
import { Network, NetworkProps } from "./network";
import type { INetwork } from "./network-ref";
import { Peering } from "./peering";
import { ProxyEndpoint } from "./proxy-endpoint";
import type { ProxyEndpointService } from "./proxy-endpoint-service";
import { routesTo } from "./routes";
import type { TransitGatewayHub } from "./transit-gateway-hub";
import type { IAppServerEgress } from "./egress/egress";
import { serverSettings } from "./server";

/** An app VPC's way to the proxy VPC: a peering, an attachment to a Transit Gateway hub, or an interface endpoint (PrivateLink). */
export type AppVpcConnection =
  | { readonly kind: "peering" }
  | {
      readonly kind: "privateLink";
      /** The endpoint service that offers the proxy fleet's load balancer. */
      readonly service: ProxyEndpointService;
      /** The port Squid listens on. */
      readonly port: number;
    }
  | {
      readonly kind: "transitGateway";
      readonly hub: TransitGatewayHub;
      /** The proxy VPC's attachment, which the proxy VPC's routes to the hub wait for. */
      readonly proxyAttachment: Ec2TransitGatewayVpcAttachment;
      /** What the app VPC sends to the hub: the services' blocks, or the proxy's addresses. */
      readonly destinations: readonly string[];
    };

/** Props of {@link AppVpcLink}. */
export interface AppVpcLinkProps {
  /** The environment's name, for names. */
  readonly environment: string;
  /** The app VPC as the environment file gives it: created (subnets, optional app server) or existing. */
  readonly app: AppVpcConfig;
  /** The proxy VPC, the other side of the peering or attachment. */
  readonly proxyNetwork: INetwork;
  /** The environment's egress: an app server's proxy setting (or none) and what it may send to. */
  readonly egress: IAppServerEgress;
  /**
   * How the app VPC reaches the proxy VPC.
   * @default a peering, as in the original
   */
  readonly connect?: AppVpcConnection;
  /** What a created VPC shares with the environment's other VPCs: region and flow logs. */
  readonly networkDefaults: Pick<NetworkProps, "region" | "flowLogs">;
  /** The provider settings of the stack (region, tags, emulator), for another account's provider. */
  readonly providerDefaults: AwsProviderConfig;
  /** The role of the app server. */
  readonly serverRole: InstanceRole;
  /** Hosts the app server reaches without the proxy. */
  readonly bypass: readonly string[];
}

/**
 * One app VPC's link to the proxy: the VPC (created, or an existing one, perhaps in another
 * account with a provider that assumes a role there), its peering with the proxy VPC or its
 * attachment to a Transit Gateway hub with both directions of routes, or its interface endpoint
 * to the proxy's endpoint service with no route at all, and the Windows app server where one is configured.
 */
export class AppVpcLink extends Construct {
  /** The app VPC. */
  public readonly network: INetwork;
  /** The peering with the proxy VPC, when connected by peering. */
  public readonly peering?: Peering;
  /** The Transit Gateway attachment, when connected through the hub. */
  public readonly attachment?: Ec2TransitGatewayVpcAttachment;
  /** The app server, where one is configured. */
  public readonly appServer?: AppServer;
  /** The interface endpoint to the proxy, when connected by PrivateLink. */
  public readonly proxyEndpoint?: ProxyEndpoint;

  constructor(scope: Construct, id: string, props: AppVpcLinkProps) {
    super(scope, id);
    const { app } = props;
    const connect = props.connect ?? { kind: "peering" };
    const name = vpcName(props.environment, app.name);
    const serverProblem = createdVpcOnlyProblem(app.existing !== undefined, app.appServer);
    if (serverProblem) throw new Error(`AppVpcLink ${app.name}: appServer ${serverProblem}`);
    const subnetsProblem = createdVpcSubnetsProblem(app.existing !== undefined, app.subnets);
    if (subnetsProblem) throw new Error(`AppVpcLink ${app.name}: subnets ${subnetsProblem}`);

    if (app.existing) {
      const { vpcId, routeTableIds, accountId, roleArn } = app.existing;
      const tablesProblem = routeTablesProblem(connect.kind === "privateLink", routeTableIds);
      if (tablesProblem) throw new Error(`AppVpcLink ${app.name}: existing.routeTableIds ${tablesProblem}`);
      // Another account's VPC is reached with a provider that assumes a role there.
      const provider = roleArn
        ? new AwsProvider(this, "Provider", {
            ...props.providerDefaults,
            alias: `app_${app.name.replace(/-/g, "_")}`,
            assumeRole: [{ roleArn }],
          })
        : undefined;
      this.network = new ExistingNetwork(this, constructIds.linkVpc, { name, vpcId, cidr: app.cidr, routeTableIds, accountId, provider });
      if (connect.kind === "peering") {
        // An existing VPC, perhaps in another account, is asked by the proxy VPC.
        this.peering = new Peering(this, constructIds.linkPeering, { requester: props.proxyNetwork, accepter: this.network });
      } else if (connect.kind === "privateLink") {
        if (!app.existing.endpointSubnetIds?.length)
          throw new Error(`AppVpcLink ${app.name}: an existing VPC needs endpointSubnetIds for its interface endpoint to the proxy`);
        this.proxyEndpoint = this.addProxyEndpoint(connect, app.existing.endpointSubnetIds, vpcId);
      } else {
        if (accountId !== undefined)
          throw new Error(
            `AppVpcLink ${app.name}: a VPC of another account attaches to a Transit Gateway only through a resource share, which this project does not build`,
          );
        if (!app.existing.attachmentSubnetIds?.length)
          throw new Error(`AppVpcLink ${app.name}: an existing VPC needs attachmentSubnetIds for its Transit Gateway attachment`);
        this.attachment = this.attach(connect, app.existing.attachmentSubnetIds, props.proxyNetwork);
      }
    } else {
      // App servers run Windows and install nothing from Amazon Linux repositories: no S3 endpoint.
      this.network = new Network(this, constructIds.linkVpc, {
        ...props.networkDefaults,
        name,
        cidr: app.cidr,
        subnets: app.subnets ?? [],
        enableSessionManagerEndpoints: app.sessionManagerEndpoints,
        enableS3Endpoint: false,
      });
      if (connect.kind === "peering") {
        // A VPC we create asks for the peering.
        this.peering = new Peering(this, constructIds.linkPeering, { requester: this.network, accepter: props.proxyNetwork });
      } else if (connect.kind === "privateLink") {
        this.proxyEndpoint = this.addProxyEndpoint(connect, this.network.subnetIds);
      } else {
        this.attachment = this.attach(connect, this.network.subnetIds, props.proxyNetwork);
      }
      if (app.appServer) {
        this.appServer = new AppServer(this, constructIds.linkServer, {
          environment: props.environment,
          appName: app.name,
          network: this.network,
          // Over PrivateLink the server's way to the proxy is its own VPC's endpoint.
          egress: this.proxyEndpoint ?? props.egress,
          bypass: props.bypass,
          ...serverSettings({ ...app.appServer, role: props.serverRole }),
        });
      }
    }
  }

  /** The app VPC's interface endpoint to the proxy in `subnetIds`, accepted by the service when it requires acceptance. */
  private addProxyEndpoint(
    connect: Extract<AppVpcConnection, { kind: "privateLink" }>,
    subnetIds: readonly string[],
    existingVpcId?: string,
  ): ProxyEndpoint {
    const endpoint = new ProxyEndpoint(this, constructIds.linkEndpoint, {
      network: this.network,
      subnetIds,
      existingVpcId,
      serviceName: connect.service.serviceName,
      port: connect.port,
    });
    connect.service.accept(endpoint, "Acceptance", endpoint.endpointId);
    return endpoint;
  }

  /**
   * Attaches the app VPC to the hub and routes both ways through it: the app VPC's tables send the
   * destinations to the Transit Gateway, the proxy VPC's tables send the app VPC's block back.
   */
  private attach(
    connect: Extract<AppVpcConnection, { kind: "transitGateway" }>,
    subnetIds: readonly string[],
    proxyNetwork: INetwork,
  ): Ec2TransitGatewayVpcAttachment {
    const attachment = connect.hub.attachAppVpc(this.node.id, this.network, subnetIds);
    const target = { transitGatewayId: connect.hub.transitGatewayId };
    routesTo(this, "TransitGatewayRoutes", this.network, connect.destinations, target, [attachment]);
    routesTo(this, "ProxyVpcRoutes", proxyNetwork, [this.network.cidr], target, [connect.proxyAttachment]);
    return attachment;
  }
}
