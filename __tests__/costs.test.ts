import * as fs from "fs";
import * as path from "path";
import {
  connectivityComparison,
  connectivityMonthly,
  costEstimate,
  costLines,
  costSection,
  costTable,
  withConnectivitySection,
  withCostSection,
} from "../tools/costs";
import { PRICE_SOURCES, PriceItem, PRICES_TAKEN, REGION_PRICES, RegionPrices } from "../tools/prices";
import { COST_PAGE, projectConnectivitySection, projectCostPage, projectCostSection } from "../tools/readme-costs";
import { environmentFiles, loadEnvironmentFile } from "../lib/config";
import { CONFIG_DIR, configFrom, EXAMPLES_DIR, fleetRaw, synthEnvironment, verificationRaw } from "./helpers/stack";

const stackOf = (raw: any) => JSON.parse(synthEnvironment(configFrom(raw)).json);

/** An environment moved to another region: its region and every zone name. */
const inRegion = (raw: any, region: string) => JSON.parse(JSON.stringify(raw).replace(/ap-northeast-1/g, region));

/** Every demo and example, synthesized once. */
const projectStacks = () =>
  [...environmentFiles(CONFIG_DIR), ...environmentFiles(EXAMPLES_DIR)].map((file) => ({
    file,
    json: JSON.parse(synthEnvironment(loadEnvironmentFile(file)).json),
  }));

describe("the monthly estimate", () => {
  const lines = costLines(stackOf(verificationRaw()));
  const line = (item: RegExp) => lines.find((l) => item.test(l.item));

  it("counts what the verification stack bills by the hour: three instances, the Windows one priced as Windows", () => {
    expect(line(/t3\.micro \(Linux\)/)).toEqual(expect.objectContaining({ quantity: "2", monthly: expect.closeTo(2 * 0.0136 * 730, 5) }));
    expect(line(/t3\.medium \(Windows\)/)).toEqual(expect.objectContaining({ quantity: "1", monthly: expect.closeTo(0.0728 * 730, 5) }));
  });

  it("counts interface endpoints per zone: ten in the verification stack, the proxy VPC's four without the others' Session Manager endpoints", () => {
    expect(line(/Interface endpoints/)?.quantity).toBe("10");
    const raw = verificationRaw();
    raw.appVpcs[0].sessionManagerEndpoints = false;
    raw.serviceSide.vpc.sessionManagerEndpoints = false;
    // The proxies fetch their allowlist and ship their log through the proxy VPC's own (ssm, ssmmessages, ec2messages, logs).
    expect(costLines(stackOf(raw)).find((l) => /Interface endpoints/.test(l.item))?.quantity).toBe("4");
  });

  it("adds up the fixed lines and leaves what is charged by use without a monthly figure", () => {
    const fixed = lines.reduce((n, l) => n + (l.monthly ?? 0), 0);
    expect(costTable(stackOf(verificationRaw()))).toContain(`| **fixed per month** | | | **$${fixed.toFixed(2)}** |`);
    expect(line(/Logs ingested/)?.monthly).toBeUndefined();
    expect(line(/Logs ingested/)?.byUse).toBe(true);
  });

  it("prices the resolver endpoint per address, two in the verification stack, and its queries by use; none without dns", () => {
    expect(line(/Resolver endpoint addresses/)).toEqual(
      expect.objectContaining({ quantity: "2", monthly: expect.closeTo(2 * 0.125 * 730, 5) }),
    );
    expect(line(/DNS queries forwarded/)?.monthly).toBeUndefined();
    const raw = verificationRaw();
    delete raw.dns;
    raw.expectedFlows = raw.expectedFlows.filter((f: any) => f.from !== "resolver");
    expect(costLines(stackOf(raw)).some((l) => /Resolver|DNS queries/.test(l.item))).toBe(false);
  });

  it("counts a fleet's instances from its group and template, and prices its load balancer", () => {
    const fleet = costLines(stackOf(fleetRaw({ size: 3 })));
    expect(fleet.find((l) => /t3\.micro \(Linux\)/.test(l.item))?.quantity).toBe("4");
    expect(fleet.find((l) => l.item === "Network Load Balancer")).toEqual(
      expect.objectContaining({ quantity: "1", monthly: expect.closeTo(0.0243 * 730, 5) }),
    );
    expect(line(/Network Load Balancer/)).toBeUndefined();
  });

  it("counts the custom metrics the proxy's log filters publish: one per filter, one per app VPC for denials, one per proxy for versions", () => {
    const metrics = (raw: any) => costLines(stackOf(raw)).find((l) => /custom metrics/.test(l.item));
    expect(metrics(verificationRaw())).toEqual(
      expect.objectContaining({
        item: "CloudWatch custom metrics (the proxy's log metric filters)",
        quantity: "5",
        monthly: expect.closeTo(5 * 0.3, 5),
      }),
    );
    expect(metrics(fleetRaw({ size: 3 }))?.quantity).toBe("7");
    const twoApps = verificationRaw();
    twoApps.appVpcs.push({
      name: "batch",
      cidr: "192.168.1.0/24",
      subnets: [{ availabilityZone: "ap-northeast-1a", cidr: "192.168.1.0/25" }],
    });
    expect(metrics(twoApps)?.quantity).toBe("6");
    const nat = JSON.parse(fs.readFileSync(path.join(CONFIG_DIR, "transit-gateway.json"), "utf8"));
    expect(costLines(stackOf(nat)).some((l) => /custom metrics|dashboards|KMS/.test(l.item))).toBe(false);
  });

  it("prices the dashboard, each alarm, and the alerts topic's key only where an email address has a topic", () => {
    expect(line(/CloudWatch dashboards/)).toEqual(expect.objectContaining({ quantity: "1", unitPrice: "$3.00/month", monthly: 3 }));
    expect(line(/KMS keys/)).toBeUndefined();
    const alerted = costLines(stackOf({ ...verificationRaw(), alerts: { email: "network-team@example.com" } }));
    expect(alerted.find((l) => /KMS keys/.test(l.item))).toEqual(expect.objectContaining({ quantity: "1", monthly: 1 }));
    expect(alerted.find((l) => l.item === "CloudWatch alarms")).toEqual(
      expect.objectContaining({ quantity: "4", monthly: expect.closeTo(0.4, 5) }),
    );
    expect(line(/CloudWatch alarms/)?.quantity).toBe("1");
  });

  it("says an instance type its region has no price for is not known, on its line and in the total, and guesses nothing", () => {
    const raw = verificationRaw();
    raw.proxy.instanceType = "m7i.48xlarge";
    const stack = stackOf(raw);
    const estimate = costEstimate(stack);
    expect(estimate.lines.find((l) => /m7i/.test(l.item))).toEqual({
      item: "EC2 m7i.48xlarge (Linux)",
      quantity: "1",
      unitPrice: "not known",
    });
    expect(estimate.notKnown).toEqual(["EC2 m7i.48xlarge (Linux) in ap-northeast-1"]);
    const rest = estimate.lines.reduce((n, l) => n + (l.monthly ?? 0), 0);
    expect(costTable(stack)).toContain("| EC2 m7i.48xlarge (Linux) | 1 | not known | not known |");
    expect(costTable(stack)).toContain(
      `| **fixed per month** | | | **not known**: no price for EC2 m7i.48xlarge (Linux) in ap-northeast-1; the rest comes to $${rest.toFixed(2)} |`,
    );
  });

  it("is what the README shows (run `npm run docs` after changing an environment or a price)", () => {
    const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
    expect(readme).toBe(withCostSection(readme, projectCostSection()));
  });

  it("writes the full estimates to docs/costs.md, which the README links (run `npm run docs`)", () => {
    const page = fs.readFileSync(path.join(__dirname, "..", COST_PAGE), "utf8");
    expect(page).toBe(projectCostPage());
    expect(page).toMatch(/\| \*\*fixed per month\*\* \| \| \| \*\*\$\d+\.\d\d\*\* \|/);
    expect(fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8")).toContain(`](${COST_PAGE})`);
  });
});

/** A fleet stack with an endpoint service and an interface endpoint to it in each of `apps` app VPCs, in two zones each, added by hand. */
function withPrivateLink(stack: any, apps: number): any {
  stack.resource.aws_vpc_endpoint_service = {
    Proxy_Service: { network_load_balancer_arns: ["${aws_lb.lb.arn}"], acceptance_required: false },
  };
  for (let i = 0; i < apps; i++)
    stack.resource.aws_vpc_endpoint[`App${i}_ProxyEndpoint`] = {
      vpc_endpoint_type: "Interface",
      service_name: "${aws_vpc_endpoint_service.Proxy_Service.service_name}",
      subnet_ids: [`subnet-${i}a`, `subnet-${i}c`],
    };
  return stack;
}

describe("PrivateLink", () => {
  const tokyo = REGION_PRICES["ap-northeast-1"];

  it("counts the endpoints to the proxy's endpoint service apart, per app VPC and zone, and their data by use; AWS services' endpoints stay as they were", () => {
    const plain = costLines(stackOf(fleetRaw()));
    const lines = costLines(withPrivateLink(stackOf(fleetRaw()), 2));
    const find = (ls: typeof lines, item: RegExp) => ls.find((l) => item.test(l.item));
    expect(find(lines, /^PrivateLink endpoints to the proxy/)).toEqual(
      expect.objectContaining({ quantity: "4", unitPrice: "$0.014/h", monthly: expect.closeTo(4 * 0.014 * 730, 5) }),
    );
    expect(find(lines, /^Interface endpoints/)).toEqual(find(plain, /^Interface endpoints/));
    expect(find(lines, /^Data through the PrivateLink endpoints/)).toEqual(expect.objectContaining({ unitPrice: "$0.01/GB", byUse: true }));
    expect(find(plain, /PrivateLink/)).toBeUndefined();
  });

  it("prices the privatelink demo's two app VPCs, each with an endpoint in two zones, and its fleet's load balancer", () => {
    const lines = costLines(JSON.parse(synthEnvironment(loadEnvironmentFile(path.join(CONFIG_DIR, "privatelink.json"))).json));
    expect(lines.find((l) => /^PrivateLink endpoints to the proxy/.test(l.item))).toEqual(
      expect.objectContaining({ quantity: "4", monthly: expect.closeTo(4 * 0.014 * 730, 5) }),
    );
    expect(lines.find((l) => l.item === "Network Load Balancer")?.quantity).toBe("1");
  });

  it("compares the ways of connecting per month from one region's prices: an attachment per app VPC against an endpoint in each zone", () => {
    const m = connectivityMonthly(tokyo, 2);
    expect(m.perAppVpc.peering).toBe(0);
    expect(m.perAppVpc.transitGateway).toBeCloseTo(0.07 * 730, 5);
    expect(m.perAppVpc.privateLink).toBeCloseTo(2 * 0.014 * 730, 5);
    expect(connectivityMonthly(tokyo, 3).perAppVpc.privateLink).toBeCloseTo(3 * 0.014 * 730, 5);
    expect(m.proxySide.privateLink).toBeCloseTo((0.0243 + 0.006) * 730, 5);
    const table = connectivityComparison("ap-northeast-1", 2);
    expect(table).toContain(
      "| per app VPC, ap-northeast-1 | $0.00 | $51.10 a month (an attachment) | $20.44 a month (an endpoint in 2 zones) |",
    );
    expect(table).toContain(
      "| per GB | free within a zone, $0.01 each way between zones | $0.02 into the gateway | $0.01 through the endpoint |",
    );
    expect(connectivityComparison("us-east-1", 2)).toContain("$14.60 a month (an endpoint in 2 zones)");
    expect(() => connectivityComparison("eu-north-1", 2)).toThrow(/no row for eu-north-1; compare in a region it lists/);
  });

  it("is the comparison the README shows (run `npm run docs` after changing a price or the demo)", () => {
    const readme = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");
    expect(readme).toBe(withConnectivitySection(readme, projectConnectivitySection()));
    expect(() => withConnectivitySection("# no markers", "x")).toThrow(/README.md has no comparison markers/);
  });

  it("adds PrivateLink to each region's table of ways", () => {
    const section = costSection([{ name: "f", source: "demos/f.json", json: stackOf(fleetRaw()) }]);
    expect(section).toContain(
      "| PrivateLink + Squid fleet | $0.014 per app VPC endpoint per zone; the endpoint service is free, its Network Load Balancer ($0.0243 + $0.006 per NLCU) is the fleet's own | $0.01 processed by the endpoint, requests and responses |",
    );
  });
});

describe("prices by region", () => {
  const tokyo = REGION_PRICES["ap-northeast-1"];
  const virginia = REGION_PRICES["us-east-1"];

  it("prices a us-east-1 environment from the us-east-1 row, not Tokyo's", () => {
    const estimate = costEstimate(stackOf(inRegion(verificationRaw(), "us-east-1")));
    expect(estimate.region).toBe("us-east-1");
    expect(estimate.notKnown).toEqual([]);
    const unit = (item: RegExp) => estimate.lines.find((l) => item.test(l.item))?.unitPrice;
    expect(unit(/t3\.micro \(Linux\)/)).toBe("$0.0104/h");
    expect(unit(/t3\.medium \(Windows\)/)).toBe("$0.06/h");
    expect(unit(/EBS gp3/)).toBe("$0.08/GiB-month");
    expect(unit(/Interface endpoints/)).toBe("$0.01/h");
    expect(unit(/Logs ingested/)).toBe("$0.5/GB");
    expect(estimate.lines.find((l) => /t3\.micro \(Linux\)/.test(l.item))?.monthly).toBeCloseTo(2 * 0.0104 * 730, 5);
    // The same stack priced at Tokyo's row would cost more: the figures differ.
    const fixed = (e: ReturnType<typeof costEstimate>) => e.lines.reduce((n, l) => n + (l.monthly ?? 0), 0);
    expect(fixed(estimate)).toBeLessThan(fixed(costEstimate(stackOf(verificationRaw()))));
    expect(virginia.instanceHour.linux["t3.micro"]).not.toBe(tokyo.instanceHour.linux["t3.micro"]);
  });

  it("prices the Transit Gateway and its NAT gateway of a us-east-1 environment from that row too", () => {
    const raw = inRegion(JSON.parse(fs.readFileSync(path.join(CONFIG_DIR, "transit-gateway.json"), "utf8")), "us-east-1");
    const lines = costEstimate(stackOf(raw)).lines;
    expect(lines.find((l) => l.item === "Transit Gateway VPC attachments")?.unitPrice).toBe("$0.05/h");
    expect(lines.find((l) => l.item === "NAT gateways (private)")?.unitPrice).toBe("$0.045/h");
    expect(lines.find((l) => /Data through the NAT/.test(l.item))?.unitPrice).toBe("$0.045/GB");
  });

  it("reads every item of a row: changing any one figure changes the estimate of some demo or example, or of one with alerts by email", () => {
    const stacks = [
      ...projectStacks().map((s) => s.json),
      stackOf({ ...verificationRaw(), alerts: { email: "network-team@example.com" } }),
    ];
    const render = (row: RegionPrices) => stacks.map((s) => costTable(s, costEstimate(s, row))).join("\n");
    const base = render(tokyo);
    const items = Object.keys(PRICE_SOURCES) as PriceItem[];
    for (const item of items) {
      const changed: RegionPrices =
        item === "instanceHour"
          ? {
              ...tokyo,
              instanceHour: {
                linux: Object.fromEntries(Object.entries(tokyo.instanceHour.linux).map(([t, v]) => [t, v + 1])),
                windows: tokyo.instanceHour.windows,
              },
            }
          : { ...tokyo, [item]: (tokyo[item] as number) + 1 };
      expect({ item, changed: render(changed) !== base }).toEqual({ item, changed: true });
    }
  });

  it("has, for every region it lists, a positive price for every item and every instance type the demos, examples and defaults use", () => {
    const items = Object.keys(PRICE_SOURCES) as PriceItem[];
    const stacks = projectStacks();
    for (const [region, row] of Object.entries(REGION_PRICES)) {
      for (const item of items.filter((i) => i !== "instanceHour"))
        expect({ region, item, price: row[item] }).toEqual({ region, item, price: expect.any(Number) });
      for (const item of items.filter((i) => i !== "instanceHour")) expect(row[item] as number).toBeGreaterThan(0);
      for (const [type, os] of [
        ["t3.micro", "linux"],
        ["t3.medium", "windows"],
      ] as const)
        expect({ region, type, price: row.instanceHour[os][type] }).toEqual({ region, type, price: expect.any(Number) });
      for (const { file, json } of stacks) {
        expect({ region, file: path.basename(file), notKnown: costEstimate(json, row).notKnown }).toEqual({
          region,
          file: path.basename(file),
          notKnown: [],
        });
      }
    }
  });

  it("covers at least the large regions it was asked for that are known for certain, each with its price list name", () => {
    expect(Object.keys(REGION_PRICES)).toEqual(
      expect.arrayContaining(["us-east-1", "us-east-2", "us-west-2", "eu-west-1", "ap-northeast-1", "ap-southeast-1", "ap-southeast-2"]),
    );
    for (const row of Object.values(REGION_PRICES)) expect(row.location).toMatch(/^(US|EU|Asia Pacific)[A-Za-z ]* \([^)]+\)$/);
    expect(PRICES_TAKEN).toMatch(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("charges Windows as Linux plus the license fee AWS adds in every region (t3: 0.0092, 0.0092, 0.0184, 0.0276 an hour)", () => {
    const fee: Record<string, number> = { "t3.micro": 0.0092, "t3.small": 0.0092, "t3.medium": 0.0184, "t3.large": 0.0276 };
    for (const [region, row] of Object.entries(REGION_PRICES)) {
      for (const [type, windows] of Object.entries(row.instanceHour.windows)) {
        expect({ region, type, fee: Math.round((windows - row.instanceHour.linux[type]) * 1e4) / 1e4 }).toEqual({
          region,
          type,
          fee: fee[type],
        });
      }
    }
  });

  it("says clearly that prices of a region it does not list are not known, with the quantities and no figure of another region", () => {
    const stack = stackOf(inRegion(verificationRaw(), "eu-north-1"));
    const estimate = costEstimate(stack);
    expect(estimate.prices).toBeUndefined();
    expect(estimate.notKnown).toEqual(["prices for eu-north-1"]);
    const table = costTable(stack);
    expect(table.split("\n")[0]).toBe(
      "Prices for eu-north-1 are not known to this project: tools/prices.ts has AWS's list prices for us-east-1, us-east-2, us-west-2, eu-west-1, ap-northeast-1, ap-southeast-1, ap-southeast-2 only, and the estimate does not borrow another region's. The quantities below are what the stack runs; price them for eu-north-1 with the AWS Pricing Calculator.",
    );
    expect(table).toContain("| EC2 t3.micro (Linux) | 2 | not known | not known |");
    expect(table).toContain("| Logs ingested (flow logs, Squid's access log) | per GB | not known | by use |");
    expect(table).toContain("| **fixed per month** | | | **not known** |");
    expect(table).not.toMatch(/\$\d/);
    const section = costSection([{ name: "north", source: "environments/north.json", json: stack }]);
    expect(section).toContain("**north** (`environments/north.json`, eu-north-1)");
    expect(section).not.toMatch(/adds in eu-north-1/);
  });
});
