import { AwsProvider, AwsProviderConfig } from "@cdktf/provider-aws/lib/provider";
import { Construct } from "constructs";
import type { AppVpcConfig } from "../lib/config";
import { constructIds, vpcName } from "../lib/naming";
import { AppServer } from "./app-server";
import { ExistingNetwork } from "./existing-network";
import type { InstanceRole } from "./instance-role";
import { Network, NetworkProps } from "./network";
import type { INetwork } from "./network-ref";
import { Peering } from "./peering";
import type { IProxyEndpoint } from "./proxy-server";
import { serverSettings } from "./server";

/** Props of {@link AppVpcLink}. */
export interface AppVpcLinkProps {
  /** The environment's name, for names. */
  readonly environment: string;
  /** The app VPC as the environment file gives it: created (subnets, optional app server) or existing. */
  readonly app: AppVpcConfig;
  /** The proxy VPC, the other side of the peering. */
  readonly proxyNetwork: INetwork;
  /** The proxy that an app server's setting points at. */
  readonly proxy: IProxyEndpoint;
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
 * account with a provider that assumes a role there), its peering with the proxy VPC and both
 * directions of routes, and the Windows app server where one is configured.
 */
export class AppVpcLink extends Construct {
  /** The app VPC. */
  public readonly network: INetwork;
  /** The peering with the proxy VPC. */
  public readonly peering: Peering;
  /** The app server, where one is configured. */
  public readonly appServer?: AppServer;

  constructor(scope: Construct, id: string, props: AppVpcLinkProps) {
    super(scope, id);
    const { app } = props;
    const name = vpcName(props.environment, app.name);
    if (app.existing && app.appServer) {
      throw new Error(`AppVpcLink ${app.name}: an existing VPC gets no app server; remove appServer or let the project create the VPC`);
    }
    if (!app.existing && !app.subnets?.length) {
      throw new Error(`AppVpcLink ${app.name}: a created VPC needs subnets; give at least one, or set existing`);
    }

    if (app.existing) {
      const { vpcId, routeTableIds, accountId, roleArn } = app.existing;
      // Another account's VPC is reached with a provider that assumes a role there.
      const provider = roleArn
        ? new AwsProvider(this, "Provider", { ...props.providerDefaults, alias: `app_${app.name.replace(/-/g, "_")}`, assumeRole: [{ roleArn }] })
        : undefined;
      this.network = new ExistingNetwork(this, constructIds.linkVpc, { name, vpcId, cidr: app.cidr, routeTableIds, accountId, provider });
      // An existing VPC, perhaps in another account, is asked by the proxy VPC.
      this.peering = new Peering(this, constructIds.linkPeering, { requester: props.proxyNetwork, accepter: this.network });
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
      // A VPC we create asks for the peering.
      this.peering = new Peering(this, constructIds.linkPeering, { requester: this.network, accepter: props.proxyNetwork });
      if (app.appServer) {
        this.appServer = new AppServer(this, constructIds.linkServer, {
          environment: props.environment,
          appName: app.name,
          network: this.network,
          proxy: props.proxy,
          bypass: props.bypass,
          ...serverSettings({ ...app.appServer, role: props.serverRole }),
        });
      }
    }
  }
}
