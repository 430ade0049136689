import type { Construct } from "constructs";
import { servicePorts } from "../../lib/config";
import type { SquidEgress } from "../../lib/config";
import { outputNames, roleNames, vpcName } from "../../lib/naming";
import type { SquidClient, SquidDestination } from "../../lib/squid";
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
  /** Where the proxy may forward to, with ports. */
  readonly destinations: readonly SquidDestination[];
  /** The port Squid listens on. */
  readonly port: number;
  /** How long CloudWatch Logs keeps Squid's access log, in days. */
  readonly accessLogRetentionDays: number;
}

/**
 * What a proxy of the environment takes, with its role created in `stack`: the proxy alone ships a
 * log, so it alone gets the CloudWatch agent's policy.
 */
export function proxyCommonProps(stack: Construct, { config, network }: EgressContext, egress: SquidEgress): ProxyCommonProps {
  const role = new InstanceRole(stack, "ProxyRole", {
    name: roleNames.proxy(config.name),
    extraManagedPolicies: ["CloudWatchAgentServerPolicy"],
  });
  return {
    environment: config.name,
    network,
    clients: config.appVpcs.map((a) => ({ name: vpcName(config.name, a.name), cidr: a.cidr })),
    destinations: config.services.map((s) => ({ name: s.name, cidr: s.cidr, ports: servicePorts(s), domains: s.domains })),
    port: egress.proxy.port,
    accessLogRetentionDays: config.logRetentionDays,
    ...serverSettings({ ...egress.proxy, role }),
  };
}

/** Squid installs from S3 and ships its log to CloudWatch Logs, so its VPC needs both endpoints. */
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
