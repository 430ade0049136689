import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { outermostBlocks } from "../lib/cidr";
import { EnvironmentConfig, proxyPrivateIp } from "../lib/config-schema";
import { checkedEmulatorEndpoint, EMULATED_SERVICES } from "../lib/emulator";
import { suppressRule } from "../lib/policy/pack";
import { AppServer } from "./app-server";
import { FlowLogRole } from "./flow-log-role";
import { InstanceRole } from "./instance-role";
import { Network } from "./network";
import { DirectConnectAttachment } from "./direct-connect-attachment";
import { ExistingNetwork } from "./existing-network";
import { Peering, PeeringSide } from "./peering";
import { ProxyServer } from "./proxy-server";
import { serverSettings } from "./server";
import { ServiceServer } from "./service-server";

/** Configures where a stack keeps its state; `emulatorEndpoint` is set in emulator mode only. */
export type StateBackendFactory = (stack: TerraformStack, config: EnvironmentConfig, emulatorEndpoint?: string) => void;

/** Props of {@link EnvironmentStack}. */
export interface EnvironmentStackProps {
  /** The validated environment (see lib/config.ts). */
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

/** The state key of an environment: `<keyPrefix>/<environment>/terraform.tfstate`. */
export function stateKey(config: EnvironmentConfig): string {
  return `${config.state.keyPrefix}/${config.name}/terraform.tfstate`;
}

/** S3 state with encryption and S3-native locking (a lock file next to the state). */
export const s3StateBackend: StateBackendFactory = (stack, config, emulatorEndpoint) => {
  const backend = new S3Backend(stack, {
    bucket: config.state.bucket,
    key: stateKey(config),
    region: config.state.region ?? config.region,
    encrypt: true,
    ...(emulatorEndpoint && {
      endpoints: { s3: emulatorEndpoint, sts: emulatorEndpoint, iam: emulatorEndpoint },
      usePathStyle: true,
      skipCredentialsValidation: true,
      skipRequestingAccountId: true,
      skipMetadataApiCheck: true,
    }),
  });
  // cdktf 0.21's S3Backend has no property for it yet.
  backend.addOverride("use_lockfile", true);
};

/**
 * One environment: the proxy VPC with Squid, the app VPCs peered to it (created, with a Windows
 * app server where configured, or existing, perhaps in another account) and the service side (a
 * simulated service VPC, or the Direct Connect attachment), with state in S3 and tags on every
 * resource.
 */
export class EnvironmentStack extends TerraformStack {
  /** The proxy VPC. */
  public readonly proxyNetwork: Network;
  /** The app VPCs, created or existing, by name. */
  public readonly appNetworks: ReadonlyMap<string, PeeringSide>;
  /** The proxy. */
  public readonly proxy: ProxyServer;

  constructor(scope: Construct, id: string, props: EnvironmentStackProps) {
    super(scope, id);
    const { config } = props;
    const emulator = props.emulatorEndpoint === undefined ? undefined : checkedEmulatorEndpoint(props.emulatorEndpoint, "emulatorEndpoint");
    (props.stateBackend ?? s3StateBackend)(this, config, emulator);

    new AwsProvider(this, "aws", {
      region: config.region,
      defaultTags: this.defaultTags(config),
      ...(emulator && {
        endpoints: [Object.fromEntries(EMULATED_SERVICES.map((service) => [service, emulator]))],
        s3UsePathStyle: true,
        skipCredentialsValidation: true,
        skipRequestingAccountId: true,
        skipMetadataApiCheck: "true",
      }),
    });

    const role = new InstanceRole(this, "InstanceRole", { name: `${config.name}-instance` });
    // The proxy alone ships a log: it alone gets the CloudWatch agent's policy.
    const proxyRole = new InstanceRole(this, "ProxyRole", { name: `${config.name}-proxy`, extraManagedPolicies: ["CloudWatchAgentServerPolicy"] });
    const flowLogs = { role: new FlowLogRole(this, "FlowLogRole", { name: `${config.name}-flow-logs` }), retentionInDays: config.logRetentionDays };
    // App servers run Windows and install nothing from Amazon Linux repositories: no S3 endpoint.
    const networkProps = (name: string, vpc: EnvironmentConfig["proxyVpc"], enableS3Endpoint = true) => ({
      name: `${config.name}-${name}`,
      region: config.region,
      cidr: vpc.cidr,
      subnets: vpc.subnets,
      enableSessionManagerEndpoints: vpc.sessionManagerEndpoints,
      extraInterfaceEndpoints: name === "proxy" && vpc.sessionManagerEndpoints ? ["logs"] : [],
      enableS3Endpoint,
      flowLogs,
    });

    this.proxyNetwork = new Network(this, "ProxyVpc", networkProps("proxy", config.proxyVpc));
    const appSides = new Map<string, PeeringSide>();
    for (const app of config.appVpcs) {
      if (app.existing) {
        const { vpcId, routeTableIds, accountId, roleArn } = app.existing;
        // Another account's VPC is reached with a provider that assumes a role there.
        const provider = roleArn
          ? new AwsProvider(this, `aws-${app.name}`, { alias: `app_${app.name.replace(/-/g, "_")}`, region: config.region, assumeRole: [{ roleArn }], defaultTags: this.defaultTags(config) })
          : undefined;
        appSides.set(app.name, new ExistingNetwork(this, `AppVpc-${app.name}`, { name: `${config.name}-${app.name}`, vpcId, cidr: app.cidr, routeTableIds, accountId, provider }));
      } else {
        appSides.set(app.name, new Network(this, `AppVpc-${app.name}`, networkProps(app.name, { ...app, subnets: app.subnets ?? [] }, false)));
      }
    }
    this.appNetworks = appSides;

    this.proxy = new ProxyServer(this, "Proxy", {
      environment: config.name,
      network: this.proxyNetwork,
      clients: [...appSides.values()],
      destinations: config.services,
      port: config.proxy.port,
      accessLogRetentionDays: config.logRetentionDays,
      privateIp: proxyPrivateIp(config),
      ...serverSettings({ ...config.proxy, role: proxyRole }),
    });

    for (const app of config.appVpcs) {
      const side = appSides.get(app.name)!;
      // A VPC we create asks for the peering; an existing one, perhaps in another account, is asked.
      const peering =
        side instanceof Network
          ? new Peering(this, `AppPeering-${app.name}`, { requester: side, accepter: this.proxyNetwork })
          : new Peering(this, `AppPeering-${app.name}`, { requester: this.proxyNetwork, accepter: side });
      new TerraformOutput(this, `peering_${app.name}_id`, {
        value: peering.peeringConnectionId,
        description: `Peering between app VPC ${app.name} and the proxy VPC`,
      });
      if (app.appServer && side instanceof Network) {
        const server = new AppServer(this, `AppServer-${app.name}`, {
          environment: config.name,
          network: side,
          proxy: this.proxy,
          bypass: config.proxyBypass,
          ...serverSettings({ ...app.appServer, role }),
        });
        new TerraformOutput(this, `app_server_${app.name}_id`, {
          value: server.server.instance.id,
          description: `The Windows app server in ${app.name}; connect with Session Manager`,
        });
      }
    }

    const destinations = outermostBlocks(config.services.map((s) => s.cidr));
    const side = config.serviceSide;
    if (side.type === "peeredVpc") {
      const serviceNetwork = new Network(this, "ServiceVpc", networkProps("service", side.vpc));
      const servicePeering = new Peering(this, "ServicePeering", { requester: this.proxyNetwork, accepter: serviceNetwork, requesterDestinations: destinations });
      const service = new ServiceServer(this, "Service", {
        environment: config.name,
        network: serviceNetwork,
        allowedFrom: this.proxyNetwork,
        ports: config.services.flatMap((s) => s.ports),
        ...serverSettings({ ...side.server, role }),
      });
      new TerraformOutput(this, "service_peering_id", { value: servicePeering.peeringConnectionId, description: "Peering between the proxy VPC and the service VPC" });
      new TerraformOutput(this, "service_url", {
        value: `http://${service.server.instance.privateIp}:${config.services[0].ports[0]}/`,
        description: "The stand-in service, reachable only through the proxy",
      });
    } else {
      const attachment = new DirectConnectAttachment(this, "DirectConnect", {
        network: this.proxyNetwork,
        destinations,
        routing: side.routing,
        amazonSideAsn: side.amazonSideAsn,
        directConnectGatewayId: side.type === "directConnectGateway" ? side.directConnectGatewayId : undefined,
      });
      new TerraformOutput(this, "vpn_gateway_id", { value: attachment.gateway.id, description: "The proxy VPC's virtual private gateway, for the Direct Connect private VIF" });
      if (attachment.association) {
        new TerraformOutput(this, "dx_gateway_association_id", { value: attachment.association.id, description: "The association with the Direct Connect gateway" });
      }
    }

    config.policySuppressions.forEach((suppression, i) => {
      const target = suppression.path.split("/").reduce<Construct | undefined>((node, id) => node?.node.tryFindChild(id) as Construct | undefined, this);
      if (!target) {
        throw new Error(
          `\`policySuppressions[${i}].path\` = "${suppression.path}" names no construct of stack ${config.name}; use a path from cdk.tf.json's //.metadata.path without the leading "${config.name}/"`,
        );
      }
      suppressRule(target, suppression.rule, suppression.reason);
    });

    new TerraformOutput(this, "proxy_address", { value: this.proxy.privateIp, description: "The proxy's fixed private address" });
    new TerraformOutput(this, "proxy_url", { value: this.proxy.proxyUrl, description: "The proxy setting for app servers" });
    new TerraformOutput(this, "proxy_access_log_group", { value: this.proxy.accessLogGroupName, description: "CloudWatch Logs group with Squid's access log" });
  }

  private defaultTags(config: EnvironmentConfig) {
    return [{ tags: { Project: config.project, Environment: config.name, ManagedBy: "cdktf", ...config.tags } }];
  }
}
