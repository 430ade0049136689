import { quotaIssues, QUOTAS, quotaWarnings } from "../lib/config/quotas";
import { environmentShape } from "../lib/config/schema";
import { configFrom, verificationRaw } from "./helpers/stack";
import { privateLinkRaw } from "./helpers/privatelink";

/** The verification environment with `apps` existing app VPCs and `services` services of one port each. */
function sized(apps: number, services = 1, edit: (raw: any) => void = () => undefined, validate = true) {
  const raw = verificationRaw();
  raw.appVpcs = Array.from({ length: apps }, (_, i) => ({
    name: `app${i}`,
    cidr: `100.${64 + Math.floor(i / 256)}.${i % 256}.0/24`,
    existing: { vpcId: "vpc-0123456789abcdef0", routeTableIds: "all" },
  }));
  raw.services = Array.from({ length: services }, (_, i) => ({ name: `svc${i}`, cidr: `172.16.0.${i * 2}/31`, ports: [80] }));
  raw.expectedFlows = [];
  delete raw.dns; // its server lies in the verification service's block, which these services replace
  edit(raw);
  // Over a hard limit the whole validation refuses the file: read the fields alone then.
  return validate ? configFrom(raw) : environmentShape.parse(raw);
}

describe("quotas", () => {
  it("are the AWS figures, with their codes", () => {
    expect(QUOTAS.peeringsPerVpc).toEqual({
      name: "Active VPC peering connections per VPC",
      code: "L-7E9ECCDB",
      defaultValue: 50,
      hardLimit: 125,
    });
    expect(QUOTAS.routesPerRouteTable).toEqual({ name: "Routes per route table", code: "L-93826ACB", defaultValue: 50, hardLimit: 1000 });
    expect(QUOTAS.rulesPerSecurityGroup).toEqual({
      name: "Inbound or outbound rules per security group",
      code: "L-0EA8095F",
      defaultValue: 60,
      hardLimit: 1000,
    });
  });

  it("warn about a resolver endpoint of more than 6 addresses and a rule of more than 6 servers, with Route 53 Resolver's quota codes, and refuse neither", () => {
    const raw = verificationRaw();
    raw.proxyVpc.cidr = "10.0.0.0/23";
    raw.dns.endpointSubnets = Array.from({ length: 7 }, (_, i) => ({
      availabilityZone: i % 2 ? "ap-northeast-1c" : "ap-northeast-1a",
      cidr: `10.0.1.${i * 16}/28`,
    }));
    raw.dns.forward[0].servers = Array.from({ length: 7 }, (_, i) => `172.16.0.${10 + i}`);
    raw.serviceSide = { type: "virtualPrivateGateway" };
    raw.expectedFlows = [];
    const env = configFrom(raw);
    expect(quotaIssues(env)).toEqual([]);
    expect(quotaWarnings(env)).toEqual([
      expect.stringContaining(
        '7 addresses of the resolver endpoint (one per subnet), over the default quota of 6 "IP addresses per resolver endpoint" (L-D2FE9758). Raise it before deploying: aws service-quotas request-service-quota-increase --service-code route53resolver --quota-code L-D2FE9758 --desired-value 7',
      ),
      expect.stringContaining(
        '7 target addresses of the rule for service.example, over the default quota of 6 "Target IP addresses per resolver rule" (L-D74B6237)',
      ),
    ]);
    raw.dns.endpointSubnets = raw.dns.endpointSubnets.slice(0, 6);
    raw.dns.forward[0].servers = raw.dns.forward[0].servers.slice(0, 6);
    expect(quotaWarnings(configFrom(raw))).toEqual([]);
  });

  it("warn above the default and not at it: 49 app VPCs and the service make 50 peerings", () => {
    expect(quotaWarnings(sized(49)).filter((w) => w.includes("peerings"))).toEqual([]);
    expect(quotaWarnings(sized(50)).filter((w) => w.includes("peerings"))).toEqual([
      expect.stringContaining("51 peerings of the proxy VPC, over the default quota of 50"),
    ]);
  });

  it("refuse above the hard limit and only warn at it: 124 app VPCs and the service make 125", () => {
    expect(quotaIssues(sized(124))).toEqual([]);
    expect(quotaWarnings(sized(124))).toContainEqual(expect.stringContaining("125 peerings of the proxy VPC"));
    expect(quotaIssues(sized(125, 1, () => undefined, false))).toEqual([
      {
        path: ["appVpcs"],
        message:
          "makes 126 peerings of the proxy VPC, over AWS's hard limit of 125 (Active VPC peering connections per VPC); split it over several environments",
      },
    ]);
  });

  it("count no peering for app VPCs behind a Transit Gateway", () => {
    const tgw = sized(60, 1, (r) => {
      r.connectivity = { type: "transitGateway", egress: "squid" };
      r.appVpcs.forEach((a: any, i: number) => (a.existing.attachmentSubnetIds = [`subnet-${String(i).padStart(8, "0")}`]));
    });
    expect(quotaWarnings(tgw).filter((w) => w.includes("peerings"))).toEqual([]);
  });

  it("count routes: one per app VPC, plus one per outermost service block where routes are static", () => {
    // 40 app VPCs and 11 service blocks: 51 routes in each proxy route table.
    expect(quotaWarnings(sized(40, 11))).toContainEqual(
      expect.stringContaining(
        '51 routes in each route table of the proxy VPC, over the default quota of 50 "Routes per route table" (L-93826ACB)',
      ),
    );
    expect(quotaWarnings(sized(40, 10)).filter((w) => w.includes("routes"))).toEqual([]);
    // Propagated routes come from the provider: the services' blocks are not counted.
    const propagated = sized(40, 11, (r) => (r.serviceSide = { type: "virtualPrivateGateway", routing: "propagation" }));
    expect(quotaWarnings(propagated).filter((w) => w.includes("routes"))).toEqual([]);
    const staticGateway = sized(40, 11, (r) => (r.serviceSide = { type: "virtualPrivateGateway", routing: "static" }));
    expect(quotaWarnings(staticGateway)).toContainEqual(expect.stringContaining("51 routes in each route table"));
  });

  it("count the proxy's rules: one inbound per app VPC, one outbound per service port and block plus two", () => {
    expect(quotaWarnings(sized(61))).toContainEqual(
      expect.stringContaining(
        '61 inbound rules in the proxy\'s security group, over the default quota of 60 "Inbound or outbound rules per security group" (L-0EA8095F)',
      ),
    );
    expect(quotaWarnings(sized(60)).filter((w) => w.includes("inbound rules"))).toEqual([]);
    // 59 services of one port each: 59 + 2 = 61 outbound rules; 58 make 60.
    expect(quotaWarnings(sized(1, 59))).toContainEqual(expect.stringContaining("61 outbound rules in the proxy's security group"));
    expect(quotaWarnings(sized(1, 58)).filter((w) => w.includes("outbound rules"))).toEqual([]);
    // The same block and port twice is one rule.
    const twice = sized(1, 59, (r) => (r.services[58].cidr = r.services[57].cidr));
    expect(quotaWarnings(twice).filter((w) => w.includes("outbound rules"))).toEqual([]);
  });
});

describe("quotas at their edges", () => {
  it("count the service side's peering only when it is a peered VPC", () => {
    const gateway = sized(50, 1, (r) => (r.serviceSide = { type: "virtualPrivateGateway", routing: "static" }));
    expect(quotaWarnings(gateway).filter((w) => w.includes("peerings"))).toEqual([]);
  });

  it("give no warning over a hard limit, only the problem, for each usage with its setting", () => {
    const huge = sized(1001, 1, () => undefined, false);
    expect(quotaWarnings(huge)).toEqual([]);
    expect(quotaIssues(huge)).toEqual([
      {
        path: ["appVpcs"],
        message:
          "makes 1002 peerings of the proxy VPC, over AWS's hard limit of 125 (Active VPC peering connections per VPC); split it over several environments",
      },
      {
        path: ["appVpcs"],
        message:
          "makes 1002 routes in each route table of the proxy VPC, over AWS's hard limit of 1000 (Routes per route table); split it over several environments",
      },
      {
        path: ["appVpcs"],
        message:
          "makes 1001 inbound rules in the proxy's security group, over AWS's hard limit of 1000 (Inbound or outbound rules per security group); split it over several environments",
      },
    ]);
  });
});

describe("PrivateLink quotas", () => {
  /** The PrivateLink demo with `apps` app VPCs that all share 192.168.0.0/24, and a fleet of `size`. */
  function privateLinkSized(apps: number, size = 2) {
    const raw = privateLinkRaw();
    raw.appVpcs = Array.from({ length: apps }, (_, i) => ({
      name: `app${i}`,
      cidr: "192.168.0.0/24",
      existing: { vpcId: "vpc-0123456789abcdef0", endpointSubnetIds: ["subnet-0123456789abcdef0"] },
    }));
    raw.proxy.fleet.size = size;
    raw.expectedFlows = [];
    return configFrom(raw);
  }

  it("are AWS's figures: interface endpoints per VPC (L-29B6F2EB) and targets per load balancer zone (L-B211E961)", () => {
    expect(QUOTAS.interfaceEndpointsPerVpc).toMatchObject({ code: "L-29B6F2EB", defaultValue: 50 });
    expect(QUOTAS.targetsPerNetworkLoadBalancerZone).toMatchObject({
      code: "L-B211E961",
      defaultValue: 500,
      serviceCode: "elasticloadbalancing",
    });
  });

  it("count no routes or inbound rules per app VPC: 60 app VPCs on one block stay within every default", () => {
    const env = privateLinkSized(60);
    expect(quotaIssues(env)).toEqual([]);
    expect(quotaWarnings(env)).toEqual([]);
  });

  it("warn about more than 500 proxies behind the load balancer, with the load balancing quota's code", () => {
    expect(quotaWarnings(privateLinkSized(1, 501))).toEqual([
      expect.stringContaining(
        '501 proxies behind the load balancer (with cross-zone load balancing each zone\'s node counts every one), over the default quota of 500 "Targets per Availability Zone per Network Load Balancer" (L-B211E961). Raise it before deploying: aws service-quotas request-service-quota-increase --service-code elasticloadbalancing',
      ),
    ]);
    expect(quotaWarnings(privateLinkSized(1, 500))).toEqual([]);
  });

  it("still count each app VPC's route and inbound rule with peering", () => {
    expect(quotaWarnings(sized(60)).join("\n")).toMatch(/61 routes in each route table of the proxy VPC/);
  });
});
