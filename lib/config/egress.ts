/**
 * How traffic leaves the proxy VPC, chosen once from an environment file: the single Squid proxy,
 * a Squid fleet behind a load balancer, or private NAT gateways. Everything that depends on the
 * kind asks this union, as aws-cdk's Vpc asks its NatProvider.
 */
import { addressAt } from "../cidr";
import { DEFAULT_PROXY_HOST_OFFSET, EnvironmentConfig, VpcConfig } from "./schema";

/** The proxy's settings of an environment file. */
export type ProxyConfig = EnvironmentConfig["proxy"];
/** A fleet's settings of an environment file. */
export type FleetConfig = NonNullable<ProxyConfig["fleet"]>;

/** One Squid instance at a fixed address (the default). */
export interface SingleProxyEgress {
  readonly kind: "proxy";
  readonly proxy: ProxyConfig;
  /** The proxy's fixed private address. */
  readonly privateIp: string;
}

/** Squid instances in an Auto Scaling group behind an internal Network Load Balancer (`proxy.fleet`). */
export interface FleetEgress {
  readonly kind: "fleet";
  readonly proxy: ProxyConfig;
  readonly fleet: FleetConfig;
  /** How many proxies run. */
  readonly size: number;
  /** The load balancer's fixed address in each proxy subnet, in the subnets' order. */
  readonly loadBalancerAddresses: readonly string[];
  /**
   * With `connectivity.type: "privateLink"`: the load balancer is a VPC endpoint service and sends
   * PROXY protocol v2, which Squid requires. @default none: app VPCs reach the load balancer by routes
   */
  readonly privateLink?: PrivateLinkService;
}

/** The endpoint service that offers a fleet's load balancer to the app VPCs' interface endpoints. */
export interface PrivateLinkService {
  /** Whether each endpoint's connection waits for acceptance (the stack accepts its own app VPCs'). */
  readonly acceptanceRequired: boolean;
  /**
   * Who else may create endpoints, beside the stack's own account and `appAccounts`: IAM ARNs as
   * given, accounts as 12-digit ids (the stack makes them root ARNs in its partition).
   */
  readonly allowedPrincipals: readonly string[];
  /** The accounts of existing app VPCs of another account, allowed beside the stack's own by default. */
  readonly appAccounts: readonly string[];
}

/** A private NAT gateway per proxy subnet's zone, behind a Transit Gateway; no proxy (`connectivity.egress: "privateNat"`). */
export interface PrivateNatEgressChoice {
  readonly kind: "privateNat";
  /** The proxy VPC's subnets for the Transit Gateway attachment; empty only in a file the checks refuse. */
  readonly attachmentSubnets: VpcConfig["subnets"];
}

/** How traffic leaves the proxy VPC. Adding a kind: a member here, one folder in constructs/egress/, its tests. */
export type Egress = SingleProxyEgress | FleetEgress | PrivateNatEgressChoice;

/** The kinds in which Squid relays. */
export type SquidEgress = SingleProxyEgress | FleetEgress;

/** The egress of an environment: privateNat when connectivity says so, else a fleet when proxy.fleet is set, else one proxy. */
export function egressOf(env: EnvironmentConfig): Egress {
  if (env.connectivity.egress === "privateNat") return { kind: "privateNat", attachmentSubnets: env.connectivity.attachmentSubnets ?? [] };
  if (env.proxy.fleet) {
    return {
      kind: "fleet",
      proxy: env.proxy,
      fleet: env.proxy.fleet,
      size: fleetSize(env),
      loadBalancerAddresses: loadBalancerAddresses(env),
      ...(env.connectivity.type === "privateLink" ? { privateLink: privateLinkService(env) } : {}),
    };
  }
  return { kind: "proxy", proxy: env.proxy, privateIp: proxyPrivateIp(env) };
}

/** True when Squid relays (one proxy or a fleet): there is a proxy to name in flows, settings and checks. */
export function runsSquid(egress: Egress): egress is SquidEgress {
  return egress.kind !== "privateNat";
}

/** The proxy's private address: the configured one, or the default host of its subnet. */
export function proxyPrivateIp(env: EnvironmentConfig): string {
  return env.proxy.privateIp ?? addressAt(env.proxyVpc.subnets[0].cidr, DEFAULT_PROXY_HOST_OFFSET);
}

/** How many proxies a fleet runs: the configured size, or one per proxy subnet and at least two. */
export function fleetSize(env: EnvironmentConfig): number {
  return env.proxy.fleet?.size ?? Math.max(2, env.proxyVpc.subnets.length);
}

/** The load balancer's fixed address in each proxy subnet of a fleet: the configured ones, or each subnet's default host. */
export function loadBalancerAddresses(env: EnvironmentConfig): string[] {
  return env.proxy.fleet?.loadBalancerAddresses ?? env.proxyVpc.subnets.map((s) => addressAt(s.cidr, DEFAULT_PROXY_HOST_OFFSET));
}

/**
 * The principals an endpoint service allows, as ARNs: the root of the stack's own `account` first, then the app
 * accounts and the allowed principals, account ids made root ARNs in `partition`, each once.
 */
export function endpointServicePrincipals(
  settings: Pick<PrivateLinkService, "appAccounts" | "allowedPrincipals">,
  partition: string,
  account: string,
): string[] {
  const rootOf = (id: string) => `arn:${partition}:iam::${id}:root`;
  const arnOf = (principal: string) => (/^\d{12}$/.test(principal) ? rootOf(principal) : principal);
  return [rootOf(account), ...new Set([...settings.appAccounts, ...settings.allowedPrincipals].map(arnOf))];
}

/** The endpoint service's settings of a privateLink environment. */
export function privateLinkService(env: EnvironmentConfig): PrivateLinkService {
  const accounts = env.appVpcs.flatMap((a) => (a.existing?.accountId === undefined ? [] : [a.existing.accountId]));
  return {
    acceptanceRequired: env.connectivity.acceptanceRequired ?? false,
    allowedPrincipals: env.connectivity.allowedPrincipals ?? [],
    appAccounts: [...new Set(accounts)],
  };
}
