import {
  portBudgetPerDestination,
  portsIn,
  PROXY_PORT_RANGE,
  proxyKernelSettings,
  renderProxySysctl,
  TIME_WAIT_SECONDS,
} from "../lib/proxy-kernel";

describe("the proxy's port budget per destination", () => {
  it("is the ephemeral range over TIME_WAIT: 55,296 ports / 60 s = 921 new connections a second", () => {
    expect(portsIn(PROXY_PORT_RANGE)).toBe(55296);
    expect(TIME_WAIT_SECONDS).toBe(60);
    expect(portBudgetPerDestination()).toBe(921);
  });

  it("would be 470 a second with Amazon Linux 2023's own range, 32768-60999", () => {
    expect(portBudgetPerDestination({ first: 32768, last: 60999 })).toBe(470);
  });
});

describe("the proxy's kernel settings", () => {
  it("widen the source ports, keep Squid's port out of them and reuse TIME_WAIT ports toward services with timestamps", () => {
    expect(Object.fromEntries(proxyKernelSettings(3128).map((s) => [s.key, s.value]))).toEqual({
      "net.ipv4.ip_local_port_range": "10240 65535",
      "net.ipv4.ip_local_reserved_ports": "3128",
      "net.ipv4.tcp_tw_reuse": "1",
    });
  });

  it("render as a sysctl.d file, each setting under a one-line comment that says why", () => {
    const lines = renderProxySysctl(8080).trimEnd().split("\n");
    expect(lines).toHaveLength(6);
    lines.forEach((l, i) => expect(l).toMatch(i % 2 === 0 ? /^# \S/ : /^net\.ipv4\.\w+ = \S/));
    expect(lines).toContain("net.ipv4.ip_local_reserved_ports = 8080");
  });
});
