/** The allowlist an environment file renders: the access part of squid.conf (ACLs and http_access lines) its proxies run. */
import { EnvironmentConfig, egressOf, runsSquid, servicePorts } from "../../lib/config";
import { vpcName } from "../../lib/naming";
import { renderSquidConf } from "../../lib/squid";

/** An app VPC as the allowlist and the preview name it: its name in the environment file and its block. */
export interface AppBlock {
  readonly name: string;
  readonly cidr: string;
}

/** The environment's app VPCs: their names and blocks. */
export function appBlocks(env: EnvironmentConfig): AppBlock[] {
  return env.appVpcs.map((a) => ({ name: a.name, cidr: a.cidr }));
}

/** The allowlist text of `env`; throws for an environment whose egress runs no Squid (private NAT has no allowlist). */
export function renderedAllowlist(env: EnvironmentConfig): string {
  if (!runsSquid(egressOf(env)))
    throw new Error(
      `environment ${env.name} sends its traffic through private NAT gateways (connectivity.egress), which have no allowlist`,
    );
  return renderSquidConf({
    environment: env.name,
    port: env.proxy.port,
    clients: env.appVpcs.map((a) => ({ name: vpcName(env.name, a.name), cidr: a.cidr })),
    destinations: env.services.map((s) => ({ name: s.name, cidr: s.cidr, ports: servicePorts(s), domains: s.domains })),
  });
}
