/** The allowlist an environment file renders: the access part of squid.conf (ACLs and http_access lines) its proxies run. */
import { squidPolicyOf } from "../../lib/allowlist-sync";
import { EnvironmentConfig, egressOf, runsSquid } from "../../lib/config";
import { renderAllowlist } from "../../lib/squid";

/** An app VPC as the allowlist and the preview name it: its name in the environment file and its block. */
export interface AppBlock {
  readonly name: string;
  readonly cidr: string;
}

/** The environment's app VPCs: their names and blocks. */
export function appBlocks(env: EnvironmentConfig): AppBlock[] {
  return env.appVpcs.map((a) => ({ name: a.name, cidr: a.cidr }));
}

/** The allowlist text of `env`, as its parameter holds it; throws for an environment whose egress runs no Squid (private NAT has no allowlist). */
export function renderedAllowlist(env: EnvironmentConfig): string {
  if (!runsSquid(egressOf(env)))
    throw new Error(
      `environment ${env.name} sends its traffic through private NAT gateways (connectivity.egress), which have no allowlist`,
    );
  return renderAllowlist(squidPolicyOf(env));
}
