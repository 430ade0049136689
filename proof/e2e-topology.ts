/**
 * The hosts of the namespace experiment (scripts/e2e.ts), derived from an environment: each at the address AWS would give it,
 * and each peering a point-to-point link with routes to the peer's block only, so nothing is transitive.
 */
import { addressAt, addressInCidr, cidrsOverlap, outermostBlocks } from "../lib/cidr";
import {
  domainCovers,
  EnvironmentConfig,
  firstServicePort,
  peeredServiceSide,
  proxyPrivateIp,
  serviceServerIp,
  servicePorts,
} from "../lib/config";

/** One host of the experiment. */
export interface E2eHost {
  /** Short role name: app, proxy, service or outsider; app2 in the second app VPC, when the environment has one. */
  readonly role: "app" | "app2" | "proxy" | "service" | "outsider";
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
  readonly hosts: Readonly<Record<Exclude<E2eHost["role"], "app2">, string>> & { readonly app2?: string };
  readonly links: readonly E2eLink[];
  /** The first plain HTTP port of the first service, where the HTTP server listens. */
  readonly servicePort: number;
  /** The first TLS port of the first service, where the HTTP server listens with TLS, if it has one. */
  readonly tlsPort?: number;
  /** The port Squid listens on. */
  readonly proxyPort: number;
  /** Names to try, when the environment has a named service and DNS forwarding to the stand-in. */
  readonly names?: E2eNames;
}

/** The names the experiment asks for through the proxy, and where the stand-in DNS answers. */
export interface E2eNames {
  /** The stand-in DNS server (the service host), which Squid asks. */
  readonly dnsServer: string;
  /** The forwarded domains, which the stand-in answers with its own address. */
  readonly domains: readonly string[];
  /** The named service's first plain HTTP port. */
  readonly port: number;
  /** A name the named service allows, which resolves into its block. */
  readonly allowed: string;
  /** A name in a forwarded domain that the named service does not allow (it resolves into the block too). */
  readonly unlisted: string;
  /** A name the named service allows that the lab's DNS answers with the outsider's address. */
  readonly outside: string;
}

/** Blocks used for the outsider, the first one that overlaps nothing of the environment. */
const OUTSIDER_BLOCKS = ["198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24"];

/** Derives the experiment's hosts, links and Squid policy from an environment. */
export function e2eTopology(env: EnvironmentConfig): E2eTopology {
  const side = peeredServiceSide(env, "the namespace experiment");
  const [app, app2] = env.appVpcs.filter((a) => a.subnets);
  if (!app?.subnets) throw new Error("the namespace experiment needs an app VPC that the project creates (with subnets)");
  const used = [env.proxyVpc.cidr, side.vpc.cidr, ...env.appVpcs.map((a) => a.cidr), ...env.services.map((s) => s.cidr)];
  const outsiderBlock = OUTSIDER_BLOCKS.find((b) => !used.some((u) => cidrsOverlap(b, u)));
  if (!outsiderBlock)
    throw new Error(`e2e: every outsider block (${OUTSIDER_BLOCKS.join(", ")}) overlaps the environment; free one of them`);
  const service = env.services[0];
  const servicePort = firstServicePort(env, "http");
  if (servicePort === undefined) throw new Error("e2e: services[0] has no plain HTTP port; the experiment needs one (such as 80)");
  const hosts = {
    app: addressAt(app.subnets[0].cidr, 4),
    ...(app2?.subnets && { app2: addressAt(app2.subnets[0].cidr, 4) }),
    proxy: proxyPrivateIp(env),
    service: serviceServerIp(env),
    outsider: addressAt(outsiderBlock, 4),
  };
  if (!addressInCidr(hosts.service, service.cidr)) {
    throw new Error(
      `e2e: the service host ${hosts.service} (address 4 of the service VPC's first subnet) is outside services[0].cidr ${service.cidr}; list that service first`,
    );
  }
  return {
    hosts,
    names: e2eNames(env, hosts.service),
    links: [
      { a: "app", b: "proxy", aRoutes: [env.proxyVpc.cidr], bRoutes: [app.cidr] },
      { a: "proxy", b: "service", aRoutes: outermostBlocks(env.services.map((s) => s.cidr)), bRoutes: [env.proxyVpc.cidr] },
      { a: "outsider", b: "proxy", aRoutes: [env.proxyVpc.cidr], bRoutes: [`${hosts.outsider}/32`] },
      ...(app2 ? [{ a: "app2" as const, b: "proxy" as const, aRoutes: [env.proxyVpc.cidr], bRoutes: [app2.cidr] }] : []),
    ],
    servicePort,
    tlsPort: firstServicePort(env, "tls"),
    proxyPort: env.proxy.port,
  };
}

/**
 * The names to try: from the first service with names and a plain HTTP port, when the environment
 * forwards a domain to the stand-in. `outside` needs a ".domain" entry (a name under it is allowed
 * whatever it is, so the lab can make one resolve elsewhere).
 */
function e2eNames(env: EnvironmentConfig, service: string): E2eNames | undefined {
  const dnsServer = env.dns?.forward.flatMap((r) => r.servers).find((s) => s === service);
  const named = env.services.find((s) => s.domains && servicePorts(s).some((p) => p.carries === "http"));
  if (!env.dns || !dnsServer || !named?.domains) return undefined;
  const domains = env.dns.forward.map((r) => r.domain);
  const wildcard = named.domains.find((d) => d.startsWith("."));
  if (!wildcard)
    throw new Error(
      `e2e: services "${named.name}" lists no ".domain" entry; the experiment needs one to make an allowed name resolve outside the block`,
    );
  const host = named.domains.find((d) => !d.startsWith(".")) ?? `probe${wildcard}`;
  const unlisted = `unlisted.${domains[0]}`;
  if (named.domains.some((d) => domainCovers(d, unlisted)))
    throw new Error(`e2e: ${unlisted} is allowed by services "${named.name}"; the experiment needs a forwarded name that is not`);
  for (const name of [host, `outside${wildcard}`]) {
    if (!domains.some((d) => domainCovers(`.${d}`, name)))
      throw new Error(`e2e: ${name} is in no forwarded domain (${domains.join(", ")}); the stand-in DNS would not answer it`);
  }
  return {
    dnsServer,
    domains,
    port: servicePorts(named).find((p) => p.carries === "http")!.port,
    allowed: host,
    unlisted,
    outside: `outside${wildcard}`,
  };
}
