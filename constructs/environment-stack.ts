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
import { Peering } from "./peering";
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
 * One environment: the proxy VPC with Squid, the app VPCs peered to it (with a Windows app server
 * where configured) and the service side, with state in S3 and tags on every resource.
 */
export class EnvironmentStack extends TerraformStack {
  /** The proxy VPC. */
  public readonly proxyNetwork: Network;
  /** The app VPCs, by name. */
  public readonly appNetworks: ReadonlyMap<string, Network>;
  /** The proxy. */
  public readonly proxy: ProxyServer;

  constructor(scope: Construct, id: string, props: EnvironmentStackProps) {
    super(scope, id);
    const { config } = props;
    const emulator = props.emulatorEndpoint === undefined ? undefined : checkedEmulatorEndpoint(props.emulatorEndpoint, "emulatorEndpoint");
    (props.stateBackend ?? s3StateBackend)(this, config, emulator);

    new AwsProvider(this, "aws", {
      region: config.region,
      defaultTags: [{ tags: { Project: config.project, Environment: config.name, ManagedBy: "cdktf", ...config.tags } }],
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
    const appNetworks = new Map<string, Network>();
    for (const app of config.appVpcs) {
      appNetworks.set(app.name, new Network(this, `AppVpc-${app.name}`, networkProps(app.name, app, false)));
    }
    this.appNetworks = appNetworks;

    this.proxy = new ProxyServer(this, "Proxy", {
      environment: config.name,
      network: this.proxyNetwork,
      clients: [...appNetworks.values()],
      destinations: config.services,
      port: config.proxy.port,
      accessLogRetentionDays: config.logRetentionDays,
      privateIp: proxyPrivateIp(config),
      ...serverSettings({ ...config.proxy, role: proxyRole }),
    });

    for (const app of config.appVpcs) {
      const network = appNetworks.get(app.name)!;
      const peering = new Peering(this, `AppPeering-${app.name}`, { requester: network, accepter: this.proxyNetwork });
      new TerraformOutput(this, `peering_${app.name}_id`, {
        value: peering.peeringConnectionId,
        description: `Peering between app VPC ${app.name} and the proxy VPC`,
      });
      if (app.appServer) {
        const server = new AppServer(this, `AppServer-${app.name}`, {
          environment: config.name,
          network,
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

    const side = config.serviceSide;
    const serviceNetwork = new Network(this, "ServiceVpc", networkProps("service", side.vpc));
    const servicePeering = new Peering(this, "ServicePeering", {
      requester: this.proxyNetwork,
      accepter: serviceNetwork,
      requesterDestinations: outermostBlocks(config.services.map((s) => s.cidr)),
    });
    const service = new ServiceServer(this, "Service", {
      environment: config.name,
      network: serviceNetwork,
      allowedFrom: this.proxyNetwork,
      ports: config.services.flatMap((s) => s.ports),
      ...serverSettings({ ...side.server, role }),
    });

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
    new TerraformOutput(this, "service_peering_id", { value: servicePeering.peeringConnectionId, description: "Peering between the proxy VPC and the service VPC" });
    new TerraformOutput(this, "service_url", {
      value: `http://${service.server.instance.privateIp}:${config.services[0].ports[0]}/`,
      description: "The stand-in service, reachable only through the proxy",
    });
  }
}
