/**
 * Renders squid.conf for the proxy. The access policy is the same wherever Squid runs; only the
 * host settings (log and pid paths, DNS) differ between the EC2 proxy and the namespace test.
 * The directives used here mean the same in Squid 5 (Debian) and Squid 6 (Amazon Linux 2023);
 * Squid 6's predefined ACLs (such as to_linklocal) are avoided on purpose.
 */

/** A client network allowed to use the proxy. */
export interface SquidClient {
  /** The client's name, used in a comment. */
  readonly name: string;
  /** The client's CIDR block. */
  readonly cidr: string;
}

/** A port of a service and what it carries through the proxy. */
export interface ServicePort {
  /** The TCP port. */
  readonly port: number;
  /**
   * "http": plain HTTP requests that Squid relays; "tls": TLS that the client tunnels through
   * Squid with CONNECT (HTTPS), which Squid allows to this port only.
   */
  readonly carries: "http" | "tls";
}

/** A destination the proxy may forward to. */
export interface SquidDestination {
  /** The destination's name; it names the ACLs, so lowercase letters, digits and hyphens. */
  readonly name: string;
  /** The destination's CIDR block. */
  readonly cidr: string;
  /** The TCP ports allowed there, each with what it carries. */
  readonly ports: readonly ServicePort[];
  /**
   * Names allowed there (host names, or ".domain" for a domain and every name under it). With
   * names, a request must name one of them and the name must resolve into `cidr`, both.
   * @default any name or address in `cidr`
   */
  readonly domains?: readonly string[];
}

/** What the proxy allows: the part of squid.conf that must be identical everywhere. */
export interface SquidPolicy {
  /** The environment's name, written in the header comment. */
  readonly environment: string;
  /** The port Squid listens on. */
  readonly port: number;
  /** Client networks (the app VPCs). */
  readonly clients: readonly SquidClient[];
  /** Allowed destinations (the services). */
  readonly destinations: readonly SquidDestination[];
}

/** Where Squid keeps its files on a host. */
export interface SquidHostSettings {
  /** The access log; its client column is what the original experiment looked at. */
  readonly accessLog: string;
  /** Squid's own log. @default Squid's compiled-in location */
  readonly cacheLog?: string;
  /** The pid file. @default Squid's compiled-in location */
  readonly pidFile?: string;
  /** Where core dumps go. @default Squid's compiled-in location */
  readonly coredumpDir?: string;
  /** DNS servers for Squid's own resolver. @default the host's /etc/resolv.conf */
  readonly dnsNameservers?: readonly string[];
  /** The name in error pages. @default the host name */
  readonly visibleHostname?: string;
  /** How long Squid waits for open connections at shutdown, in seconds. @default 30 (Squid's own) */
  readonly shutdownLifetimeSeconds?: number;
}

/** Squid on Amazon Linux 2023, installed by dnf. */
export const AMAZON_LINUX_SQUID: SquidHostSettings = {
  accessLog: "/var/log/squid/access.log",
  coredumpDir: "/var/spool/squid",
};

/** Ports that web traffic may use, besides the services' own. */
const SAFE_PORTS = [80, 443];

const portsOf = (d: SquidDestination, carries: ServicePort["carries"]) => d.ports.filter((p) => p.carries === carries).map((p) => p.port);

/** The link-local range, which holds the instance metadata service, and its IPv6 address. */
const LINK_LOCAL = ["169.254.0.0/16", "fe80::/10", "fd00:ec2::254"];

/** Renders squid.conf: header, ACLs, access rules (deny all last), no cache, host settings. */
export function renderSquidConf(policy: SquidPolicy, host: SquidHostSettings = AMAZON_LINUX_SQUID): string {
  if (policy.clients.length === 0) throw new Error("renderSquidConf: no clients; give at least one client network");
  if (policy.destinations.length === 0) throw new Error("renderSquidConf: no destinations; give at least one destination");
  const safePorts = [...new Set([...SAFE_PORTS, ...policy.destinations.flatMap((d) => d.ports.map((p) => p.port))])].sort((a, b) => a - b);
  const tlsPorts = [...new Set(policy.destinations.flatMap((d) => portsOf(d, "tls")))].sort((a, b) => a - b);
  const lines = [
    `# squid.conf for environment "${policy.environment}", rendered from its environment file.`,
    "# Edit the environment file and redeploy; changes made here are lost when the proxy is replaced.",
    "",
    `http_port ${policy.port}`,
    "",
    "# Clients: the app VPCs. Listed one by one: a provider-dictated range may lie outside RFC 1918.",
    ...policy.clients.flatMap((c) => [`# app VPC ${c.name}`, `acl localnet src ${c.cidr}`]),
    "",
    "# CONNECT (tunnelled TLS) only to the ports the services carry TLS on.",
    ...(tlsPorts.length > 0 ? [`acl SSL_ports port ${tlsPorts.join(" ")}`] : []),
    `acl Safe_ports port ${safePorts.join(" ")}`,
    "acl CONNECT method CONNECT",
    "# Instance metadata and the rest of link-local: never through the proxy.",
    `acl link_local dst ${LINK_LOCAL.join(" ")}`,
    "",
    "# Destinations: the services, each with its plain HTTP ports and its TLS ports. A service with names",
    "# also needs one of them in the request (-n: no reverse lookups, so a bare address never matches),",
    "# and the name must resolve into its block: dst looks the name up.",
    ...policy.destinations.flatMap((d) => [
      `acl ${d.name}_dst dst ${d.cidr}`,
      ...(d.domains ? [`acl ${d.name}_names dstdomain -n ${d.domains.join(" ")}`] : []),
      ...(portsOf(d, "http").length > 0 ? [`acl ${d.name}_http port ${portsOf(d, "http").join(" ")}`] : []),
      ...(portsOf(d, "tls").length > 0 ? [`acl ${d.name}_tls port ${portsOf(d, "tls").join(" ")}`] : []),
    ]),
    "",
    "http_access deny !Safe_ports",
    tlsPorts.length > 0 ? "http_access deny CONNECT !SSL_ports" : "http_access deny CONNECT",
    "http_access deny link_local",
    "http_access deny !localnet",
    ...policy.destinations.flatMap((d) => {
      const names = d.domains ? ` ${d.name}_names` : "";
      return [
        ...(portsOf(d, "http").length > 0 ? [`http_access allow !CONNECT${names} ${d.name}_dst ${d.name}_http`] : []),
        ...(portsOf(d, "tls").length > 0 ? [`http_access allow CONNECT${names} ${d.name}_dst ${d.name}_tls`] : []),
      ];
    }),
    "http_access deny all",
    "",
    "# A relay, not a cache: every request reaches the service, from this host's address.",
    "cache deny all",
    "via off",
    "forwarded_for delete",
    "httpd_suppress_version_string on",
    "",
  ];
  return `${lines.join("\n")}\n${renderHostSettings(host)}`;
}

/** The line that starts the host settings, the last section of every rendered squid.conf. */
export const HOST_SETTINGS_MARKER = "# Host settings.";

function renderHostSettings(host: SquidHostSettings): string {
  const lines = [
    HOST_SETTINGS_MARKER,
    `access_log daemon:${host.accessLog} squid`,
    ...(host.cacheLog ? [`cache_log ${host.cacheLog}`] : []),
    ...(host.pidFile ? [`pid_filename ${host.pidFile}`] : []),
    ...(host.coredumpDir ? [`coredump_dir ${host.coredumpDir}`] : []),
    ...(host.dnsNameservers ? [`dns_nameservers ${host.dnsNameservers.join(" ")}`] : []),
    ...(host.visibleHostname ? [`visible_hostname ${host.visibleHostname}`] : []),
    ...(host.shutdownLifetimeSeconds !== undefined ? [`shutdown_lifetime ${host.shutdownLifetimeSeconds} seconds`] : []),
  ];
  return `${lines.join("\n")}\n`;
}

/**
 * A rendered squid.conf with its host settings swapped for `host`'s: everything above the
 * marker, the access policy, stays byte for byte as it was.
 */
export function withHostSettings(conf: string, host: SquidHostSettings): string {
  const at = conf.lastIndexOf(`\n${HOST_SETTINGS_MARKER}\n`);
  if (at < 0)
    throw new Error(`withHostSettings: the configuration has no "${HOST_SETTINGS_MARKER}" section; render it with renderSquidConf`);
  return `${conf.slice(0, at + 1)}${renderHostSettings(host)}`;
}
