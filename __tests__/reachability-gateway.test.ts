import * as fs from "fs";
import * as path from "path";
import { EnvironmentConfig, loadEnvironmentFile } from "../lib/config";
import {
  analyzeReachability,
  expectedFlowsOf,
  flowLabel,
  flowMismatches,
  ReachabilityReport,
  surroundingsOf,
  Verdict,
  verdictFor,
} from "../proof/reachability";
import { CONFIG_DIR, configFrom, EXAMPLES_DIR, synthEnvironment, verificationRaw } from "./helpers/stack";

const PRODUCTION = path.join(EXAMPLES_DIR, "production.json");
const CROSS_ACCOUNT = path.join(EXAMPLES_DIR, "cross-account.json");

const SERVICE = "dx-service (172.31.100.0/24)";
const APP = "production-app (192.168.0.0/24)";
const BATCH = "production-batch (192.168.10.0/24)";
const PROXY = "production-proxy";

/** An environment and a fresh copy of its synthesized stack's JSON, to edit. */
function synthesized(env: EnvironmentConfig): { env: EnvironmentConfig; json: any } {
  return { env, json: JSON.parse(synthEnvironment(env).json) };
}

/** The analysis of a stack with the places its environment names outside it. */
function analyse(env: EnvironmentConfig, json: any): ReachabilityReport {
  return analyzeReachability(json, surroundingsOf(env));
}

/** The expected flows the analysis contradicts, in words. */
function failing(env: EnvironmentConfig, json: any): string[] {
  return flowMismatches(analyse(env, json), expectedFlowsOf(env)).map(
    (m) => `${flowLabel(m.flow)} ${m.flow.allowed ? "allowed" : "denied"}`,
  );
}

function verdict(report: ReachabilityReport, from: string, to: string, port: number): Verdict {
  const found = report.verdicts.find((v) => v.from === from && v.to === to && v.port === port && v.protocol === "tcp");
  if (!found) throw new Error(`no verdict for ${from} -> ${to}:${port}`);
  return found;
}

/** Removes the resources of `type` whose JSON matches `pattern`; fails when none does. */
function remove(json: any, type: string, pattern: RegExp): void {
  const names = Object.keys(json.resource[type] ?? {}).filter((n) => pattern.test(JSON.stringify(json.resource[type][n])));
  if (names.length === 0) throw new Error(`no ${type} matches ${pattern}`);
  for (const n of names) delete json.resource[type][n];
}

const throughGateway = /aws_vpn_gateway\./;

/** The Transit Gateway demo's raw JSON (private NAT egress), a fresh copy to edit. */
function transitGatewayRaw(): any {
  return JSON.parse(fs.readFileSync(path.join(CONFIG_DIR, "transit-gateway.json"), "utf8"));
}

describe("the production example (a Direct Connect gateway, static routes, a proxy fleet, an app VPC of another account)", () => {
  const env = loadEnvironmentFile(PRODUCTION);
  const { json } = synthesized(env);
  const report = analyse(env, json);

  it("declares flows, and the synthesized stack keeps every one of them", () => {
    expect(env.expectedFlows.length).toBeGreaterThanOrEqual(3);
    expect(failing(env, json)).toEqual([]);
  });

  it("names the services beyond the gateway and the app VPCs' servers as ends, beside the proxy and the resolver", () => {
    expect(report.endpoints.map((e) => e.name)).toEqual([PROXY, "production-proxy-resolver", SERVICE, APP, BATCH]);
    // The listed route tables of the other account's VPC each stand for the subnets that use them.
    expect(report.endpoints.find((e) => e.name === BATCH)!.placements.map((p) => p.subnet)).toEqual([
      "vpc-0fedcba9876543210's subnets that use rtb-0123456789abcdef0",
      "vpc-0fedcba9876543210's subnets that use rtb-0fedcba9876543210",
    ]);
  });

  it("lets the app VPCs through the proxy to the service, and says the provider sees the proxies' addresses", () => {
    for (const app of [APP, BATCH]) {
      const through = verdictFor(report, { from: app, to: SERVICE, port: 443, allowed: true, via: { name: PROXY, port: 3128 } })!;
      expect(through.allowed).toBe(true);
      expect(through.reasons).toContain(`then ${PROXY}'s own connection to ${SERVICE} on 443:`);
    }
    const onward = verdict(report, PROXY, SERVICE, 443);
    expect(onward.reasons).toContainEqual(
      expect.stringMatching(
        /^aws_route\.ServiceSide_DirectConnect_RouteTable-172_31_100_0_24_\w+: 172\.31\.100\.0\/24 to aws_vpn_gateway\.\w+ \(production-proxy-vgw\), over Direct Connect/,
      ),
    );
    // Either of the fleet's subnets: the provider must accept the proxy VPC's block.
    expect(onward.reasons).toContain(`${SERVICE} sees the source 10.0.0.0/25 (${PROXY})`);
    expect(onward.reasons).toContainEqual(
      expect.stringMatching(
        /^replies: the provider's network sends 10\.0\.0\.0\/24 to aws_vpn_gateway\.\w+ \(aws_dx_gateway_association\.\w+ \(allowed_prefixes\)\)/,
      ),
    );
  });

  it("denies the app VPCs the service directly, and the service the app VPCs, for want of routes and advertised prefixes", () => {
    expect(verdict(report, APP, SERVICE, 443).reasons).toContainEqual(
      expect.stringMatching(
        /^BLOCKED: no route in data\.aws_route_tables\.[\w-]+ from production-app \(192\.168\.0\.0\/24\) to 172\.31\.100\.0\/24 \(of this stack; the table's other routes are its VPC owner's\)$/,
      ),
    );
    expect(verdict(report, SERVICE, BATCH, 443).reasons).toContainEqual(
      expect.stringMatching(
        /^BLOCKED: the provider's network learns only 10\.0\.0\.0\/24 through aws_vpn_gateway\.\w+ \(aws_dx_gateway_association\.\w+ \(allowed_prefixes\)\); 192\.168\.10\.0\/24 is not advertised$/,
      ),
    );
    expect(verdict(report, SERVICE, PROXY, 3128).allowed).toBe(false);
  });

  it("fails the flows through the proxy when the proxy VPC's route to the gateway is gone", () => {
    const { json: edited } = synthesized(env);
    remove(edited, "aws_route", throughGateway);
    expect(failing(env, edited)).toEqual([
      `${APP} -> ${SERVICE}:443 via ${PROXY} allowed`,
      `${BATCH} -> ${SERVICE}:443 via ${PROXY} allowed`,
    ]);
    expect(verdict(analyse(env, edited), PROXY, SERVICE, 443).reasons).toContainEqual(
      expect.stringMatching(/^BLOCKED: no route in aws_route_table\.ProxyVpc_RouteTable_\w+ from production-proxy to 172\.31\.100\.0\/24$/),
    );
  });

  it("fails them when the gateway is attached to no VPC, or the route sends the block elsewhere", () => {
    const detached = synthesized(env).json;
    delete Object.values<any>(detached.resource.aws_vpn_gateway)[0].vpc_id;
    expect(verdict(analyse(env, detached), PROXY, SERVICE, 443).reasons).toContainEqual(
      expect.stringMatching(
        /^BLOCKED: .* to aws_vpn_gateway\.\w+ \(production-proxy-vgw\), which is attached to no VPC, not 10\.0\.0\.0\/24$/,
      ),
    );
    const elsewhere = synthesized(env).json;
    const route = Object.values<any>(elsewhere.resource.aws_route).find((r) => throughGateway.test(r.gateway_id));
    route.destination_cidr_block = "172.31.0.0/16";
    (elsewhere.resource.aws_route as any).Narrow = {
      ...route,
      destination_cidr_block: "172.31.100.0/24",
      gateway_id: undefined,
      vpc_peering_connection_id: "${aws_vpc_peering_connection.App-app_Peering_A5F779DE.id}",
    };
    expect(failing(env, elsewhere)).toContain(`${APP} -> ${SERVICE}:443 via ${PROXY} allowed`);
  });

  it("fails them when the Direct Connect gateway association advertises another block, so replies have no way back", () => {
    const { json: edited } = synthesized(env);
    Object.values<any>(edited.resource.aws_dx_gateway_association)[0].allowed_prefixes = ["10.0.0.0/25"];
    const onward = verdict(analyse(env, edited), PROXY, SERVICE, 443);
    expect(onward.allowed).toBe(false);
    expect(onward.reasons).toContainEqual(
      expect.stringMatching(
        /^BLOCKED: replies: the provider's network learns only 10\.0\.0\.0\/25 .*; 10\.0\.0\.128\/25 is not advertised$/,
      ),
    );
  });

  it("keeps the service from the app VPCs even when the association advertises an app VPC's block", () => {
    const { json: edited } = synthesized(env);
    Object.values<any>(edited.resource.aws_dx_gateway_association)[0].allowed_prefixes = ["10.0.0.0/24", "192.168.0.0/24"];
    expect(verdict(analyse(env, edited), SERVICE, APP, 443).reasons).toContainEqual(
      expect.stringMatching(
        /^BLOCKED: the provider's network sends 192\.168\.0\.0\/24 to aws_vpn_gateway\.\w+, which delivers into 10\.0\.0\.0\/24, not 192\.168\.0\.0\/24$/,
      ),
    );
  });

  it("fails the other account's flow through the proxy when its accepter's route in one listed table is gone", () => {
    const { json: edited } = synthesized(env);
    remove(edited, "aws_route", /"route_table_id":"rtb-0fedcba9876543210"/);
    expect(failing(env, edited)).toEqual([`${BATCH} -> ${SERVICE}:443 via ${PROXY} allowed`]);
  });

  it("reads a gateway attached by its own attachment resource", () => {
    const { json: edited } = synthesized(env);
    const [name, gateway] = Object.entries<any>(edited.resource.aws_vpn_gateway)[0];
    edited.resource.aws_vpn_gateway_attachment = {
      Attachment: { vpn_gateway_id: `\${aws_vpn_gateway.${name}.id}`, vpc_id: gateway.vpc_id },
    };
    delete gateway.vpc_id;
    expect(failing(env, edited)).toEqual([]);
  });

  it("fails the app VPC's flow through the proxy when its route tables are no longer looked up", () => {
    const { json: edited } = synthesized(env);
    delete edited.data.aws_route_tables;
    expect(failing(env, edited)).toEqual([`${APP} -> ${SERVICE}:443 via ${PROXY} allowed`]);
    expect(verdict(analyse(env, edited), APP, PROXY, 3128).reasons).toContainEqual(
      expect.stringMatching(/^BLOCKED: production-app \(192\.168\.0\.0\/24\)'s subnet has no route table of ours/),
    );
  });

  it("has no ends outside the stack when analysed without its environment", () => {
    expect(analyzeReachability(json).endpoints.map((e) => e.name)).toEqual([PROXY, "production-proxy-resolver"]);
  });
});

describe("the cross-account example (a virtual private gateway with propagated routes, a single proxy)", () => {
  const env = loadEnvironmentFile(CROSS_ACCOUNT);
  const { json } = synthesized(env);
  const PAYMENTS = "cross-account-payments (192.168.20.0/24)";
  const CLEARING = "clearing (172.31.200.0/24)";

  it("is another account's VPC, declares flows, and the synthesized stack keeps every one of them", () => {
    expect(env.appVpcs.map((a) => a.existing?.accountId)).toEqual(["444455556666"]);
    expect(env.serviceSide).toEqual(expect.objectContaining({ type: "virtualPrivateGateway", routing: "propagation" }));
    expect(env.expectedFlows.some((f) => f.via === "proxy" && f.expect === "allowed")).toBe(true);
    expect(failing(env, json)).toEqual([]);
  });

  it("follows the propagated route to the gateway, and says the provider sees the proxy's own address", () => {
    const onward = verdict(analyse(env, json), "cross-account-proxy", CLEARING, 443);
    expect(onward.reasons).toContainEqual(
      expect.stringMatching(
        /^aws_vpn_gateway_route_propagation\.[\w-]+ \(propagated, assuming the provider advertises 172\.31\.200\.0\/24 over BGP\): 172\.31\.200\.0\/24 to aws_vpn_gateway\.\w+/,
      ),
    );
    expect(onward.reasons).toContain(`${CLEARING} sees the source 10.20.0.10/32 (cross-account-proxy)`);
    expect(onward.reasons).toContainEqual(
      expect.stringMatching(
        /^replies: the provider's network sends 10\.20\.0\.0\/24 to aws_vpn_gateway\.\w+ \(the block of the VPC it is attached to\)/,
      ),
    );
  });

  it("fails the flows through the proxy when the proxy VPC no longer takes the gateway's routes", () => {
    const { json: edited } = synthesized(env);
    remove(edited, "aws_vpn_gateway_route_propagation", throughGateway);
    expect(failing(env, edited)).toEqual([
      `${PAYMENTS} -> ${CLEARING}:443 via cross-account-proxy allowed`,
      `cross-account-proxy -> ${CLEARING}:443 allowed`,
    ]);
  });

  it("prefers a static route of the same prefix to the propagated one, as AWS does", () => {
    const { json: edited } = synthesized(env);
    const peering = Object.keys(edited.resource.aws_vpc_peering_connection)[0];
    const table = Object.keys(edited.resource.aws_route_table)[0];
    edited.resource.aws_route.Static = {
      route_table_id: `\${aws_route_table.${table}.id}`,
      destination_cidr_block: "172.31.200.0/24",
      vpc_peering_connection_id: `\${aws_vpc_peering_connection.${peering}.id}`,
    };
    expect(verdict(analyse(env, edited), "cross-account-proxy", CLEARING, 443).reasons).toContainEqual(
      expect.stringMatching(
        /^BLOCKED: aws_route\.Static sends 172\.31\.200\.0\/24 into aws_vpc_peering_connection\.[\w-]+, which joins 192\.168\.20\.0\/24, not the provider's network beyond cross-account-proxy-vgw: peering is not transitive$/,
      ),
    );
  });

  it("reads propagation given inline on a route table too", () => {
    const { json: edited } = synthesized(env);
    const gateway = Object.keys(edited.resource.aws_vpn_gateway)[0];
    remove(edited, "aws_vpn_gateway_route_propagation", throughGateway);
    Object.values<any>(edited.resource.aws_route_table)[0].propagating_vgws = [`\${aws_vpn_gateway.${gateway}.id}`];
    expect(failing(env, edited)).toEqual([]);
  });
});

describe("a virtual private gateway with other shapes", () => {
  it("lets an app server through the private NAT gateways of a Transit Gateway, and the provider sees the NAT's address", () => {
    const raw = transitGatewayRaw();
    raw.serviceSide = { type: "virtualPrivateGateway", routing: "static" };
    raw.expectedFlows = [
      { from: "app", to: "service", port: 80, expect: "allowed" },
      { from: "service", to: "app", port: 80, expect: "denied" },
    ];
    const { env, json } = synthesized(configFrom(raw));
    expect(failing(env, json)).toEqual([]);
    expect(verdict(analyse(env, json), "transit-gateway-app-server", "service (172.16.0.0/24)", 80).reasons).toContain(
      "service (172.16.0.0/24) sees the source 10.0.0.0/25 (transit-gateway-proxy-nat-ap-northeast-1a), not 192.168.0.0/25",
    );
  });

  it("makes a created app VPC without an app server an end, one place per subnet", () => {
    const raw = verificationRaw();
    raw.serviceSide = { type: "virtualPrivateGateway", routing: "static" };
    raw.appVpcs.push({
      name: "quiet",
      cidr: "192.168.9.0/24",
      subnets: [
        { availabilityZone: "ap-northeast-1a", cidr: "192.168.9.0/25" },
        { availabilityZone: "ap-northeast-1c", cidr: "192.168.9.128/25" },
      ],
    });
    delete raw.dns;
    raw.expectedFlows = [
      { from: "quiet", to: "api", port: 8080, via: "proxy", expect: "allowed" },
      { from: "quiet", to: "api", port: 8080, expect: "denied" },
      { from: "api", to: "quiet", port: 8080, expect: "denied" },
    ];
    const { env, json } = synthesized(configFrom(raw));
    expect(failing(env, json)).toEqual([]);
    const quiet = analyse(env, json).endpoints.find((e) => e.name === "verification-quiet (192.168.9.0/24)")!;
    expect(quiet.placements.map((p) => p.range)).toEqual(["192.168.9.0/25", "192.168.9.128/25"]);
  });

  it("refuses services beyond a gateway for a stack that has none", () => {
    const { json } = synthesized(loadEnvironmentFile(PRODUCTION));
    remove(json, "aws_vpn_gateway", /./);
    expect(() => analyzeReachability(json, { beyondGateway: [{ name: SERVICE, cidr: "172.31.100.0/24" }] })).toThrow(
      `the environment puts ${SERVICE} beyond a virtual private gateway, and the stack has none; the analysis needs exactly one`,
    );
  });
});

describe("flows through the proxy", () => {
  const leg = (from: string, to: string, port: number, allowed: boolean): Verdict => ({
    from,
    to,
    port,
    protocol: "tcp",
    allowed,
    reasons: [allowed ? `${from} to ${to}` : `BLOCKED: ${from} to ${to}`],
  });
  const report = (toProxy: boolean, onward: boolean): ReachabilityReport => ({
    endpoints: [],
    ports: [443, 3128],
    udpPorts: [],
    verdicts: [leg("app", "proxy", 3128, toProxy), leg("proxy", "svc", 443, onward), leg("app", "svc", 443, false)],
  });
  const flow = { from: "app", to: "svc", port: 443, allowed: true, via: { name: "proxy", port: 3128 } };

  it("are allowed only when both the way to the proxy and the proxy's own connection are, with both sets of reasons", () => {
    expect(verdictFor(report(true, true), flow)).toEqual({
      from: "app",
      to: "svc",
      port: 443,
      protocol: "tcp",
      allowed: true,
      reasons: ["to proxy on 3128:", "app to proxy", "then proxy's own connection to svc on 443:", "proxy to svc"],
    });
    expect(verdictFor(report(false, true), flow)!.allowed).toBe(false);
    expect(verdictFor(report(true, false), flow)!.allowed).toBe(false);
    expect(flowMismatches(report(true, true), [flow, { ...flow, via: undefined, allowed: false }])).toEqual([]);
  });

  it("name no pair when the proxy is not in the report", () => {
    expect(verdictFor(report(true, true), { ...flow, via: { name: "other", port: 3128 } })).toBeUndefined();
    expect(flowLabel(flow)).toBe("app -> svc:443 via proxy");
  });

  it("come from an environment's via, with the proxy's port", () => {
    const env = loadEnvironmentFile(PRODUCTION);
    expect(expectedFlowsOf(env)[0]).toEqual({
      from: APP,
      to: SERVICE,
      port: 443,
      protocol: "tcp",
      allowed: true,
      via: { name: PROXY, port: 3128 },
    });
  });
});

describe("expected flows with a gateway are checked when loading", () => {
  const production = (): any => JSON.parse(fs.readFileSync(PRODUCTION, "utf8"));
  const problemOf = (raw: any) => {
    try {
      configFrom(raw);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error("accepted");
  };

  it.each([
    [
      "an end that names nothing",
      (r: any) => (r.expectedFlows = [{ from: "app", to: "service", port: 443, expect: "denied" }]),
      /`expectedFlows\[0\].to` = "service": names no end of a flow; use one of "proxy", "dx-service", "resolver", "app", "batch"/,
    ],
    [
      "a service named as an app VPC",
      (r: any) => ((r.services[0].name = "app"), (r.expectedFlows = [{ from: "proxy", to: "app", port: 443, expect: "allowed" }])),
      /`expectedFlows\[0\].to` = "app": names two ends/,
    ],
    [
      "a flow through the proxy that starts there",
      (r: any) => (r.expectedFlows = [{ from: "proxy", to: "dx-service", port: 443, via: "proxy", expect: "allowed" }]),
      /`expectedFlows\[0\].via` = "proxy": is "proxy", and the flow already starts or ends at the proxy/,
    ],
    [
      "a flow through the proxy over UDP",
      (r: any) => (r.expectedFlows = [{ from: "app", to: "dx-service", port: 53, protocol: "udp", via: "proxy", expect: "denied" }]),
      /`expectedFlows\[0\].protocol` = "udp": is "udp", and the proxy relays TCP only/,
    ],
    [
      "a flow through something else",
      (r: any) => (r.expectedFlows = [{ from: "app", to: "dx-service", port: 443, via: "nat", expect: "allowed" }]),
      /`expectedFlows\[0\].via` = "nat": must be "proxy", or left out for a direct flow/,
    ],
  ])("explains %s", (_what, edit, message) => {
    const raw = production();
    edit(raw);
    expect(problemOf(raw)).toMatch(message);
  });

  it("refuses a flow through the proxy where NAT gateways relay instead", () => {
    const raw = transitGatewayRaw();
    raw.expectedFlows = [{ from: "app", to: "service", port: 80, via: "proxy", expect: "allowed" }];
    expect(problemOf(raw)).toMatch(/`expectedFlows\[0\].via` = "proxy": names the proxy, and with privateNat egress none runs/);
  });
});
