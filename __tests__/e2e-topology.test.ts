import { e2eTopology } from "../proof/e2e-topology";
import { configFrom, verificationConfig, verificationRaw } from "./helpers/stack";

describe("e2eTopology", () => {
  const topology = e2eTopology(verificationConfig());

  it("places each host where AWS would: the proxy and the service at their fixed addresses, the others at their subnet's first host", () => {
    expect(topology.hosts).toEqual({ app: "192.168.0.4", proxy: "10.0.0.10", service: "172.16.0.10", outsider: "198.51.100.4" });
    expect(topology.proxyPort).toBe(3128);
    expect(topology.servicePort).toBe(80);
    expect(topology.tlsPort).toBe(8443);
  });

  it("routes each peering's ends to each other's blocks only, so nothing reaches the service from the app", () => {
    expect(topology.links).toEqual([
      { a: "app", b: "proxy", aRoutes: ["10.0.0.0/24"], bRoutes: ["192.168.0.0/24"] },
      { a: "proxy", b: "service", aRoutes: ["172.16.0.0/24"], bRoutes: ["10.0.0.0/24"] },
      { a: "outsider", b: "proxy", aRoutes: ["10.0.0.0/24"], bRoutes: ["198.51.100.4/32"] },
    ]);
  });

  it("moves the outsider to a block the environment does not use", () => {
    const raw = verificationRaw();
    raw.appVpcs.push({ name: "doc", cidr: "198.51.100.0/24", subnets: [{ availabilityZone: "ap-northeast-1a", cidr: "198.51.100.0/24" }] });
    expect(e2eTopology(configFrom(raw)).hosts.outsider).toBe("203.0.113.4");
  });

  it("refuses an environment whose first service does not hold the service host", () => {
    const raw = verificationRaw();
    raw.services[0].cidr = "172.16.0.128/25";
    expect(() => e2eTopology(configFrom(raw))).toThrow(/service host 172\.16\.0\.10 .* is outside services\[0\]\.cidr 172\.16\.0\.128\/25/);
  });
});
