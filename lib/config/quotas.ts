/**
 * AWS quotas that an environment file can exceed, checked before synthesis: over a hard limit the
 * file is refused; over the default quota a warning names the quota and how to raise it. Figures
 * from AWS's quota pages (Amazon VPC; Route 53 VPC Resolver, whose quotas can all be raised).
 */
import { outermostBlocks } from "../cidr";
import { portNumbers, resolverEndpointSubnets } from "./derived";
import type { Issue } from "./path-text";
import { egressOf } from "./egress";
import type { EnvironmentConfig } from "./schema";

/** One AWS quota. */
export interface Quota {
  readonly name: string;
  readonly code: string;
  readonly defaultValue: number;
  readonly hardLimit: number;
  /** The Service Quotas service code. @default "vpc" */
  readonly serviceCode?: string;
}

export const QUOTAS = {
  peeringsPerVpc: { name: "Active VPC peering connections per VPC", code: "L-7E9ECCDB", defaultValue: 50, hardLimit: 125 },
  routesPerRouteTable: { name: "Routes per route table", code: "L-93826ACB", defaultValue: 50, hardLimit: 1000 },
  rulesPerSecurityGroup: { name: "Inbound or outbound rules per security group", code: "L-0EA8095F", defaultValue: 60, hardLimit: 1000 },
  addressesPerResolverEndpoint: {
    name: "IP addresses per resolver endpoint",
    code: "L-D2FE9758",
    defaultValue: 6,
    hardLimit: Infinity,
    serviceCode: "route53resolver",
  },
  targetsPerResolverRule: {
    name: "Target IP addresses per resolver rule",
    code: "L-D74B6237",
    defaultValue: 6,
    hardLimit: Infinity,
    serviceCode: "route53resolver",
  },
  interfaceEndpointsPerVpc: {
    name: "Interface and Gateway Load Balancer endpoints per VPC",
    code: "L-29B6F2EB",
    defaultValue: 50,
    hardLimit: Infinity,
  },
  targetsPerNetworkLoadBalancerZone: {
    name: "Targets per Availability Zone per Network Load Balancer",
    code: "L-B211E961",
    defaultValue: 500,
    hardLimit: Infinity,
    serviceCode: "elasticloadbalancing",
  },
} satisfies Record<string, Quota>;

/** The interface endpoints the stack makes in each VPC: Session Manager's three, Squid's logs in the proxy VPC, each app VPC's to the proxy. */
function interfaceEndpointUsages(env: EnvironmentConfig): Usage[] {
  const sessionManager = (on: boolean) => (on ? 3 : 0);
  const squid = egressOf(env).kind !== "privateNat";
  const privateLink = env.connectivity.type === "privateLink";
  return [
    {
      quota: QUOTAS.interfaceEndpointsPerVpc,
      count: sessionManager(env.proxyVpc.sessionManagerEndpoints) + (env.proxyVpc.sessionManagerEndpoints && squid ? 1 : 0),
      path: ["proxyVpc"],
      what: "interface endpoints in the proxy VPC",
    },
    ...env.appVpcs.map((a, i) => ({
      quota: QUOTAS.interfaceEndpointsPerVpc,
      count: sessionManager(a.sessionManagerEndpoints && !a.existing) + (privateLink ? 1 : 0),
      path: ["appVpcs", i],
      what: `interface endpoints the stack makes in app VPC ${a.name} (an existing VPC's own come on top)`,
    })),
  ];
}

/** A count of something that a quota limits, and the setting that drives it. */
interface Usage {
  readonly quota: Quota;
  readonly count: number;
  readonly path: (string | number)[];
  readonly what: string;
}

function usages(env: EnvironmentConfig): Usage[] {
  const peered = env.serviceSide.type === "peeredVpc";
  const staticRoutes = env.serviceSide.type === "peeredVpc" || env.serviceSide.routing === "static";
  const serviceBlocks = outermostBlocks(env.services.map((s) => s.cidr)).length;
  const relays = new Set(env.services.flatMap((s) => portNumbers(s).map((p) => `${s.cidr} ${p}`))).size;
  const egress = egressOf(env);
  // Over PrivateLink nothing routes to the app VPCs and the load balancer admits no app block by rule.
  const routedApps = env.connectivity.type === "privateLink" ? 0 : env.appVpcs.length;
  return [
    ...interfaceEndpointUsages(env),
    {
      quota: QUOTAS.targetsPerNetworkLoadBalancerZone,
      count: egress.kind === "fleet" ? egress.size : 0,
      path: ["proxy", "fleet", "size"],
      what: "proxies behind the load balancer (with cross-zone load balancing each zone's node counts every one)",
    },
    // Over a Transit Gateway the app VPCs need no peering (an attachment each, of 5,000 per gateway).
    {
      quota: QUOTAS.peeringsPerVpc,
      count: (env.connectivity.type === "peering" ? env.appVpcs.length : 0) + (peered ? 1 : 0),
      path: ["appVpcs"],
      what: "peerings of the proxy VPC",
    },
    {
      quota: QUOTAS.routesPerRouteTable,
      count: routedApps + (staticRoutes ? serviceBlocks : 0),
      path: ["appVpcs"],
      what: "routes in each route table of the proxy VPC",
    },
    {
      quota: QUOTAS.rulesPerSecurityGroup,
      count: routedApps,
      path: ["appVpcs"],
      what: "inbound rules in the proxy's security group",
    },
    { quota: QUOTAS.rulesPerSecurityGroup, count: relays + 2, path: ["services"], what: "outbound rules in the proxy's security group" },
    {
      quota: QUOTAS.addressesPerResolverEndpoint,
      count: resolverEndpointSubnets(env).length,
      path: ["dns", "endpointSubnets"],
      what: "addresses of the resolver endpoint (one per subnet)",
    },
    ...(env.dns?.forward ?? []).map((rule, i) => ({
      quota: QUOTAS.targetsPerResolverRule,
      count: rule.servers.length,
      path: ["dns", "forward", i, "servers"],
      what: `target addresses of the rule for ${rule.domain}`,
    })),
  ];
}

/** Counts over a hard limit, as problems of the settings that drive them. */
export function quotaIssues(env: EnvironmentConfig): Issue[] {
  return usages(env)
    .filter((u) => u.count > u.quota.hardLimit)
    .map((u) => ({
      path: u.path,
      message: `makes ${u.count} ${u.what}, over AWS's hard limit of ${u.quota.hardLimit} (${u.quota.name}); split it over several environments`,
    }));
}

/** Counts over a default quota (but within the hard limit), each with how to raise the quota. */
export function quotaWarnings(env: EnvironmentConfig): string[] {
  return usages(env)
    .filter((u) => u.count > u.quota.defaultValue && u.count <= u.quota.hardLimit)
    .map(
      (u) =>
        `environment ${env.name}: ${u.count} ${u.what}, over the default quota of ${u.quota.defaultValue} "${u.quota.name}" (${u.quota.code}). ` +
        `Raise it before deploying: aws service-quotas request-service-quota-increase --service-code ${u.quota.serviceCode ?? "vpc"} --quota-code ${u.quota.code} --desired-value ${u.count} --region ${env.region}`,
    );
}
