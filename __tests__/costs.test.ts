import * as fs from "fs";
import * as path from "path";
import { costLines, costTable, withCostSection } from "../tools/costs";
import { projectCostSection } from "../tools/readme-costs";
import { configFrom, fleetRaw, synthEnvironment, verificationRaw } from "./helpers/stack";

const stackOf = (raw: any) => JSON.parse(synthEnvironment(configFrom(raw)).json);

describe("the monthly estimate", () => {
  const lines = costLines(stackOf(verificationRaw()));
  const line = (item: RegExp) => lines.find((l) => item.test(l.item));

  it("counts what the verification stack bills by the hour: three instances, the Windows one priced as Windows", () => {
    expect(line(/t3\.micro \(Linux\)/)).toEqual(expect.objectContaining({ quantity: "2", monthly: expect.closeTo(2 * 0.0136 * 730, 5) }));
    expect(line(/t3\.medium \(Windows\)/)).toEqual(expect.objectContaining({ quantity: "1", monthly: expect.closeTo(0.0728 * 730, 5) }));
  });

  it("counts interface endpoints per zone: ten in the verification stack, none without Session Manager endpoints", () => {
    expect(line(/Interface endpoints/)?.quantity).toBe("10");
    const raw = verificationRaw();
    raw.proxyVpc.sessionManagerEndpoints = false;
    raw.appVpcs[0].sessionManagerEndpoints = false;
    raw.serviceSide.vpc.sessionManagerEndpoints = false;
    expect(costLines(stackOf(raw)).some((l) => /Interface endpoints/.test(l.item))).toBe(false);
  });

  it("adds up the fixed lines and leaves what is charged by use without a monthly figure", () => {
    const fixed = lines.reduce((n, l) => n + (l.monthly ?? 0), 0);
    expect(costTable(stackOf(verificationRaw()))).toContain(`| **fixed per month** | | | **$${fixed.toFixed(2)}** |`);
    expect(line(/Logs ingested/)?.monthly).toBeUndefined();
  });

  it("prices the resolver endpoint per address, two in the verification stack, and its queries by use; none without dns", () => {
    expect(line(/Resolver endpoint addresses/)).toEqual(expect.objectContaining({ quantity: "2", monthly: expect.closeTo(2 * 0.125 * 730, 5) }));
    expect(line(/DNS queries forwarded/)?.monthly).toBeUndefined();
    const raw = verificationRaw();
    delete raw.dns;
    raw.expectedFlows = raw.expectedFlows.filter((f: any) => f.from !== "resolver");
    expect(costLines(stackOf(raw)).some((l) => /Resolver|DNS queries/.test(l.item))).toBe(false);
  });

  it("counts a fleet's instances from its group and template, and prices its load balancer", () => {
    const fleet = costLines(stackOf(fleetRaw({ size: 3 })));
    expect(fleet.find((l) => /t3\.micro \(Linux\)/.test(l.item))?.quantity).toBe("4");
    expect(fleet.find((l) => l.item === "Network Load Balancer")).toEqual(expect.objectContaining({ quantity: "1", monthly: expect.closeTo(0.0243 * 730, 5) }));
    expect(line(/Network Load Balancer/)).toBeUndefined();
  });

  it("refuses an instance type it has no price for, naming where to add it", () => {
    const raw = verificationRaw();
    raw.proxy.instanceType = "m7i.48xlarge";
    expect(() => costLines(stackOf(raw))).toThrow(/tools\/costs\.ts has no linux price for m7i\.48xlarge; add it to PRICES\.instanceHour/);
  });

  it("is what the README shows (run `npm run docs` after changing an environment or a price)", () => {
    const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
    expect(readme).toBe(withCostSection(readme, projectCostSection()));
  });
});
