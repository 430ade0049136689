import { DxGatewayAssociation } from "@cdktf/provider-aws/lib/dx-gateway-association";
import { VpcPeeringConnectionAccepterA } from "@cdktf/provider-aws/lib/vpc-peering-connection-accepter";
import { VpnGateway } from "@cdktf/provider-aws/lib/vpn-gateway";
import { VpnGatewayRoutePropagation } from "@cdktf/provider-aws/lib/vpn-gateway-route-propagation";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { configFrom, EXAMPLES_DIR, resourcesOf, synthEnvironment } from "./helpers/stack";

function productionRaw(): any {
  return JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, "production.json"), "utf8"));
}

/** Routes of the stack whose route table is the proxy VPC's, by destination and target kind. */
function proxyRoutes(json: string): [string, string][] {
  return Object.values(resourcesOf(json, "aws_route"))
    .filter((r) => /aws_route_table\.ProxyVpc_RouteTable/.test(r.route_table_id))
    .map((r) => [r.destination_cidr_block, r.gateway_id ? "gateway" : "peering"] as [string, string])
    .sort();
}

describe("the production example", () => {
  const { json } = synthEnvironment(configFrom(productionRaw()));
  const parsed = JSON.parse(json);

  it("creates only the proxy VPC and the proxy fleet: the app VPCs exist already", () => {
    expect(Object.values(resourcesOf(json, "aws_vpc")).map((v) => v.cidr_block)).toEqual(["10.0.0.0/24"]);
    expect(Object.values(resourcesOf(json, "aws_instance"))).toEqual([]);
    expect(
      Object.values(resourcesOf(json, "aws_autoscaling_group")).map((g) => [g.name, g.desired_capacity, g.vpc_zone_identifier.length]),
    ).toEqual([["production-proxy", 2, 2]]);
    expect(Object.values(parsed.data.aws_vpc).map((v: any) => v.id)).toEqual(["vpc-0123456789abcdef0", "vpc-0fedcba9876543210"]);
  });

  it("checks each existing VPC's block against the environment file when planning", () => {
    const app = Object.values(parsed.data.aws_vpc)[0] as any;
    expect(app.lifecycle.postcondition).toEqual([
      { condition: expect.stringContaining('"192.168.0.0/24"'), error_message: expect.stringContaining("correct appVpcs[].cidr") },
    ]);
  });

  it("accepts the block as the VPC's primary or any secondary block, and nothing else (evaluated by Terraform)", () => {
    const condition: string = (Object.values(parsed.data.aws_vpc)[0] as any).lifecycle.postcondition[0].condition;
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "condition-"));
    const holds = (primary: string, associated: string[]) => {
      const self = `{ cidr_block = "${primary}", cidr_block_associations = [${associated.map((c) => `{ cidr_block = "${c}" }`).join(", ")}] }`;
      const expression = condition.replace(/^\$\{|\}$/g, "").replace(/\bself\b/g, self);
      const r = spawnSync("terraform", ["console"], {
        cwd: work,
        input: `jsonencode({ ok = ${expression} })\n`,
        encoding: "utf8",
        env: { ...process.env, TF_CLI_CONFIG_FILE: "" },
        timeout: 30_000,
      });
      if (r.status !== 0) throw new Error(`terraform console failed: ${r.stderr}`);
      return JSON.parse(JSON.parse(r.stdout.trim())).ok;
    };
    expect(holds("192.168.0.0/24", ["192.168.0.0/24"])).toBe(true);
    expect(holds("10.50.0.0/16", ["10.50.0.0/16", "192.168.0.0/24"])).toBe(true);
    expect(holds("10.50.0.0/16", ["10.50.0.0/16", "192.168.1.0/24"])).toBe(false);
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('routes every route table of an app VPC given as "all", looked up when planning', () => {
    const tables = Object.keys(parsed.data.aws_route_tables);
    expect(tables).toHaveLength(1);
    const each = Object.values(resourcesOf(json, "aws_route")).find((r) => r.for_each);
    expect(each).toEqual(
      expect.objectContaining({
        for_each: `\${toset(data.aws_route_tables.${tables[0]}.ids)}`,
        route_table_id: "${each.value}",
        destination_cidr_block: "10.0.0.0/24",
      }),
    );
  });

  it("asks another account's VPC for the peering and accepts it there, with that account's provider", () => {
    const peerings = Object.values(resourcesOf(json, "aws_vpc_peering_connection"));
    const batch = peerings.find((p) => p.peer_vpc_id.includes("App-batch_Vpc"));
    expect(batch).toEqual(expect.objectContaining({ peer_owner_id: "111122223333", auto_accept: false }));
    expect(json).toHaveResourceWithProperties(VpcPeeringConnectionAccepterA, { provider: "aws.app_batch", auto_accept: true });
    const providers = parsed.provider.aws;
    expect(providers.find((p: any) => p.alias === "app_batch").assume_role).toEqual([
      { role_arn: "arn:aws:iam::111122223333:role/proxy-over-peering-accepter" },
    ]);
    const batchRoutes = Object.values(resourcesOf(json, "aws_route")).filter((r) => r.provider === "aws.app_batch");
    expect(batchRoutes.map((r) => r.route_table_id).sort()).toEqual(["rtb-0123456789abcdef0", "rtb-0fedcba9876543210"]);
    expect(batchRoutes.every((r) => /aws_vpc_peering_connection_accepter\./.test(r.vpc_peering_connection_id))).toBe(true);
  });

  it("sends the service's block to the virtual private gateway and the app VPCs' blocks to their peerings, nothing else", () => {
    expect(proxyRoutes(json)).toEqual([
      ["172.31.100.0/24", "gateway"],
      ["192.168.0.0/24", "peering"],
      ["192.168.10.0/24", "peering"],
    ]);
    expect(json).toHaveResource(VpnGateway);
    expect(json).toHaveResourceWithProperties(DxGatewayAssociation, {
      dx_gateway_id: "5f3c2d1e-8a9b-4c7d-9e0f-1a2b3c4d5e6f",
      allowed_prefixes: ["10.0.0.0/24"],
    });
  });

  it("lets both app VPCs use the proxy, and the proxy reach the service on 443 only", () => {
    const allowlist = Object.values(resourcesOf(json, "aws_ssm_parameter"))[0].value;
    expect(allowlist).toContain("acl localnet src 192.168.0.0/24\n");
    expect(allowlist).toContain("acl localnet src 192.168.10.0/24\n");
    const egress = Object.values(resourcesOf(json, "aws_vpc_security_group_egress_rule")).filter((r) => r.cidr_ipv4 === "172.31.100.0/24");
    expect(egress.map((r) => r.from_port)).toEqual([443]);
  });
});

describe("the Direct Connect side", () => {
  it("can propagate the provider's routes instead of static ones", () => {
    const raw = productionRaw();
    raw.serviceSide = { type: "virtualPrivateGateway", routing: "propagation", amazonSideAsn: 64512 };
    const { json } = synthEnvironment(configFrom(raw));
    expect(proxyRoutes(json).filter(([, kind]) => kind === "gateway")).toEqual([]);
    expect(json).toHaveResource(VpnGatewayRoutePropagation);
    expect(json).toHaveResourceWithProperties(VpnGateway, { amazon_side_asn: "64512" });
    expect(resourcesOf(json, "aws_dx_gateway_association")).toEqual({});
  });
});

describe("validation of existing app VPCs and the Direct Connect side", () => {
  const problemsOf = (edit: (raw: any) => void) => {
    const raw = productionRaw();
    edit(raw);
    try {
      configFrom(raw);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error("accepted");
  };

  it.each([
    [
      "subnets on an existing VPC",
      (r: any) => (r.appVpcs[0].subnets = [{ availabilityZone: "ap-northeast-1a", cidr: "192.168.0.0/25" }]),
      /`appVpcs\[0\].subnets` = .*is set for an existing VPC/,
    ],
    [
      "an app server in an existing VPC",
      (r: any) => (r.appVpcs[0].appServer = {}),
      /`appVpcs\[0\].appServer` = \{\}: is set for an existing VPC/,
    ],
    [
      "an account without a role",
      (r: any) => delete r.appVpcs[1].existing.roleArn,
      /`appVpcs\[1\].existing.roleArn` is missing; cross-account peering needs both/,
    ],
    [
      "a role of another account",
      (r: any) => (r.appVpcs[1].existing.roleArn = "arn:aws:iam::444455556666:role/x"),
      /is not a role of account 111122223333/,
    ],
    ["a bad VPC id", (r: any) => (r.appVpcs[0].existing.vpcId = "vpc-xyz"), /`appVpcs\[0\].existing.vpcId` = "vpc-xyz": is not a VPC id/],
    [
      "a route table listed twice",
      (r: any) => (r.appVpcs[0].existing.routeTableIds = ["rtb-0123456789abcdef0", "rtb-0123456789abcdef0"]),
      /`appVpcs\[0\].existing.routeTableIds\[1\]` = "rtb-0123456789abcdef0": repeats "rtb-0123456789abcdef0"; list each route table once/,
    ],
    [
      "a bad route table list",
      (r: any) => (r.appVpcs[0].existing.routeTableIds = "some"),
      /`appVpcs\[0\].existing.routeTableIds` = "some": must be "all" or a list of route table ids/,
    ],
    [
      "a created VPC without subnets",
      (r: any) => delete r.appVpcs[0].existing,
      /`appVpcs\[0\].subnets` is missing; a created VPC needs at least one subnet/,
    ],
    [
      "a bad Direct Connect gateway id",
      (r: any) => (r.serviceSide.directConnectGatewayId = "dxgw-1"),
      /is not a Direct Connect gateway id/,
    ],
    [
      "an unknown service side",
      (r: any) => (r.serviceSide.type = "transitGateway"),
      /`serviceSide.type` = "transitGateway": has an unknown or missing `type`; use one of "peeredVpc", "virtualPrivateGateway", "directConnectGateway"/,
    ],
    [
      "an expected flow to a service server that does not exist",
      (r: any) => (r.expectedFlows = [{ from: "proxy", to: "service", port: 443, expect: "allowed" }]),
      /`expectedFlows\[0\].to` = "service": names no end of a flow; use one of "proxy", "dx-service", "resolver", "app", "batch"/,
    ],
  ])("explains %s", (_what, edit, message) => {
    expect(problemsOf(edit)).toMatch(message);
  });
});
