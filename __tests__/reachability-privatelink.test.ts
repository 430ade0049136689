import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EnvironmentConfig, loadEnvironmentFile } from "../lib/config";
import {
  analyzeReachability,
  checkWholeNetwork,
  expectedFlowsOf,
  factsOf,
  flowMismatches,
  formatWholeNetwork,
  Model,
  NetworkVerdict,
  sideOf,
  surroundingsOf,
  verdictFor,
  WholeNetworkResult,
  wholeNetworkFailures,
} from "../proof/reachability";
import { CONFIG_DIR, configFrom, EXAMPLES_DIR, synthEnvironment } from "./helpers/stack";
import { TS_RUNNER } from "../tools/cli";

/** The privatelink demo: two app VPCs on 192.168.0.0/24, each with an endpoint into the proxy fleet's endpoint service. */
const ENV: EnvironmentConfig = loadEnvironmentFile(path.join(CONFIG_DIR, "privatelink.json"));
const SYNTHESIZED = synthEnvironment(ENV).json;
/** A fresh copy of the demo's synthesized JSON, to edit. */
const stack = (): any => JSON.parse(SYNTHESIZED);

const APP1 = "privatelink-app1-server";
const APP2 = "privatelink-app2-server";
const PROXY = "privatelink-proxy";
const SERVICE = "privatelink-service";
const ENDPOINT1 = "privatelink-app1-proxy-endpoint";
const ENDPOINT2 = "privatelink-app2-proxy-endpoint";

/** The logical id of the one resource of `type` whose id contains `part`. */
function idOf(json: any, type: string, part: string): string {
  const ids = Object.keys(json.resource[type] ?? {}).filter((k) => k.includes(part));
  if (ids.length !== 1) throw new Error(`${ids.length} ${type} match ${part}`);
  return ids[0];
}
const ref = (json: any, type: string, part: string, attr = "id") => `\${${type}.${idOf(json, type, part)}.${attr}}`;

/** Adds a resource to the stack's JSON. */
function add(json: any, type: string, name: string, body: object): void {
  json.resource[type] = { ...(json.resource[type] ?? {}), [name]: body };
}

/** A tcp rule on the group whose id contains `group`. */
function rule(json: any, direction: "ingress" | "egress", group: string, port: number, cidr: string): void {
  add(json, `aws_vpc_security_group_${direction}_rule`, `Hole-${direction}-${group}-${port}`, {
    security_group_id: ref(json, "aws_security_group", group),
    ip_protocol: "tcp",
    from_port: port,
    to_port: port,
    cidr_ipv4: cidr,
  });
}

/** A peering between the VPCs whose ids contain `a` and `b`, with a route each way in their tables (`a` to `bCidr`, `b` to `aCidr`). */
function peer(json: any, a: string, aCidr: string, b: string, bCidr: string): void {
  add(json, "aws_vpc_peering_connection", `Hole-${a}-${b}`, { vpc_id: ref(json, "aws_vpc", a), peer_vpc_id: ref(json, "aws_vpc", b) });
  for (const [vpc, cidr] of [
    [a, bCidr],
    [b, aCidr],
  ])
    add(json, "aws_route", `Hole-${vpc}-${cidr.replace(/\W/g, "_")}`, {
      route_table_id: ref(json, "aws_route_table", `${vpc}_RouteTable`),
      destination_cidr_block: cidr,
      vpc_peering_connection_id: `\${aws_vpc_peering_connection.Hole-${a}-${b}.id}`,
    });
}

/** The violations of an invariant in words: "from -> to traffic: what it breaks". */
const broken = (r: WholeNetworkResult, id: string) =>
  r.invariants
    .find((i) => i.id === id)!
    .violations.map((v) => `${v.verdict.from.name} -> ${v.verdict.to.name} ${v.verdict.traffic.label}: ${v.breaks}`);

/** The verdicts from one place to another on a traffic class. */
const verdicts = (r: WholeNetworkResult, from: string, to: string, label: string): NetworkVerdict[] =>
  r.network.verdicts.filter((v) => v.from.name === from && v.to.name === to && v.traffic.label === label);

describe("the privatelink demo's whole network", () => {
  const r = checkWholeNetwork(stack(), ENV);

  it("keeps every invariant and every path, with no route between the VPCs", () => {
    expect(r.invariants.map((i) => [i.id, i.violations.length])).toEqual([
      ["service-sources", 0],
      ["app-isolation", 0],
      ["app-shelter", 0],
      ["proxy-egress", 0],
    ]);
    expect(r.invariants.find((i) => i.id === "app-isolation")!.checked).toBeGreaterThan(0);
    expect(r.paths.map((p) => [`${p.path.from} -> ${p.path.to} ${p.path.port}`, p.allowed])).toEqual([
      [`${APP1} -> ${ENDPOINT1} 3128`, true],
      [`${APP2} -> ${ENDPOINT2} 3128`, true],
      [`${PROXY} -> ${SERVICE} 80`, true],
      [`${PROXY} -> ${SERVICE} 8443`, true],
    ]);
    expect(wholeNetworkFailures(r)).toBe(0);
  });

  it("tells apart the two app VPCs that share 192.168.0.0/24: their servers, endpoints and outsiders are places of their own", () => {
    const names = r.network.places.map((p) => p.name);
    expect(names).toEqual(
      expect.arrayContaining([
        APP1,
        APP2,
        ENDPOINT1,
        ENDPOINT2,
        "outsider in 192.168.0.0/24 (privatelink-app1)",
        "outsider in 192.168.0.0/24 (privatelink-app2)",
      ]),
    );
    expect(new Set(names).size).toBe(names.length);
    const vpcOf = (name: string) => new Set(r.network.places.find((p) => p.name === name)!.spots.map((s) => s.vpc));
    expect(vpcOf(APP1)).not.toEqual(vpcOf(APP2));
    expect(vpcOf(ENDPOINT1)).toEqual(vpcOf(APP1));
    // An endpoint's address is AWS's pick in each of its subnets: the subnet stands for it.
    expect(r.network.places.find((p) => p.name === ENDPOINT1)!.spots.map((s) => s.span)).toEqual([
      "192.168.0.0-192.168.0.127",
      "192.168.0.128-192.168.0.255",
    ]);
  });

  it("knows each spot's app VPC by the VPC's name, not its block", () => {
    const facts = factsOf(ENV);
    const sides = (name: string) => {
      const place = r.network.places.find((p) => p.name === name)!;
      return [...new Set(place.spots.map((s) => JSON.stringify(sideOf(r.network.model, facts, s, place))))];
    };
    expect(sides(APP2)).toEqual([JSON.stringify({ kind: "app", app: "app2" })]);
    expect(sides(ENDPOINT2)).toEqual([JSON.stringify({ kind: "endpoint", app: "app2" })]);
    expect(sides("outsider in 192.168.0.0/24 (privatelink-app1)")).toEqual([JSON.stringify({ kind: "app", app: "app1" })]);
  });

  it("keeps an address fixed in one app VPC free in the other that shares its block", () => {
    const json = stack();
    json.resource.aws_instance[idOf(json, "aws_instance", "App-app1_Server")].private_ip = "192.168.0.20";
    const places = checkWholeNetwork(json, ENV).network.places;
    const spans = (name: string) => places.find((p) => p.name === name)!.spots.map((s) => s.span);
    expect(spans("outsider in 192.168.0.0/24 (privatelink-app1)")).toContain("192.168.0.0-192.168.0.19, 192.168.0.21-192.168.0.127");
    expect(spans("outsider in 192.168.0.0/24 (privatelink-app1)")).not.toContain("192.168.0.20");
    expect(spans("outsider in 192.168.0.0/24 (privatelink-app2)")).toContain("192.168.0.20");
  });

  it("allows each app to the proxy through its own endpoint, the proxy seeing the load balancer's address and the client by PROXY protocol", () => {
    const [toEndpoint] = verdicts(r, APP1, ENDPOINT1, "tcp 3128");
    expect(toEndpoint).toEqual(expect.objectContaining({ allowed: true, complete: true }));
    const text = toEndpoint.reasons.join("\n");
    expect(text).toMatch(/ingress aws_vpc_security_group_ingress_rule\.App-app1_ProxyEndpoint_SecurityGroup_In-192_168_0_0_24-3128/);
    expect(text).toMatch(
      /hands the connection to aws_lb\.Proxy_LoadBalancer_\w+ at 10\.0\.0\.10\/32 over PrivateLink .*no route joins the VPCs/,
    );
    expect(text).toMatch(
      /which sees the source 10\.0\.0\.10\/32; aws_lb_target_group\.\w+ sends PROXY protocol v2, so the proxy's rules and log still see the client 192\.168\.0\.0\/25/,
    );
    expect(text).toMatch(/ingress aws_vpc_security_group_ingress_rule\.Proxy_SecurityGroup_In-privatelink-proxy-lb-3128/);
  });

  it("lets the provider see only the proxy's addresses: the proxy reaches the service, the source in the proxy block", () => {
    const toService = verdicts(r, PROXY, SERVICE, "tcp 80");
    expect(toService.length).toBeGreaterThan(0);
    expect(toService.every((v) => v.allowed && v.seen.startsWith("10.0.0."))).toBe(true);
  });

  it("denies app -> other app (its server, hosts and endpoint), service -> app, and app -> service or proxy directly", () => {
    const denied = (from: string, to: string) => r.network.verdicts.filter((v) => v.from.name === from && v.to.name === to && v.allowed);
    for (const [from, to] of [
      [APP1, APP2],
      [APP2, APP1],
      [APP1, "outsider in 192.168.0.0/24 (privatelink-app2)"],
      [APP1, ENDPOINT2],
      [APP2, ENDPOINT1],
      ["outsider in 192.168.0.0/24 (privatelink-app1)", ENDPOINT2],
      [SERVICE, APP1],
      [SERVICE, ENDPOINT1],
      [PROXY, APP2],
      [APP1, SERVICE],
      [APP1, PROXY],
      [APP1, "aws_lb.Proxy_LoadBalancer_3BF45807"],
    ])
      expect([from, to, denied(from, to)]).toEqual([from, to, []]);
    // The other app's block is the app's own: the local route keeps the packet at home.
    const [crossed] = verdicts(r, APP1, ENDPOINT2, "tcp 3128");
    expect(crossed.reasons.join("\n")).toMatch(
      /BLOCKED: 192\.168\.0\.0\/25 lies in 192\.168\.0\.0\/24, the block of the VPC privatelink-app1-server is in: its local route keeps the packet there/,
    );
  });

  it("takes no port but the listener's through an endpoint", () => {
    expect(verdicts(r, APP1, ENDPOINT1, "tcp 443")).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ allowed: false, reasons: [expect.stringMatching(/has no listener for tcp 443/)] }),
      ]),
    );
  });

  it("keeps each app's path through its endpoint's address in the zone that remains", () => {
    const without = r.zones.find((z) => z.zone === "ap-northeast-1c")!;
    expect(without.paths.map((p) => p.outcome)).toEqual(["survives", "survives", "survives", "survives"]);
    expect(without.invariants.every((i) => i.violations.length === 0)).toBe(true);
    // The app servers run in ap-northeast-1a only: without it their paths are lost, as a single server's are.
    const withoutA = r.zones.find((z) => z.zone === "ap-northeast-1a")!;
    expect(withoutA.paths.slice(0, 2).map((p) => [p.outcome, p.why])).toEqual([
      ["lost", `${APP1} runs only in ap-northeast-1a`],
      ["lost", `${APP2} runs only in ap-northeast-1a`],
    ]);
  });
});

describe("the servers' matrix under PrivateLink", () => {
  const report = analyzeReachability(stack(), surroundingsOf(ENV), [{ protocol: "tcp", port: 3389 }]);
  const verdict = (from: string, to: string, port: number) =>
    report.verdicts.find((v) => v.from === from && v.to === to && v.port === port)!;

  it("reaches the proxy through the client VPC's endpoint, from every subnet to every endpoint address", () => {
    expect(verdict(APP1, PROXY, 3128).allowed).toBe(true);
    expect(verdict(APP1, PROXY, 3128).reasons[0]).toMatch(
      /^for all 2 pairs of subnets, such as 192\.168\.0\.0\/25 to aws_vpc_endpoint\.App-app1_ProxyEndpoint/,
    );
    expect(verdict(APP2, PROXY, 3128).reasons.join("\n")).toMatch(/through aws_vpc_endpoint\.App-app2_ProxyEndpoint/);
  });

  it("judges a port only an expected flow names, and denies it between the app VPCs", () => {
    expect(report.ports).toContain(3389);
    expect(verdict(APP1, APP2, 3389).allowed).toBe(false);
  });
});

describe("the proxy's allowlist behind PrivateLink", () => {
  it("tells the two apps on one block apart by the endpoint each comes through, as the PROXY header does", () => {
    const raw = JSON.parse(fs.readFileSync(path.join(CONFIG_DIR, "privatelink.json"), "utf8"));
    raw.services[0].from = ["app1"];
    raw.expectedFlows = [
      { from: "app1", to: "service", port: 80, via: "proxy", expect: "allowed" },
      { from: "app2", to: "service", port: 80, via: "proxy", expect: "denied" },
    ];
    const env = configFrom(raw);
    const report = analyzeReachability(JSON.parse(synthEnvironment(env).json), surroundingsOf(env));
    expect(report.clientEndpoints).toEqual({
      [APP1]: expect.stringMatching(/^\$\{aws_vpc_endpoint\.App-app1_ProxyEndpoint_\w+\.id\}$/),
      [APP2]: expect.stringMatching(/^\$\{aws_vpc_endpoint\.App-app2_ProxyEndpoint_\w+\.id\}$/),
    });
    const [app1, app2] = expectedFlowsOf(env).map((f) => verdictFor(report, f)!);
    expect(flowMismatches(report, expectedFlowsOf(env))).toEqual([]);
    expect(app1.allowed).toBe(true);
    expect(app1.reasons.join("\n")).toMatch(
      /allowlist \(SSM parameter [^)]+\) allows GET 172\.16\.0\.10:80 from 192\.168\.0\.0\/25 through \$\{aws_vpc_endpoint\.App-app1_ProxyEndpoint/,
    );
    // Both apps reach the proxy and the proxy the service; only the allowlist, by endpoint, refuses app2.
    expect(app2.allowed).toBe(false);
    expect(app2.reasons.filter((r) => r.startsWith("BLOCKED: "))).toEqual([
      expect.stringMatching(/allowlist \(SSM parameter [^)]+\) allows no request from 192\.168\.0\.0\/25 to 172\.16\.0\.10 on 80/),
    ]);
  });
});

describe("each invariant fails on a hand-made hole in the privatelink demo", () => {
  it("a peering with routes between the two app VPCs carries nothing: their shared block is each one's local route", () => {
    // AWS refuses to peer VPCs whose blocks overlap; were it made, the local route would still win.
    const json = stack();
    peer(json, "App-app1_Vpc", "192.168.0.0/24", "App-app2_Vpc", "192.168.0.0/24");
    rule(json, "egress", "App-app1_Server_SecurityGroup", 3389, "192.168.0.0/24");
    rule(json, "ingress", "App-app2_Server_SecurityGroup", 3389, "192.168.0.0/24");
    const r = checkWholeNetwork(json, ENV);
    expect(verdicts(r, APP1, APP2, "tcp 3389").map((v) => v.allowed)).toEqual([false]);
    expect(broken(r, "app-isolation")).toEqual([]);
  });

  it("app-isolation: an app VPC peered with the proxy VPC reaches it directly, not through its endpoint", () => {
    const json = stack();
    peer(json, "App-app1_Vpc", "192.168.0.0/24", "ProxyVpc", "10.0.0.0/24");
    const r = checkWholeNetwork(json, ENV);
    expect(broken(r, "app-isolation")).toContain(
      "outsider in 192.168.0.0/24 (privatelink-app1) -> outsider in 10.0.0.0/24 tcp 0-79: app VPC app1 reaches the proxy VPC directly, not through its endpoint",
    );
  });

  it("app-isolation: an endpoint's group admitting another block lets the service side in through a peering", () => {
    const json = stack();
    peer(json, "App-app1_Vpc", "192.168.0.0/24", "ServiceSide_Vpc", "172.16.0.0/24");
    rule(json, "egress", "ServiceSide_Server_SecurityGroup", 3128, "192.168.0.0/24");
    const routesOnly = checkWholeNetwork(json, ENV);
    expect(broken(routesOnly, "app-isolation").filter((b) => b.includes(ENDPOINT1))).toEqual([]);
    rule(json, "ingress", "App-app1_ProxyEndpoint_SecurityGroup", 3128, "172.16.0.0/24");
    const r = checkWholeNetwork(json, ENV);
    expect(broken(r, "app-isolation")).toContain(`${SERVICE} -> ${ENDPOINT1} tcp 3128: the service side reaches app VPC app1's endpoint`);
    expect(formatWholeNetwork(r)).toMatch(
      /ingress aws_vpc_security_group_ingress_rule\.Hole-ingress-App-app1_ProxyEndpoint_SecurityGroup-3128/,
    );
  });

  it("app-isolation: an endpoint of the proxy's service in a VPC that is not an app VPC", () => {
    const json = stack();
    add(json, "aws_vpc", "Intruder", { cidr_block: "10.9.0.0/24", tags: { Name: "intruder" } });
    add(json, "aws_subnet", "Intruder", {
      vpc_id: "${aws_vpc.Intruder.id}",
      cidr_block: "10.9.0.0/24",
      availability_zone: "ap-northeast-1a",
    });
    add(json, "aws_security_group", "Intruder", { vpc_id: "${aws_vpc.Intruder.id}" });
    rule(json, "ingress", "Intruder", 3128, "10.9.0.0/24");
    add(json, "aws_vpc_endpoint", "Intruder", {
      vpc_id: "${aws_vpc.Intruder.id}",
      vpc_endpoint_type: "Interface",
      service_name: ref(json, "aws_vpc_endpoint_service", "EndpointService", "service_name"),
      subnet_ids: ["${aws_subnet.Intruder.id}"],
      security_group_ids: ["${aws_security_group.Intruder.id}"],
    });
    const r = checkWholeNetwork(json, ENV);
    expect(broken(r, "app-isolation")).toContain(
      "outsider in 10.9.0.0/24 -> aws_vpc_endpoint.Intruder tcp 3128: the outside reaches the proxy through aws_vpc_endpoint.Intruder, an endpoint in a VPC that is not an app VPC",
    );
  });

  it("service-sources: an app VPC peered with the service, with a rule each side, is seen from its own block", () => {
    const json = stack();
    peer(json, "App-app2_Vpc", "192.168.0.0/24", "ServiceSide_Vpc", "172.16.0.0/24");
    rule(json, "egress", "App-app2_Server_SecurityGroup", 80, "172.16.0.0/24");
    rule(json, "ingress", "ServiceSide_Server_SecurityGroup", 80, "192.168.0.0/24");
    const r = checkWholeNetwork(json, ENV);
    expect(broken(r, "service-sources")).toContain(
      `${APP2} -> ${SERVICE} tcp 80: the service side sees 192.168.0.0/25, outside the proxy block 10.0.0.0/24`,
    );
    // The other app VPC, which shares the block, has no such path.
    expect(verdicts(r, APP1, SERVICE, "tcp 80").map((v) => v.allowed)).toEqual([false]);
  });

  it("app-shelter: the proxy VPC peered with an app VPC and a rule into its server", () => {
    const json = stack();
    peer(json, "App-app2_Vpc", "192.168.0.0/24", "ProxyVpc", "10.0.0.0/24");
    rule(json, "egress", "Proxy_SecurityGroup", 3389, "192.168.0.0/24");
    rule(json, "ingress", "App-app2_Server_SecurityGroup", 3389, "10.0.0.0/24");
    const r = checkWholeNetwork(json, ENV);
    expect(broken(r, "app-shelter")).toContain(`${PROXY} -> ${APP2} tcp 3389: the proxy VPC reaches app VPC app2`);
    expect(broken(r, "app-shelter").some((b) => b.includes(APP1))).toBe(false);
  });

  it("proxy-egress: a proxy rule into the service VPC on a port no service lists", () => {
    const json = stack();
    rule(json, "egress", "Proxy_SecurityGroup", 22, "172.16.0.0/24");
    const r = checkWholeNetwork(json, ENV);
    expect(broken(r, "proxy-egress")).toContain(
      `${PROXY} -> outsider in 172.16.0.0/24 tcp 22: the proxy VPC reaches 172.16.0.0/32 on tcp 22, not a service port`,
    );
  });
});

describe("what PrivateLink itself decides", () => {
  it("the load balancer's groups judge PrivateLink traffic by the client's address when enforcement is on", () => {
    const json = stack();
    json.resource.aws_lb[idOf(json, "aws_lb", "LoadBalancer")].enforce_security_group_inbound_rules_on_private_link_traffic = "on";
    const r = checkWholeNetwork(json, ENV);
    const failing = r.paths.find((p) => p.path.to === ENDPOINT1)!;
    expect(failing.allowed).toBe(false);
    expect(failing.failing!.reasons).toContainEqual(
      expect.stringMatching(/^BLOCKED: no ingress rule of aws_lb\.\w+ allows tcp 3128 from 192\.168\.0\.0\/25 \(the client's address/),
    );
    rule(json, "ingress", "Proxy_LoadBalancerSecurityGroup", 3128, "192.168.0.0/24");
    expect(wholeNetworkFailures(checkWholeNetwork(json, ENV))).toBe(0);
  });

  it("an endpoint address in a zone where the load balancer has no node takes nothing", () => {
    const json = stack();
    const lb = json.resource.aws_lb[idOf(json, "aws_lb", "LoadBalancer")];
    lb.subnet_mapping = lb.subnet_mapping.slice(0, 1);
    const r = checkWholeNetwork(json, ENV);
    const blocked = verdicts(r, APP1, ENDPOINT1, "tcp 3128").find((v) => v.toSpot.span === "192.168.0.128-192.168.0.255")!;
    expect(blocked.allowed).toBe(false);
    expect(blocked.reasons).toContainEqual(
      expect.stringMatching(
        /BLOCKED: aws_lb\.\w+ has no node in ap-northeast-1c, where aws_vpc_endpoint\.App-app1_ProxyEndpoint_\w+ has this address/,
      ),
    );
    expect(r.paths.find((p) => p.path.to === ENDPOINT1)!.allowed).toBe(false);
  });

  it("an endpoint in one zone only is lost with it, reported and not a violation, while the other app keeps its path", () => {
    const json = stack();
    const endpoint = json.resource.aws_vpc_endpoint[idOf(json, "aws_vpc_endpoint", "App-app1_ProxyEndpoint")];
    endpoint.subnet_ids = endpoint.subnet_ids.slice(1);
    const r = checkWholeNetwork(json, ENV);
    const without = r.zones.find((z) => z.zone === "ap-northeast-1c")!;
    expect(without.paths.map((p) => [p.path.from, p.outcome, p.why])).toEqual([
      [APP1, "lost", `${ENDPOINT1} runs only in ap-northeast-1c`],
      [APP2, "survives", undefined],
      [PROXY, "survives", undefined],
      [PROXY, "survives", undefined],
    ]);
    expect(wholeNetworkFailures(r)).toBe(0);
  });

  it("an endpoint whose connection waits for acceptance carries nothing until the stack accepts it", () => {
    const raw = JSON.parse(fs.readFileSync(path.join(CONFIG_DIR, "privatelink.json"), "utf8"));
    raw.connectivity.acceptanceRequired = true;
    const env = configFrom(raw);
    const json = JSON.parse(synthEnvironment(env).json);
    expect(wholeNetworkFailures(checkWholeNetwork(json, env))).toBe(0);
    delete json.resource.aws_vpc_endpoint_connection_accepter[idOf(json, "aws_vpc_endpoint_connection_accepter", "App-app2")];
    const r = checkWholeNetwork(json, env);
    expect(r.paths.filter((p) => !p.allowed).map((p) => p.path.to)).toEqual([ENDPOINT2]);
    expect(verdicts(r, APP2, ENDPOINT2, "tcp 3128")[0].reasons).toEqual([
      expect.stringMatching(
        /^BLOCKED: aws_vpc_endpoint\.App-app2_ProxyEndpoint_\w+ waits for its connection to be accepted: aws_vpc_endpoint_service\.\w+ requires acceptance, and no aws_vpc_endpoint_connection_accepter of the stack names it$/,
      ),
    ]);
  });

  it("refuses resources that change an endpoint's subnets or groups, which it does not read", () => {
    const json = stack();
    add(json, "aws_vpc_endpoint_subnet_association", "More", {
      vpc_endpoint_id: ref(json, "aws_vpc_endpoint", "App-app1_ProxyEndpoint"),
      subnet_id: "subnet-0123456789abcdef0",
    });
    expect(() => new Model(json)).toThrow(
      /does not read aws_vpc_endpoint_subnet_association\.More \(gives an interface endpoint an address in another subnet\)/,
    );
  });

  it("refuses network ACLs on the load balancer's subnets, whose view of PrivateLink traffic is not documented", () => {
    const json = stack();
    add(json, "aws_network_acl", "Hole", {
      vpc_id: ref(json, "aws_vpc", "ProxyVpc"),
      subnet_ids: [ref(json, "aws_subnet", "ProxyVpc_ap-northeast-1a")],
      ingress: [],
      egress: [],
    });
    expect(() => new Model(json)).toThrow(
      /does not read network ACLs on the subnets of a load balancer behind an endpoint service, such as aws_network_acl\.Hole/,
    );
  });
});

describe("existing app VPCs under PrivateLink", () => {
  it("places an endpoint in subnets given by id, and keeps two existing VPCs on one block apart, one in another account", () => {
    const raw = JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, "cross-account.json"), "utf8"));
    raw.connectivity = { type: "privateLink" };
    raw.proxyVpc.subnets.push({ availabilityZone: "ap-northeast-1c", cidr: "10.20.0.128/25" });
    raw.proxy.fleet = { size: 2 };
    raw.appVpcs[0].existing.endpointSubnetIds = ["subnet-0aaa1111bbbb2222c"];
    delete raw.appVpcs[0].existing.routeTableIds;
    raw.appVpcs.push({
      name: "ledger",
      cidr: raw.appVpcs[0].cidr,
      existing: { vpcId: "vpc-0f0e0d0c0b0a09080", endpointSubnetIds: ["subnet-0ccc3333dddd4444e"] },
    });
    const env = configFrom(raw);
    const r = checkWholeNetwork(JSON.parse(synthEnvironment(env).json), env);
    expect(r.paths.map((p) => [`${p.path.from} -> ${p.path.to}`, p.allowed])).toEqual([
      ["cross-account-payments (192.168.20.0/24) -> cross-account-payments-proxy-endpoint", true],
      ["cross-account-ledger (192.168.20.0/24) -> cross-account-ledger-proxy-endpoint", true],
      ["cross-account-proxy -> clearing (172.31.200.0/24)", true],
    ]);
    expect(wholeNetworkFailures(r)).toBe(0);
    // A subnet given by id stands in with its VPC's block; its zone is unknown, so every node of the load balancer must take it.
    const endpoint = r.network.places.find((p) => p.name === "cross-account-payments-proxy-endpoint")!;
    expect(endpoint.spots.map((s) => [s.subnet, s.span])).toEqual([["subnet-0aaa1111bbbb2222c", "192.168.20.0-192.168.20.255"]]);
    const [through] = verdicts(r, "cross-account-payments (192.168.20.0/24)", endpoint.name, "tcp 3128");
    expect(through.reasons.join("\n")).toMatch(/then to the target in 10\.20\.0\.0\/25 \(4 of 4 like it\)/);
    expect(verdicts(r, "cross-account-payments (192.168.20.0/24)", "cross-account-ledger-proxy-endpoint", "tcp 3128")[0].allowed).toBe(
      false,
    );
  });
});

describe("npm run reachability -- --all on the privatelink demo", () => {
  it("passes its expected flows and whole network as CI runs it", () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "reach-pl-")), "privatelink");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "cdk.tf.json"), SYNTHESIZED);
    const r = spawnSync(process.execPath, [TS_RUNNER, path.join(__dirname, "..", "scripts", "reachability.ts"), "--all", dir], {
      cwd: path.join(__dirname, ".."),
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, PROXY_CONFIG: "" },
    });
    expect(r.stdout).toMatch(/^PASS expected privatelink-app1-server -> privatelink-app2-server:3389 denied$/m);
    expect(r.stdout).toMatch(/^PASS invariant app-isolation: no app VPC reaches another app VPC or anything in the proxy VPC directly/m);
    expect(r.stdout).toMatch(/^reachability: 11 passed, 0 failed$/m);
    expect(r.stdout).toMatch(/^whole network: 1 stack\(s\), \d+ verdicts, 0 failure\(s\)$/m);
    expect(r.status).toBe(0);
  });
});
