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
    expect(reasons(world(acl([denyFirst, all], [all])), "a", "b")).toContain("BLOCKED: aws_network_acl.N rule 100 denies 10.1.0.10/32 tcp port 80");
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
    expect(reasons(world(acl([only80])), "a", "b")).toContain("BLOCKED: aws_network_acl.N has no egress rule for 10.1.0.10/32 tcp port ephemeral (implicit deny)");
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
    ["aws_ec2_transit_gateway_peering_attachment", { P: { transit_gateway_id: "tgw-1", peer_transit_gateway_id: "tgw-2" } }],
    ["aws_ec2_transit_gateway_connect", { C: { transit_gateway_id: "tgw-1" } }],
    ["aws_vpn_connection", { V: { transit_gateway_id: "tgw-1" } }],
    ["aws_ec2_transit_gateway_prefix_list_reference", { L: { prefix_list_id: "pl-1" } }],
  ])("%s, with a message that names it", (type, resources) => {
    expect(() => analyzeReachability(world((r) => (r[type] = resources)))).toThrow(new RegExp(`does not read ${type}\\.\\w+ \\(`));
  });

  it("a Transit Gateway on its default route table, or an attachment that joins it", () => {
    const gateway = world((r) => (r.aws_ec2_transit_gateway = { T: { default_route_table_association: "disable" } }));
    expect(() => analyzeReachability(gateway)).toThrow(/does not read a Transit Gateway's default route table, which aws_ec2_transit_gateway\.T use\(s\)/);
    const attachment = hubWorld((r) => delete r.aws_ec2_transit_gateway_vpc_attachment.xb.transit_gateway_default_route_table_propagation);
    expect(() => analyzeReachability(attachment)).toThrow(/which aws_ec2_transit_gateway_vpc_attachment\.xb use\(s\)/);
  });

  it("a rule with self = true", () => {
    const stack = world((r) => {
      r.aws_security_group_rule = { S: { type: "ingress", security_group_id: ref("aws_security_group.sb"), protocol: "tcp", from_port: 80, to_port: 80, self: true } };
    });
    expect(() => analyzeReachability(stack)).toThrow(/does not read aws_security_group_rule\.S \(a rule with self = true\); its verdicts for this stack could be wrong, so it gives none/);
  });
});

/**
 * The small world joined by a Transit Gateway instead of the peering: A and B attach, A's table
 * (the spokes') sends B's block to B's attachment by a static route, B's table learns A by
 * propagation, and each VPC routes the other's block to the gateway.
 */
function hubWorld(edit: (r: Record<string, Record<string, any>>) => void = () => undefined): any {
  return world((r) => {
    delete r.aws_vpc_peering_connection;
    const noDefaults = { transit_gateway_default_route_table_association: false, transit_gateway_default_route_table_propagation: false };
    r.aws_ec2_transit_gateway = { T: { default_route_table_association: "disable", default_route_table_propagation: "disable" } };
    r.aws_ec2_transit_gateway_vpc_attachment = {
      xa: { transit_gateway_id: ref("aws_ec2_transit_gateway.T"), vpc_id: ref("aws_vpc.A"), subnet_ids: [ref("aws_subnet.a")], ...noDefaults },
      xb: { transit_gateway_id: ref("aws_ec2_transit_gateway.T"), vpc_id: ref("aws_vpc.B"), subnet_ids: [ref("aws_subnet.b")], ...noDefaults },
    };
    r.aws_ec2_transit_gateway_route_table = { spokes: { transit_gateway_id: ref("aws_ec2_transit_gateway.T") }, hub: { transit_gateway_id: ref("aws_ec2_transit_gateway.T") } };
    r.aws_ec2_transit_gateway_route_table_association = {
      xa: { transit_gateway_attachment_id: ref("aws_ec2_transit_gateway_vpc_attachment.xa"), transit_gateway_route_table_id: ref("aws_ec2_transit_gateway_route_table.spokes") },
      xb: { transit_gateway_attachment_id: ref("aws_ec2_transit_gateway_vpc_attachment.xb"), transit_gateway_route_table_id: ref("aws_ec2_transit_gateway_route_table.hub") },
    };
    r.aws_ec2_transit_gateway_route_table_propagation = {
      xa: { transit_gateway_attachment_id: ref("aws_ec2_transit_gateway_vpc_attachment.xa"), transit_gateway_route_table_id: ref("aws_ec2_transit_gateway_route_table.hub") },
    };
    r.aws_ec2_transit_gateway_route = {
      toB: { destination_cidr_block: "10.2.0.0/24", transit_gateway_attachment_id: ref("aws_ec2_transit_gateway_vpc_attachment.xb"), transit_gateway_route_table_id: ref("aws_ec2_transit_gateway_route_table.spokes") },
    };
    r.aws_route = {
      toB: { route_table_id: ref("aws_route_table.ta"), destination_cidr_block: "10.2.0.0/24", transit_gateway_id: ref("aws_ec2_transit_gateway.T") },
      toA: { route_table_id: ref("aws_route_table.tb"), destination_cidr_block: "10.1.0.0/24", transit_gateway_id: ref("aws_ec2_transit_gateway.T") },
    };
    edit(r);
  });
}

describe("the reachability analysis reads Transit Gateways", () => {
  it("a static route to an attachment one way and a propagated block back: allowed, and the reasons name both", () => {
    expect(allowed(hubWorld(), "a", "b")).toBe(true);
    const why = reasons(hubWorld(), "a", "b").join("\n");
    expect(why).toMatch(/aws_ec2_transit_gateway_route\.toB: 10\.2\.0\.0\/24\) to aws_ec2_transit_gateway_vpc_attachment\.xb/);
    expect(why).toMatch(/replies: .*aws_ec2_transit_gateway_route_table_propagation\.xa \(propagated\): 10\.1\.0\.0\/24/);
  });

  it("a VPC route to the gateway is not enough: the table of the VPC's attachment decides", () => {
    const noStatic = hubWorld((r) => delete r.aws_ec2_transit_gateway_route);
    expect(allowed(noStatic, "a", "b")).toBe(false);
    expect(reasons(noStatic, "a", "b")).toContainEqual(expect.stringMatching(/aws_ec2_transit_gateway_route_table\.spokes \(of aws_ec2_transit_gateway_vpc_attachment\.xa\) has no route to 10\.2\.0\.10\/32/));
    const unassociated = hubWorld((r) => delete r.aws_ec2_transit_gateway_route_table_association.xa);
    expect(reasons(unassociated, "a", "b")).toContainEqual(expect.stringMatching(/xa is associated with no route table of the gateway/));
    const unattached = hubWorld((r) => delete r.aws_ec2_transit_gateway_vpc_attachment.xa);
    expect(reasons(unattached, "a", "b")).toContainEqual(expect.stringMatching(/but 10\.1\.0\.0\/24 has no attachment to it/));
  });

  it("a blackhole route drops the traffic even where a wider route would deliver it", () => {
    const blackhole = hubWorld((r) => (r.aws_ec2_transit_gateway_route.hole = { destination_cidr_block: "10.2.0.0/25", blackhole: true, transit_gateway_route_table_id: ref("aws_ec2_transit_gateway_route_table.spokes") }));
    expect(allowed(blackhole, "a", "b")).toBe(false);
    expect(reasons(blackhole, "a", "b")).toContainEqual(expect.stringMatching(/drops 10\.2\.0\.0\/25 \(aws_ec2_transit_gateway_route\.hole \(blackhole\)\)/));
  });

  it("the most specific route wins, in the VPC's table and in the gateway's", () => {
    // A more specific static route to A's own attachment sends B's traffic back where it came from: A, not B.
    const back = hubWorld((r) => (r.aws_ec2_transit_gateway_route.loop = { destination_cidr_block: "10.2.0.0/25", transit_gateway_attachment_id: ref("aws_ec2_transit_gateway_vpc_attachment.xa"), transit_gateway_route_table_id: ref("aws_ec2_transit_gateway_route_table.spokes") }));
    expect(allowed(back, "a", "b")).toBe(false);
  });
});

describe("the reachability analysis reads NAT gateways", () => {
  /**
   * A third VPC C behind B: A reaches C through the gateway into B, where B's attachment subnet
   * sends C to a NAT gateway in b2, whose table sends it to C over a peering. C admits only B's block.
   */
  function natWorld(edit: (r: Record<string, Record<string, any>>) => void = () => undefined): any {
    return hubWorld((r) => {
      r.aws_vpc.B.cidr_block = "10.2.0.0/24";
      r.aws_vpc.C = { cidr_block: "10.3.0.0/24" };
      r.aws_subnet.b2 = { vpc_id: ref("aws_vpc.B"), cidr_block: "10.2.0.128/25" };
      r.aws_subnet.c = { vpc_id: ref("aws_vpc.C"), cidr_block: "10.3.0.0/25" };
      r.aws_route_table.tb2 = { vpc_id: ref("aws_vpc.B") };
      r.aws_route_table.tc = { vpc_id: ref("aws_vpc.C") };
      r.aws_route_table_association.b2 = { subnet_id: ref("aws_subnet.b2"), route_table_id: ref("aws_route_table.tb2") };
      r.aws_route_table_association.c = { subnet_id: ref("aws_subnet.c"), route_table_id: ref("aws_route_table.tc") };
      r.aws_nat_gateway = { N: { connectivity_type: "private", subnet_id: ref("aws_subnet.b2"), private_ip: "10.2.0.200", tags: { Name: "nat" } } };
      r.aws_vpc_peering_connection = { BC: { vpc_id: ref("aws_vpc.B"), peer_vpc_id: ref("aws_vpc.C") } };
      r.aws_ec2_transit_gateway_route.toC = { destination_cidr_block: "10.3.0.0/24", transit_gateway_attachment_id: ref("aws_ec2_transit_gateway_vpc_attachment.xb"), transit_gateway_route_table_id: ref("aws_ec2_transit_gateway_route_table.spokes") };
      Object.assign(r.aws_route, {
        aToC: { route_table_id: ref("aws_route_table.ta"), destination_cidr_block: "10.3.0.0/24", transit_gateway_id: ref("aws_ec2_transit_gateway.T") },
        bToNat: { route_table_id: ref("aws_route_table.tb"), destination_cidr_block: "10.3.0.0/24", nat_gateway_id: ref("aws_nat_gateway.N") },
        b2ToC: { route_table_id: ref("aws_route_table.tb2"), destination_cidr_block: "10.3.0.0/24", vpc_peering_connection_id: ref("aws_vpc_peering_connection.BC") },
        b2ToA: { route_table_id: ref("aws_route_table.tb2"), destination_cidr_block: "10.1.0.0/24", transit_gateway_id: ref("aws_ec2_transit_gateway.T") },
        cToB: { route_table_id: ref("aws_route_table.tc"), destination_cidr_block: "10.2.0.0/24", vpc_peering_connection_id: ref("aws_vpc_peering_connection.BC") },
      });
      r.aws_security_group.sc = { vpc_id: ref("aws_vpc.C") };
      r.aws_vpc_security_group_ingress_rule.cIn = { security_group_id: ref("aws_security_group.sc"), ip_protocol: "tcp", from_port: 80, to_port: 80, cidr_ipv4: "10.2.0.0/24" };
      r.aws_instance.c = { subnet_id: ref("aws_subnet.c"), private_ip: "10.3.0.10", vpc_security_group_ids: [ref("aws_security_group.sc")], tags: { Name: "c" } };
      edit(r);
    });
  }

  it("through the Transit Gateway and the NAT gateway: allowed, and the destination sees the NAT's address, never the client's", () => {
    expect(allowed(natWorld(), "a", "c")).toBe(true);
    const why = reasons(natWorld(), "a", "c");
    expect(why).toContainEqual("c sees the source 10.2.0.200/32 (nat), not 10.1.0.10/32");
    expect(why.join("\n")).toMatch(/replies from nat: aws_route\.b2ToA: 10\.1\.0\.0\/24 to aws_ec2_transit_gateway\.T/);
    // C admits only B's block: without the NAT gateway A's own address would be refused.
    expect(allowed(natWorld((r) => (r.aws_vpc_security_group_ingress_rule.cIn.cidr_ipv4 = "10.2.0.128/26")), "a", "c")).toBe(false);
  });

  it("without the route to the NAT gateway, app -> service is denied", () => {
    const stack = natWorld((r) => delete r.aws_route.bToNat);
    expect(allowed(stack, "a", "c")).toBe(false);
    expect(reasons(stack, "a", "c")).toContainEqual(expect.stringMatching(/BLOCKED: .*no route in aws_route_table\.tb from aws_ec2_transit_gateway_vpc_attachment\.xb in aws_subnet\.b to 10\.3\.0\.10\/32/));
  });

  it("without the NAT gateway's way back to the client, the replies are lost", () => {
    const stack = natWorld((r) => delete r.aws_route.b2ToA);
    expect(allowed(stack, "a", "c")).toBe(false);
    expect(reasons(stack, "a", "c")).toContainEqual(expect.stringMatching(/BLOCKED: replies from nat: no route in aws_route_table\.tb2/));
  });

  it("a NAT gateway behind a peering is denied: peering is not transitive (the original's finding)", () => {
    // A peers with B and sends C's block into the peering, hoping B's NAT gateway relays it.
    const stack = natWorld((r) => {
      delete r.aws_ec2_transit_gateway_vpc_attachment;
      delete r.aws_ec2_transit_gateway_route_table_association;
      delete r.aws_ec2_transit_gateway_route_table_propagation;
      delete r.aws_ec2_transit_gateway_route;
      r.aws_vpc_peering_connection.AB = { vpc_id: ref("aws_vpc.A"), peer_vpc_id: ref("aws_vpc.B") };
      r.aws_route.aToC.transit_gateway_id = undefined;
      r.aws_route.aToC.vpc_peering_connection_id = ref("aws_vpc_peering_connection.AB");
    });
    expect(allowed(stack, "a", "c")).toBe(false);
    expect(reasons(stack, "a", "c")).toContainEqual(expect.stringMatching(/BLOCKED: aws_route\.aToC sends 10\.3\.0\.0\/24 into aws_vpc_peering_connection\.AB, which joins 10\.2\.0\.0\/24, not 10\.3\.0\.0\/24: peering is not transitive/));
  });
});

describe("the reachability analysis reads UDP and resolver endpoints", () => {
  const verdictOf = (stack: any, from: string, to: string, port: number, protocol: "tcp" | "udp") => analyzeReachability(stack).verdicts.find((x) => x.from === from && x.to === to && x.port === port && x.protocol === protocol);
  /** DNS from a to b: UDP and TCP 53 out of sa, into sb; `udp` is the UDP rules' protocol field. */
  const dns = (udp = "udp") => (r: Record<string, Record<string, any>>) => {
    r.aws_vpc_security_group_egress_rule.aDnsU = { security_group_id: ref("aws_security_group.sa"), ip_protocol: udp, from_port: 53, to_port: 53, cidr_ipv4: "10.2.0.10/32" };
    r.aws_vpc_security_group_egress_rule.aDnsT = { security_group_id: ref("aws_security_group.sa"), ip_protocol: "tcp", from_port: 53, to_port: 53, cidr_ipv4: "10.2.0.10/32" };
    r.aws_vpc_security_group_ingress_rule.bDnsU = { security_group_id: ref("aws_security_group.sb"), ip_protocol: udp, from_port: 53, to_port: 53, cidr_ipv4: "10.1.0.0/24" };
  };

  it("UDP rules, by name or number, apart from TCP: UDP 53 allowed where only UDP comes in, TCP 53 denied there", () => {
    for (const udp of ["udp", "17"]) {
      const report = analyzeReachability(world(dns(udp)));
      expect(report.udpPorts).toEqual([53]);
      expect(report.ports).toEqual([53, 80]);
      expect(verdictOf(world(dns(udp)), "a", "b", 53, "udp")?.allowed).toBe(true);
      const tcp = verdictOf(world(dns(udp)), "a", "b", 53, "tcp")!;
      expect(tcp.allowed).toBe(false);
      expect(tcp.reasons).toContain("BLOCKED: no ingress rule of b allows tcp 53 from 10.1.0.10/32");
    }
  });

  it("a TCP rule does not open UDP, and an all-traffic rule opens both without naming a port", () => {
    const tcpOnly = world((r) => {
      dns()(r);
      r.aws_vpc_security_group_egress_rule.aDnsU.ip_protocol = "tcp";
    });
    expect(verdictOf(tcpOnly, "a", "b", 53, "udp")?.reasons).toContain("BLOCKED: no egress rule of a allows udp 53 to 10.2.0.10/32");
    const all = world((r) => {
      dns()(r);
      r.aws_vpc_security_group_egress_rule.aDnsU.ip_protocol = "-1";
    });
    expect(verdictOf(all, "a", "b", 53, "udp")?.allowed).toBe(true);
    expect(analyzeReachability(all).udpPorts).toEqual([53]);
  });

  it("network ACLs by protocol: a UDP rule admits UDP and not TCP", () => {
    const acl = world((r) => {
      dns()(r);
      r.aws_vpc_security_group_ingress_rule.bDnsT = { security_group_id: ref("aws_security_group.sb"), ip_protocol: "tcp", from_port: 53, to_port: 53, cidr_ipv4: "10.1.0.0/24" };
      const rule = (protocol: string, from: number, to: number) => ({ rule_no: 100, protocol, action: "allow", cidr_block: "0.0.0.0/0", from_port: from, to_port: to });
      r.aws_network_acl = {
        N: { subnet_ids: [ref("aws_subnet.b")], ingress: [rule("17", 53, 53)], egress: [rule("udp", 1024, 65535)] },
      };
    });
    expect(verdictOf(acl, "a", "b", 53, "udp")?.allowed).toBe(true);
    expect(verdictOf(acl, "a", "b", 53, "tcp")?.reasons).toContain("BLOCKED: aws_network_acl.N has no ingress rule for 10.1.0.10/32 tcp port 53 (implicit deny)");
  });

  it("a resolver endpoint as a place in each of its subnets, at a fixed address where one is given, with its groups", () => {
    const endpoint = (ips: Record<string, unknown>[]) =>
      world((r) => {
        dns()(r);
        delete r.aws_instance.a;
        r.aws_route53_resolver_endpoint = { R: { direction: "OUTBOUND", ip_address: ips, security_group_ids: [ref("aws_security_group.sa")], tags: { Name: "resolver" } } };
      });
    const both = endpoint([{ subnet_id: ref("aws_subnet.a"), ip: "10.1.0.53" }, { subnet_id: ref("aws_subnet.a2") }]);
    const found = analyzeReachability(both).endpoints.find((e) => e.name === "resolver")!;
    expect(found.address).toBe("aws_route53_resolver_endpoint.R");
    expect(found.placements.map((p) => p.range)).toEqual(["10.1.0.53/32", "10.1.0.128/25"]);
    expect(found.groups).toEqual(["aws_security_group.sa"]);
    expect(verdictOf(both, "resolver", "b", 53, "udp")?.allowed).toBe(true);
    // An address in a subnet that the ingress rule leaves out: denied for that subnet, so denied.
    const narrow = world((r) => {
      dns()(r);
      delete r.aws_instance.a;
      r.aws_vpc_security_group_ingress_rule.bDnsU.cidr_ipv4 = "10.1.0.0/25";
      r.aws_route53_resolver_endpoint = { R: { ip_address: [{ subnet_id: ref("aws_subnet.a") }, { subnet_id: ref("aws_subnet.a2") }], security_group_ids: [ref("aws_security_group.sa")] } };
    });
    const v = verdictOf(narrow, "aws_route53_resolver_endpoint.R", "b", 53, "udp")!;
    expect(v.allowed).toBe(false);
    expect(v.reasons[0]).toBe("from 10.1.0.128/25 to 10.2.0.10/32 (of 2 pairs of subnets):");
    // An endpoint in no known subnet is no place at all.
    expect(analyzeReachability(endpoint([{ subnet_id: "subnet-elsewhere" }])).endpoints.map((e) => e.name)).not.toContain("resolver");
  });
});
