import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EnvironmentConfig, loadEnvironmentFile } from "../lib/config";
import {
  checkWholeNetwork,
  formatWholeNetwork,
  InvariantResult,
  WholeNetworkResult,
  wholeNetworkFailures,
  ZoneResult,
} from "../proof/reachability";
import { CONFIG_DIR, configFrom, EXAMPLES_DIR, fleetRaw, synthEnvironment } from "./helpers/stack";
import { TS_RUNNER } from "../tools/cli";

/** Every shipped environment: the demos and the examples. */
const SHIPPED = [
  ...fs.readdirSync(CONFIG_DIR).map((f) => path.join(CONFIG_DIR, f)),
  ...fs.readdirSync(EXAMPLES_DIR).map((f) => path.join(EXAMPLES_DIR, f)),
].filter((f) => f.endsWith(".json"));

/** Each environment synthesized once for the suite; tests edit fresh copies of the JSON. */
const synthesized = new Map<string, { env: EnvironmentConfig; json: string }>();
function stackOf(env: EnvironmentConfig): { env: EnvironmentConfig; json: any } {
  const key = JSON.stringify(env);
  if (!synthesized.has(key)) synthesized.set(key, { env, json: synthEnvironment(env).json });
  return { env, json: JSON.parse(synthesized.get(key)!.json) };
}
const shipped = (file: string) => stackOf(loadEnvironmentFile(file));
const demo = (name: string) => shipped(path.join(CONFIG_DIR, `${name}.json`));

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

/** A security group rule (aws_vpc_security_group_*_rule) on the group whose id contains `group`. */
function rule(json: any, direction: "ingress" | "egress", group: string, port: number, cidr: string): void {
  add(json, `aws_vpc_security_group_${direction}_rule`, `Hole-${direction}-${group}-${port}`, {
    security_group_id: ref(json, "aws_security_group", group),
    ip_protocol: "tcp",
    from_port: port,
    to_port: port,
    cidr_ipv4: cidr,
  });
}

/** A route in the table whose id contains `table`, to `target` (a reference). */
function route(json: any, table: string, cidr: string, target: Record<string, string>): void {
  add(json, "aws_route", `Hole-${table}-${cidr.replace(/\W/g, "_")}`, {
    route_table_id: ref(json, "aws_route_table", table),
    destination_cidr_block: cidr,
    ...target,
  });
}

/** A peering between the verification demo's app VPC and service VPC, with a route each way. */
function peerAppWithService(json: any): void {
  add(json, "aws_vpc_peering_connection", "Hole", {
    vpc_id: ref(json, "aws_vpc", "App-app_Vpc"),
    peer_vpc_id: ref(json, "aws_vpc", "ServiceSide_Vpc"),
  });
  const peering = { vpc_peering_connection_id: "${aws_vpc_peering_connection.Hole.id}" };
  route(json, "App-app_Vpc_RouteTable", "172.16.0.0/24", peering);
  route(json, "ServiceSide_Vpc_RouteTable", "192.168.0.0/24", peering);
}

const invariant = (r: WholeNetworkResult | ZoneResult, id: string): InvariantResult => r.invariants.find((i) => i.id === id)!;
/** The violations of an invariant in words: "from -> to traffic: what it breaks". */
const broken = (r: WholeNetworkResult, id: string) =>
  invariant(r, id).violations.map((v) => `${v.verdict.from.name} -> ${v.verdict.to.name} ${v.verdict.traffic.label}: ${v.breaks}`);

describe("the whole network of every shipped environment", () => {
  it.each(SHIPPED.map((f) => [path.relative(path.join(CONFIG_DIR, ".."), f), f]))(
    "%s keeps every invariant, allows every path it needs, and loses none to a zone that the egress survives",
    (_name, file) => {
      const { env, json } = shipped(file);
      const r = checkWholeNetwork(json, env);
      expect(r.invariants.map((i) => [i.id, i.violations.length])).toEqual([
        ["service-sources", 0],
        ["app-isolation", 0],
        ["app-shelter", 0],
        ["proxy-egress", 0],
      ]);
      expect(r.paths.length).toBeGreaterThan(0);
      expect(r.paths.filter((p) => !p.allowed)).toEqual([]);
      expect(wholeNetworkFailures(r)).toBe(0);
      // Every service is reached by something, so the service-sources invariant examined real flows.
      expect(invariant(r, "service-sources").checked).toBeGreaterThan(0);
    },
  );

  it("splits ports into the classes the rules tell apart, and the proxy's subnet around the addresses others hold", () => {
    const { env, json } = demo("verification");
    const r = checkWholeNetwork(json, env);
    expect(r.network.traffic.map((t) => t.label)).toEqual([
      "tcp 0-52",
      "tcp 53",
      "tcp 54-79",
      "tcp 80",
      "tcp 81-442",
      "tcp 443",
      "tcp 444-3127",
      "tcp 3128",
      "tcp 3129-8079",
      "tcp 8080",
      "tcp 8081-8442",
      "tcp 8443",
      "tcp 8444-65535",
      "udp 0-52",
      "udp 53",
      "udp 54-65535",
      "any other protocol",
    ]);
    const outsider = r.network.places.find((p) => p.name === "outsider in 10.0.0.0/24")!;
    expect(outsider.spots.map((s) => s.span).sort()).toEqual([
      "10.0.0.0-10.0.0.9, 10.0.0.11-10.0.0.127",
      "10.0.0.128-10.0.0.143",
      "10.0.0.144-10.0.0.159",
    ]);
    expect(r.network.places.map((p) => p.kind)).toEqual(expect.arrayContaining(["server", "outsider", "outside", "repositories"]));
  });
});

describe("each invariant fails on a hand-made hole", () => {
  it("service-sources: an app VPC peered with the service, with a rule each side on 5432, is seen from outside the proxy block", () => {
    const { env, json } = demo("verification");
    peerAppWithService(json);
    rule(json, "egress", "App-app_Server_SecurityGroup", 5432, "172.16.0.0/24");
    rule(json, "ingress", "ServiceSide_Server_SecurityGroup", 5432, "192.168.0.0/24");
    const r = checkWholeNetwork(json, env);
    expect(broken(r, "service-sources")).toContain(
      "verification-app-server -> verification-service tcp 5432: the service side sees 192.168.0.0/25, outside the proxy block 10.0.0.0/24",
    );
    const text = formatWholeNetwork(r);
    expect(text).toMatch(/FAIL invariant service-sources/);
    // The path, with the rules and routes along it.
    expect(text).toMatch(/egress aws_vpc_security_group_egress_rule\.Hole-egress-App-app_Server_SecurityGroup-5432/);
    expect(text).toMatch(/aws_route\.Hole-App-app_Vpc_RouteTable-172_16_0_0_24: 172\.16\.0\.0\/24 via aws_vpc_peering_connection\.Hole/);
    expect(text).toMatch(/ingress aws_vpc_security_group_ingress_rule\.Hole-ingress-ServiceSide_Server_SecurityGroup-5432/);
  });

  it("service-sources: a rule each side on 5432 through the private NAT reaches the service on a port no service lists", () => {
    const { env, json } = demo("transit-gateway");
    rule(json, "egress", "App-app_Server_SecurityGroup", 5432, "172.16.0.0/24");
    rule(json, "ingress", "ServiceSide_Server_SecurityGroup", 5432, "10.0.0.0/24");
    const r = checkWholeNetwork(json, env);
    expect(broken(r, "service-sources")).toContain(
      "transit-gateway-app-server -> transit-gateway-service tcp 5432: tcp 5432 is not a port of the service at 172.16.0.10/32",
    );
    expect(checkWholeNetwork(demo("transit-gateway").json, env).invariants.every((i) => i.violations.length === 0)).toBe(true);
  });

  it("app-isolation and app-shelter: a Transit Gateway route each way between the app VPCs and a rule on 22", () => {
    const { env, json } = demo("transit-gateway");
    const apps = ref(json, "aws_ec2_transit_gateway_route_table", "AppsTable");
    for (const [cidr, attachment] of [
      ["192.168.1.0/24", "App-app2Attachment"],
      ["192.168.0.0/24", "App-appAttachment"],
    ]) {
      add(json, "aws_ec2_transit_gateway_route", `Hole-${attachment}`, {
        transit_gateway_route_table_id: apps,
        destination_cidr_block: cidr,
        transit_gateway_attachment_id: ref(json, "aws_ec2_transit_gateway_vpc_attachment", attachment),
      });
    }
    const tgw = { transit_gateway_id: ref(json, "aws_ec2_transit_gateway", "TransitGateway") };
    route(json, "App-app_Vpc_RouteTable", "192.168.1.0/24", tgw);
    route(json, "App-app2_Vpc_RouteTable", "192.168.0.0/24", tgw);
    rule(json, "egress", "App-app_Server_SecurityGroup", 22, "192.168.1.0/24");
    rule(json, "ingress", "App-app2_Server_SecurityGroup", 22, "192.168.0.0/24");
    const r = checkWholeNetwork(json, env);
    expect(broken(r, "app-isolation")).toContain(
      "transit-gateway-app-server -> transit-gateway-app2-server tcp 22: app VPC app reaches app VPC app2",
    );
    expect(broken(r, "app-shelter")).toContain(
      "transit-gateway-app-server -> transit-gateway-app2-server tcp 22: app VPC app reaches app VPC app2",
    );
    // Kept by routes: hosts the stack does not build are caught too.
    expect(broken(r, "app-isolation")).toContain(
      "outsider in 192.168.0.0/24 -> outsider in 192.168.1.0/24 tcp 0-21: app VPC app reaches app VPC app2",
    );
  });

  it("app-shelter: a service-side rule into the app server, over a peering with routes", () => {
    const { env, json } = demo("verification");
    peerAppWithService(json);
    rule(json, "egress", "ServiceSide_Server_SecurityGroup", 22, "192.168.0.0/24");
    rule(json, "ingress", "App-app_Server_SecurityGroup", 22, "172.16.0.0/24");
    const r = checkWholeNetwork(json, env);
    expect(broken(r, "app-shelter")).toContain(
      "verification-service -> verification-app-server tcp 22: the service side reaches app VPC app",
    );
    expect(formatWholeNetwork(r)).toMatch(/ingress aws_vpc_security_group_ingress_rule\.Hole-ingress-App-app_Server_SecurityGroup-22/);
  });

  it("proxy-egress: a proxy rule and a route to a block beyond the gateway that is not a service's", () => {
    const { env, json } = shipped(path.join(EXAMPLES_DIR, "production.json"));
    rule(json, "egress", "Proxy_SecurityGroup", 443, "172.31.200.0/24");
    route(json, "ProxyVpc_RouteTable", "172.31.200.0/24", { gateway_id: ref(json, "aws_vpn_gateway", "DirectConnect") });
    const r = checkWholeNetwork(json, env);
    expect(broken(r, "proxy-egress")).toContain(
      "production-proxy -> outside every block tcp 443: the proxy VPC reaches 172.31.200.0/32 (outside every block) on tcp 443",
    );
  });

  it("proxy-egress and app-shelter: a proxy rule to an app VPC, whose route the replies already need", () => {
    const { env, json } = demo("verification");
    rule(json, "egress", "Proxy_Server_SecurityGroup", 22, "192.168.0.0/24");
    const r = checkWholeNetwork(json, env);
    expect(broken(r, "proxy-egress")).toContain(
      "verification-proxy -> outsider in 192.168.0.0/24 tcp 22: the proxy VPC reaches 192.168.0.0/25 (outsider in 192.168.0.0/24) on tcp 22",
    );
    expect(broken(r, "app-shelter")).toContain(
      "verification-proxy -> outsider in 192.168.0.0/24 tcp 22: the proxy VPC reaches app VPC app",
    );
  });

  it("names the settings that block a path the environment needs", () => {
    const { env, json } = demo("verification");
    delete json.resource.aws_vpc_security_group_ingress_rule[
      idOf(json, "aws_vpc_security_group_ingress_rule", "Proxy_Server_SecurityGroup_In")
    ];
    const r = checkWholeNetwork(json, env);
    expect(wholeNetworkFailures(r)).toBeGreaterThan(0);
    expect(formatWholeNetwork(r)).toMatch(
      /FAIL path verification-app-server -> verification-proxy: tcp 3128 allowed \(an app VPC to the proxy\)\n.*blocked by:\n\s+BLOCKED: no ingress rule of verification-proxy allows tcp 3128 from 192\.168\.0\.0\/25/,
    );
  });
});

describe("each zone taken out in turn", () => {
  /** The fleet with its app VPC in both zones. */
  function fleetInTwoZones(): { env: EnvironmentConfig; json: any } {
    const raw = fleetRaw();
    raw.dns.forward[0].servers = ["172.16.0.138"];
    raw.appVpcs[0].subnets = [
      { availabilityZone: "ap-northeast-1c", cidr: "192.168.0.128/25" },
      { availabilityZone: "ap-northeast-1a", cidr: "192.168.0.0/25" },
    ];
    raw.serviceSide.vpc.subnets = [
      { availabilityZone: "ap-northeast-1c", cidr: "172.16.0.128/25" },
      { availabilityZone: "ap-northeast-1a", cidr: "172.16.0.0/25" },
    ];
    return stackOf(configFrom(raw));
  }

  /** The Transit Gateway demo in two zones, its app servers and service in ap-northeast-1c. */
  function transitGatewayInTwoZones(): { env: EnvironmentConfig; json: any } {
    const raw = JSON.parse(fs.readFileSync(path.join(CONFIG_DIR, "transit-gateway.json"), "utf8"));
    raw.connectivity.attachmentSubnets.push({ availabilityZone: "ap-northeast-1c", cidr: "10.0.0.224/28" });
    raw.proxyVpc.subnets = [
      { availabilityZone: "ap-northeast-1a", cidr: "10.0.0.0/26" },
      { availabilityZone: "ap-northeast-1c", cidr: "10.0.0.64/26" },
    ];
    raw.appVpcs.forEach((a: any, i: number) => a.subnets.unshift({ availabilityZone: "ap-northeast-1c", cidr: `192.168.${i}.128/25` }));
    raw.serviceSide.vpc.subnets = [{ availabilityZone: "ap-northeast-1c", cidr: "172.16.0.128/25" }];
    raw.services[0].cidr = "172.16.0.0/24";
    return stackOf(configFrom(raw));
  }

  const zone = (r: WholeNetworkResult, name: string) => r.zones.find((z) => z.zone === name)!;
  const outcomes = (z: ZoneResult) => z.paths.map((p) => p.outcome);

  it("the fleet keeps every path without either zone", () => {
    const { env, json } = fleetInTwoZones();
    const r = checkWholeNetwork(json, env);
    expect(r.egressZones).toEqual(["ap-northeast-1a", "ap-northeast-1c"]);
    expect(outcomes(zone(r, "ap-northeast-1a")).every((o) => o === "survives")).toBe(true);
    expect(zone(r, "ap-northeast-1a").invariants.every((i) => i.violations.length === 0)).toBe(true);
    expect(wholeNetworkFailures(r)).toBe(0);
  });

  it("a fleet whose load balancer has an address in one zone only breaks when that zone goes", () => {
    const { env, json } = fleetInTwoZones();
    const lb = json.resource.aws_lb[idOf(json, "aws_lb", "LoadBalancer")];
    lb.subnet_mapping = lb.subnet_mapping.slice(0, 1);
    const r = checkWholeNetwork(json, env);
    expect(r.paths.every((p) => p.allowed)).toBe(true);
    const without = zone(r, "ap-northeast-1a");
    expect(without.paths.find((p) => p.outcome === "broken")?.why).toBe(
      "aws_lb.Proxy_LoadBalancer_3BF45807 runs only in ap-northeast-1a, though the egress runs in ap-northeast-1c too",
    );
    expect(wholeNetworkFailures(r)).toBeGreaterThan(0);
  });

  it("the single proxy's zone takes its paths with it: reported as lost, not a violation", () => {
    const { env, json } = demo("verification");
    const r = checkWholeNetwork(json, env);
    const lost = zone(r, "ap-northeast-1a").paths.find((p) => p.path.from === "verification-proxy");
    expect(lost).toEqual(
      expect.objectContaining({
        outcome: "lost",
        why: "verification-proxy runs only in ap-northeast-1a: the egress runs in that zone only, so losing it loses the path",
      }),
    );
    expect(wholeNetworkFailures(r)).toBe(0);
  });

  it("the Transit Gateway demo, in one zone, loses its paths with it; in two, a NAT gateway per zone keeps them", () => {
    const one = checkWholeNetwork(demo("transit-gateway").json, demo("transit-gateway").env);
    expect(outcomes(zone(one, "ap-northeast-1a")).every((o) => o === "lost")).toBe(true);
    const { env, json } = transitGatewayInTwoZones();
    const two = checkWholeNetwork(json, env);
    expect(two.egressZones).toEqual(["ap-northeast-1a", "ap-northeast-1c"]);
    expect(outcomes(zone(two, "ap-northeast-1a"))).toEqual(["survives", "survives", "survives", "survives"]);
    expect(wholeNetworkFailures(two)).toBe(0);
  });

  it("the Transit Gateway breaks without a zone when the other zone's attachment subnet sends to this zone's NAT gateway", () => {
    // Both zones keep a NAT gateway, so the egress claims both; only the routes do not use the second.
    const { env, json } = transitGatewayInTwoZones();
    const natA = ref(json, "aws_nat_gateway", "Nat-ap-northeast-1a");
    for (const r of Object.values<any>(json.resource.aws_route)) if (r.nat_gateway_id) r.nat_gateway_id = natA;
    const r = checkWholeNetwork(json, env);
    expect(r.paths.every((p) => p.allowed)).toBe(true);
    const without = zone(r, "ap-northeast-1a");
    expect(outcomes(without)).toEqual(["broken", "broken", "broken", "broken"]);
    expect(without.paths[0].failing?.reasons.join("\n")).toMatch(
      /aws_nat_gateway\.PrivateNat_Nat-ap-northeast-1a_\w+, lost with ap-northeast-1a/,
    );
  });
});

describe("npm run reachability -- --all", () => {
  it("checks the whole network, fails on a hole with its path, and prints the elapsed time", () => {
    const { json } = demo("verification");
    rule(json, "egress", "Proxy_Server_SecurityGroup", 22, "192.168.0.0/24");
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "reach-all-")), "verification");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "cdk.tf.json"), JSON.stringify(json));
    const r = spawnSync(process.execPath, [TS_RUNNER, path.join(__dirname, "..", "scripts", "reachability.ts"), "--all", dir], {
      cwd: path.join(__dirname, ".."),
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, PROXY_CONFIG: "" },
    });
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^reachability: 13 passed, 0 failed$/m);
    expect(r.stdout).toMatch(/^FAIL invariant proxy-egress: /m);
    expect(r.stdout).toMatch(/^\s+egress aws_vpc_security_group_egress_rule\.Hole-egress-Proxy_Server_SecurityGroup-22$/m);
    expect(r.stdout).toMatch(/^whole network: 1 stack\(s\), \d+ verdicts, [1-9]\d* failure\(s\)$/m);
    expect(r.stdout).toMatch(/^elapsed: \d+\.\d\d s$/m);
  });
});
