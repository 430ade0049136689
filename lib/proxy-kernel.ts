/**
 * The proxy's kernel settings for capacity, and the port budget they give. Squid re-originates every connection from
 * the proxy's one address, so new connections to one service address and port are bounded by the ephemeral ports
 * that are not held in TIME_WAIT. `npm run bench -- capacity` measures what these settings change.
 */

/** The ephemeral port range the proxy uses for its connections to the services (Amazon Linux 2023: 32768-60999). */
export const PROXY_PORT_RANGE = { first: 10240, last: 65535 } as const;

/** Seconds a port stays in TIME_WAIT after the proxy closes a connection first: Linux's fixed TCP_TIMEWAIT_LEN. */
export const TIME_WAIT_SECONDS = 60;

/** The ports of a range, both ends included. */
export const portsIn = (range: { readonly first: number; readonly last: number }) => range.last - range.first + 1;

/**
 * New connections a second one proxy can open to one service address and port, sustained, when the proxy closes first
 * and the service does not answer with TCP timestamps (so tcp_tw_reuse cannot help): the port range over TIME_WAIT.
 */
export function portBudgetPerDestination(range: { readonly first: number; readonly last: number } = PROXY_PORT_RANGE): number {
  return Math.floor(portsIn(range) / TIME_WAIT_SECONDS);
}

/** A kernel setting with the reason it is set. */
export interface KernelSetting {
  readonly key: string;
  readonly value: string;
  /** One line: why. */
  readonly why: string;
}

/** The proxy's kernel settings; `proxyPort` is kept out of the ephemeral range so that Squid can always bind it. */
export function proxyKernelSettings(proxyPort: number): KernelSetting[] {
  return [
    {
      key: "net.ipv4.ip_local_port_range",
      value: `${PROXY_PORT_RANGE.first} ${PROXY_PORT_RANGE.last}`,
      why: `${portsIn(PROXY_PORT_RANGE)} source ports per service address and port instead of 28232: the new-connection budget per destination`,
    },
    {
      key: "net.ipv4.ip_local_reserved_ports",
      value: String(proxyPort),
      why: "Squid's own port is never handed out as a source port",
    },
    {
      key: "net.ipv4.tcp_tw_reuse",
      value: "1",
      why: "a port in TIME_WAIT is reused for a new connection after 1 s when the service answers with TCP timestamps",
    },
  ];
}

/** Where the proxy's user data writes the settings. */
export const PROXY_SYSCTL_FILE = "/etc/sysctl.d/90-squid-proxy.conf";

/** The settings as a sysctl.d file, each with its reason as a comment. */
export function renderProxySysctl(proxyPort: number): string {
  return `${proxyKernelSettings(proxyPort)
    .flatMap((s) => [`# ${s.why}`, `${s.key} = ${s.value}`])
    .join("\n")}\n`;
}
