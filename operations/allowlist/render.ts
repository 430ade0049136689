/** The allowlist an environment file renders: the access part of squid.conf (ACLs and http_access lines) its proxies run. */
import { EnvironmentConfig, egressOf, runsSquid, servicePorts } from "../../lib/config";
import { vpcName } from "../../lib/naming";
import { renderSquidConf, SquidPolicy } from "../../lib/squid";

/** An app VPC as the allowlist and the preview name it: its name in the environment file and its block. */
export interface AppBlock {
  readonly name: string;
  readonly cidr: string;
}

/** The environment's app VPCs: their names and blocks. */
export function appBlocks(env: EnvironmentConfig): AppBlock[] {
  return env.appVpcs.map((a) => ({ name: a.name, cidr: a.cidr }));
}

/** What the proxies of `env` allow, as the renderer takes it; throws for an environment whose egress runs no Squid (private NAT has no allowlist). */
export function squidPolicyOf(env: EnvironmentConfig): SquidPolicy {
  if (!runsSquid(egressOf(env)))
    throw new Error(
      `environment ${env.name} sends its traffic through private NAT gateways (connectivity.egress), which have no allowlist`,
    );
  return {
    environment: env.name,
    port: env.proxy.port,
    clients: env.appVpcs.map((a) => ({ name: vpcName(env.name, a.name), cidr: a.cidr })),
    destinations: env.services.map((s) => ({ name: s.name, cidr: s.cidr, ports: servicePorts(s), domains: s.domains })),
  };
}

/** The allowlist text of `env`. */
export function renderedAllowlist(env: EnvironmentConfig): string {
  return renderSquidConf(squidPolicyOf(env));
}
