/** Values derived from a validated environment, shared by the constructs and the proof harness. */
import { addressAt } from "../cidr";
import { serverNames, stateKey as stateKeyOf } from "../naming";
import { DEFAULT_PROXY_HOST_OFFSET, EnvironmentConfig, ServiceSideConfig } from "./schema";

/** The peered service VPC of a verification environment; throws, naming `what`, for other shapes. */
export function peeredServiceSide(env: EnvironmentConfig, what: string): Extract<ServiceSideConfig, { type: "peeredVpc" }> {
  if (env.serviceSide.type !== "peeredVpc") {
    throw new Error(`${what} needs a simulated service side: \`serviceSide.type\` is "${env.serviceSide.type}", use an environment with "peeredVpc" such as config/verification.json`);
  }
  return env.serviceSide;
}

/** The proxy's private address: the configured one, or the default host of its subnet. */
export function proxyPrivateIp(env: EnvironmentConfig): string {
  return env.proxy.privateIp ?? addressAt(env.proxyVpc.subnets[0].cidr, DEFAULT_PROXY_HOST_OFFSET);
}

/** The ends an expected flow may name: the proxy, the stand-in service, and app VPCs with a server. */
export function flowEnds(env: EnvironmentConfig): string[] {
  return ["proxy", ...(env.serviceSide.type === "peeredVpc" ? ["service"] : []), ...env.appVpcs.filter((a) => a.appServer).map((a) => a.name)];
}

/** The Name tag of the server that an expected flow calls `end`. */
export function flowEndName(env: EnvironmentConfig, end: string): string {
  if (end === "proxy") return serverNames.proxy(env.name);
  if (end === "service") return serverNames.service(env.name);
  return serverNames.appServer(env.name, end);
}

/** Where this environment's state lives in its bucket. */
export function stateKey(env: EnvironmentConfig): string {
  return stateKeyOf(env.state.keyPrefix, env.name);
}
