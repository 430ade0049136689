import * as fs from "fs";
import * as path from "path";
import type { CapacityFigures } from "../proof/capacity-lab";
import {
  bestHttpStep,
  CAPACITY_FILE,
  INSTANCE_SIZES,
  perProxy,
  proxiesNeeded,
  sizingSection,
  SIZING_END,
  SIZING_START,
  tunnelMib,
  tunnelsHeld,
  withSizingSection,
} from "../tools/sizing";

const ROOT = path.join(__dirname, "..");
const measured: CapacityFigures = JSON.parse(fs.readFileSync(path.join(ROOT, CAPACITY_FILE), "utf8"));

/** Figures made by hand, so that each rule is seen to decide. */
function figures(): CapacityFigures {
  const http = (connections: number, rps: number, p99Ms: number, errors = 0) => ({
    connections,
    rps,
    p50Ms: p99Ms / 2,
    p99Ms,
    errors,
    squidCpu: 0.5,
    clientCpu: 0.2,
    machineCpu: 1.5,
  });
  const churn = { perSecond: 100, ok: 1000, failed: 0, p99Ms: 2, squidCpu: 0.1, clientCpu: 0.1, okAtFirstFailure: null };
  return {
    lab: { cpus: 2, cpuModel: "AMD EPYC", squid: "5.7", measured: "2026-12-05" },
    http: [http(1, 1000, 1), http(64, 4000, 50), http(256, 6000, 150), http(1024, 9000, 40, 3)],
    directRps: 20000,
    tunnels: {
      steps: [
        { count: 1000, opened: 1000, failed: 0, errors: {}, p99Ms: 10, squidRssMb: 50 },
        { count: 4000, opened: 3000, failed: 1000, errors: { timeout: 1000 }, p99Ms: 20, squidRssMb: 130 },
      ],
      idleRssMb: 40,
      fileDescriptors: 6000,
    },
    churn: [churn],
    portBudget: {
      ports: 1024,
      perSecond: 150,
      seconds: 11,
      amazonLinuxDefault: { ...churn, failed: 10, okAtFirstFailure: 1024 },
      project: churn,
      projectServiceWithoutTimestamps: { ...churn, failed: 10, okAtFirstFailure: 1024 },
    },
    serverReuse: {
      on: { rps: 3000, p99Ms: 5, errors: 0, serverConnectionsPerRequest: 0.01 },
      off: { rps: 2000, p99Ms: 8, errors: 0, serverConnectionsPerRequest: 1 },
    },
    fleet: [1, 2, 3].map((proxies) => ({ proxies, rps: 4000, squidCpu: 0.5, machineCpu: 1.9, okAtFirstFailure: proxies * 1024 })),
  };
}

describe("the README's Sizing section", () => {
  it("is what docs/capacity.json gives (run `npm run docs` after `npm run bench -- capacity --write`)", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    expect(readme).toContain(SIZING_START);
    expect(readme).toBe(withSizingSection(readme, sizingSection(measured)));
  });

  it("refuses a README without the markers, saying where they go", () => {
    expect(() => withSizingSection("# README\n", "x")).toThrow(/no sizing markers .* under "## Sizing"/);
    expect(withSizingSection(`a\n${SIZING_START}\nold\n${SIZING_END}\nb`, "new")).toBe(`a\n${SIZING_START}\nnew\n${SIZING_END}\nb`);
  });

  it("names every instance type it stands for, the port budget and the setting that warns", () => {
    const section = sizingSection(figures());
    for (const size of INSTANCE_SIZES) expect(section).toContain(`| ${size.type} |`);
    expect(section).toContain("55,296 ports / 60 s = **921 new connections a second per proxy**");
    expect(section).toContain("`proxy.expectedPeakConnectionsPerSecond`");
    expect(section).toContain("(of 4,000, 3,000 opened: the lab gave Squid 6,000 descriptors, two a tunnel)");
  });
});

describe("the figures the section is made of", () => {
  it("takes the busiest plain HTTP step within p99 100 ms and without errors", () => {
    expect(bestHttpStep(figures()).connections).toBe(64);
    const none = { ...figures(), http: [figures().http[2]] };
    expect(() => bestHttpStep(none)).toThrow(/no plain HTTP step within p99 100 ms/);
  });

  it("counts memory per tunnel from the largest step above idle, and tunnels held only where none failed", () => {
    expect(tunnelMib(figures())).toBeCloseTo(0.03, 6);
    expect(tunnelsHeld(figures())).toBe(1000);
  });

  it("sustains on credits Squid's CPU at the type's baseline, at most what was measured; tunnels by descriptors or memory", () => {
    const [micro, , , , c5] = INSTANCE_SIZES.map((s) => perProxy(figures(), s));
    // 4000 req/s at half a core: 8000 a core; t3.micro's two vCPUs at 10% give a fifth of one.
    expect(micro.sustainedRps).toBeCloseTo(1600, 6);
    expect(c5.sustainedRps).toBe(4000);
    expect(micro.tunnels).toBe(Math.floor((1024 - 400) / 0.03));
    expect(c5.tunnels).toBe(Math.floor((65536 - 100) / 2));
  });

  it("needs the most proxies of requests, new connections per destination and tunnels", () => {
    const f = figures();
    const small = INSTANCE_SIZES.find((s) => s.type === "t3.small")!;
    // t3.small: 8000 req/s a core at 40% (two vCPUs at 20%) sustains 3200.
    expect(proxiesNeeded(f, small, { rps: 1, newPerDestination: 1, tunnels: 1 })).toBe(1);
    expect(proxiesNeeded(f, small, { rps: 1, newPerDestination: 1843, tunnels: 1 })).toBe(3);
    expect(proxiesNeeded(f, small, { rps: 6401, newPerDestination: 1, tunnels: 1 })).toBe(3);
    expect(proxiesNeeded(f, small, { rps: 1, newPerDestination: 1, tunnels: 32718 * 2 + 1 })).toBe(3);
  });

  it("were measured with one, two and three proxies, each adding its own port budget", () => {
    expect(measured.fleet.map((s) => s.proxies)).toEqual([1, 2, 3]);
    const one = measured.fleet[0].okAtFirstFailure!;
    expect(one).toBeGreaterThan(measured.portBudget.ports * 0.9);
    for (const s of measured.fleet) expect(s.okAtFirstFailure! / one).toBeCloseTo(s.proxies, 0);
  });
});
