/**
 * Renders squid.conf for the proxy in two parts: the base (port, log format, host settings), installed by user
 * data, and the allowlist it includes (everything that comes from the app VPCs and services), held in an SSM
 * parameter and applied at run time. The access policy is the same wherever Squid runs; only the host settings
 * (log and pid paths, DNS) differ between the EC2 proxy and the namespace test.
 * The directives used here mean the same in Squid 5 (Debian) and Squid 6 (Amazon Linux 2023);
 * Squid 6's predefined ACLs (such as to_linklocal) are avoided on purpose.
 */
import { addressRange } from "./allowlist-policy";

/** A client network allowed to use the proxy. */
export interface SquidClient {
  /** The client's name, used in a comment. */
  readonly name: string;
  /** The client's CIDR block. */
  readonly cidr: string;
  /**
   * The id of the client's interface endpoint (PrivateLink), which the load balancer's PROXY protocol v2 header
   * carries (TLV 0xEA): the client is then told apart by endpoint, not by `cidr` (app VPCs' blocks may overlap).
   * Rendered verbatim, so a Terraform reference such as `${aws_vpc_endpoint.app.id}` resolves in the parameter.
   * Needs {@link SquidPolicy.proxyProtocol}.
   * @default the client is told apart by its block (`cidr`)
   */
  readonly endpointId?: string;
}

/** Squid behind a load balancer that sends PROXY protocol v2 (a VPC endpoint service's): whose header it believes. */
export interface SquidProxyProtocol {
  /**
   * The load balancer's addresses or blocks, the only sources allowed to send the header; Squid closes any other
   * connection to its port, and one without the header.
   */
  readonly trustedSources: readonly string[];
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
  /**
   * The clients (by name) whose requests may reach this destination.
   * @default every client
   */
  readonly from?: readonly string[];
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
  /**
   * Squid requires a PROXY protocol v2 header on its port from these sources only, and each client names its
   * endpoint ({@link SquidClient.endpointId}).
   * @default no header: clients connect to Squid themselves (peering, Transit Gateway, a load balancer keeping their addresses)
   */
  readonly proxyProtocol?: SquidProxyProtocol;
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

/** Where the proxy keeps the allowlist that squid.conf includes: the SSM parameter's text, as last applied. */
export const ALLOWLIST_FILE = "/etc/squid/allowlist.conf";

/** The annotation that names the app VPC a request came from; the access log's last column shows it ("-" for none). */
export const APP_VPC_NOTE = "app_vpc";

/** The access log's format: Squid's native "squid" format, then the app VPC ({@link APP_VPC_NOTE}). */
export const ACCESS_LOG_FORMAT = "squid_app_vpc";

/** Squid's native access log format, as Squid 5 and 6 define "squid"; every column stays where readers expect it. */
const NATIVE_FORMAT = "%ts.%03tu %6tr %>a %Ss/%03>Hs %<st %rm %ru %[un %Sh/%<a %mt";

/**
 * The access log's columns in order, as CloudWatch Logs' space-delimited filter patterns name them: the native
 * format's ten, then the app VPC ("-" when no app VPC matched).
 */
export const ACCESS_LOG_FIELDS = [
  "time",
  "elapsed",
  "client",
  "result",
  "bytes",
  "method",
  "url",
  "user",
  "hierarchy",
  "type",
  APP_VPC_NOTE,
] as const;

/** Squid refuses ACL names of 64 characters or more. */
const ACL_NAME_MAX = 63;

/** Squid's descriptor limit: Amazon Linux 2023's squid.service allows 16384 (about 8,000 tunnels); the user data raises the unit's limit to this. */
export const SQUID_MAX_FILEDESCRIPTORS = 65536;

/** What the base squid.conf takes: the host's part, which never changes with the services. */
export type SquidBaseSettings = Pick<SquidPolicy, "environment" | "port" | "proxyProtocol">;

/** The PROXY protocol v2 TLV type that AWS's load balancer fills for PrivateLink traffic (PP2_TYPE_AWS, 0xEA), as Squid names it: in decimal. */
export const AWS_TLV_TYPE = 234;

/** The transaction annotation that holds the endpoint's TLV as Squid expands it: {@link ENDPOINT_TLV_PREFIX} then the id. */
export const ENDPOINT_NOTE = "vpc_endpoint";

/** How Squid writes the TLV's first byte, the subtype PP2_SUBTYPE_AWS_VPCE_ID (0x01): URL-encoded, as its format codes escape control bytes. */
export const ENDPOINT_TLV_PREFIX = "%01";

/** The value {@link ENDPOINT_NOTE} holds for a request through endpoint `endpointId`. */
export const endpointNoteValue = (endpointId: string): string => `${ENDPOINT_TLV_PREFIX}${endpointId}`;

/** The ACL in the base squid.conf naming the sources allowed to send the PROXY header. */
const PROXY_HEADER_SOURCES = "load_balancer";

/** The ACL that copies the endpoint's TLV into {@link ENDPOINT_NOTE}; it always matches. */
const ENDPOINT_ANNOTATION = "endpoint_id";

/** The listening port, and with PROXY protocol who may send the header, as the base squid.conf says it. */
function portLines(settings: SquidBaseSettings): string[] {
  if (!settings.proxyProtocol) return [`http_port ${settings.port}`];
  const sources = settings.proxyProtocol.trustedSources;
  if (sources.length === 0)
    throw new Error(
      "renderSquidBase: proxyProtocol.trustedSources is empty; give the load balancer's addresses, the only sources whose PROXY header Squid may believe",
    );
  const bad = sources.find((s) => !isUnresolved(s) && addressRange(s) === undefined);
  if (bad !== undefined)
    throw new Error(
      `renderSquidBase: proxyProtocol.trustedSources holds "${bad}", which is no address or block; give the load balancer's addresses`,
    );
  return [
    `http_port ${settings.port} require-proxy-header`,
    "# PROXY protocol v2 from the load balancer only: its header gives the app server's address and its VPC endpoint's id.",
    "# A connection from any other source, or without the header, is closed before Squid reads a request.",
    `acl ${PROXY_HEADER_SOURCES} src ${sources.join(" ")}`,
    `proxy_protocol_access allow ${PROXY_HEADER_SOURCES}`,
    "proxy_protocol_access deny all",
  ];
}

/** True for a value that holds a Terraform reference or a cdktf token, which only Terraform resolves. */
const isUnresolved = (value: string) => value.includes("${");

/**
 * Renders the base squid.conf: the port, the access log format, the include of the allowlist, no cache,
 * host settings. Nothing in it comes from the services or app VPCs, so it is the same for every allowlist.
 */
export function renderSquidBase(settings: SquidBaseSettings, host: SquidHostSettings = AMAZON_LINUX_SQUID): string {
  const lines = [
    `# squid.conf for environment "${settings.environment}", rendered from its environment file: the host's part.`,
    `# The allowlist (clients, services, access rules) is ${ALLOWLIST_FILE}, which squid-allowlist-sync`,
    "# keeps at the latest version of the environment's allowlist parameter. Edit the environment file and deploy.",
    "",
    ...portLines(settings),
    "",
    "# The access log: Squid's native format, then the app VPC the request came from (- when none).",
    `logformat ${ACCESS_LOG_FORMAT} ${NATIVE_FORMAT} %note{${APP_VPC_NOTE}}`,
    "",
    `include ${ALLOWLIST_FILE}`,
    "",
    "# A relay, not a cache: every request reaches the service, from this host's address.",
    "cache deny all",
    "via off",
    "forwarded_for delete",
    "httpd_suppress_version_string on",
    "",
    "# Capacity (npm run bench -- capacity): a tunnel holds two descriptors; the user data lets the unit open as many.",
    `max_filedescriptors ${SQUID_MAX_FILEDESCRIPTORS}`,
    "# Keep reusing connections (Squid's defaults, on purpose): a new connection to a service costs a source port for 60 s.",
    "server_persistent_connections on",
    "client_persistent_connections on",
    "",
  ];
  return `${lines.join("\n")}\n${renderHostSettings(host)}`;
}

/** The prefix of the ACL that matches one app VPC (by block or endpoint), which {@link APP_VPC_NOTE} names. */
const APP_ACL_PREFIX = "app_";

/** The ACL that matches an app VPC's block, which {@link APP_VPC_NOTE} names. */
const appAcl = (client: SquidClient) => `${APP_ACL_PREFIX}${client.name}`;

/** The clients a destination's `from` names; throws for a name that is no client. */
function fromClients(d: SquidDestination, clients: readonly SquidClient[]): SquidClient[] {
  return (d.from ?? []).map((name) => {
    const client = clients.find((c) => c.name === name);
    if (!client)
      throw new Error(
        `renderAllowlist: destination ${d.name} names client ${name} in from, which is no client; name one of ${clients.map((c) => c.name).join(", ")}`,
      );
    return client;
  });
}

/** How an ACL matches clients: by block (`src`), or behind PrivateLink by endpoint (a `note` on {@link ENDPOINT_NOTE}). */
function clientAcl(name: string, clients: readonly SquidClient[], byEndpoint: boolean): string {
  if (!byEndpoint) return `acl ${name} src ${clients.map((c) => c.cidr).join(" ")}`;
  return `acl ${name} note ${ENDPOINT_NOTE} ${clients.map((c) => endpointNoteValue(c.endpointId!)).join(" ")}`;
}

/** The endpoint id of each client an allowlist matches by endpoint (its `app_<client>` ACL), by client name: what {@link clientAcl} wrote. */
export function endpointIdsIn(allowlist: string): Map<string, string> {
  const line = new RegExp(`^acl ${APP_ACL_PREFIX}(\\S+) note ${ENDPOINT_NOTE} ${ENDPOINT_TLV_PREFIX}(\\S+)$`, "gm");
  return new Map([...allowlist.matchAll(line)].map((m) => [m[1], m[2]]));
}

/** The endpoint ids Squid matches: AWS's are vpce- and hex digits; a Terraform reference is rendered as it is. */
const ENDPOINT_ID = /^vpce-[0-9a-z]+$/;

/** Throws unless every client has an endpoint id exactly when the policy has PROXY protocol. */
function assertEndpointIds(policy: SquidPolicy): void {
  for (const c of policy.clients) {
    if (policy.proxyProtocol && c.endpointId === undefined)
      throw new Error(
        `renderAllowlist: client ${c.name} has no endpointId, but Squid requires the PROXY header (proxyProtocol), which tells app VPCs apart by endpoint; give its VPC endpoint's id`,
      );
    if (!policy.proxyProtocol && c.endpointId !== undefined)
      throw new Error(
        `renderAllowlist: client ${c.name} has endpointId ${c.endpointId}, but without proxyProtocol Squid gets no PROXY header to read it from; set proxyProtocol or drop the endpointId`,
      );
    if (c.endpointId !== undefined && !isUnresolved(c.endpointId) && !ENDPOINT_ID.test(c.endpointId))
      throw new Error(
        `renderAllowlist: client ${c.name} has endpointId "${c.endpointId}", which is no VPC endpoint id; write vpce- and its hex digits, or a reference to the endpoint`,
      );
  }
}

/** The clients' part of the allowlist: who may use the proxy, and the annotation that names each request's app VPC. */
function clientLines(policy: SquidPolicy): string[] {
  const byEndpoint = policy.proxyProtocol !== undefined;
  const annotations = [
    `# Each request is annotated with its app VPC (${APP_VPC_NOTE}), which the access log's last column shows.`,
    ...policy.clients.flatMap((c) => [clientAcl(appAcl(c), [c], byEndpoint), `note ${APP_VPC_NOTE} ${c.name} ${appAcl(c)}`]),
  ];
  if (!byEndpoint)
    return [
      "# Clients: the app VPCs. Listed one by one: a provider-dictated range may lie outside RFC 1918.",
      ...policy.clients.flatMap((c) => [`# app VPC ${c.name}`, clientAcl("localnet", [c], false)]),
      "",
      ...annotations,
    ];
  return [
    "# Clients: the app VPCs, each by its VPC endpoint (PrivateLink). Their blocks may overlap, so an address does not",
    `# say which VPC a request came from; the endpoint id does: the load balancer's PROXY header carries it (TLV ${AWS_TLV_TYPE},`,
    `# 0xEA: the subtype byte 01, which Squid writes ${ENDPOINT_TLV_PREFIX}, then the id), and ${ENDPOINT_ANNOTATION} copies it into the ${ENDPOINT_NOTE} annotation.`,
    `acl ${ENDPOINT_ANNOTATION} annotate_transaction ${ENDPOINT_NOTE}="%proxy_protocol::>h{${AWS_TLV_TYPE}}"`,
    ...policy.clients.flatMap((c) => [`# app VPC ${c.name} (block ${c.cidr})`, clientAcl("localnet", [c], true)]),
    "",
    ...annotations,
  ];
}

/**
 * Renders the allowlist: every line that comes from the app VPCs and the services (ACLs, app VPC
 * annotations, access rules with deny all last). One directive per line, so that tools can read it line by line.
 */
export function renderAllowlist(policy: SquidPolicy): string {
  if (policy.clients.length === 0) throw new Error("renderAllowlist: no clients; give at least one client network");
  if (policy.destinations.length === 0) throw new Error("renderAllowlist: no destinations; give at least one destination");
  assertEndpointIds(policy);
  const safePorts = [...new Set([...SAFE_PORTS, ...policy.destinations.flatMap((d) => d.ports.map((p) => p.port))])].sort((a, b) => a - b);
  const tlsPorts = [...new Set(policy.destinations.flatMap((d) => portsOf(d, "tls")))].sort((a, b) => a - b);
  const lines = [
    `# Allowlist of environment "${policy.environment}", rendered from its environment file.`,
    "# The proxies apply each new version of the allowlist parameter; edit the environment file and deploy.",
    "",
    ...clientLines(policy),
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
    "# and the name must resolve into its block: dst looks the name up. A service with from serves those app VPCs only.",
    ...policy.destinations.flatMap((d) => [
      `acl ${d.name}_dst dst ${d.cidr}`,
      ...(d.domains ? [`acl ${d.name}_names dstdomain -n ${d.domains.join(" ")}`] : []),
      ...(portsOf(d, "http").length > 0 ? [`acl ${d.name}_http port ${portsOf(d, "http").join(" ")}`] : []),
      ...(portsOf(d, "tls").length > 0 ? [`acl ${d.name}_tls port ${portsOf(d, "tls").join(" ")}`] : []),
      ...(d.from ? [clientAcl(`${d.name}_from`, fromClients(d, policy.clients), policy.proxyProtocol !== undefined)] : []),
    ]),
    "",
    ...(policy.proxyProtocol
      ? [
          `# First the endpoint's id into ${ENDPOINT_NOTE}: the line never matches (!all), it only annotates the request.`,
          `http_access deny ${ENDPOINT_ANNOTATION} !all`,
        ]
      : []),
    "http_access deny !Safe_ports",
    tlsPorts.length > 0 ? "http_access deny CONNECT !SSL_ports" : "http_access deny CONNECT",
    "http_access deny link_local",
    "http_access deny !localnet",
    ...policy.destinations.flatMap((d) => {
      const names = d.domains ? ` ${d.name}_names` : "";
      const from = d.from ? ` ${d.name}_from` : "";
      return [
        ...(portsOf(d, "http").length > 0 ? [`http_access allow !CONNECT${names} ${d.name}_dst ${d.name}_http${from}`] : []),
        ...(portsOf(d, "tls").length > 0 ? [`http_access allow CONNECT${names} ${d.name}_dst ${d.name}_tls${from}`] : []),
      ];
    }),
    "http_access deny all",
  ];
  assertAclNames(lines);
  return `${lines.join("\n")}\n`;
}

/** Throws when two kinds of ACL share a name (a client and a service's ACL) or a name is too long for Squid. */
function assertAclNames(lines: readonly string[]): void {
  const types = new Map<string, string>();
  for (const line of lines.filter((l) => l.startsWith("acl "))) {
    const [, name, type] = line.split(" ");
    if (name.length > ACL_NAME_MAX)
      throw new Error(
        `renderAllowlist: the ACL name ${name} is longer than the ${ACL_NAME_MAX} characters Squid accepts; shorten the client or service name`,
      );
    if ((types.get(name) ?? type) !== type)
      throw new Error(
        `renderAllowlist: the ACL name ${name} is both a ${types.get(name)} and a ${type} ACL; rename the client or service whose name makes it`,
      );
    types.set(name, type);
  }
}

/** The comments that frame the allowlist's lines where a whole squid.conf holds them in place of the include. */
const allowlistBegin = (file: string) => `# BEGIN ${file}: the allowlist, in place of its include`;
const allowlistEnd = (file: string) => `# END ${file}`;

/**
 * The effective squid.conf: the base with its include of {@link ALLOWLIST_FILE} replaced by the allowlist's lines,
 * framed by comments so that {@link splitSquidConf} gives both parts back.
 */
export function inlineAllowlist(base: string, allowlist: string): string {
  const include = `include ${ALLOWLIST_FILE}`;
  const lines = base.split("\n");
  const at = lines.indexOf(include);
  if (at < 0) throw new Error(`inlineAllowlist: the base configuration has no line "${include}"; render it with renderSquidBase`);
  return [
    ...lines.slice(0, at),
    allowlistBegin(ALLOWLIST_FILE),
    allowlist.trimEnd(),
    allowlistEnd(ALLOWLIST_FILE),
    ...lines.slice(at + 1),
  ].join("\n");
}

/** The base and the allowlist of an effective squid.conf made by {@link inlineAllowlist}. */
export function splitSquidConf(conf: string): { base: string; allowlist: string } {
  const lines = conf.split("\n");
  const begin = lines.indexOf(allowlistBegin(ALLOWLIST_FILE));
  const end = lines.indexOf(allowlistEnd(ALLOWLIST_FILE));
  if (begin < 0 || end < begin)
    throw new Error(
      `splitSquidConf: the configuration holds no allowlist between "${allowlistBegin(ALLOWLIST_FILE)}" and "${allowlistEnd(ALLOWLIST_FILE)}"; make it with inlineAllowlist`,
    );
  return {
    base: [...lines.slice(0, begin), `include ${ALLOWLIST_FILE}`, ...lines.slice(end + 1)].join("\n"),
    allowlist: `${lines.slice(begin + 1, end).join("\n")}\n`,
  };
}

/** A base squid.conf whose include names `file` instead of {@link ALLOWLIST_FILE}, for hosts that keep it elsewhere. */
export function includeAllowlistFrom(base: string, file: string): string {
  const include = `include ${ALLOWLIST_FILE}`;
  if (!base.split("\n").includes(include)) throw new Error(`includeAllowlistFrom: the base configuration has no line "${include}"`);
  return base
    .split("\n")
    .map((l) => (l === include ? `include ${file}` : l))
    .join("\n");
}

/** Renders the effective squid.conf: the base with the allowlist in place of its include (what Squid runs, in one text). */
export function renderSquidConf(policy: SquidPolicy, host: SquidHostSettings = AMAZON_LINUX_SQUID): string {
  return inlineAllowlist(renderSquidBase(policy, host), renderAllowlist(policy));
}

/** The line that starts the host settings, the last section of every rendered squid.conf. */
export const HOST_SETTINGS_MARKER = "# Host settings.";

function renderHostSettings(host: SquidHostSettings): string {
  const lines = [
    HOST_SETTINGS_MARKER,
    `access_log daemon:${host.accessLog} ${ACCESS_LOG_FORMAT}`,
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
