import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { analyzeReachability, describeMismatch, flowMismatches, formatMatrix, portLabel, Verdict } from "../proof/reachability";
import { configFrom, fleetRaw, synthEnvironment } from "./helpers/stack";
import { TS_RUNNER } from "../tools/cli";

const APP = "verification-app-server";
const PROXY = "verification-proxy";
const SERVICE = "verification-service";
const RESOLVER = "verification-proxy-resolver";

/** A fresh copy of the verification stack's JSON. */
function stack(): any {
  return JSON.parse(synthEnvironment().json);
}

function verdict(json: any, from: string, to: string, port: number, protocol: "tcp" | "udp" = "tcp"): Verdict {
  const v = analyzeReachability(json).verdicts.find((x) => x.from === from && x.to === to && x.port === port && x.protocol === protocol);
  if (!v) throw new Error(`no verdict for ${from} -> ${to}:${port}`);
  return v;
}

/** The logical id of the single resource of `type` whose id contains `part`. */
function idOf(json: any, type: string, part: string): string {
  const ids = Object.keys(json.resource[type]).filter((k) => k.includes(part));
  if (ids.length !== 1) throw new Error(`${ids.length} ${type} match ${part}`);
  return ids[0];
}

describe("analyzeReachability on the verification stack", () => {
  const json = stack();
  const report = analyzeReachability(json);

  it("finds the three instances, the resolver endpoint, and the TCP and UDP ports their security groups mention", () => {
    expect(report.endpoints.map((e) => e.name).sort()).toEqual([APP, PROXY, RESOLVER, SERVICE]);
    expect(report.ports).toEqual([53, 80, 443, 3128, 8080, 8443]);
    expect(report.udpPorts).toEqual([53]);
    expect(report.endpoints.find((e) => e.name === PROXY)?.range).toBe("10.0.0.10/32");
    expect(report.endpoints.find((e) => e.name === SERVICE)?.range).toBe("172.16.0.10/32");
    expect(report.endpoints.find((e) => e.name === APP)?.range).toBe("192.168.0.0/25");
    // The endpoint has an address in each of its two subnets, in two zones.
    expect(report.endpoints.find((e) => e.name === RESOLVER)?.placements.map((p) => p.range)).toEqual(["10.0.0.128/28", "10.0.0.144/28"]);
  });

  it("allows exactly the designed flows: app to proxy on 3128, proxy to service on 80, 8080 and 8443, resolver to service on DNS", () => {
    const allowed = report.verdicts.filter((v) => v.allowed).map((v) => `${v.from}->${v.to}:${portLabel(v.protocol, v.port)}`);
    expect(allowed).toEqual([
      `${APP}->${PROXY}:3128`,
      `${PROXY}->${SERVICE}:80`,
      `${PROXY}->${SERVICE}:8080`,
      `${PROXY}->${SERVICE}:8443`,
      `${RESOLVER}->${SERVICE}:53`,
      `${RESOLVER}->${SERVICE}:53/udp`,
    ]);
  });

  it("lets DNS through over UDP from both of the endpoint's subnets, and not from the proxy or the app", () => {
    const dns = verdict(json, RESOLVER, SERVICE, 53, "udp");
    expect(dns.reasons[0]).toBe("for all 2 pairs of subnets, such as 10.0.0.128/28 to 172.16.0.10/32:");
    expect(dns.reasons).toContainEqual(
      expect.stringMatching(/^egress aws_vpc_security_group_egress_rule\.DnsForwarding_SecurityGroup_Out-172_16_0_10_32-udp-53/),
    );
    expect(dns.reasons).toContainEqual(
      expect.stringMatching(/^ingress aws_vpc_security_group_ingress_rule\.ServiceSide_Server_SecurityGroup_In-10_0_0_0_24-udp-53/),
    );
    expect(verdict(json, PROXY, SERVICE, 53, "udp").reasons).toContain(
      `BLOCKED: no egress rule of ${PROXY} allows udp 53 to 172.16.0.10/32`,
    );
    expect(verdict(json, APP, SERVICE, 53, "udp").allowed).toBe(false);
  });

  it("loses DNS over UDP, and keeps it over TCP, when the endpoint's UDP rule is gone", () => {
    const edited = stack();
    delete edited.resource.aws_vpc_security_group_egress_rule[
      idOf(edited, "aws_vpc_security_group_egress_rule", "DnsForwarding_SecurityGroup_Out-172_16_0_10_32-udp-53")
    ];
    expect(verdict(edited, RESOLVER, SERVICE, 53, "udp").reasons).toContain(
      `BLOCKED: no egress rule of ${RESOLVER} allows udp 53 to 172.16.0.10/32`,
    );
    expect(verdict(edited, RESOLVER, SERVICE, 53, "tcp").allowed).toBe(true);
  });

  it("explains an allowed flow with the rules and routes it uses, both ways", () => {
    const v = verdict(json, APP, PROXY, 3128);
    expect(v.reasons).toEqual([
      expect.stringMatching(/^egress aws_vpc_security_group_egress_rule\.App-app_Server_SecurityGroup_Out-10_0_0_10_32-3128/),
      expect.stringMatching(
        /^aws_route\.App-app_Peering_RequesterRoutes_\S+: 10\.0\.0\.0\/24 via aws_vpc_peering_connection\.App-app_Peering/,
      ),
      expect.stringMatching(/^ingress aws_vpc_security_group_ingress_rule\.Proxy_Server_SecurityGroup_In-192_168_0_0_24-3128/),
      expect.stringMatching(/^replies: aws_route\.App-app_Peering_AccepterRoutes_\S+: 192\.168\.0\.0\/24/),
    ]);
  });

  it("denies the app the service, for want of a route and of rules", () => {
    const v = verdict(json, APP, SERVICE, 80);
    expect(v.allowed).toBe(false);
    expect(v.reasons).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^BLOCKED: no egress rule of verification-app-server allows tcp 80/),
        expect.stringMatching(/^BLOCKED: no route in .* to 172\.16\.0\.10\/32/),
      ]),
    );
  });

  it("prints a matrix with a row per pair and a column per port, UDP last", () => {
    const matrix = formatMatrix(report).split("\n");
    expect(matrix[0]).toMatch(/^from -> to\s+\|\s+53 \|\s+80 \|\s+443 \|\s+3128 \|\s+8080 \|\s+8443 \| 53\/udp$/);
    expect(matrix.find((l) => l.startsWith(`${APP} -> ${PROXY} `))).toMatch(
      /\|\s+-\s+\|\s+-\s+\|\s+-\s+\|\s+yes \|\s+-\s+\|\s+-\s+\|\s+-$/,
    );
    expect(matrix.find((l) => l.startsWith(`${RESOLVER} -> ${SERVICE} `))).toMatch(/\|\s+yes \|(\s+-\s+\|){5}\s+yes$/);
    expect(matrix).toHaveLength(2 + 12);
  });
});

describe("analyzeReachability notices what AWS would", () => {
  it("loses the app's connection to the proxy when one direction of the peering's routes is gone", () => {
    const json = stack();
    delete json.resource.aws_route[idOf(json, "aws_route", "App-app_Peering_AccepterRoutes")];
    const v = verdict(json, APP, PROXY, 3128);
    expect(v.allowed).toBe(false);
    expect(v.reasons).toContain(
      `BLOCKED: replies: no route in aws_route_table.${idOf(json, "aws_route_table", "ProxyVpc")} from ${PROXY} to 192.168.0.0/25`,
    );
  });

  it("loses it when the proxy's ingress rule is gone", () => {
    const json = stack();
    delete json.resource.aws_vpc_security_group_ingress_rule[idOf(json, "aws_vpc_security_group_ingress_rule", "In-192_168_0_0_24-3128")];
    const v = verdict(json, APP, PROXY, 3128);
    expect(v.allowed).toBe(false);
    expect(v.reasons).toContain(`BLOCKED: no ingress rule of ${PROXY} allows tcp 3128 from 192.168.0.0/25`);
  });

  it("keeps the service out of the app's reach even with a route and open rules: peering is not transitive", () => {
    const json = stack();
    const appTable = idOf(json, "aws_route_table", "App-app_Vpc");
    const appPeering = idOf(json, "aws_vpc_peering_connection", "App-app_Peering");
    json.resource.aws_route.Transitive = {
      route_table_id: `\${aws_route_table.${appTable}.id}`,
      destination_cidr_block: "172.16.0.0/24",
      vpc_peering_connection_id: `\${aws_vpc_peering_connection.${appPeering}.id}`,
    };
    const appGroup = idOf(json, "aws_security_group", "App-app_Server");
    const serviceGroup = idOf(json, "aws_security_group", "ServiceSide_Server");
    json.resource.aws_vpc_security_group_egress_rule.Open = {
      security_group_id: `\${aws_security_group.${appGroup}.id}`,
      ip_protocol: "tcp",
      from_port: 80,
      to_port: 80,
      cidr_ipv4: "172.16.0.0/24",
    };
    json.resource.aws_vpc_security_group_ingress_rule.Open = {
      security_group_id: `\${aws_security_group.${serviceGroup}.id}`,
      ip_protocol: "tcp",
      from_port: 80,
      to_port: 80,
      cidr_ipv4: "192.168.0.0/24",
    };
    const v = verdict(json, APP, SERVICE, 80);
    expect(v.allowed).toBe(false);
    expect(v.reasons).toEqual([
      expect.stringMatching(/^egress aws_vpc_security_group_egress_rule\.Open/),
      expect.stringMatching(
        /^BLOCKED: aws_route\.Transitive sends 172\.16\.0\.0\/24 into aws_vpc_peering_connection\.App-app_Peering\S+, which joins 10\.0\.0\.0\/24, not 172\.16\.0\.0\/24: peering is not transitive$/,
      ),
      expect.stringMatching(/^ingress aws_vpc_security_group_ingress_rule\.Open/),
      expect.stringMatching(/^BLOCKED: replies: no route/),
    ]);
  });

  it("applies a network ACL that denies the port, by rule number", () => {
    const json = stack();
    const proxySubnet = idOf(json, "aws_subnet", "ProxyVpc");
    json.resource.aws_network_acl = {
      Strict: {
        vpc_id: "${aws_vpc.x.id}",
        subnet_ids: [`\${aws_subnet.${proxySubnet}.id}`],
        ingress: [
          { rule_no: 100, protocol: "tcp", action: "deny", cidr_block: "192.168.0.0/24", from_port: 3128, to_port: 3128 },
          { rule_no: 200, protocol: "-1", action: "allow", cidr_block: "0.0.0.0/0", from_port: 0, to_port: 0 },
        ],
        egress: [{ rule_no: 100, protocol: "-1", action: "allow", cidr_block: "0.0.0.0/0", from_port: 0, to_port: 0 }],
      },
    };
    expect(verdict(json, APP, PROXY, 3128).reasons).toContain(
      "BLOCKED: aws_network_acl.Strict rule 100 denies 192.168.0.0/25 tcp port 3128",
    );
    expect(verdict(json, PROXY, SERVICE, 80).allowed).toBe(true);
  });
});

describe("analyzeReachability on the Transit Gateway environment (private NAT egress)", () => {
  const raw = () => JSON.parse(fs.readFileSync(path.join(__dirname, "..", "demos", "transit-gateway.json"), "utf8"));
  const tgwStack = () => JSON.parse(synthEnvironment(configFrom(raw())).json);
  const APP1 = "transit-gateway-app-server";
  const APP2 = "transit-gateway-app2-server";

  it("lets each app VPC reach the service through the gateway and the NAT gateway, which the service sees instead of the app", () => {
    const json = tgwStack();
    for (const app of [APP1, APP2]) {
      const v = verdict(json, app, "transit-gateway-service", 80);
      expect(v.allowed).toBe(true);
      expect(v.reasons).toContainEqual(
        expect.stringMatching(
          /^transit-gateway-service sees the source 10\.0\.0\.0\/25 \(transit-gateway-proxy-nat-ap-northeast-1a\), not 192\.168\.[01]\.0\/25$/,
        ),
      );
    }
  });

  it("catches a route between two app VPCs through the gateway: app2's block propagated into the apps table", () => {
    const json = tgwStack();
    const r = json.resource;
    const attachment = idOf(json, "aws_ec2_transit_gateway_vpc_attachment", "App-app2Attachment");
    const apps = idOf(json, "aws_ec2_transit_gateway_route_table", "AppsTable");
    const app1Table = idOf(json, "aws_route_table", "App-app_Vpc");
    const tgw = Object.keys(r.aws_ec2_transit_gateway)[0];
    // Open the servers' rules for the pair, so that only routing decides.
    const group = (part: string) => `\${aws_security_group.${idOf(json, "aws_security_group", part)}.id}`;
    r.aws_vpc_security_group_egress_rule.x = {
      security_group_id: group("App-app_Server"),
      ip_protocol: "tcp",
      from_port: 80,
      to_port: 80,
      cidr_ipv4: "192.168.1.0/24",
    };
    r.aws_vpc_security_group_ingress_rule.x = {
      security_group_id: group("App-app2_Server"),
      ip_protocol: "tcp",
      from_port: 80,
      to_port: 80,
      cidr_ipv4: "192.168.0.0/24",
    };
    r.aws_route.x = {
      route_table_id: `\${aws_route_table.${app1Table}.id}`,
      destination_cidr_block: "192.168.1.0/24",
      transit_gateway_id: `\${aws_ec2_transit_gateway.${tgw}.id}`,
    };
    const denied = verdict(json, APP1, APP2, 80);
    expect(denied.allowed).toBe(false);
    expect(denied.reasons).toContainEqual(
      expect.stringMatching(
        /AppsTable\w* \(of aws_ec2_transit_gateway_vpc_attachment\.TransitGateway_App-appAttachment\w*\) has no route to 192\.168\.1\.0\/25/,
      ),
    );
    r.aws_ec2_transit_gateway_route_table_propagation.leak = {
      transit_gateway_attachment_id: `\${aws_ec2_transit_gateway_vpc_attachment.${attachment}.id}`,
      transit_gateway_route_table_id: `\${aws_ec2_transit_gateway_route_table.${apps}.id}`,
    };
    // App1's replies come back through the proxy table, which knows app1: with the leak the pair is open.
    r.aws_ec2_transit_gateway_route_table_propagation.leakBack = {
      ...r.aws_ec2_transit_gateway_route_table_propagation.leak,
      transit_gateway_attachment_id: `\${aws_ec2_transit_gateway_vpc_attachment.${idOf(json, "aws_ec2_transit_gateway_vpc_attachment", "App-appAttachment")}.id}`,
    };
    r.aws_route.y = {
      route_table_id: `\${aws_route_table.${idOf(json, "aws_route_table", "App-app2_Vpc")}.id}`,
      destination_cidr_block: "192.168.0.0/24",
      transit_gateway_id: `\${aws_ec2_transit_gateway.${tgw}.id}`,
    };
    expect(verdict(json, APP1, APP2, 80).allowed).toBe(true);
    const mismatches = flowMismatches(analyzeReachability(json), [{ from: APP1, to: APP2, port: 80, allowed: false }]);
    expect(mismatches).toHaveLength(1);
  });

  it("denies app -> service once the attachment subnet's route to the NAT gateway is gone", () => {
    const json = tgwStack();
    delete json.resource.aws_route[idOf(json, "aws_route", "ToNat")];
    const v = verdict(json, APP1, "transit-gateway-service", 80);
    expect(v.allowed).toBe(false);
    expect(v.reasons).toContainEqual(
      expect.stringMatching(
        /BLOCKED: .*no route in aws_route_table\.PrivateNat_Attachment-ap-northeast-1a_RouteTable\w+ from .* to 172\.16\.0\.10\/32/,
      ),
    );
  });
});

describe("analyzeReachability with a Transit Gateway and the Squid proxy", () => {
  const raw = verificationRawForTgw();
  const json = JSON.parse(synthEnvironment(configFrom(raw)).json);

  function verificationRawForTgw(): any {
    const r = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "demos", "verification.json"), "utf8"));
    r.connectivity = { type: "transitGateway", egress: "squid" };
    return r;
  }

  it("routes only the proxy's address through the gateway, in the app VPC and in the apps table", () => {
    const destinations = (type: string) => Object.values(json.resource[type] as Record<string, any>).map((r) => r.destination_cidr_block);
    expect(destinations("aws_ec2_transit_gateway_route")).toEqual(["10.0.0.10/32"]);
    const viaTgw = Object.values(json.resource.aws_route as Record<string, any>)
      .filter((r) => r.transit_gateway_id)
      .map((r) => r.destination_cidr_block)
      .sort();
    expect(viaTgw).toEqual(["10.0.0.10/32", "192.168.0.0/24"]);
    expect(json.resource.aws_nat_gateway).toBeUndefined();
    // The service side keeps its peering; the app VPC has none.
    expect(Object.keys(json.resource.aws_vpc_peering_connection)).toEqual([expect.stringMatching(/^ServiceSide_Peering/)]);
  });

  it("lets the app reach the proxy through the gateway, the proxy the service, and not the app the service", () => {
    expect(verdict(json, APP, PROXY, 3128).allowed).toBe(true);
    expect(verdict(json, APP, PROXY, 3128).reasons.join("\n")).toMatch(
      /aws_ec2_transit_gateway_route\.TransitGateway_ToProxy-10_0_0_10_32\w*: 10\.0\.0\.10\/32\) to aws_ec2_transit_gateway_vpc_attachment\.TransitGateway_ProxyAttachment/,
    );
    expect(verdict(json, PROXY, SERVICE, 80).allowed).toBe(true);
    expect(verdict(json, APP, SERVICE, 80).allowed).toBe(false);
  });
});

describe("flowMismatches", () => {
  const report = analyzeReachability(stack());

  it("accepts expectations that hold", () => {
    expect(
      flowMismatches(report, [
        { from: APP, to: PROXY, port: 3128, allowed: true },
        { from: APP, to: SERVICE, port: 80, allowed: false },
      ]),
    ).toEqual([]);
  });

  it("explains one that does not, and one that names nothing", () => {
    const [wrong, unknown] = flowMismatches(report, [
      { from: APP, to: SERVICE, port: 80, allowed: true },
      { from: "nobody", to: PROXY, port: 3128, allowed: true },
    ]);
    expect(describeMismatch(wrong)).toMatch(
      /^verification-app-server -> verification-service:80 is denied, expected allowed:\n\s+BLOCKED: no egress rule/,
    );
    expect(describeMismatch(unknown)).toMatch(/no such pair and port in the stack \(instances: .*verification-proxy/);
  });
});

describe("npm run reachability", () => {
  const script = path.join(__dirname, "..", "scripts", "reachability.ts");
  const run = (args: string[], config = "") =>
    spawnSync(process.execPath, [TS_RUNNER, script, ...args], {
      cwd: path.join(__dirname, ".."),
      encoding: "utf8",
      timeout: 60_000,
      env: { ...process.env, PROXY_CONFIG: config },
    });

  /** An environment file elsewhere, under another file name, edited by `edit`. */
  function envFile(edit: (raw: any) => void): string {
    const raw = JSON.parse(fs.readFileSync(path.join(__dirname, "..", "demos", "verification.json"), "utf8"));
    edit(raw);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "reach-env-")), "renamed-copy.json");
    fs.writeFileSync(file, JSON.stringify(raw));
    return file;
  }

  function writeStack(json: any): string {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "reach-")), "verification");
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, "cdk.tf.json"), JSON.stringify(json));
    return dir;
  }

  it("passes the verification stack against its expected flows", () => {
    const r = run([writeStack(stack())]);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/PASS expected verification-app-server -> verification-service:80 denied\n\s+because no egress rule/);
    expect(r.stdout).toMatch(/^reachability: 13 passed, 0 failed$/m);
  });

  it("fails, with the reason, when the stack breaks an expected flow", () => {
    const json = stack();
    delete json.resource.aws_route[idOf(json, "aws_route", "ServiceSide_Peering_AccepterRoutes")];
    const r = run([writeStack(json)]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(
      /FAIL expected verification-proxy -> verification-service:80 allowed\n\s+verification-proxy -> verification-service:80 is denied, expected allowed:[\s\S]*BLOCKED: replies: no route/,
    );
  });

  it("writes the same verdicts as JSON for machines", () => {
    const r = run(["--json", writeStack(stack())]);
    const [result] = JSON.parse(r.stdout);
    expect(result.stack).toBe("verification");
    expect(result.verdicts.filter((v: Verdict) => v.allowed)).toHaveLength(6);
    expect(result.verdicts.filter((v: Verdict) => v.allowed && v.protocol === "udp")).toEqual([
      expect.objectContaining({ from: "verification-proxy-resolver", to: "verification-service", port: 53 }),
    ]);
    expect(result.mismatches).toEqual([]);
  });

  it("checks a renamed copy of an environment against that copy's expectations when PROXY_CONFIG names it", () => {
    const file = envFile((raw) => {
      raw.expectedFlows = [{ from: "app", to: "service", port: 80, expect: "allowed" }];
    });
    const r = run([writeStack(stack())], file);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/FAIL expected verification-app-server -> verification-service:80 allowed/);
    expect(r.stdout).toMatch(/^reachability: 0 passed, 1 failed$/m);
  });

  it("fails a stack whose environment file changed after it was synthesized, saying to synthesize again", () => {
    const file = envFile(() => undefined);
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "reach-")), "verification");
    fs.mkdirSync(dir);
    const json = { ...stack(), "//": { environmentSources: [{ file, sha256: "0".repeat(64) }] } };
    fs.writeFileSync(path.join(dir, "cdk.tf.json"), JSON.stringify(json));
    const r = run([dir], file);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain(
      `FAIL stack verification: ${file} changed after this stack was synthesized from it, so the analysis would judge an old stack against new expectations; run npx cdktf synth first`,
    );
  });

  it("fails a stack whose environment file it does not know, and one with no expected flows unless told", () => {
    const unknown = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "reach-")), "elsewhere");
    fs.mkdirSync(unknown);
    fs.writeFileSync(path.join(unknown, "cdk.tf.json"), JSON.stringify(stack()));
    const r = run([unknown]);
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(
      /FAIL stack elsewhere: no environment of the demos of demos\/ \(.*\/ holds no environment file\) is named elsewhere; set PROXY_CONFIG to the file the stack was synthesized from/,
    );

    const bare = envFile((raw) => {
      raw.expectedFlows = [];
    });
    const silent = run([writeStack(stack())], bare);
    expect(silent.status).toBe(1);
    expect(silent.stdout).toMatch(
      /FAIL stack verification: its environment declares no expectedFlows, so nothing would be checked; add some, or pass --allow-no-expectations/,
    );
    expect(run(["--allow-no-expectations", writeStack(stack())], bare).status).toBe(0);
  });
});

describe("analyzeReachability of a proxy fleet behind a Network Load Balancer", () => {
  const fleetStack = () => {
    return JSON.parse(synthEnvironment(configFrom(fleetRaw())).json);
  };
  const json = fleetStack();

  it("follows app -> listener -> target group -> fleet, with the client's address kept, and names the fleet `proxy` as before", () => {
    const v = verdict(json, APP, PROXY, 3128);
    expect(v.allowed).toBe(true);
    expect(v.reasons[0]).toMatch(
      /^through aws_lb\.Proxy_LoadBalancer_\w+ \(aws_lb_listener\.\w+ on 3128 to aws_lb_target_group\.\w+ on 3128, client addresses kept\)$/,
    );
    expect(v.reasons).toContainEqual(
      expect.stringMatching(/^ingress aws_vpc_security_group_ingress_rule\.Proxy_LoadBalancerSecurityGroup_In-192_168_0_0_24-3128/),
    );
    expect(v.reasons).toContainEqual(
      expect.stringMatching(/^ingress aws_vpc_security_group_ingress_rule\.Proxy_SecurityGroup_In-verification-proxy-lb-3128/),
    );
    expect(v.reasons).toContainEqual("for all 4 pairs of subnets, such as 10.0.0.10/32 to 10.0.0.0/25:");
  });

  it("lets every proxy of the fleet, in either zone, reach the service, and nothing else", () => {
    const allowed = analyzeReachability(json)
      .verdicts.filter((x) => x.allowed)
      .map((x) => `${x.from}->${x.to}:${portLabel(x.protocol, x.port)}`);
    expect(allowed).toEqual([
      `${APP}->${PROXY}:3128`,
      `${PROXY}->${SERVICE}:80`,
      `${PROXY}->${SERVICE}:8080`,
      `${PROXY}->${SERVICE}:8443`,
      `${RESOLVER}->${SERVICE}:53`,
      `${RESOLVER}->${SERVICE}:53/udp`,
    ]);
    expect(verdict(json, PROXY, SERVICE, 80).reasons[0]).toBe("for all 2 pairs of subnets, such as 10.0.0.0/25 to 172.16.0.10/32:");
  });

  it("catches a fleet whose security group refuses what the load balancer delivers", () => {
    const broken = fleetStack();
    delete broken.resource.aws_vpc_security_group_ingress_rule[
      idOf(broken, "aws_vpc_security_group_ingress_rule", "Proxy_SecurityGroup_In-verification-proxy-lb")
    ];
    const v = verdict(broken, APP, PROXY, 3128);
    expect(v.allowed).toBe(false);
    expect(v.reasons).toContainEqual(
      "BLOCKED: no ingress rule of verification-proxy allows tcp 3128 from 192.168.0.0/25 (the client's address, which the load balancer keeps) or from the load balancer's group",
    );
  });

  it("accepts a fleet rule by the client's block instead, as client address preservation requires when no group is named", () => {
    const byBlock = fleetStack();
    const id = idOf(byBlock, "aws_vpc_security_group_ingress_rule", "Proxy_SecurityGroup_In-verification-proxy-lb");
    const rule = byBlock.resource.aws_vpc_security_group_ingress_rule[id];
    delete rule.referenced_security_group_id;
    rule.cidr_ipv4 = "192.168.0.0/24";
    expect(verdict(byBlock, APP, PROXY, 3128).allowed).toBe(true);
    rule.cidr_ipv4 = "10.0.0.0/24"; // the load balancer's own block: what a rule would name without client address preservation
    expect(verdict(byBlock, APP, PROXY, 3128).allowed).toBe(false);
  });

  it("denies the app when the load balancer takes the port from elsewhere only", () => {
    const closed = fleetStack();
    const id = idOf(closed, "aws_vpc_security_group_ingress_rule", "Proxy_LoadBalancerSecurityGroup_In-192_168_0_0_24");
    closed.resource.aws_vpc_security_group_ingress_rule[id].cidr_ipv4 = "100.64.0.0/24";
    expect(verdict(closed, APP, PROXY, 3128).reasons).toContainEqual(
      expect.stringMatching(/^BLOCKED: no ingress rule of aws_lb\.Proxy_LoadBalancer_\w+ allows tcp 3128 from 192\.168\.0\.0\/25$/),
    );
  });
});
