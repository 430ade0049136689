/**
 * The hosts of the namespace experiment (scripts/e2e.ts), derived from an environment: each host
 * sits at the address AWS would give it in its VPC's first subnet (the proxy and the stand-in
 * service at their fixed addresses), and each peering becomes a
 * point-to-point link with routes to the peer's block only, so nothing is transitive.
 */
import { addressAt, addressInCidr, cidrsOverlap, outermostBlocks } from "../lib/cidr";
import { EnvironmentConfig, firstServicePort, peeredServiceSide, proxyPrivateIp, serviceServerIp } from "../lib/config";

/** One host of the experiment. */
export interface E2eHost {
  /** Short role name: app, proxy, service or outsider. */
  readonly role: "app" | "proxy" | "service" | "outsider";
  /** The host's address. */
  readonly address: string;
}

/** A link between two hosts, with the blocks each side routes over it. */
export interface E2eLink {
  readonly a: E2eHost["role"];
  readonly b: E2eHost["role"];
  /** Blocks that `a` routes to `b`. */
  readonly aRoutes: readonly string[];
  /** Blocks that `b` routes to `a`. */
  readonly bRoutes: readonly string[];
}

/** The experiment for one environment. */
export interface E2eTopology {
  readonly hosts: Readonly<Record<E2eHost["role"], string>>;
  readonly links: readonly E2eLink[];
  /** The first plain HTTP port of the first service, where the HTTP server listens. */
  readonly servicePort: number;
  /** The first TLS port of the first service, where the HTTP server listens with TLS, if it has one. */
  readonly tlsPort?: number;
  /** The port Squid listens on. */
  readonly proxyPort: number;
}

/** Blocks used for the outsider, the first one that overlaps nothing of the environment. */
const OUTSIDER_BLOCKS = ["198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24"];

/** Derives the experiment's hosts, links and Squid policy from an environment. */
export function e2eTopology(env: EnvironmentConfig): E2eTopology {
  const side = peeredServiceSide(env, "the namespace experiment");
  const app = env.appVpcs.find((a) => a.subnets);
  if (!app?.subnets) throw new Error("the namespace experiment needs an app VPC that the project creates (with subnets)");
  const used = [env.proxyVpc.cidr, side.vpc.cidr, ...env.appVpcs.map((a) => a.cidr), ...env.services.map((s) => s.cidr)];
  const outsiderBlock = OUTSIDER_BLOCKS.find((b) => !used.some((u) => cidrsOverlap(b, u)));
  if (!outsiderBlock) throw new Error(`e2e: every outsider block (${OUTSIDER_BLOCKS.join(", ")}) overlaps the environment; free one of them`);
  const service = env.services[0];
  const servicePort = firstServicePort(env, "http");
  if (servicePort === undefined) throw new Error("e2e: services[0] has no plain HTTP port; the experiment needs one (such as 80)");
  const hosts = {
    app: addressAt(app.subnets[0].cidr, 4),
    proxy: proxyPrivateIp(env),
    service: serviceServerIp(env),
    outsider: addressAt(outsiderBlock, 4),
  };
  if (!addressInCidr(hosts.service, service.cidr)) {
    throw new Error(`e2e: the service host ${hosts.service} (address 4 of the service VPC's first subnet) is outside services[0].cidr ${service.cidr}; list that service first`);
  }
  return {
    hosts,
    links: [
      { a: "app", b: "proxy", aRoutes: [env.proxyVpc.cidr], bRoutes: [app.cidr] },
      { a: "proxy", b: "service", aRoutes: outermostBlocks(env.services.map((s) => s.cidr)), bRoutes: [env.proxyVpc.cidr] },
      { a: "outsider", b: "proxy", aRoutes: [env.proxyVpc.cidr], bRoutes: [`${hosts.outsider}/32`] },
    ],
    servicePort,
    tlsPort: firstServicePort(env, "tls"),
    proxyPort: env.proxy.port,
  };
}
