/** Values derived from a validated environment, shared by the constructs and the proof harness. */
import { addressAt } from "../cidr";
import { resolverNames, serverNames, stateKey as stateKeyOf, vpcName } from "../naming";
import type { ServicePort } from "../squid";
import { egressOf, runsSquid } from "./egress";
import { DEFAULT_PROXY_HOST_OFFSET, EnvironmentConfig, ServiceConfig, ServiceSideConfig, VpcConfig } from "./schema";

/** The port that carries TLS when a service lists it as a bare number. */
export const DEFAULT_TLS_PORT = 443;

/** A service's ports, each with what it carries: a bare number is TLS on 443, plain HTTP elsewhere. */
export function servicePorts(service: Pick<ServiceConfig, "ports">): ServicePort[] {
  return service.ports.map((p) => (typeof p === "number" ? { port: p, carries: p === DEFAULT_TLS_PORT ? "tls" : "http" } : p));
}

/** A service's port numbers. */
export function portNumbers(service: Pick<ServiceConfig, "ports">): number[] {
  return servicePorts(service).map((p) => p.port);
}

/** The first port of the first service that carries `carries`, if any: what the stand-in serves and the lab probes. */
export function firstServicePort(env: EnvironmentConfig, carries: ServicePort["carries"]): number | undefined {
  return servicePorts(env.services[0]).find((p) => p.carries === carries)?.port;
}

/** The peered service VPC of a verification environment; throws, naming `what`, for other shapes. */
export function peeredServiceSide(env: EnvironmentConfig, what: string): Extract<ServiceSideConfig, { type: "peeredVpc" }> {
  if (env.serviceSide.type !== "peeredVpc") {
    throw new Error(
      `${what} needs a simulated service side: \`serviceSide.type\` is "${env.serviceSide.type}", use an environment with "peeredVpc" such as demos/verification.json`,
    );
  }
  return env.serviceSide;
}

/** The stand-in service's fixed private address (verification): address 10 of the service VPC's first subnet. */
export function serviceServerIp(env: EnvironmentConfig): string {
  return addressAt(peeredServiceSide(env, "the stand-in service's address").vpc.subnets[0].cidr, DEFAULT_PROXY_HOST_OFFSET);
}

/** The subnets of the DNS resolver endpoint: dns.endpointSubnets, or the proxy subnets. Empty without dns. */
export function resolverEndpointSubnets(env: EnvironmentConfig): VpcConfig["subnets"] {
  if (!env.dns) return [];
  return env.dns.endpointSubnets ?? env.proxyVpc.subnets;
}

/**
 * The ends an expected flow may name: the proxy; the service side ("service", the stand-in server
 * of a peered service VPC, or each service beyond a gateway by its name); the DNS resolver
 * endpoint; and every app VPC (its app server, or without one the user's servers in it). A name
 * listed twice (a service named as an app VPC) names two ends.
 */
export function flowEnds(env: EnvironmentConfig): string[] {
  const squid = runsSquid(egressOf(env));
  return [
    ...(squid ? ["proxy"] : []),
    ...(env.serviceSide.type === "peeredVpc" ? ["service"] : env.services.map((s) => s.name)),
    ...(env.dns && squid ? ["resolver"] : []),
    ...env.appVpcs.map((a) => a.name),
  ];
}

/**
 * What the analysis calls the end that an expected flow calls `end`: a server's Name tag, or for
 * a place the stack does not build, a name and its block (a service beyond a gateway, such as
 * "dx-service (172.31.100.0/24)"; an app VPC without an app server, such as
 * "production-app (192.168.0.0/24)").
 */
export function flowEndName(env: EnvironmentConfig, end: string): string {
  if (end === "proxy") return serverNames.proxy(env.name);
  if (end === "resolver") return resolverNames.endpoint(env.name);
  if (env.serviceSide.type === "peeredVpc") {
    if (end === "service") return serverNames.service(env.name);
  } else {
    const service = env.services.find((s) => s.name === end);
    if (service) return blockEndName(service.name, service.cidr);
  }
  const app = env.appVpcs.find((a) => a.name === end);
  if (app && !app.appServer) return blockEndName(vpcName(env.name, app.name), app.cidr);
  return serverNames.appServer(env.name, end);
}

/** The name of an end that is a block rather than a server. */
function blockEndName(name: string, cidr: string): string {
  return `${name} (${cidr})`;
}

/** Where this environment's state lives in its bucket. */
export function stateKey(env: EnvironmentConfig): string {
  return stateKeyOf(env.state.keyPrefix, env.name);
}
