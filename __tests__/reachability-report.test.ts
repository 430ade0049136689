import { describeMismatch, flowMismatches, formatMatrix, ReachabilityReport, Verdict } from "../proof/reachability";

const verdict = (
  from: string,
  to: string,
  port: number,
  allowed: boolean,
  reasons: string[] = [],
  protocol: "tcp" | "udp" = "tcp",
): Verdict => ({ from, to, port, protocol, allowed, reasons });

/** A made-up report: three servers, two TCP ports and UDP 53, and one pair without a verdict on port 22. */
const report: ReachabilityReport = {
  endpoints: [
    {
      name: "app",
      address: "aws_instance.app",
      vpc: "v1",
      vpcCidr: "10.1.0.0/24",
      subnet: "s1",
      range: "10.1.0.4/32",
      groups: [],
      placements: [],
    },
    {
      name: "proxy",
      address: "aws_instance.proxy",
      vpc: "v2",
      vpcCidr: "10.2.0.0/24",
      subnet: "s2",
      range: "10.2.0.10/32",
      groups: [],
      placements: [],
    },
    {
      name: "svc",
      address: "aws_instance.svc",
      vpc: "v3",
      vpcCidr: "10.3.0.0/24",
      subnet: "s3",
      range: "10.3.0.4/32",
      groups: [],
      placements: [],
    },
  ],
  ports: [22, 3128],
  udpPorts: [53],
  verdicts: [
    verdict("app", "proxy", 22, false, ["BLOCKED: no egress"]),
    verdict("app", "proxy", 3128, true, ["egress rule", "route"]),
    verdict("app", "svc", 3128, false, ["BLOCKED: no route", "BLOCKED: no ingress"]),
    verdict("proxy", "svc", 22, false),
    verdict("proxy", "svc", 3128, true),
    verdict("proxy", "svc", 53, true, ["dns over udp"], "udp"),
    verdict("app", "svc", 53, false, ["BLOCKED: no udp egress"], "udp"),
  ],
};

describe("formatMatrix", () => {
  it("prints a header, a rule as wide as the header, and a row per pair with a cell per port", () => {
    expect(formatMatrix(report).split("\n")).toEqual([
      "from -> to   |    22 |  3128 | 53/udp",
      "-------------------------------------",
      "app -> proxy |     - |   yes |      -",
      "app -> svc   |     - |     - |      -",
      "proxy -> svc |     - |   yes |    yes",
    ]);
  });

  it("pads short names to the header's first column", () => {
    const short: ReachabilityReport = { ...report, verdicts: [verdict("a", "b", 22, true)], ports: [22], udpPorts: [] };
    expect(formatMatrix(short).split("\n")[2]).toBe("a -> b     |   yes");
  });
});

describe("flowMismatches and describeMismatch", () => {
  it("tells apart flows that differ only in their destination", () => {
    const found = flowMismatches(report, [
      { from: "app", to: "svc", port: 3128, allowed: true },
      { from: "app", to: "proxy", port: 3128, allowed: true },
    ]);
    expect(found.map((m) => m.flow.to)).toEqual(["svc"]);
  });

  it("says which way a verdict went and which way it was expected, with every reason on its own line", () => {
    const [denied] = flowMismatches(report, [{ from: "app", to: "svc", port: 3128, allowed: true }]);
    expect(describeMismatch(denied)).toBe(
      "app -> svc:3128 is denied, expected allowed:\n      BLOCKED: no route\n      BLOCKED: no ingress",
    );
    const [opened] = flowMismatches(report, [{ from: "app", to: "proxy", port: 3128, allowed: false }]);
    expect(describeMismatch(opened)).toBe("app -> proxy:3128 is allowed, expected denied:\n      egress rule\n      route");
  });

  it("names the servers and ports the stack has when a flow names none of them", () => {
    const [unknown] = flowMismatches(report, [{ from: "nobody", to: "svc", port: 80, allowed: true }]);
    expect(describeMismatch(unknown)).toBe(
      "nobody -> svc:80: no such pair and port in the stack (instances: app, proxy, svc; ports: 22, 3128, 53/udp)",
    );
  });

  it("matches a flow's protocol: UDP 53 and TCP 53 are different flows, and TCP is the default", () => {
    expect(flowMismatches(report, [{ from: "proxy", to: "svc", port: 53, protocol: "udp", allowed: true }])).toEqual([]);
    const [tcp] = flowMismatches(report, [{ from: "proxy", to: "svc", port: 53, allowed: true }]);
    expect(describeMismatch(tcp)).toMatch(/^proxy -> svc:53: no such pair and port/);
    const [udp] = flowMismatches(report, [{ from: "app", to: "svc", port: 53, protocol: "udp", allowed: true }]);
    expect(describeMismatch(udp)).toBe("app -> svc:53/udp is denied, expected allowed:\n      BLOCKED: no udp egress");
  });
});
