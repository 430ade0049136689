/** What `npm run verify` checks in a deployed environment: app servers, the requests they make, and where the evidence lives. */
import { EnvironmentConfig, servicePorts, serviceServerIp } from "../../lib/config";
import { outputNames, serverNames, vpcName } from "../../lib/naming";
import { DeployedState } from "./state";

/** One request an app server makes to a service port, through its proxy setting, and the direct attempt that must fail. */
export interface ServiceRequest {
  readonly service: string;
  readonly url: string;
  /** Where the direct attempt connects: the same host and port, without the proxy. */
  readonly direct: { readonly host: string; readonly port: number };
}

/** An app server verify runs its requests on. */
export interface VerifyApp {
  readonly name: string;
  readonly instanceId: string;
  readonly privateIp?: string;
  /** The VPC's name, which Squid's access log shows in its last column. */
  readonly vpcName: string;
  /** Behind PrivateLink, the server's own proxy setting: its VPC's interface endpoint. @default the environment's proxyUrl */
  readonly proxyUrl?: string;
}

/** Everything verify needs from the environment file and the deployed stack's outputs. */
export interface VerifyTargets {
  readonly environment: string;
  readonly apps: readonly VerifyApp[];
  readonly requests: readonly ServiceRequest[];
  /** The app servers' proxy setting (http://host:port), absent with private NAT egress. */
  readonly proxyUrl?: string;
  /** The log group of Squid's access log, when a proxy runs. */
  readonly proxyLogGroup?: string;
  /** The stand-in service's instance, in a verification environment: its access log shows the source it saw. */
  readonly standIn?: { readonly instanceId: string; readonly address: string };
  /** The dictated block: every source the service sees must be in it. */
  readonly sourceBlock: string;
  /** Services verify cannot request: no host is known for them. */
  readonly unknownHosts: readonly string[];
}

/** The host verify requests for a service: a --host given for it, its first exact name, or the stand-in's address. */
function hostOf(
  env: EnvironmentConfig,
  service: EnvironmentConfig["services"][number],
  hosts: Readonly<Record<string, string>>,
): string | undefined {
  if (hosts[service.name]) return hosts[service.name];
  const name = service.domains?.find((d) => !d.startsWith("."));
  if (name) return name;
  return env.serviceSide.type === "peeredVpc" ? serviceServerIp(env) : undefined;
}

/** The checks' targets, from the environment and its outputs; `hosts` names a host per service where none is known. */
export function verifyTargets(env: EnvironmentConfig, state: DeployedState, hosts: Readonly<Record<string, string>> = {}): VerifyTargets {
  const text = (name: string) => (typeof state.outputs[name] === "string" ? (state.outputs[name] as string) : undefined);
  const apps = env.appVpcs.flatMap((a): VerifyApp[] => {
    const instanceId = text(outputNames.appServerId(a.name));
    const endpointDns = text(outputNames.appProxyEndpointDns(a.name));
    if (!instanceId) return [];
    return [
      {
        name: a.name,
        instanceId,
        privateIp: state.instancesById[instanceId]?.privateIp,
        vpcName: vpcName(env.name, a.name),
        ...(endpointDns ? { proxyUrl: `http://${endpointDns}:${env.proxy.port}` } : {}),
      },
    ];
  });
  const requests: ServiceRequest[] = [];
  const unknownHosts: string[] = [];
  for (const service of env.services) {
    const host = hostOf(env, service, hosts);
    if (!host) {
      unknownHosts.push(service.name);
      continue;
    }
    for (const p of servicePorts(service)) {
      const scheme = p.carries === "tls" ? "https" : "http";
      const standardPort = p.port === (p.carries === "tls" ? 443 : 80);
      requests.push({
        service: service.name,
        url: `${scheme}://${host}${standardPort ? "" : `:${p.port}`}/`,
        // Straight to the stand-in's address where there is one: the app VPC need not resolve the service's names.
        direct: { host: env.serviceSide.type === "peeredVpc" ? serviceServerIp(env) : host, port: p.port },
      });
    }
  }
  const serviceId = state.instancesByName[serverNames.service(env.name)];
  return {
    environment: env.name,
    apps,
    requests,
    proxyUrl: text(outputNames.proxyUrl),
    proxyLogGroup: text(outputNames.proxyAccessLogGroup),
    standIn: env.serviceSide.type === "peeredVpc" && serviceId ? { instanceId: serviceId.id, address: serviceServerIp(env) } : undefined,
    sourceBlock: env.proxyVpc.cidr,
    unknownHosts,
  };
}
