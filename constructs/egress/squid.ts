import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { Lazy } from "cdktf";
import type { Construct } from "constructs";
import { parseAllowlist } from "../../lib/allowlist-policy";
import { allowlistSizeProblem, amazonLinuxSyncInstall, policyWithEndpoints, squidPolicyOf } from "../../lib/allowlist-sync";
import { DEFAULT_ALLOWLIST_POLL_SECONDS } from "../../lib/config";
import type { SquidEgress } from "../../lib/config";
import { accessLogGroupName, allowlistLogGroupName, allowlistParameterName, outputNames, roleNames } from "../../lib/naming";
import {
  AMAZON_LINUX_SQUID,
  inlineAllowlist,
  renderAllowlist,
  renderSquidBase,
  SquidClient,
  SquidDestination,
  SquidPolicy,
  SquidProxyProtocol,
} from "../../lib/squid";
import { renderProxyUserData } from "../../lib/user-data";
import { InstanceRole } from "../instance-role";
import type { INetwork } from "../network-ref";
import { Peer, SecurityGroup } from "../security-group";
import { serverSettings, ServerSettings } from "../server";
import type { EgressContext, EgressOutput, EgressRule, IProxy } from "./egress";

/** What every kind of proxy takes: where it runs, whom it serves, where it may go. */
export interface ProxyCommonProps extends ServerSettings {
  /** The environment's name, for names and the squid.conf header. */
  readonly environment: string;
  /** The proxy VPC (the CIDR the Direct Connect provider dictates). */
  readonly network: INetwork;
  /** The app VPCs whose servers may use the proxy: their names and blocks. */
  readonly clients: readonly SquidClient[];
  /** Where the proxy may forward to, with ports and the app VPCs (clients' names) each serves. */
  readonly destinations: readonly SquidDestination[];
  /** The port Squid listens on. */
  readonly port: number;
  /** How long CloudWatch Logs keeps Squid's access log and the allowlist updates, in days. */
  readonly accessLogRetentionDays: number;
  /**
   * Seconds between two checks of the allowlist parameter on each proxy.
   * @default 30, as the environment file's proxy.allowlistPollSeconds
   */
  readonly allowlistPollSeconds?: number;
  /**
   * Squid behind an endpoint service's load balancer: it requires the PROXY protocol header from
   * these sources and tells clients apart by their VPC endpoint, named later with {@link EndpointIds.add}.
   * @default none: clients connect to Squid with their own addresses
   */
  readonly proxyProtocol?: SquidProxyProtocol;
}

/** The VPC endpoint of each client (by Squid client name), filled in as the app VPCs' endpoints are made. */
export class EndpointIds {
  private readonly ids = new Map<string, string>();

  /** Records that `client`'s requests come through the endpoint `endpointId`; each client once. */
  public add(client: string, endpointId: string): void {
    if (this.ids.has(client)) throw new Error(`EndpointIds: client ${client} has an endpoint already; give each app VPC one`);
    this.ids.set(client, endpointId);
  }

  /** The endpoint of `client`; throws when none was recorded, since Squid could not tell its requests apart. */
  public of(client: string): string {
    const id = this.ids.get(client);
    if (id === undefined)
      throw new Error(`EndpointIds: app VPC ${client} has no interface endpoint to the proxy; Squid could not tell its requests apart`);
    return id;
  }
}

/** The longest endpoint id AWS gives (vpce- and 17 hex digits): the allowlist's size is checked with it. */
const LONGEST_ENDPOINT_ID = "vpce-0123456789abcdef0";

/**
 * What a proxy of the environment takes, with its role created in `stack`: the proxy alone ships a
 * log, so it alone gets the CloudWatch agent's policy.
 */
export function proxyCommonProps(stack: Construct, { config, network }: EgressContext, egress: SquidEgress): ProxyCommonProps {
  const role = new InstanceRole(stack, "ProxyRole", {
    name: roleNames.proxy(config.name),
    extraManagedPolicies: ["CloudWatchAgentServerPolicy"],
  });
  const policy = squidPolicyOf(config);
  return {
    environment: config.name,
    network,
    clients: policy.clients,
    destinations: policy.destinations,
    port: egress.proxy.port,
    accessLogRetentionDays: config.logRetentionDays,
    allowlistPollSeconds: egress.proxy.allowlistPollSeconds,
    ...serverSettings({ ...egress.proxy, role }),
  };
}

/** A proxy's Squid configuration as data: the base in the user data, the allowlist in its parameter. */
export interface ProxyAllowlist {
  /** The base squid.conf that the user data installs; it never changes with the services. */
  readonly baseSquidConf: string;
  /** The allowlist: the parameter's value, which the proxies apply at run time. */
  readonly allowlist: string;
  /** The effective squid.conf: the base with the allowlist in place of its include. */
  readonly squidConf: string;
  /** The SSM parameter that holds the allowlist. */
  readonly parameterName: string;
  /** The CloudWatch Logs group of the allowlist updates. */
  readonly updateLogGroupName: string;
  /** The proxies' user data: Squid, squid-allowlist-sync and its timer, log shipping. */
  readonly userData: string;
  /**
   * Behind PrivateLink, the allowlist with the endpoint ids `endpointIdOf` gives per client (such as a lab's
   * stand-ins), where the parameter holds references. @default none: the allowlist names no endpoint
   */
  readonly allowlistWith?: (endpointIdOf: (client: string) => string) => string;
}

/**
 * Creates the allowlist parameter (Intelligent-Tiering: it grows past 4 KB to 8 KB), the update log group and the
 * role's read of that one parameter; returns the configuration and the user data. Throws when the allowlist passes 8 KB.
 */
export function createProxyAllowlist(scope: Construct, props: ProxyCommonProps, endpointIds?: EndpointIds): ProxyAllowlist {
  const policy: SquidPolicy = {
    environment: props.environment,
    port: props.port,
    clients: props.clients,
    destinations: props.destinations,
    ...(props.proxyProtocol ? { proxyProtocol: props.proxyProtocol } : {}),
  };
  if (props.proxyProtocol && !endpointIds)
    throw new Error("createProxyAllowlist: proxyProtocol needs endpointIds, which name each client's endpoint");
  const withEndpoints = (idOf: (client: string) => string) => policyWithEndpoints(policy, props.proxyProtocol!, idOf);
  const checked = props.proxyProtocol ? renderAllowlist(withEndpoints(() => LONGEST_ENDPOINT_ID)) : renderAllowlist(policy);
  // Read back as Squid reads it (every ACL an access line names defined, with one type), or synthesis stops here.
  parseAllowlist(checked);
  const tooLarge = allowlistSizeProblem(checked, policy);
  if (tooLarge) throw new Error(tooLarge);
  // Behind PrivateLink the endpoints' ids are references to endpoints made after the proxies: rendered at synthesis.
  const allowlist = props.proxyProtocol
    ? Lazy.stringValue({ produce: () => renderAllowlist(withEndpoints((client) => endpointIds!.of(client))) })
    : checked;
  const baseSquidConf = renderSquidBase(policy);
  const parameterName = allowlistParameterName(props.environment);
  const pollSeconds = props.allowlistPollSeconds ?? DEFAULT_ALLOWLIST_POLL_SECONDS;
  const parameter = new SsmParameter(scope, "Allowlist", {
    name: parameterName,
    description: `Squid allowlist of ${props.environment}: the proxies apply each new version within ${pollSeconds} s`,
    type: "String",
    tier: "Intelligent-Tiering",
    value: allowlist,
    tags: { Name: `${props.environment}-squid-allowlist` },
  });
  props.role.allow("AllowlistRead", "read-squid-allowlist", ["ssm:GetParameter"], [parameter.arn]);
  const updateLogGroupName = allowlistLogGroupName(props.environment);
  new CloudwatchLogGroup(scope, "AllowlistLog", {
    name: updateLogGroupName,
    retentionInDays: props.accessLogRetentionDays,
    tags: { Name: `${props.environment}-squid-allowlist` },
  });
  const userData = renderProxyUserData(
    baseSquidConf,
    { file: AMAZON_LINUX_SQUID.accessLog, logGroupName: accessLogGroupName(props.environment) },
    amazonLinuxSyncInstall(parameterName, updateLogGroupName, pollSeconds),
  );
  return {
    baseSquidConf,
    allowlist,
    squidConf: inlineAllowlist(baseSquidConf, allowlist),
    parameterName,
    updateLogGroupName,
    userData,
    ...(props.proxyProtocol ? { allowlistWith: (idOf: (client: string) => string) => renderAllowlist(withEndpoints(idOf)) } : {}),
  };
}

/** Squid installs from S3 and ships its log to CloudWatch Logs (its allowlist comes from SSM, whose endpoint Session Manager has), so its VPC needs these. */
export const SQUID_ENDPOINTS = { s3Endpoint: true, interfaceEndpoints: ["logs"] } as const;

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

/** App servers may send to each of the proxy's addresses on its port, and nothing else. */
export function proxyRules(proxy: Pick<IProxy, "addresses" | "port">): EgressRule[] {
  return proxy.addresses.map((address) => ({ cidr: `${address}/32`, port: proxy.port, description: "HTTP(S) through the Squid proxy" }));
}

/** The outputs of a Squid proxy: its address (`addressText` says what it is), `extra`, its URL and its access log. */
export function proxyOutputs(proxy: IProxy, addressText: string, extra: readonly EgressOutput[] = []): EgressOutput[] {
  return [
    { name: outputNames.proxyAddress, value: proxy.host, description: addressText },
    ...extra,
    { name: outputNames.proxyUrl, value: proxy.proxyUrl, description: "The proxy setting for app servers" },
    {
      name: outputNames.proxyAccessLogGroup,
      value: proxy.accessLogGroupName,
      description: "CloudWatch Logs group with Squid's access log",
    },
  ];
}
