import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  ConfigError,
  domainCovers,
  environmentFiles,
  environmentWarnings,
  firstServicePort,
  fleetSize,
  flowEndName,
  flowEnds,
  loadBalancerAddresses,
  loadEnvironmentFile,
  loadEnvironments,
  peeredServiceSide,
  proxyPrivateIp,
  egressOf,
  runsSquid,
  selectEnvironmentFiles,
  servicePorts,
  stateKey,
} from "../lib/config";
import { configFrom, CONFIG_DIR, fleetRaw, verificationRaw } from "./helpers/stack";

/** Splits the proxy VPC of a raw environment into two subnets in two zones, as a fleet needs. */
function twoProxySubnets(raw: any): void {
  const fleet = fleetRaw(undefined);
  raw.proxyVpc.subnets = fleet.proxyVpc.subnets;
  raw.dns = fleet.dns;
}

/** The transit-gateway environment file, raw. */
function transitGatewayRaw(): any {
  return JSON.parse(fs.readFileSync(path.join(CONFIG_DIR, "transit-gateway.json"), "utf8"));
}

/** The error message for a raw environment edited by `edit`. */
function problemsOf(edit: (raw: any) => void, base: () => any = verificationRaw): string {
  const raw = base();
  edit(raw);
  try {
    configFrom(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("the edited environment was accepted");
}

describe("connectivity", () => {
  const tgw = (edit: (raw: any) => void) => problemsOf(edit, transitGatewayRaw);
  it.each<[string, () => string, RegExp]>([
    [
      "Transit Gateway settings with peering",
      () => problemsOf((r) => (r.connectivity = { type: "peering", transitGatewayId: "tgw-0123456789abcdef0" })),
      /`connectivity.transitGatewayId` = "tgw-0123456789abcdef0": is a Transit Gateway setting, but connectivity.type is "peering"; remove it, or set connectivity.type to "transitGateway"/,
    ],
    [
      "private NAT egress with peering",
      () => problemsOf((r) => (r.connectivity = { type: "peering", egress: "privateNat" })),
      /`connectivity.egress` = "privateNat": is "privateNat" with peering, which cannot work: peering is not transitive, so a NAT gateway in the proxy VPC never sees the app VPCs' traffic .* Use "squid", or set connectivity.type to "transitGateway"/,
    ],
    [
      "a malformed Transit Gateway id",
      () => tgw((r) => (r.connectivity.transitGatewayId = "tgw-XYZ")),
      /`connectivity.transitGatewayId` = "tgw-XYZ": is not a Transit Gateway id such as tgw-0123456789abcdef0/,
    ],
    [
      "NAT egress without a NAT subnet in a zone an attachment uses",
      () => tgw((r) => r.appVpcs[1].subnets.push({ availabilityZone: "ap-northeast-1c", cidr: "192.168.1.128/25" })),
      /`appVpcs\[1\].subnets\[1\].availabilityZone` = "ap-northeast-1c": is ap-northeast-1c, where a Transit Gateway attachment sits but proxyVpc.subnets has no subnet for a NAT gateway \(it has ap-northeast-1a\); add a proxy subnet in ap-northeast-1c/,
    ],
    [
      "NAT egress without attachment subnets",
      () => tgw((r) => delete r.connectivity.attachmentSubnets),
      /`connectivity.attachmentSubnets` is missing; with "privateNat" the Transit Gateway attaches to subnets of their own/,
    ],
    [
      "an attachment subnet over a NAT subnet",
      () => tgw((r) => (r.connectivity.attachmentSubnets[0].cidr = "10.0.0.0/28")),
      /`connectivity.attachmentSubnets\[0\].cidr` = "10.0.0.0\/28": overlaps `proxyVpc.subnets\[0\].cidr` 10.0.0.0\/25/,
    ],
    [
      "attachment subnets with Squid egress",
      () => tgw((r) => (r.connectivity.egress = "squid")),
      /`connectivity.attachmentSubnets` = .*: is for privateNat egress; with "squid" the Transit Gateway attaches to the proxy subnets/,
    ],
    [
      "a proxy fleet with NAT egress",
      () => tgw((r) => (r.proxy = { fleet: { size: 2 } })),
      /`proxy.fleet` = .*: is set, but with egress "privateNat" no proxy runs/,
    ],
    [
      "an expected flow to the proxy with NAT egress",
      () => tgw((r) => r.expectedFlows.push({ from: "app", to: "proxy", port: 3128, expect: "denied" })),
      /`expectedFlows\[6\].to` = "proxy": names no end of a flow; use one of "service", "app", "app2"/,
    ],
    [
      "an existing VPC of another account on a Transit Gateway",
      () =>
        tgw(
          (r) =>
            (r.appVpcs[1] = {
              name: "app2",
              cidr: "192.168.1.0/24",
              existing: {
                vpcId: "vpc-0123456789abcdef0",
                routeTableIds: "all",
                accountId: "111122223333",
                roleArn: "arn:aws:iam::111122223333:role/peer",
                attachmentSubnetIds: ["subnet-0123456789abcdef0"],
              },
            }),
        ),
      /`appVpcs\[1\].existing.accountId` = "111122223333": is another account, which a Transit Gateway reaches only through a resource share \(AWS RAM\)/,
    ],
    [
      "an existing VPC on a Transit Gateway without attachment subnets",
      () =>
        tgw(
          (r) =>
            (r.appVpcs[1] = { name: "app2", cidr: "192.168.1.0/24", existing: { vpcId: "vpc-0123456789abcdef0", routeTableIds: "all" } }),
        ),
      /`appVpcs\[1\].existing.attachmentSubnetIds` is missing; the Transit Gateway attachment needs the VPC's subnets/,
    ],
  ])("refuses %s, naming the setting and the fix", (_what, problems, expected) => {
    expect(problems()).toMatch(expected);
  });

  it.each<[string, (raw: any) => void, RegExp]>([
    [
      "an ASN for an existing gateway",
      (r) => Object.assign(r.connectivity, { transitGatewayId: "tgw-0123456789abcdef0", amazonSideAsn: 64600 }),
      /`connectivity.amazonSideAsn` = 64600: is set for an existing Transit Gateway \(transitGatewayId\), whose ASN is its own; remove it/,
    ],
    [
      "an attachment subnet in another region",
      (r) => (r.connectivity.attachmentSubnets[0].availabilityZone = "us-east-1a"),
      /`connectivity.attachmentSubnets\[0\].availabilityZone` = "us-east-1a": is not in the environment's region ap-northeast-1/,
    ],
    [
      "an attachment subnet outside the proxy VPC",
      (r) => (r.connectivity.attachmentSubnets[0].cidr = "10.9.0.0/28"),
      /`connectivity.attachmentSubnets\[0\].cidr` = "10.9.0.0\/28": is not inside the proxy VPC's block 10.0.0.0\/24/,
    ],
    [
      "two attachment subnets in one zone, overlapping",
      (r) => r.connectivity.attachmentSubnets.push({ availabilityZone: "ap-northeast-1a", cidr: "10.0.0.240/28" }),
      /`connectivity.attachmentSubnets\[1\].availabilityZone` = "ap-northeast-1a": is the zone of attachmentSubnets\[0\]; give one attachment subnet per zone\n.*`connectivity.attachmentSubnets\[1\].cidr` = "10.0.0.240\/28": overlaps attachmentSubnets\[0\] \(10.0.0.240\/28\)/,
    ],
    [
      "an attachment subnet in a zone without a NAT subnet",
      (r) => (r.connectivity.attachmentSubnets[0].availabilityZone = "ap-northeast-1c"),
      /`connectivity.attachmentSubnets\[0\].availabilityZone` = "ap-northeast-1c": is ap-northeast-1c, where a Transit Gateway attachment sits but proxyVpc.subnets has no subnet for a NAT gateway \(it has ap-northeast-1a\)/,
    ],
  ])("refuses %s with a Transit Gateway", (_what, edit, expected) => {
    expect(problemsOf(edit, transitGatewayRaw)).toMatch(expected);
  });

  it("refuses attachment subnet ids on an existing VPC with peering", () => {
    expect(
      problemsOf(
        (r) =>
          (r.appVpcs[0] = {
            name: "app",
            cidr: "192.168.0.0/24",
            existing: { vpcId: "vpc-0123456789abcdef0", routeTableIds: "all", attachmentSubnetIds: ["subnet-0123456789abcdef0"] },
          }),
      ),
    ).toMatch(
      /`appVpcs\[0\].existing.attachmentSubnetIds` = \["subnet-0123456789abcdef0"\]: is a Transit Gateway setting, but connectivity.type is "peering"; remove it/,
    );
  });

  it("refuses each Transit Gateway setting with peering, by name", () => {
    const message = problemsOf(
      (r) =>
        (r.connectivity = {
          type: "peering",
          amazonSideAsn: 64600,
          attachmentSubnets: [{ availabilityZone: "ap-northeast-1a", cidr: "10.0.0.240/28" }],
        }),
    );
    expect(message).toMatch(/`connectivity.amazonSideAsn` = 64600: is a Transit Gateway setting/);
    expect(message).toMatch(/`connectivity.attachmentSubnets` = .*: is a Transit Gateway setting/);
  });

  it("accepts an existing app VPC with attachment subnets, and a Squid proxy fleet, behind a Transit Gateway", () => {
    const raw = transitGatewayRaw();
    raw.connectivity = { type: "transitGateway", egress: "squid" };
    raw.proxyVpc.subnets = [
      { availabilityZone: "ap-northeast-1a", cidr: "10.0.0.0/25" },
      { availabilityZone: "ap-northeast-1c", cidr: "10.0.0.128/25" },
    ];
    raw.proxy = { fleet: { size: 2 } };
    raw.proxyVpc.sessionManagerEndpoints = true;
    raw.appVpcs[1] = {
      name: "app2",
      cidr: "192.168.1.0/24",
      existing: { vpcId: "vpc-0123456789abcdef0", routeTableIds: "all", attachmentSubnetIds: ["subnet-0123456789abcdef0"] },
    };
    raw.expectedFlows = [];
    expect(configFrom(raw).connectivity).toEqual({ type: "transitGateway", egress: "squid" });
  });

  it("accepts the transit-gateway environment and counts no peering for its app VPCs", () => {
    const env = configFrom(transitGatewayRaw());
    expect(env.connectivity).toEqual(expect.objectContaining({ type: "transitGateway", egress: "privateNat" }));
    expect(configFrom(verificationRaw()).connectivity).toEqual({ type: "peering", egress: "squid" });
  });
});

describe("service ports", () => {
  it("read a bare 443 as TLS, other bare ports as plain HTTP, and an object as it says", () => {
    const raw = verificationRaw();
    raw.services[0].ports = [80, 443, { port: 8443, carries: "tls" }, { port: 8090, carries: "http" }];
    expect(servicePorts(configFrom(raw).services[0])).toEqual([
      { port: 80, carries: "http" },
      { port: 443, carries: "tls" },
      { port: 8443, carries: "tls" },
      { port: 8090, carries: "http" },
    ]);
  });
});

describe("mistakes in services[].ports, each naming the entry, its value and what an entry may be", () => {
  const FORMS =
    'an entry is a port number from 1 to 65535 (443 carries TLS, any other plain HTTP), or { "port": <number>, "carries": "http" or "tls" }';
  const cases: [string, unknown, string][] = [
    ["a port written as text", "80", '`services[0].ports[1]` = "80": is text; write the number without quotes (80); ' + FORMS],
    ["a fractional port", 80.5, "`services[0].ports[1]` = 80.5: is not a whole number; " + FORMS],
    [
      "HTTPS where the entry says what it carries",
      { port: 8443, carries: "https" },
      '`services[0].ports[1]` = {"port":8443,"carries":"https"}: its "carries" is "https", which is neither "http" (plain HTTP requests) nor "tls" (HTTPS through CONNECT); write "tls"; ' +
        FORMS,
    ],
    ["an object without carries", { port: 8443 }, '`services[0].ports[1]` = {"port":8443}: has no "carries"; ' + FORMS],
    [
      "an object whose port is text",
      { port: "8443", carries: "tls" },
      '`services[0].ports[1]` = {"port":"8443","carries":"tls"}: its "port" is text; write the number without quotes (8443); ' + FORMS,
    ],
    [
      "an object with a misspelt key",
      { port: 8443, carry: "tls" },
      '`services[0].ports[1]` = {"port":8443,"carry":"tls"}: has the unknown setting "carry" (did you mean "carries"?), has no "carries"; ' +
        FORMS,
    ],
    ["an empty object", {}, '`services[0].ports[1]` = {}: has no "port", has no "carries"; ' + FORMS],
    ["a name instead of a port", "http", '`services[0].ports[1]` = "http": is text, not a port number; ' + FORMS],
    ["null", null, "`services[0].ports[1]` = null: is null, not a port number; " + FORMS],
    ["a list inside the list", [443], "`services[0].ports[1]` = [443]: is a list, not a port number; " + FORMS],
  ];

  it.each(cases)("explains %s", (_what, entry, expected) => {
    expect(problemsOf((r) => (r.services[0].ports = [80, entry]))).toBe(`test.json has a problem:\n  - ${expected}`);
  });

  it("keeps the range message for a whole number out of range, bare or in an object", () => {
    expect(problemsOf((r) => (r.services[0].ports = [80, 70000]))).toBe(
      "test.json has a problem:\n  - `services[0].ports[1]` = 70000: is out of range; ports go from 1 to 65535",
    );
    expect(problemsOf((r) => (r.services[0].ports = [{ port: 0, carries: "tls" }]))).toBe(
      "test.json has a problem:\n  - `services[0].ports[0].port` = 0: is out of range; ports go from 1 to 65535",
    );
  });

  it("names each wrong entry of a list", () => {
    expect(problemsOf((r) => (r.services[1].ports = ["443", 443.5]))).toBe(
      [
        "test.json has 2 problems:",
        '  - `services[1].ports[0]` = "443": is text; write the number without quotes (443); ' + FORMS,
        "  - `services[1].ports[1]` = 443.5: is not a whole number; " + FORMS,
      ].join("\n"),
    );
  });
});

describe("unknown settings: a did-you-mean offers only settings valid where the key is", () => {
  const unknown = (where: string, key: string, hint?: string) =>
    `test.json has a problem:\n  - ${where} has the unknown setting "${key}"${hint ? `; did you mean "${hint}"?` : "."} Remove or rename it (environments/schema.json lists the settings)`;

  it("suggests the service's own ports for port inside a service, never the unknown key itself", () => {
    expect(problemsOf((r) => (r.services[0].port = 80))).toBe(unknown("`services[0]`", "port", "ports"));
  });

  it("suggests a setting of the object the key is in", () => {
    expect(problemsOf((r) => (r.proxyVpc.cidrr = "x"))).toBe(unknown("`proxyVpc`", "cidrr", "cidr"));
    expect(problemsOf((r) => (r.services[0].Name = "x"))).toBe(unknown("`services[0]`", "Name", "name"));
    expect(problemsOf((r) => (r.appVpcs[0].existing = { vpcId: "vpc-0123456789abcdef0", routeTableIds: "all", vpcid: "x" }))).toBe(
      unknown("`appVpcs[0].existing`", "vpcid", "vpcId"),
    );
  });

  it("suggests nothing from elsewhere in the schema: port at the top level is not proxy.port, zone in a subnet is not a setting anywhere near", () => {
    expect(problemsOf((r) => (r.port = 3128))).toBe(unknown("the top level", "port"));
    expect(problemsOf((r) => (r.appVpcs[0].subnets[0].zone = "x"))).toBe(unknown("`appVpcs[0].subnets[0]`", "zone"));
  });

  it("reads settings of either form of a union where the key sits", () => {
    expect(problemsOf((r) => (r.serviceSide.vpc.cidrs = "x"))).toBe(unknown("`serviceSide.vpc`", "cidrs", "cidr"));
  });
});

describe("warnings before a deploy", () => {
  it("names a quota above its default and how to raise it, and stays quiet below", () => {
    expect(environmentWarnings(configFrom(verificationRaw()))).toEqual([]);
    const raw = verificationRaw();
    raw.appVpcs.push(
      ...Array.from({ length: 55 }, (_, i) => ({
        name: `more${i}`,
        cidr: `100.64.${i}.0/24`,
        existing: { vpcId: "vpc-0123456789abcdef0", routeTableIds: "all" },
      })),
    );
    const warnings = environmentWarnings(configFrom(raw));
    expect(warnings).toContainEqual(
      expect.stringMatching(
        /^environment verification: 57 peerings of the proxy VPC, over the default quota of 50 "Active VPC peering connections per VPC" \(L-7E9ECCDB\)\. Raise it before deploying: aws service-quotas request-service-quota-increase --service-code vpc --quota-code L-7E9ECCDB --desired-value 57 --region ap-northeast-1$/,
      ),
    );
    expect(warnings).toContainEqual(expect.stringMatching(/over the default quota of 50 "Routes per route table" \(L-93826ACB\)/));
  });

  it("warns when the proxies' port budget per destination is below proxy.expectedPeakConnectionsPerSecond, naming the setting, the value and the fix", () => {
    const single = (peak: number) => {
      const raw = verificationRaw();
      raw.proxy.expectedPeakConnectionsPerSecond = peak;
      return environmentWarnings(configFrom(raw));
    };
    expect(single(921)).toEqual([]);
    expect(single(922)).toEqual([
      "environment verification: `proxy.expectedPeakConnectionsPerSecond` is 922, above the port budget of 1 proxy (1 x 921 new connections a second to one service address and port: 55296 source ports, each held 60 s in TIME_WAIT). Run 2 proxies (`proxy.fleet.size`: 2), have the app servers reuse connections (keep-alive), or spread the load over more service addresses; README Sizing.",
    ]);
    const fleet = (peak: number, size: number) => {
      const raw = fleetRaw();
      raw.proxy.fleet.size = size;
      raw.proxy.expectedPeakConnectionsPerSecond = peak;
      return environmentWarnings(configFrom(raw));
    };
    expect(fleet(2763, 3)).toEqual([]);
    expect(fleet(3000, 3)).toEqual([expect.stringContaining("is 3000, above the port budget of 3 proxies (3 x 921 new connections")]);
    expect(fleet(3000, 3)[0]).toContain("Run 4 proxies (`proxy.fleet.size`: 4)");
  });

  it("stays quiet about the port budget when no peak is given", () => {
    expect(environmentWarnings(configFrom(fleetRaw())).filter((w) => w.includes("port budget"))).toEqual([]);
  });

  it("refuses a peak that is not a positive whole number, naming the setting and the value", () => {
    for (const value of [0, -5, 2.5, "500"]) {
      expect(problemsOf((r) => (r.proxy.expectedPeakConnectionsPerSecond = value))).toMatch(/proxy\.expectedPeakConnectionsPerSecond/);
    }
    expect(problemsOf((r) => (r.proxy.expectedPeakConnectionsPerSecond = 0))).toMatch(
      /must be a positive whole number of new connections a second/,
    );
  });

  it("accepts a short retention when the file says why", () => {
    const raw = verificationRaw();
    raw.logRetentionDays = 30;
    raw.policySuppressions = [{ rule: "PX-LOGS-RETENTION", path: "", reason: "a short-lived test environment" }];
    expect(configFrom(raw).logRetentionDays).toBe(30);
  });
});

describe("the verification environment", () => {
  const env = configFrom(verificationRaw());

  it("reproduces the original experiment's addresses, region and port", () => {
    expect(env.region).toBe("ap-northeast-1");
    expect(env.appVpcs.map((a) => a.cidr)).toEqual(["192.168.0.0/24"]);
    expect(env.proxyVpc.cidr).toBe("10.0.0.0/24");
    expect(env.serviceSide.type === "peeredVpc" && env.serviceSide.vpc.cidr).toBe("172.16.0.0/24");
    expect(env.proxy.port).toBe(3128);
    expect(env.appVpcs[0].appServer?.amiParameter).toMatch(/Windows_Server/);
  });

  it("fills in defaults a user need not write", () => {
    expect(env.proxy.amiParameter).toMatch(/^\/aws\/service\/ami-amazon-linux-latest\/al2023/);
    expect(env.proxyBypass).toContain("169.254.169.254");
    expect(env.tags).toEqual({});
  });

  it("places the proxy at a fixed address in the proxy VPC's first subnet", () => {
    expect(proxyPrivateIp(env)).toBe("10.0.0.10");
    const raw = verificationRaw();
    raw.proxy.privateIp = "10.0.0.20";
    expect(proxyPrivateIp(configFrom(raw))).toBe("10.0.0.20");
  });
});

describe("validation of an environment", () => {
  // Each case: what a user gets wrong, the edit, and what the message must say (setting, value, fix).
  const cases: [string, (raw: any) => void, RegExp][] = [
    [
      "an unknown key, with a suggestion",
      (r) => (r.proxyVpc.cidrr = "x"),
      /`proxyVpc` has the unknown setting "cidrr"; did you mean "cidr"\?/,
    ],
    ["an unknown top-level key", (r) => (r.colour = "blue"), /the top level has the unknown setting "colour"/],
    ["a missing key", (r) => delete r.region, /`region` is missing; add it/],
    ["a missing nested key", (r) => delete r.proxyVpc.cidr, /`proxyVpc.cidr` is missing; add it/],
    ["a value of the wrong type", (r) => (r.proxy.port = "3128"), /`proxy.port` = "3128": must be a port number/],
    ["an invalid CIDR", (r) => (r.appVpcs[0].cidr = "192.168.0/24"), /`appVpcs\[0\].cidr` = "192.168.0\/24": is not an IPv4 CIDR block/],
    [
      "host bits set",
      (r) => (r.appVpcs[0].cidr = "192.168.0.1/24"),
      /`appVpcs\[0\].cidr` = "192.168.0.1\/24": has host bits set; write 192\.168\.0\.0\/24/,
    ],
    [
      "a VPC larger than AWS allows",
      (r) => (r.proxyVpc.cidr = "10.0.0.0/8"),
      /`proxyVpc.cidr` = "10.0.0.0\/8": has a \/8 prefix; AWS accepts VPC and subnet sizes from \/16 to \/28/,
    ],
    [
      "a VPC smaller than AWS allows",
      (r) => (r.appVpcs[0].subnets[0].cidr = "192.168.0.0/29"),
      /`appVpcs\[0\].subnets\[0\].cidr` = "192.168.0.0\/29": has a \/29 prefix/,
    ],
    [
      "a port out of range",
      (r) => (r.services[0].ports = [70000]),
      /`services\[0\].ports\[0\]` = 70000: is out of range; ports go from 1 to 65535/,
    ],
    ["port zero", (r) => (r.proxy.port = 0), /`proxy.port` = 0: is out of range/],
    ["a fractional port", (r) => (r.proxy.port = 31.28), /`proxy.port` = 31.28: must be a whole number/],
    ["a repeated port", (r) => (r.services[0].ports = [80, 80]), /`services\[0\].ports\[1\]` = 80: is listed twice/],
    ["no app VPC", (r) => (r.appVpcs = []), /`appVpcs` = \[\]: is empty; give at least one app VPC/],
    ["no service", (r) => (r.services = []), /`services` = \[\]: is empty/],
    ["no subnet", (r) => (r.proxyVpc.subnets = []), /`proxyVpc.subnets` = \[\]: is empty; give at least one subnet/],
    ["a bad environment name", (r) => (r.name = "Verification"), /`name` = "Verification": must be 2 to 24 characters of lowercase/],
    ["a bad region", (r) => (r.region = "tokyo"), /`region` = "tokyo": is not an AWS region; write one such as ap-northeast-1/],
    [
      "a zone outside the region",
      (r) => (r.proxyVpc.subnets[0].availabilityZone = "us-east-1a"),
      /`proxyVpc.subnets\[0\].availabilityZone` = "us-east-1a": is not in the environment's region ap-northeast-1/,
    ],
    ["a bad zone name", (r) => (r.proxyVpc.subnets[0].availabilityZone = "ap-northeast-1"), /is not an availability zone name/],
    [
      "two subnets in one zone",
      (r) => r.proxyVpc.subnets.push({ availabilityZone: "ap-northeast-1a", cidr: "10.0.0.128/25" }),
      /`proxyVpc.subnets\[1\].availabilityZone` = "ap-northeast-1a": is the zone of an earlier subnet/,
    ],
    [
      "a subnet outside its VPC",
      (r) => (r.appVpcs[0].subnets[0].cidr = "192.168.1.0/25"),
      /`appVpcs\[0\].subnets\[0\].cidr` = "192.168.1.0\/25": is not inside the VPC's block 192\.168\.0\.0\/24/,
    ],
    [
      "overlapping subnets",
      (r) => r.proxyVpc.subnets.push({ availabilityZone: "ap-northeast-1c", cidr: "10.0.0.64/26" }),
      /`proxyVpc.subnets\[1\].cidr` = "10.0.0.64\/26": overlaps subnet 0/,
    ],
    [
      "an app VPC overlapping the proxy VPC",
      (r) => {
        r.appVpcs[0].cidr = "10.0.0.0/23";
        r.appVpcs[0].subnets[0].cidr = "10.0.1.0/25";
      },
      /`appVpcs\[0\].cidr` = "10.0.0.0\/23": overlaps `proxyVpc.cidr` 10\.0\.0\.0\/24; VPCs that are peered or routed together need disjoint blocks/,
    ],
    [
      "two app VPCs overlapping each other",
      (r) => r.appVpcs.push({ ...r.appVpcs[0], name: "app2", appServer: undefined }),
      /`appVpcs\[1\].cidr` = "192.168.0.0\/24": overlaps `appVpcs\[0\].cidr`/,
    ],
    [
      "the service VPC overlapping an app VPC",
      (r) => {
        r.serviceSide.vpc = { cidr: "192.168.0.0/24", subnets: [{ availabilityZone: "ap-northeast-1a", cidr: "192.168.0.0/25" }] };
        r.services[0].cidr = "192.168.0.0/24";
      },
      /`serviceSide.vpc.cidr` = "192.168.0.0\/24": overlaps `appVpcs\[0\].cidr`/,
    ],
    [
      "a service overlapping the proxy VPC",
      (r) => (r.services[0].cidr = "10.0.0.0/16"),
      /`services\[0\].cidr` = "10.0.0.0\/16": overlaps `proxyVpc.cidr` 10\.0\.0\.0\/24; the service must lie outside/,
    ],
    [
      "a service outside the service VPC",
      (r) => (r.services[0].cidr = "172.17.0.0/24"),
      /`services\[0\].cidr` = "172.17.0.0\/24": is not inside `serviceSide.vpc.cidr` 172\.16\.0\.0\/24/,
    ],
    [
      "duplicate app VPC names",
      (r) =>
        r.appVpcs.push({
          ...r.appVpcs[0],
          cidr: "192.168.1.0/24",
          subnets: [{ availabilityZone: "ap-northeast-1a", cidr: "192.168.1.0/25" }],
        }),
      /`appVpcs\[1\].name` = "app": is used by another app VPC/,
    ],
    [
      "duplicate service names",
      (r) => r.services.push({ ...r.services[0] }),
      /`services\[2\].name` = "service": is used by another service/,
    ],
    [
      "a proxy address outside its subnet",
      (r) => (r.proxy.privateIp = "10.0.0.200"),
      /`proxy.privateIp` = "10.0.0.200": is outside the subnet 10\.0\.0\.0\/25/,
    ],
    [
      "a reserved proxy address",
      (r) => (r.proxy.privateIp = "10.0.0.1"),
      /`proxy.privateIp` = "10.0.0.1": is one of the addresses AWS reserves/,
    ],
    ["a proxy address that is no address", (r) => (r.proxy.privateIp = "ten"), /`proxy.privateIp` = "ten": is not an IPv4 address/],
    [
      "an unknown service side",
      (r) => (r.serviceSide.type = "directConnect"),
      /`serviceSide.type` = "directConnect": has an unknown or missing `type`/,
    ],
    ["a bad bucket name", (r) => (r.state.bucket = "My_Bucket"), /`state.bucket` = "My_Bucket": is not a valid S3 bucket name/],
    ["a bad state key prefix", (r) => (r.state.keyPrefix = "/abs/"), /`state.keyPrefix` = "\/abs\/": is not a usable key prefix/],
    ["a Name tag, which the project sets", (r) => (r.tags = { Name: "x" }), /`tags.Name` has a key that is not a usable tag key/],
    ["a reserved aws: tag", (r) => (r.tags = { "aws:owner": "x" }), /is not a usable tag key/],
    ["a bad instance type", (r) => (r.proxy.instanceType = "large"), /`proxy.instanceType` = "large": is not an EC2 instance type/],
    [
      "a bad AMI parameter",
      (r) => (r.proxy.amiParameter = "ami-0123456789abcdef0"),
      /`proxy.amiParameter` = "ami-0123456789abcdef0": is not an SSM parameter name/,
    ],
    [
      "an expected flow naming no end",
      (r) => (r.expectedFlows = [{ from: "web", to: "proxy", port: 3128, expect: "allowed" }]),
      /`expectedFlows\[0\].from` = "web": names no end of a flow; use one of "proxy", "service", "resolver", "app"/,
    ],
    [
      "an expected flow with an unknown verdict",
      (r) => (r.expectedFlows = [{ from: "app", to: "proxy", port: 3128, expect: "yes" }]),
      /`expectedFlows\[0\].expect` = "yes": must be "allowed" or "denied"/,
    ],
    [
      "a bypass list without the metadata address",
      (r) => (r.proxyBypass = ["<local>"]),
      /`proxyBypass` = \["<local>"\]: leaves out 169\.254\.169\.254/,
    ],
    [
      "a misspelt region, by name and with the region it most likely means, without blaming the zones",
      (r) => (r.region = "ap-northest-1"),
      /^test\.json has a problem:\n {2}- `region` = "ap-northest-1": is not an AWS region; did you mean "ap-northeast-1"\?$/,
    ],
    [
      "a bypass entry that would run a command",
      (r) => (r.proxyBypass = ["$(Remove-Item C:\\ -Recurse)", "169.254.169.254"]),
      /`proxyBypass\[0\]` = .*: is not a host pattern/,
    ],
    [
      "a bypass entry with a backtick",
      (r) => (r.proxyBypass = ["a`b.example.com", "169.254.169.254"]),
      /`proxyBypass\[0\]` = "a`b\.example\.com": is not a host pattern/,
    ],
    [
      "a bypass entry with a line break",
      (r) => (r.proxyBypass = ["a.example.com\nnetsh", "169.254.169.254"]),
      /`proxyBypass\[0\]` = .*: is not a host pattern/,
    ],
    [
      "a retention below a year without a reason",
      (r) => (r.logRetentionDays = 90),
      /`logRetentionDays` = 90: is below 365 days, and the access log is the record of who went where; use 365 or more, or say why in policySuppressions/,
    ],
    [
      "more app VPCs than a VPC may have peerings",
      (r) =>
        (r.appVpcs = Array.from({ length: 125 }, (_, i) => ({
          name: `app${i}`,
          cidr: `100.${64 + Math.floor(i / 256)}.${i % 256}.0/24`,
          existing: { vpcId: "vpc-0123456789abcdef0", routeTableIds: "all" },
        }))),
      /`appVpcs` = .*: makes 126 peerings of the proxy VPC, over AWS's hard limit of 125 \(Active VPC peering connections per VPC\); split it over several environments/,
    ],
    [
      "a port that says it carries something else",
      (r) => (r.services[0].ports = [{ port: 8443, carries: "ssh" }]),
      /`services\[0\].ports\[0\]` = .*/,
    ],
    [
      "a port listed twice, once bare and once with what it carries",
      (r) => (r.services[0].ports = [8443, { port: 8443, carries: "tls" }]),
      /`services\[0\].ports\[1\]` = .*is listed twice; list each port once/,
    ],
    [
      "a fleet in one subnet",
      (r) => (r.proxy.fleet = { size: 2 }),
      /`proxyVpc.subnets` = .*: has 1 subnet; a fleet spreads over at least two subnets in two zones, so add one in another zone of ap-northeast-1/,
    ],
    [
      "a fleet of one",
      (r) => (twoProxySubnets(r), (r.proxy.fleet = { size: 1 })),
      /`proxy.fleet.size` = 1: is below 2; a fleet needs at least two proxies \(for one, leave fleet out\)/,
    ],
    [
      "a fleet with two subnets in one zone",
      (r) => (twoProxySubnets(r), (r.proxyVpc.subnets[1].availabilityZone = "ap-northeast-1a"), (r.proxy.fleet = {})),
      /`proxyVpc.subnets\[1\].availabilityZone` = "ap-northeast-1a": is the zone of an earlier subnet/,
    ],
    [
      "a load balancer address outside its subnet",
      (r) => (twoProxySubnets(r), (r.proxy.fleet = { loadBalancerAddresses: ["10.0.0.10", "10.0.0.20"] })),
      /`proxy.fleet.loadBalancerAddresses\[1\]` = "10.0.0.20": is outside the subnet 10\.0\.0\.128\/25; address 1 belongs in the proxy VPC's subnet 1/,
    ],
    [
      "a load balancer address AWS reserves",
      (r) => (twoProxySubnets(r), (r.proxy.fleet = { loadBalancerAddresses: ["10.0.0.1", "10.0.0.138"] })),
      /`proxy.fleet.loadBalancerAddresses\[0\]` = "10.0.0.1": is one of the addresses AWS reserves in 10\.0\.0\.0\/25/,
    ],
    [
      "a deregistration delay AWS does not accept",
      (r) => (twoProxySubnets(r), (r.proxy.fleet = { deregistrationDelaySeconds: 4000 })),
      /`proxy.fleet.deregistrationDelaySeconds` = 4000: is above 3600; AWS accepts 0 to 3600 seconds/,
    ],
    [
      "a health check interval AWS does not accept",
      (r) => (twoProxySubnets(r), (r.proxy.fleet = { healthCheckIntervalSeconds: 1 })),
      /`proxy.fleet.healthCheckIntervalSeconds` = 1: is below 5; AWS accepts 5 to 300 seconds/,
    ],
    [
      "a health check threshold AWS does not accept",
      (r) => (twoProxySubnets(r), (r.proxy.fleet = { unhealthyThreshold: 11 })),
      /`proxy.fleet.unhealthyThreshold` = 11: is above 10; AWS accepts 2 to 10 checks/,
    ],
    [
      "a fixed proxy address with a fleet",
      (r) => (twoProxySubnets(r), (r.proxy.privateIp = "10.0.0.10"), (r.proxy.fleet = {})),
      /`proxy.privateIp` = "10.0.0.10": is set for a fleet, whose address is the load balancer's; remove it/,
    ],
    [
      "settings an existing VPC does not take",
      (r) => (r.appVpcs[0].existing = { vpcId: "vpc-0123456789abcdef0", routeTableIds: "all" }),
      /`appVpcs\[0\].subnets` = .*: is set for an existing VPC; the project adds nothing to it but the peering and its routes\. Remove it\n.*`appVpcs\[0\].appServer` = .*: is set for an existing VPC[\s\S]*`appVpcs\[0\].sessionManagerEndpoints` = true: is true for an existing VPC; the project adds no endpoints to it/,
    ],
    [
      "an account without its role",
      (r) =>
        (r.appVpcs[0] = {
          name: "app",
          cidr: "192.168.0.0/24",
          existing: { vpcId: "vpc-0123456789abcdef0", routeTableIds: "all", accountId: "111122223333" },
        }),
      /`appVpcs\[0\].existing.roleArn` is missing; cross-account peering needs both accountId and roleArn/,
    ],
    [
      "a role without its account",
      (r) =>
        (r.appVpcs[0] = {
          name: "app",
          cidr: "192.168.0.0/24",
          existing: { vpcId: "vpc-0123456789abcdef0", routeTableIds: "all", roleArn: "arn:aws:iam::111122223333:role/peer" },
        }),
      /`appVpcs\[0\].existing.accountId` is missing; cross-account peering needs both/,
    ],
    [
      "a role of another account",
      (r) =>
        (r.appVpcs[0] = {
          name: "app",
          cidr: "192.168.0.0/24",
          existing: {
            vpcId: "vpc-0123456789abcdef0",
            routeTableIds: "all",
            accountId: "111122223333",
            roleArn: "arn:aws:iam::444455556666:role/peer",
          },
        }),
      /`appVpcs\[0\].existing.roleArn` = .*: is not a role of account 111122223333; the role must live where the VPC does/,
    ],
    [
      "a created VPC without subnets",
      (r) => delete r.appVpcs[0].subnets,
      /`appVpcs\[0\].subnets` is missing; a created VPC needs at least one subnet/,
    ],
    [
      "a fleet smaller than its subnets",
      (r) => (
        twoProxySubnets(r),
        (r.proxy.fleet = { size: 2 }),
        r.proxyVpc.subnets.push({ availabilityZone: "ap-northeast-1d", cidr: "10.0.1.0/28" }),
        (r.proxyVpc.cidr = "10.0.0.0/23")
      ),
      /`proxy.fleet.size` = 2: is below the 3 proxy subnets; give at least one proxy per subnet/,
    ],
    [
      "fewer load balancer addresses than subnets",
      (r) => (twoProxySubnets(r), (r.proxy.fleet = { loadBalancerAddresses: ["10.0.0.10"] })),
      /`proxy.fleet.loadBalancerAddresses` = \["10.0.0.10"\]: lists 1 addresses for 2 proxy subnets; give one per subnet, in the subnets' order/,
    ],
    [
      "an invalid domain",
      (r) => (r.services[1].domains = ["api_v2.service.example"]),
      /`services\[1\].domains\[0\]` = "api_v2.service.example": is not a valid DNS name: labels of 1 to 63 letters, digits and hyphens/,
    ],
    [
      "a wildcard Squid would read differently",
      (r) => (r.services[1].domains = ["*.service.example"]),
      /`services\[1\].domains\[0\]` = "\*.service.example": uses '\*', which Squid does not read as a wildcard \(it would match no name\)\. Write ".service.example": Squid's form for service.example itself and every name under it/,
    ],
    [
      "a wildcard inside a name",
      (r) => (r.services[1].domains = ["api.*.example"]),
      /`services\[1\].domains\[0\]` = "api.\*.example": has '\*' inside it; neither Squid nor Route 53 Resolver reads that as a wildcard/,
    ],
    [
      "a name in capitals",
      (r) => (r.services[1].domains = ["API.service.example"]),
      /`services\[1\].domains\[0\]` = "API.service.example": has capital letters; names are case-insensitive, so write "api.service.example"/,
    ],
    [
      "a name another entry already allows",
      (r) => (r.services[1].domains = [".service.example", "api.service.example"]),
      /`services\[1\].domains\[1\]` = "api.service.example": is already allowed by ".service.example" \(domains\[0\]\); remove it/,
    ],
    [
      "a named service an address-only one would bypass",
      (r) => (r.services[1].ports = [80]),
      /`services\[1\].domains` = .*: would be bypassed: services\[0\] \("service", address only\) allows 80 into 172\.16\.0\.0\/24, which overlaps this service's 172\.16\.0\.0\/24, for any name/,
    ],
    [
      "a forwarded domain written as a wildcard",
      (r) => (r.dns.forward[0].domain = "*.service.example"),
      /`dns.forward\[0\].domain` = "\*.service.example": uses '\*'; a forwarding rule for a domain covers every name under it already, so write "service.example"/,
    ],
    [
      "a DNS server outside every service block",
      (r) => (r.dns.forward[0].servers = ["10.9.0.2"]),
      /`dns.forward\[0\].servers\[0\]` = "10.9.0.2": is outside every service block \(172\.16\.0\.0\/24, 172\.16\.0\.0\/24\); the proxy VPC routes only those to the provider/,
    ],
    [
      "a DNS server the stand-in does not answer on",
      (r) => (r.dns.forward[0].servers = ["172.16.0.53"]),
      /`dns.forward\[0\].servers\[0\]` = "172.16.0.53": is not the stand-in service's address 172\.16\.0\.10, which answers DNS in a verification environment/,
    ],
    [
      "duplicate forwarding rules",
      (r) => r.dns.forward.push({ domain: "service.example", servers: ["172.16.0.10"] }),
      /`dns.forward\[1\].domain` = "service.example": is forwarded by dns.forward\[0\] already; give each domain one rule/,
    ],
    [
      "a resolver endpoint in one zone",
      (r) => (r.dns.endpointSubnets[1].availabilityZone = "ap-northeast-1a"),
      /`dns.endpointSubnets` = .*: has all its subnets in ap-northeast-1a; a Route 53 Resolver endpoint needs subnets in at least two zones\. Put one in another zone of ap-northeast-1/,
    ],
    [
      "a resolver endpoint on proxy subnets in one zone",
      (r) => delete r.dns.endpointSubnets,
      /`dns.endpointSubnets` is missing, and proxyVpc.subnets are all in ap-northeast-1a; a Route 53 Resolver endpoint needs two subnets in two zones\. Add endpointSubnets/,
    ],
    [
      "a resolver endpoint with one subnet",
      (r) => r.dns.endpointSubnets.pop(),
      /`dns.endpointSubnets` = .*: has fewer than 2 subnets; a Route 53 Resolver endpoint needs two subnets in two zones/,
    ],
    [
      "a resolver subnet outside the proxy VPC",
      (r) => (r.dns.endpointSubnets[1].cidr = "10.0.1.0/28"),
      /`dns.endpointSubnets\[1\].cidr` = "10.0.1.0\/28": is not inside the proxy VPC's block 10\.0\.0\.0\/24; the endpoint's addresses must lie in the dictated range/,
    ],
    [
      "a resolver subnet on a proxy subnet",
      (r) => (r.dns.endpointSubnets[0].cidr = "10.0.0.0/28"),
      /`dns.endpointSubnets\[0\].cidr` = "10.0.0.0\/28": overlaps `proxyVpc.subnets\[0\]` 10\.0\.0\.0\/25; the endpoint's subnets need blocks of their own/,
    ],
    [
      "a DNS server listed twice",
      (r) => (r.dns.forward[0].servers = ["172.16.0.10", "172.16.0.10"]),
      /`dns.forward\[0\].servers\[1\]` = "172.16.0.10": is listed twice; list each server once/,
    ],
    [
      "a resolver subnet outside the region",
      (r) => (r.dns.endpointSubnets[1].availabilityZone = "us-east-1c"),
      /`dns.endpointSubnets\[1\].availabilityZone` = "us-east-1c": is not in the environment's region ap-northeast-1/,
    ],
    [
      "resolver subnets that overlap",
      (r) => (r.dns.endpointSubnets[1].cidr = "10.0.0.128/27"),
      /`dns.endpointSubnets\[1\].cidr` = "10.0.0.128\/27": overlaps endpointSubnets\[0\] \(10\.0\.0\.128\/28\); subnets need disjoint blocks/,
    ],
    [
      "'*' as a name",
      (r) => (r.services[1].domains = ["*"]),
      /`services\[1\].domains\[0\]` = "\*": is '\*', which would allow every name; list the service's own names/,
    ],
    [
      "'*' as a forwarded domain",
      (r) => (r.dns.forward[0].domain = "*"),
      /`dns.forward\[0\].domain` = "\*": is '\*'; forward the provider's own domain, such as service.example/,
    ],
    [
      "a forwarded domain with a leading dot",
      (r) => (r.dns.forward[0].domain = ".service.example"),
      /`dns.forward\[0\].domain` = ".service.example": starts with a dot; write the domain itself \("service.example"\)/,
    ],
    [
      "a name with a trailing dot",
      (r) => (r.services[1].domains = ["api.service.example."]),
      /`services\[1\].domains\[0\]` = "api.service.example.": ends with a dot; leave it out \("api.service.example"\)/,
    ],
    [
      "an address as a name",
      (r) => (r.services[1].domains = ["172.16.0.10"]),
      /`services\[1\].domains\[0\]` = "172.16.0.10": is an IP address; list names here/,
    ],
    [
      "a single-label name",
      (r) => (r.services[1].domains = ["intranet"]),
      /`services\[1\].domains\[0\]` = "intranet": is a single label; write a full name such as intranet.example.com/,
    ],
    [
      "DNS with private NAT egress",
      (r) =>
        (r.connectivity = {
          type: "transitGateway",
          egress: "privateNat",
          attachmentSubnets: [{ availabilityZone: "ap-northeast-1a", cidr: "10.0.0.224/28" }],
        }),
      /`services\[1\].domains` = .*: is set, but with egress "privateNat" no proxy reads names[\s\S]*`dns` = .*: is set, but with egress "privateNat" nothing in the proxy VPC resolves names/,
    ],
    [
      "a bypass entry with a separator",
      (r) => (r.proxyBypass = ["<local>;evil", "169.254.169.254"]),
      /`proxyBypass\[0\]` = "<local>;evil": is not a host pattern/,
    ],
  ];

  it.each(cases)("explains %s", (_what, edit, expected) => {
    expect(problemsOf(edit)).toMatch(expected);
  });

  it("names the file and counts the problems", () => {
    const message = problemsOf((r) => {
      r.proxy.port = 0;
      r.services[0].ports = [0];
    });
    expect(message).toMatch(/^test\.json has 2 problems:\n {2}- /);
  });
});

describe("loading environment files", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "envs-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const write = (name: string, value: unknown) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
    return file;
  };

  it("lists every environment file of the repository but the schema", () => {
    const files = environmentFiles(CONFIG_DIR).map((f) => path.basename(f));
    expect(files).toContain("verification.json");
    expect(files).not.toContain("schema.json");
    expect(() => loadEnvironments(environmentFiles(CONFIG_DIR))).not.toThrow();
  });

  it("reports malformed JSON with the file, line and column", () => {
    const file = write("broken.json", '{\n  "name": "x",\n  "region": "ap-northeast-1"\n  "project": "p"\n}');
    expect(() => loadEnvironmentFile(file)).toThrow(
      /broken\.json:4:3 is not valid JSON: Expected ',' or '}' after property value\. Fix the syntax there\./,
    );
    const cut = write("cut.json", '{\n  "name": ');
    expect(() => loadEnvironmentFile(cut)).toThrow(/cut\.json:2:11 is not valid JSON: Unexpected end of JSON input/);
  });

  it("reports a file that cannot be read", () => {
    expect(() => loadEnvironmentFile(path.join(dir, "absent.json"))).toThrow(/Cannot read the environment file .*absent\.json/);
  });

  it("refuses two environments with one name and names both files", () => {
    const a = write("a.json", verificationRaw());
    const b = write("b.json", verificationRaw());
    expect(() => loadEnvironments([a, b])).toThrow(/b\.json: `name` = "verification" is also the name of .*a\.json/);
  });

  it("reports the problems of every file, not just the first", () => {
    const a = write("a.json", "nope");
    const b = write("b.json", { ...verificationRaw(), region: "mars" });
    expect(() => loadEnvironments([a, b])).toThrow(/a\.json is not valid JSON[\s\S]*b\.json has a problem/);
  });

  it("refuses a folder with no environment files", () => {
    write("schema.json", {});
    expect(() => environmentFiles(dir)).toThrow(/holds no environment files/);
  });
});

describe("values derived from an environment", () => {
  const verification = () => configFrom(verificationRaw());
  it("give the first port of a kind, the ends a flow may name, and the names of those ends", () => {
    const env = verification();
    expect(firstServicePort(env, "http")).toBe(80);
    expect(firstServicePort(env, "tls")).toBe(8443);
    expect(flowEnds(env)).toEqual(["proxy", "service", "resolver", "app"]);
    expect(["proxy", "service", "resolver", "app"].map((e) => flowEndName(env, e))).toEqual([
      "verification-proxy",
      "verification-service",
      "verification-proxy-resolver",
      "verification-app-server",
    ]);
    expect(stateKey(env)).toBe("proxy-over-peering/verification/terraform.tfstate");
    const tgw = configFrom(transitGatewayRaw());
    expect(flowEnds(tgw)).toEqual(["service", "app", "app2"]);
    expect(runsSquid(egressOf(tgw))).toBe(false);
    expect(runsSquid(egressOf(env))).toBe(true);
  });

  it("give the load balancer's addresses: the configured ones, or address 10 of each proxy subnet", () => {
    const raw = verificationRaw();
    twoProxySubnets(raw);
    raw.proxy.fleet = {};
    expect(loadBalancerAddresses(configFrom(raw))).toEqual(["10.0.0.10", "10.0.0.138"]);
    raw.proxy.fleet = { loadBalancerAddresses: ["10.0.0.20", "10.0.0.140"] };
    expect(loadBalancerAddresses(configFrom(raw))).toEqual(["10.0.0.20", "10.0.0.140"]);
  });

  it("give a fleet's size: the configured one, or one proxy per subnet and at least two", () => {
    const raw = verificationRaw();
    twoProxySubnets(raw);
    raw.proxy.fleet = {};
    const env = configFrom(raw);
    expect(fleetSize(env)).toBe(2);
    const subnets = env.proxyVpc.subnets;
    expect(fleetSize({ ...env, proxyVpc: { ...env.proxyVpc, subnets: [...subnets, { ...subnets[0], cidr: "10.0.0.192/26" }] } })).toBe(3);
    expect(fleetSize({ ...env, proxyVpc: { ...env.proxyVpc, subnets: [subnets[0]] } })).toBe(2);
    raw.proxy.fleet = { size: 4 };
    expect(fleetSize(configFrom(raw))).toBe(4);
  });

  it("refuse a simulated service side where the environment has a gateway, naming what needs it", () => {
    const raw = verificationRaw();
    raw.serviceSide = { type: "virtualPrivateGateway" };
    raw.expectedFlows = [];
    expect(() => peeredServiceSide(configFrom(raw), "the lab")).toThrow(
      'the lab needs a simulated service side: `serviceSide.type` is "virtualPrivateGateway"',
    );
    expect(peeredServiceSide(verification(), "the lab").vpc.cidr).toBe("172.16.0.0/24");
  });
});

describe("derived values and checks at their edges", () => {
  it("has no first port of a kind the first service does not carry, and lists services beyond a gateway and every app VPC as ends", () => {
    const raw = verificationRaw();
    raw.services[0].ports = [80];
    raw.serviceSide = { type: "virtualPrivateGateway" };
    raw.appVpcs.push({ name: "quiet", cidr: "192.168.9.0/24", subnets: [{ availabilityZone: "ap-northeast-1a", cidr: "192.168.9.0/25" }] });
    raw.expectedFlows = [];
    const env = configFrom(raw);
    expect(firstServicePort(env, "tls")).toBeUndefined();
    expect(flowEnds(env)).toEqual(["proxy", ...env.services.map((s) => s.name), "resolver", "app", "quiet"]);
    expect(loadBalancerAddresses(env)).toEqual(["10.0.0.10"]);
  });

  it("accepts an ASN for a gateway the project creates, attachment subnets in two zones, and a fleet larger than its subnets", () => {
    const raw = transitGatewayRaw();
    raw.connectivity.amazonSideAsn = 64600;
    raw.proxyVpc.subnets = [
      { availabilityZone: "ap-northeast-1a", cidr: "10.0.0.0/26" },
      { availabilityZone: "ap-northeast-1c", cidr: "10.0.0.64/26" },
    ];
    raw.connectivity.attachmentSubnets = [
      { availabilityZone: "ap-northeast-1a", cidr: "10.0.0.224/28" },
      { availabilityZone: "ap-northeast-1c", cidr: "10.0.0.240/28" },
    ];
    expect(configFrom(raw).connectivity.attachmentSubnets).toHaveLength(2);
    const fleet = verificationRaw();
    twoProxySubnets(fleet);
    fleet.proxy.fleet = { size: 3 };
    expect(configFrom(fleet).proxy.fleet?.size).toBe(3);
  });
});

describe("domainCovers: what a dstdomain entry allows, as Squid reads it", () => {
  it.each<[string, string, boolean]>([
    ["api.example.com", "api.example.com", true],
    ["api.example.com", "www.example.com", false],
    ["api.example.com", "x.api.example.com", false],
    [".example.com", "example.com", true],
    [".example.com", "api.example.com", true],
    [".example.com", "a.b.example.com", true],
    [".example.com", ".api.example.com", true],
    [".example.com", "badexample.com", false],
    [".example.com", "example.org", false],
    [".api.example.com", ".example.com", false],
  ])("%s allows %s: %s", (pattern, name, expected) => {
    expect(domainCovers(pattern, name)).toBe(expected);
  });

  it("refuses a name covered by a later entry, and of two equal entries the second", () => {
    const problems = (domains: string[]) => {
      const raw = verificationRaw();
      raw.services[1].domains = domains;
      try {
        configFrom(raw);
        return "";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(problems(["api.service.example", ".service.example"])).toMatch(
      /`services\[1\].domains\[0\]` = "api.service.example": is already allowed by ".service.example" \(domains\[1\]\)/,
    );
    const twice = problems([".service.example", ".service.example"]);
    expect(twice).toMatch(/`services\[1\].domains\[1\]` = ".service.example": is already allowed by ".service.example" \(domains\[0\]\)/);
    expect(twice).not.toMatch(/domains\[0\]` = /);
    expect(problems(["api.service.example", "www.service.example"])).toBe("");
  });

  it("lets a named service share a block with an address-only one on another kind of the same port number", () => {
    const raw = verificationRaw();
    raw.services[1].ports = [{ port: 8443, carries: "http" }];
    raw.services[0].ports = [80, { port: 8443, carries: "tls" }];
    expect(configFrom(raw).services[1].domains).toHaveLength(2);
  });
});

describe("selectEnvironmentFiles", () => {
  const root = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "root-"));
    fs.mkdirSync(path.join(dir, "demos"));
    fs.writeFileSync(path.join(dir, "demos", "demo.json"), "{}");
    return dir;
  };

  it("takes the user's folder when it holds an environment, else the demos, and PROXY_CONFIG over both", () => {
    const dir = root();
    fs.mkdirSync(path.join(dir, "environments"));
    fs.writeFileSync(path.join(dir, "environments", "schema.json"), "{}");
    expect(selectEnvironmentFiles(dir)).toEqual({
      files: [path.join(dir, "demos", "demo.json")],
      origin: "demos",
      description: "the demos of demos/ (environments/ holds no environment file)",
    });
    fs.writeFileSync(path.join(dir, "environments", "mine.json"), "{}");
    expect(selectEnvironmentFiles(dir)).toEqual({
      files: [path.join(dir, "environments", "mine.json")],
      origin: "environments",
      description: "the files of environments/",
    });
    expect(selectEnvironmentFiles(dir, { proxyConfig: path.join(dir, "x.json") }).files).toEqual([path.join(dir, "x.json")]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("refuses environment files left in the old config/ folder, naming them and the move", () => {
    const dir = root();
    fs.mkdirSync(path.join(dir, "config"));
    fs.writeFileSync(path.join(dir, "config", "schema.json"), "{}");
    expect(selectEnvironmentFiles(dir).origin).toBe("demos");
    fs.writeFileSync(path.join(dir, "config", "mine.json"), "{}");
    expect(() => selectEnvironmentFiles(dir)).toThrow(
      "config/ is no longer read, and it holds config/mine.json: move your environment files to environments/ (git mv config/<file> environments/) and delete copies of the demos, which now live in demos/; then config/ can go.",
    );
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe("who may use a service, how often proxies check the allowlist, and where alarms go", () => {
  const nat = () => JSON.parse(fs.readFileSync(path.join(CONFIG_DIR, "transit-gateway.json"), "utf8"));
  it.each<[string, (raw: any) => void, RegExp, "nat" | "verification"]>([
    [
      "from naming an app VPC the file does not have",
      (r) => (r.services[0].from = ["app", "billing"]),
      /`services\[0\].from\[1\]` = "billing": names no app VPC of this file; the app VPCs are app/,
      "verification",
    ],
    [
      "an empty from",
      (r) => (r.services[0].from = []),
      /`services\[0\].from` = \[\]: is empty; name at least one app VPC, or leave from out/,
      "verification",
    ],
    [
      "from naming an app VPC twice",
      (r) => (r.services[0].from = ["app", "app"]),
      /`services\[0\].from\[1\]` = "app": repeats "app"/,
      "verification",
    ],
    [
      "a poll faster than the proxy can honour",
      (r) => (r.proxy.allowlistPollSeconds = 2),
      /`proxy.allowlistPollSeconds` = 2: is below 10; each check runs the AWS CLI on the proxy/,
      "verification",
    ],
    ["a poll of hours", (r) => (r.proxy.allowlistPollSeconds = 7200), /`proxy.allowlistPollSeconds` = 7200: is above 3600/, "verification"],
    [
      "an alerts topic that is not an ARN",
      (r) => (r.alerts = { topicArn: "proxy-alerts" }),
      /`alerts.topicArn` = "proxy-alerts": is not an SNS topic ARN such as arn:aws:sns:ap-northeast-1:111122223333:proxy-alerts/,
      "verification",
    ],
    [
      "an alerts topic of another region",
      (r) => (r.alerts = { topicArn: "arn:aws:sns:us-east-1:111122223333:proxy-alerts" }),
      /`alerts.topicArn` = .*: is a topic in us-east-1, but alarms in ap-northeast-1 notify topics of their own region only; name a topic in ap-northeast-1/,
      "verification",
    ],
    ["alerts naming nothing", (r) => (r.alerts = {}), /`alerts` = \{\}: names neither topicArn nor email/, "verification"],
    [
      "an alerts address that is not one",
      (r) => (r.alerts = { email: "network team" }),
      /`alerts.email` = "network team": is not an email address/,
      "verification",
    ],
    [
      "a proxy VPC without the endpoints the proxies read their allowlist through",
      (r) => (r.proxyVpc.sessionManagerEndpoints = false),
      /`proxyVpc.sessionManagerEndpoints` = false: is false, but the proxies fetch their allowlist through the proxy VPC's ssm endpoint/,
      "verification",
    ],
    [
      "from with private NAT, which relays every app VPC alike",
      (r) => (r.services[0].from = [r.appVpcs[0].name]),
      /`services\[0\].from` = .*: is set, but with egress "privateNat" no proxy reads an allowlist/,
      "nat",
    ],
  ])("refuses %s, naming the setting and the fix", (_, edit, message, base) => {
    expect(problemsOf(edit, base === "nat" ? nat : verificationRaw)).toMatch(message);
  });

  it("accepts from, a poll interval and both kinds of alerts, and defaults the poll to 30 seconds", () => {
    const raw = verificationRaw();
    raw.services[0].from = ["app"];
    raw.proxy.allowlistPollSeconds = 15;
    raw.alerts = { topicArn: "arn:aws:sns:ap-northeast-1:111122223333:proxy-alerts", email: "network-team@example.com" };
    const env = configFrom(raw);
    expect([env.services[0].from, env.proxy.allowlistPollSeconds, env.alerts?.email]).toEqual([["app"], 15, "network-team@example.com"]);
    expect(configFrom(verificationRaw()).proxy.allowlistPollSeconds).toBe(30);
  });
});
