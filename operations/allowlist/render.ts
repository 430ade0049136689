/** The allowlist an environment file renders: the access part of squid.conf (ACLs and http_access lines) its proxies run. */
import { createHash } from "crypto";
import { policyWithEndpoints, proxyProtocolOf, squidPolicyOf } from "../../lib/allowlist-sync";
import { EnvironmentConfig, egressOf, runsSquid } from "../../lib/config";
import { vpcName } from "../../lib/naming";
import { renderAllowlist } from "../../lib/squid";

/** An app VPC as the allowlist and the preview name it: its name in the environment file, its block, and the VPC name the access log shows. */
export interface AppBlock {
  readonly name: string;
  readonly cidr: string;
  readonly vpcName: string;
}

/** The environment's app VPCs: their names and blocks. */
export function appBlocks(env: EnvironmentConfig): AppBlock[] {
  return env.appVpcs.map((a) => ({ name: a.name, cidr: a.cidr, vpcName: vpcName(env.name, a.name) }));
}

/** True when the proxies tell app VPCs apart by VPC endpoint (PrivateLink), not by address. */
export function byEndpoint(env: EnvironmentConfig): boolean {
  return proxyProtocolOf(env) !== undefined;
}

/** A made-up endpoint id for an app VPC whose real one is not known (a file's allowlist): the same for the same VPC name. */
export function standInEndpointId(client: string): string {
  return `vpce-${createHash("sha256").update(client).digest("hex").slice(0, 17)}`;
}

/**
 * The allowlist text of `env`, as its parameter holds it; behind PrivateLink with the endpoint ids `endpointIds` gives
 * by VPC name (such as the deployed allowlist's), else stand-ins. Throws for private NAT, which has no allowlist.
 */
export function renderedAllowlist(env: EnvironmentConfig, endpointIds: ReadonlyMap<string, string> = new Map()): string {
  if (!runsSquid(egressOf(env)))
    throw new Error(
      `environment ${env.name} sends its traffic through private NAT gateways (connectivity.egress), which have no allowlist`,
    );
  const policy = squidPolicyOf(env);
  const proxyProtocol = proxyProtocolOf(env);
  if (!proxyProtocol) return renderAllowlist(policy);
  return renderAllowlist(policyWithEndpoints(policy, proxyProtocol, (client) => endpointIds.get(client) ?? standInEndpointId(client)));
}
