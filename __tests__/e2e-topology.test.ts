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

  it("derives the names to try from the named service and the forwarded domain", () => {
    expect(topology.names).toEqual({
      dnsServer: "172.16.0.10",
      domains: ["service.example"],
      port: 8080,
      allowed: "api.service.example",
      unlisted: "unlisted.service.example",
      outside: "outside.internal.service.example",
    });
  });

  it("tries no names without DNS forwarding or without a named service", () => {
    const raw = verificationRaw();
    delete raw.dns;
    raw.expectedFlows = raw.expectedFlows.filter((f: any) => f.from !== "resolver");
    expect(e2eTopology(configFrom(raw)).names).toBeUndefined();
    const unnamed = verificationRaw();
    delete unnamed.services[1].domains;
    unnamed.services[1].cidr = "172.16.0.0/25";
    expect(e2eTopology(configFrom(unnamed)).names).toBeUndefined();
  });

  it("makes up a host name under the domain when the service lists domains only, and refuses a service without one", () => {
    const raw = verificationRaw();
    raw.services[1].domains = [".internal.service.example"];
    expect(e2eTopology(configFrom(raw)).names?.allowed).toBe("probe.internal.service.example");
    raw.services[1].domains = ["api.service.example"];
    expect(() => e2eTopology(configFrom(raw))).toThrow(/services "api" lists no "\.domain" entry/);
  });

  it("refuses names the stand-in DNS would not answer, and an unlisted name the service allows", () => {
    const raw = verificationRaw();
    raw.services[1].domains = ["api.elsewhere.example", ".internal.service.example"];
    expect(() => e2eTopology(configFrom(raw))).toThrow(/api\.elsewhere\.example is in no forwarded domain \(service\.example\)/);
    raw.services[1].domains = [".service.example"];
    expect(() => e2eTopology(configFrom(raw))).toThrow(/unlisted\.service\.example is allowed by services "api"/);
  });
});
