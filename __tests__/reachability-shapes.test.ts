/**
 * Every shape of Terraform that the reachability analysis claims to read, each with a case that
 * must be allowed and one that must be denied, on a small hand-written stack: two VPCs peered,
 * an instance in each (and a second one in the first VPC), one route table per VPC.
 */
import { analyzeReachability } from "../proof/reachability";

const ref = (address: string, attr = "id") => `\${${address}.${attr}}`;

/** A small stack; `edit` changes it before the analysis. */
function world(edit: (r: Record<string, Record<string, any>>) => void = () => undefined): any {
  const r: Record<string, Record<string, any>> = {
    aws_vpc: { A: { cidr_block: "10.1.0.0/24" }, B: { cidr_block: "10.2.0.0/24" } },
    aws_subnet: {
      a: { vpc_id: ref("aws_vpc.A"), cidr_block: "10.1.0.0/25" },
      a2: { vpc_id: ref("aws_vpc.A"), cidr_block: "10.1.0.128/25" },
      b: { vpc_id: ref("aws_vpc.B"), cidr_block: "10.2.0.0/25" },
    },
    aws_route_table: { ta: { vpc_id: ref("aws_vpc.A") }, tb: { vpc_id: ref("aws_vpc.B") } },
    aws_route_table_association: {
      a: { subnet_id: ref("aws_subnet.a"), route_table_id: ref("aws_route_table.ta") },
      a2: { subnet_id: ref("aws_subnet.a2"), route_table_id: ref("aws_route_table.ta") },
      b: { subnet_id: ref("aws_subnet.b"), route_table_id: ref("aws_route_table.tb") },
    },
    aws_vpc_peering_connection: { P: { vpc_id: ref("aws_vpc.A"), peer_vpc_id: ref("aws_vpc.B") } },
    aws_route: {
      toB: { route_table_id: ref("aws_route_table.ta"), destination_cidr_block: "10.2.0.0/24", vpc_peering_connection_id: ref("aws_vpc_peering_connection.P") },
      toA: { route_table_id: ref("aws_route_table.tb"), destination_cidr_block: "10.1.0.0/24", vpc_peering_connection_id: ref("aws_vpc_peering_connection.P") },
    },
    aws_security_group: { sa: { vpc_id: ref("aws_vpc.A") }, sa2: { vpc_id: ref("aws_vpc.A") }, sb: { vpc_id: ref("aws_vpc.B") } },
    aws_vpc_security_group_egress_rule: {
      aOut: { security_group_id: ref("aws_security_group.sa"), ip_protocol: "tcp", from_port: 80, to_port: 80, cidr_ipv4: "10.0.0.0/8" },
      a2Out: { security_group_id: ref("aws_security_group.sa2"), ip_protocol: "tcp", from_port: 80, to_port: 80, cidr_ipv4: "10.0.0.0/8" },
    },
    aws_vpc_security_group_ingress_rule: {
      bIn: { security_group_id: ref("aws_security_group.sb"), ip_protocol: "tcp", from_port: 80, to_port: 80, cidr_ipv4: "10.1.0.0/24" },
    },
    aws_instance: {
      a: { subnet_id: ref("aws_subnet.a"), private_ip: "10.1.0.10", vpc_security_group_ids: [ref("aws_security_group.sa")], tags: { Name: "a" } },
      a2: { subnet_id: ref("aws_subnet.a2"), private_ip: "10.1.0.140", vpc_security_group_ids: [ref("aws_security_group.sa2")], tags: { Name: "a2" } },
      b: { subnet_id: ref("aws_subnet.b"), private_ip: "10.2.0.10", vpc_security_group_ids: [ref("aws_security_group.sb")], tags: { Name: "b" } },
    },
  };
  edit(r);
  return { resource: r };
}

const allowed = (stack: any, from: string, to: string, port = 80) => {
  const v = analyzeReachability(stack).verdicts.find((x) => x.from === from && x.to === to && x.port === port);
  if (!v) throw new Error(`no verdict for ${from} -> ${to}:${port}`);
  return v.allowed;
};
const reasons = (stack: any, from: string, to: string, port = 80) => analyzeReachability(stack).verdicts.find((x) => x.from === from && x.to === to && x.port === port)!.reasons;

describe("the reachability analysis reads", () => {
  it("aws_vpc_security_group_*_rule with a CIDR: allowed in range, denied out of it", () => {
    expect(allowed(world(), "a", "b")).toBe(true);
    expect(allowed(world((r) => (r.aws_vpc_security_group_ingress_rule.bIn.cidr_ipv4 = "10.1.0.128/25")), "a", "b")).toBe(false);
  });

  it("inline ingress and egress blocks of aws_security_group, by CIDR", () => {
    const inline = (r: Record<string, Record<string, any>>) => {
      delete r.aws_vpc_security_group_ingress_rule;
      delete r.aws_vpc_security_group_egress_rule;
      r.aws_security_group.sa.egress = [{ protocol: "tcp", from_port: 80, to_port: 80, cidr_blocks: ["10.2.0.0/24"] }];
      r.aws_security_group.sb.ingress = [{ protocol: "tcp", from_port: 80, to_port: 80, cidr_blocks: ["10.1.0.0/25"] }];
    };
    expect(allowed(world(inline), "a", "b")).toBe(true);
    expect(reasons(world(inline), "a", "b")).toContain("ingress aws_security_group.sb (inline ingress)");
    expect(allowed(world(inline), "a2", "b")).toBe(false);
    expect(allowed(world((r) => (inline(r), (r.aws_security_group.sb.ingress[0].from_port = 81), (r.aws_security_group.sb.ingress[0].to_port = 90))), "a", "b")).toBe(false);
  });

  it("aws_security_group_rule, by CIDR and by source security group", () => {
    const rules = (source: Record<string, unknown>) => (r: Record<string, Record<string, any>>) => {
      delete r.aws_vpc_security_group_ingress_rule;
      r.aws_security_group_rule = { bIn: { type: "ingress", security_group_id: ref("aws_security_group.sb"), protocol: "tcp", from_port: 80, to_port: 80, ...source } };
    };
    expect(allowed(world(rules({ cidr_blocks: ["10.1.0.0/24"] })), "a", "b")).toBe(true);
    expect(allowed(world(rules({ cidr_blocks: ["10.3.0.0/24"] })), "a", "b")).toBe(false);
    expect(allowed(world(rules({ source_security_group_id: ref("aws_security_group.sa") })), "a", "b")).toBe(true);
    expect(allowed(world(rules({ source_security_group_id: ref("aws_security_group.sa") })), "a2", "b")).toBe(false);
  });

  it("references between security groups in one VPC and across a peering", () => {
    const byGroup = (r: Record<string, Record<string, any>>) => {
      r.aws_vpc_security_group_ingress_rule = {
        bIn: { security_group_id: ref("aws_security_group.sb"), ip_protocol: "tcp", from_port: 80, to_port: 80, referenced_security_group_id: ref("aws_security_group.sa") },
        a2In: { security_group_id: ref("aws_security_group.sa2"), ip_protocol: "tcp", from_port: 80, to_port: 80, referenced_security_group_id: ref("aws_security_group.sa") },
      };
    };
    expect(allowed(world(byGroup), "a", "b")).toBe(true); // across the peering
    expect(allowed(world(byGroup), "a", "a2")).toBe(true); // in one VPC
    expect(allowed(world(byGroup), "a2", "b")).toBe(false); // a2's group is not the one named
    expect(allowed(world(byGroup), "b", "a2")).toBe(false);
  });

  it("inline routes of aws_route_table as well as aws_route", () => {
    const inlineRoutes = (r: Record<string, Record<string, any>>) => {
      delete r.aws_route;
      r.aws_route_table.ta.route = [{ cidr_block: "10.2.0.0/24", vpc_peering_connection_id: ref("aws_vpc_peering_connection.P") }];
      r.aws_route_table.tb.route = [{ cidr_block: "10.1.0.0/24", vpc_peering_connection_id: ref("aws_vpc_peering_connection.P") }];
    };
    expect(allowed(world(inlineRoutes), "a", "b")).toBe(true);
    expect(reasons(world(inlineRoutes), "a", "b")).toContain("aws_route_table.ta (inline route): 10.2.0.0/24 via aws_vpc_peering_connection.P");
    expect(allowed(world((r) => (inlineRoutes(r), (r.aws_route_table.tb.route = []))), "a", "b")).toBe(false);
    expect(allowed(world((r) => delete r.aws_route.toA), "a", "b")).toBe(false);
  });

  it("the longest matching route, whatever order the routes come in", () => {
    const stack = world((r) => {
      r.aws_route.other = { route_table_id: ref("aws_route_table.ta"), destination_cidr_block: "10.2.0.0/25", gateway_id: ref("aws_vpn_gateway.G") };
    });
    expect(allowed(stack, "a", "b")).toBe(false);
    expect(reasons(stack, "a", "b")).toContainEqual(expect.stringMatching(/aws_route\.other sends 10\.2\.0\.0\/25 to aws_vpn_gateway\.G, which is not a peering/));
  });

  it("more than one route table per VPC: each subnet uses its own", () => {
    const split = (r: Record<string, Record<string, any>>) => {
      r.aws_route_table.ta2 = { vpc_id: ref("aws_vpc.A") };
      r.aws_route_table_association.a2.route_table_id = ref("aws_route_table.ta2");
    };
    expect(allowed(world(split), "a", "b")).toBe(true);
    expect(allowed(world(split), "a2", "b")).toBe(false);
    expect(reasons(world(split), "a2", "b")).toContain("BLOCKED: no route in aws_route_table.ta2 from a2 to 10.2.0.10/32");
  });

  it("the default network ACL (no ACL of ours) lets everything through; an associated one decides by rule number", () => {
    const acl = (ingress: any[], egress: any[]) => (r: Record<string, Record<string, any>>) => {
      r.aws_network_acl = { N: { vpc_id: ref("aws_vpc.B"), subnet_ids: [ref("aws_subnet.b")], ingress, egress } };
    };
    const all = { rule_no: 200, protocol: "-1", action: "allow", cidr_block: "0.0.0.0/0", from_port: 0, to_port: 0 };
    expect(allowed(world(acl([all], [all])), "a", "b")).toBe(true);
    const denyFirst = { rule_no: 100, protocol: "tcp", action: "deny", cidr_block: "10.1.0.0/24", from_port: 80, to_port: 80 };
    expect(allowed(world(acl([denyFirst, all], [all])), "a", "b")).toBe(false);
    expect(reasons(world(acl([denyFirst, all], [all])), "a", "b")).toContain("BLOCKED: aws_network_acl.N rule 100 denies 10.1.0.10/32 port 80");
    // A lower number wins, whatever the order in the file.
    expect(allowed(world(acl([{ ...denyFirst, rule_no: 300 }, all], [all])), "a", "b")).toBe(true);
  });

  it("network ACL replies on ephemeral ports, and aws_network_acl_rule resources", () => {
    const only80 = { rule_no: 100, protocol: "tcp", action: "allow", cidr_block: "0.0.0.0/0", from_port: 80, to_port: 80 };
    const ephemeral = { rule_no: 110, protocol: "tcp", action: "allow", cidr_block: "0.0.0.0/0", from_port: 1024, to_port: 65535 };
    const acl = (egress: any[]) => (r: Record<string, Record<string, any>>) => {
      r.aws_network_acl = { N: { vpc_id: ref("aws_vpc.B"), subnet_ids: [ref("aws_subnet.b")], ingress: [only80], egress } };
    };
    expect(allowed(world(acl([only80])), "a", "b")).toBe(false);
    expect(reasons(world(acl([only80])), "a", "b")).toContain("BLOCKED: aws_network_acl.N has no egress rule for 10.1.0.10/32 port ephemeral (implicit deny)");
    expect(allowed(world(acl([ephemeral])), "a", "b")).toBe(true);
    const asResource = (r: Record<string, Record<string, any>>) => {
      acl([])(r);
      r.aws_network_acl_rule = { E: { network_acl_id: ref("aws_network_acl.N"), rule_number: 120, egress: true, protocol: "tcp", rule_action: "allow", cidr_block: "0.0.0.0/0", from_port: 1024, to_port: 65535 } };
    };
    expect(allowed(world(asResource), "a", "b")).toBe(true);
  });

  it("peering that joins other VPCs is not a path: peering is not transitive", () => {
    const stack = world((r) => {
      r.aws_vpc.C = { cidr_block: "10.3.0.0/24" };
      r.aws_vpc_peering_connection.P.peer_vpc_id = ref("aws_vpc.C");
    });
    expect(allowed(stack, "a", "b")).toBe(false);
    expect(reasons(stack, "a", "b")).toContainEqual(expect.stringMatching(/which joins 10\.3\.0\.0\/24, not 10\.2\.0\.0\/24: peering is not transitive/));
  });
});

describe("the reachability analysis refuses what it does not read", () => {
  it.each([
    ["aws_network_acl_association", { A: { network_acl_id: ref("aws_network_acl.N"), subnet_id: ref("aws_subnet.b") } }],
    ["aws_default_network_acl", { D: { default_network_acl_id: "acl-1" } }],
    ["aws_default_route_table", { D: { default_route_table_id: "rtb-1" } }],
    ["aws_main_route_table_association", { M: { vpc_id: ref("aws_vpc.A"), route_table_id: ref("aws_route_table.ta") } }],
    ["aws_network_interface_sg_attachment", { S: { security_group_id: ref("aws_security_group.sb"), network_interface_id: "eni-1" } }],
    ["aws_ec2_transit_gateway_vpc_attachment", { T: { vpc_id: ref("aws_vpc.A") } }],
    ["aws_ec2_transit_gateway_route", { R: { destination_cidr_block: "10.2.0.0/24" } }],
  ])("%s, with a message that names it", (type, resources) => {
    expect(() => analyzeReachability(world((r) => (r[type] = resources)))).toThrow(new RegExp(`does not read ${type}\\.\\w+ \\(`));
  });

  it("a rule with self = true", () => {
    const stack = world((r) => {
      r.aws_security_group_rule = { S: { type: "ingress", security_group_id: ref("aws_security_group.sb"), protocol: "tcp", from_port: 80, to_port: 80, self: true } };
    });
    expect(() => analyzeReachability(stack)).toThrow(/does not read aws_security_group_rule\.S \(a rule with self = true\); its verdicts for this stack could be wrong, so it gives none/);
  });
});
