/**
 * Every name that more than one file relies on, defined once: AWS resource names and Name tags,
 * construct ids that the rehearsal and the policy suppressions address, stack output names and
 * state locations. Constructs, the proof harness and the scripts all import them from here.
 */

/**
 * The tags every resource of an environment carries (the provider's default tags, and the Auto
 * Scaling group's own tags, which default tags do not reach). The orphan sweep finds an
 * environment's resources by the first two.
 */
export const OWNER_TAGS = { project: "Project", environment: "Environment", managedBy: "ManagedBy" } as const;

/** The owner tags of an environment, then the user's own tags. */
export function ownerTags(project: string, environment: string, extra: Readonly<Record<string, string>> = {}): Record<string, string> {
  return { [OWNER_TAGS.project]: project, [OWNER_TAGS.environment]: environment, [OWNER_TAGS.managedBy]: "cdktf", ...extra };
}

/** The prefix of the project's own CloudWatch Logs groups. */
export const LOG_GROUP_PREFIX = "/proxy-over-peering";

/** The log group that receives Squid's access log. */
export function accessLogGroupName(environment: string): string {
  return `${LOG_GROUP_PREFIX}/${environment}/squid-access`;
}

/** The SSM parameter that holds the proxies' allowlist (the environment's part of squid.conf), read at run time. */
export function allowlistParameterName(environment: string): string {
  return `${LOG_GROUP_PREFIX}/${environment}/squid-allowlist`;
}

/** The log group of the proxies' allowlist updates: one JSON line per version applied or refused (see ALLOWLIST_EVENTS). */
export function allowlistLogGroupName(environment: string): string {
  return `${LOG_GROUP_PREFIX}/${environment}/squid-allowlist`;
}

/** The events of the allowlist update log: `{"event": ..., "version": <parameter version>, "instance": <instance id>, "detail": ...}`. */
export const ALLOWLIST_EVENTS = { applied: "applied", refused: "refused" } as const;

/** The keys of an allowlist update log line, which its metric filters read. */
export const ALLOWLIST_EVENT_FIELDS = { event: "event", version: "version", instance: "instance", detail: "detail" } as const;

/** The CloudWatch namespace of an environment's proxy metrics, published by the metric filters on its access and allowlist logs. */
export function proxyMetricsNamespace(environment: string): string {
  return `ProxyOverPeering/${environment}`;
}

/** The metrics the proxy's metric filters publish, and the dimensions two of them carry. */
export const PROXY_METRICS = {
  requests: "Requests",
  denied: "Denied",
  upstreamErrors: "UpstreamErrors",
  allowlistRefused: "AllowlistRefused",
  allowlistVersion: "AllowlistVersion",
} as const;
export const PROXY_METRIC_DIMENSIONS = { appVpc: "AppVpc", instance: "Instance" } as const;

/** Names of the proxy's monitoring: metric filters, alarms, the alerts topic and the dashboard. */
export const monitoringNames = {
  metricFilter: (environment: string, metric: string) => `${environment}-proxy-${metric}`,
  deniedAlarm: (environment: string, app: string) => `${environment}-proxy-denied-${app}`,
  upstreamErrorsAlarm: (environment: string) => `${environment}-proxy-upstream-errors`,
  allowlistRefusedAlarm: (environment: string) => `${environment}-proxy-allowlist-refused`,
  alertsTopic: (environment: string) => `${environment}-proxy-alerts`,
  dashboard: (environment: string) => `${environment}-proxy`,
};

/** The log group of a VPC's flow log. */
export function flowLogGroupName(vpcName: string): string {
  return `/vpc-flow-logs/${vpcName}`;
}

/** The alarm that recovers the single proxy instance. */
export function recoveryAlarmName(environment: string): string {
  return `${environment}-proxy-auto-recover`;
}

/** The Name of a VPC of an environment, such as verification-proxy or verification-app. */
export function vpcName(environment: string, vpc: string): string {
  return `${environment}-${vpc}`;
}

/** The VPC names of the proxy and service sides (app VPCs use their own names). */
export const PROXY_VPC = "proxy";
export const SERVICE_VPC = "service";

/** The Name tags of the servers: the proxy, the stand-in service, and the app server of an app VPC. */
export const serverNames = {
  proxy: (environment: string) => `${environment}-proxy`,
  service: (environment: string) => `${environment}-service`,
  appServer: (environment: string, app: string) => `${vpcName(environment, app)}-server`,
};

/** Construct ids of an environment stack, which become Terraform addresses and suppression paths. */
export const constructIds = {
  proxy: "Proxy",
  proxyVpc: "ProxyVpc",
  appLink: (app: string) => `App-${app}`,
  serviceSide: "ServiceSide",
  transitGateway: "TransitGateway",
  privateNat: "PrivateNat",
  dnsForwarding: "DnsForwarding",
  proxyMonitoring: "ProxyMonitoring",
  /** The endpoint service that offers the proxy fleet over PrivateLink. */
  endpointService: "EndpointService",
  /** Inside an app link: the VPC, the peering, the app server and the interface endpoint to the proxy. */
  linkVpc: "Vpc",
  linkPeering: "Peering",
  linkServer: "Server",
  linkEndpoint: "ProxyEndpoint",
};

/** Construct paths, relative to the stack, of the servers whose settings the rehearsal adjusts. */
export const serverPaths = {
  proxy: constructIds.proxy,
  appServer: (app: string) => `${constructIds.appLink(app)}/${constructIds.linkServer}`,
  service: `${constructIds.serviceSide}/${constructIds.linkServer}`,
};

/** Stack outputs that the rehearsal and users read. */
export const outputNames = {
  proxyAddress: "proxy_address",
  proxyUrl: "proxy_url",
  proxyAccessLogGroup: "proxy_access_log_group",
  proxyLoadBalancerAddresses: "proxy_load_balancer_addresses",
  proxyDashboard: "proxy_dashboard",
  proxyDashboardUrl: "proxy_dashboard_url",
  serviceUrl: "service_url",
  servicePeeringId: "service_peering_id",
  appPeeringId: (app: string) => `peering_${app}_id`,
  appServerId: (app: string) => `app_server_${app}_id`,
  vpnGatewayId: "vpn_gateway_id",
  dxGatewayAssociationId: "dx_gateway_association_id",
  transitGatewayId: "transit_gateway_id",
  natGatewayAddresses: "nat_gateway_addresses",
  resolverEndpointId: "resolver_endpoint_id",
  proxyEndpointServiceName: "proxy_endpoint_service_name",
  appProxyEndpointDns: (app: string) => `proxy_endpoint_${app}_dns`,
};

/** The state key of an environment: `<keyPrefix>/<environment>/terraform.tfstate`. */
export function stateKey(keyPrefix: string, environment: string): string {
  return `${keyPrefix}/${environment}/terraform.tfstate`;
}

/** The stack name of the bootstrap stack for a state bucket. */
export function bootstrapStackName(bucketName: string): string {
  return `state-${bucketName.replace(/\./g, "-")}`;
}

/** IAM role names of an environment. */
export const roleNames = {
  instance: (environment: string) => `${environment}-instance`,
  proxy: (environment: string) => `${environment}-proxy`,
  flowLogs: (environment: string) => `${environment}-flow-logs`,
};

/** The folder of the project (beside main.ts) where bootstrap stacks keep their local state. */
export const LOCAL_STATE_FOLDER = "state";

/** Where the orphan sweep writes the import blocks for an environment's orphans. */
export function orphanImportsFile(stateDir: string, environment: string): string {
  return `${stateDir.replace(/[\\/]+$/, "")}/${environment}.orphans.tf.json`;
}

/** The local state file of a bootstrap stack inside the local state folder. */
export function bootstrapStateFile(stateDir: string, stack: string): string {
  return `${stateDir.replace(/[\\/]+$/, "")}/${stack}.tfstate`;
}

/** Names of the Transit Gateway variant's resources: the hub, its tables and attachments, and the private NAT egress. */
export function transitGatewayNames(environment: string) {
  return {
    gateway: `${environment}-hub`,
    appsTable: `${environment}-hub-apps`,
    proxyTable: `${environment}-hub-proxy`,
    attachment: (vpcName: string) => `${vpcName}-attachment`,
    natGateway: (zone: string) => `${environment}-proxy-nat-${zone}`,
    attachmentSubnet: (zone: string) => `${environment}-proxy-attachment-${zone}`,
  };
}

/** Names of the DNS forwarding's resources: the resolver endpoint (also its group's and subnets' names) and its rules. */
export const resolverNames = {
  endpoint: (environment: string) => `${environment}-proxy-resolver`,
  subnet: (environment: string, zone: string) => `${environment}-proxy-resolver-${zone}`,
  rule: (environment: string, domain: string) => `${environment}-${domain.replace(/\./g, "-")}`.slice(0, 64),
};

/** Names of the PrivateLink variant's resources: the endpoint service, and each app VPC's interface endpoint and its group. */
export const privateLinkNames = {
  endpointService: (environment: string) => `${environment}-proxy-service`,
  endpoint: (vpcName: string) => `${vpcName}-proxy-endpoint`,
};

/** Names of a proxy fleet's resources (load balancer and target group names take at most 32 characters). */
export const fleetNames = {
  loadBalancer: (environment: string) => `${environment}-proxy`,
  targetGroup: (environment: string) => `${environment}-squid`,
  autoScalingGroup: (environment: string) => `${environment}-proxy`,
  loadBalancerSecurityGroup: (environment: string) => `${environment}-proxy-lb`,
  unhealthyAlarm: (environment: string) => `${environment}-proxy-unhealthy-hosts`,
};

/**
 * The state bucket names the demos and the examples ship with. S3 bucket names are global, so they
 * are nobody's: deploy refuses them (outside the emulator) and asks for a bucket name of the user's own.
 */
export const PLACEHOLDER_STATE_BUCKETS: readonly string[] = [
  "proxy-over-peering-tfstate-example",
  "example-corp-proxy-over-peering-tfstate",
];
