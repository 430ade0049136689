/**
 * Every shape of Terraform that the reachability analysis claims to read, each with a case that
 * must be allowed and one that must be denied, on a small hand-written stack: two VPCs peered,
 * an instance in each (and a second one in the first VPC), one route table per VPC.
 */
import { analyzeReachability, Model } from "../proof/reachability";

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
      toB: {
        route_table_id: ref("aws_route_table.ta"),
        destination_cidr_block: "10.2.0.0/24",
        vpc_peering_connection_id: ref("aws_vpc_peering_connection.P"),
      },
      toA: {
        route_table_id: ref("aws_route_table.tb"),
        destination_cidr_block: "10.1.0.0/24",
        vpc_peering_connection_id: ref("aws_vpc_peering_connection.P"),
      },
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
      a: {
        subnet_id: ref("aws_subnet.a"),
        private_ip: "10.1.0.10",
        vpc_security_group_ids: [ref("aws_security_group.sa")],
        tags: { Name: "a" },
      },
      a2: {
        subnet_id: ref("aws_subnet.a2"),
        private_ip: "10.1.0.140",
        vpc_security_group_ids: [ref("aws_security_group.sa2")],
        tags: { Name: "a2" },
      },
      b: {
        subnet_id: ref("aws_subnet.b"),
        private_ip: "10.2.0.10",
        vpc_security_group_ids: [ref("aws_security_group.sb")],
        tags: { Name: "b" },
      },
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
const reasons = (stack: any, from: string, to: string, port = 80) =>
  analyzeReachability(stack).verdicts.find((x) => x.from === from && x.to === to && x.port === port)!.reasons;

describe("the reachability analysis reads", () => {
  it("aws_vpc_security_group_*_rule with a CIDR: allowed in range, denied out of it", () => {
    expect(allowed(world(), "a", "b")).toBe(true);
    expect(
      allowed(
        world((r) => (r.aws_vpc_security_group_ingress_rule.bIn.cidr_ipv4 = "10.1.0.128/25")),
        "a",
        "b",
      ),
    ).toBe(false);
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
    expect(
      allowed(
        world((r) => (inline(r), (r.aws_security_group.sb.ingress[0].from_port = 81), (r.aws_security_group.sb.ingress[0].to_port = 90))),
        "a",
        "b",
      ),
    ).toBe(false);
  });

  it("aws_security_group_rule, by CIDR and by source security group", () => {
    const rules = (source: Record<string, unknown>) => (r: Record<string, Record<string, any>>) => {
      delete r.aws_vpc_security_group_ingress_rule;
      r.aws_security_group_rule = {
        bIn: { type: "ingress", security_group_id: ref("aws_security_group.sb"), protocol: "tcp", from_port: 80, to_port: 80, ...source },
      };
    };
    expect(allowed(world(rules({ cidr_blocks: ["10.1.0.0/24"] })), "a", "b")).toBe(true);
    expect(allowed(world(rules({ cidr_blocks: ["10.3.0.0/24"] })), "a", "b")).toBe(false);
    expect(allowed(world(rules({ source_security_group_id: ref("aws_security_group.sa") })), "a", "b")).toBe(true);
    expect(allowed(world(rules({ source_security_group_id: ref("aws_security_group.sa") })), "a2", "b")).toBe(false);
  });

  it("references between security groups in one VPC and across a peering", () => {
    const byGroup = (r: Record<string, Record<string, any>>) => {
      r.aws_vpc_security_group_ingress_rule = {
        bIn: {
          security_group_id: ref("aws_security_group.sb"),
          ip_protocol: "tcp",
          from_port: 80,
          to_port: 80,
          referenced_security_group_id: ref("aws_security_group.sa"),
        },
        a2In: {
          security_group_id: ref("aws_security_group.sa2"),
          ip_protocol: "tcp",
          from_port: 80,
          to_port: 80,
          referenced_security_group_id: ref("aws_security_group.sa"),
        },
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
    expect(reasons(world(inlineRoutes), "a", "b")).toContain(
      "aws_route_table.ta (inline route): 10.2.0.0/24 via aws_vpc_peering_connection.P",
    );
    expect(
      allowed(
        world((r) => (inlineRoutes(r), (r.aws_route_table.tb.route = []))),
        "a",
        "b",
      ),
    ).toBe(false);
    expect(
      allowed(
        world((r) => delete r.aws_route.toA),
        "a",
        "b",
      ),
    ).toBe(false);
  });

  it("the longest matching route, whatever order the routes come in", () => {
    const stack = world((r) => {
      r.aws_route.other = {
        route_table_id: ref("aws_route_table.ta"),
        destination_cidr_block: "10.2.0.0/25",
        gateway_id: ref("aws_vpn_gateway.G"),
      };
    });
    expect(allowed(stack, "a", "b")).toBe(false);
    expect(reasons(stack, "a", "b")).toContainEqual(
      expect.stringMatching(/aws_route\.other sends 10\.2\.0\.0\/25 to aws_vpn_gateway\.G, which is not a peering/),
    );
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
    expect(reasons(world(acl([denyFirst, all], [all])), "a", "b")).toContain(
      "BLOCKED: aws_network_acl.N rule 100 denies 10.1.0.10/32 tcp port 80",
    );
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
    expect(reasons(world(acl([only80])), "a", "b")).toContain(
      "BLOCKED: aws_network_acl.N has no egress rule for 10.1.0.10/32 tcp port ephemeral (implicit deny)",
    );
    expect(allowed(world(acl([ephemeral])), "a", "b")).toBe(true);
    const asResource = (r: Record<string, Record<string, any>>) => {
      acl([])(r);
      r.aws_network_acl_rule = {
        E: {
          network_acl_id: ref("aws_network_acl.N"),
          rule_number: 120,
          egress: true,
          protocol: "tcp",
          rule_action: "allow",
          cidr_block: "0.0.0.0/0",
          from_port: 1024,
          to_port: 65535,
        },
      };
    };
    expect(allowed(world(asResource), "a", "b")).toBe(true);
  });

  it("peering that joins other VPCs is not a path: peering is not transitive", () => {
    const stack = world((r) => {
      r.aws_vpc.C = { cidr_block: "10.3.0.0/24" };
      r.aws_vpc_peering_connection.P.peer_vpc_id = ref("aws_vpc.C");
    });
    expect(allowed(stack, "a", "b")).toBe(false);
    expect(reasons(stack, "a", "b")).toContainEqual(
      expect.stringMatching(/which joins 10\.3\.0\.0\/24, not 10\.2\.0\.0\/24: peering is not transitive/),
    );
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
    expect(() => analyzeReachability(gateway)).toThrow(
      /does not read a Transit Gateway's default route table, which aws_ec2_transit_gateway\.T use\(s\)/,
    );
    const attachment = hubWorld((r) => delete r.aws_ec2_transit_gateway_vpc_attachment.xb.transit_gateway_default_route_table_propagation);
    expect(() => analyzeReachability(attachment)).toThrow(/which aws_ec2_transit_gateway_vpc_attachment\.xb use\(s\)/);
  });

  it("a rule with self = true", () => {
    const stack = world((r) => {
      r.aws_security_group_rule = {
        S: { type: "ingress", security_group_id: ref("aws_security_group.sb"), protocol: "tcp", from_port: 80, to_port: 80, self: true },
      };
    });
    expect(() => analyzeReachability(stack)).toThrow(
      /does not read aws_security_group_rule\.S \(a rule with self = true\); its verdicts for this stack could be wrong, so it gives none/,
    );
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
      xa: {
        transit_gateway_id: ref("aws_ec2_transit_gateway.T"),
        vpc_id: ref("aws_vpc.A"),
        subnet_ids: [ref("aws_subnet.a")],
        ...noDefaults,
      },
      xb: {
        transit_gateway_id: ref("aws_ec2_transit_gateway.T"),
        vpc_id: ref("aws_vpc.B"),
        subnet_ids: [ref("aws_subnet.b")],
        ...noDefaults,
      },
    };
    r.aws_ec2_transit_gateway_route_table = {
      spokes: { transit_gateway_id: ref("aws_ec2_transit_gateway.T") },
      hub: { transit_gateway_id: ref("aws_ec2_transit_gateway.T") },
    };
    r.aws_ec2_transit_gateway_route_table_association = {
      xa: {
        transit_gateway_attachment_id: ref("aws_ec2_transit_gateway_vpc_attachment.xa"),
        transit_gateway_route_table_id: ref("aws_ec2_transit_gateway_route_table.spokes"),
      },
      xb: {
        transit_gateway_attachment_id: ref("aws_ec2_transit_gateway_vpc_attachment.xb"),
        transit_gateway_route_table_id: ref("aws_ec2_transit_gateway_route_table.hub"),
      },
    };
    r.aws_ec2_transit_gateway_route_table_propagation = {
      xa: {
        transit_gateway_attachment_id: ref("aws_ec2_transit_gateway_vpc_attachment.xa"),
        transit_gateway_route_table_id: ref("aws_ec2_transit_gateway_route_table.hub"),
      },
    };
    r.aws_ec2_transit_gateway_route = {
      toB: {
        destination_cidr_block: "10.2.0.0/24",
        transit_gateway_attachment_id: ref("aws_ec2_transit_gateway_vpc_attachment.xb"),
        transit_gateway_route_table_id: ref("aws_ec2_transit_gateway_route_table.spokes"),
      },
    };
    r.aws_route = {
      toB: {
        route_table_id: ref("aws_route_table.ta"),
        destination_cidr_block: "10.2.0.0/24",
        transit_gateway_id: ref("aws_ec2_transit_gateway.T"),
      },
      toA: {
        route_table_id: ref("aws_route_table.tb"),
        destination_cidr_block: "10.1.0.0/24",
        transit_gateway_id: ref("aws_ec2_transit_gateway.T"),
      },
    };
    edit(r);
  });
}

/**
 * A third VPC C (10.3.0.0/24) with instance c (10.3.0.10), which A's table and the spokes' table
 * send through the gateway into B. Unless `peered` is false, B and C are peered, C's own table sends
 * `back` to B over that peering, and C admits `admit` on port 80.
 */
function thirdVpc(r: Record<string, Record<string, any>>, { peered = true, back = "10.2.0.0/24", admit = "10.2.0.0/24" } = {}): void {
  r.aws_vpc.C = { cidr_block: "10.3.0.0/24" };
  r.aws_subnet.c = { vpc_id: ref("aws_vpc.C"), cidr_block: "10.3.0.0/25" };
  r.aws_security_group.sc = { vpc_id: ref("aws_vpc.C") };
  r.aws_instance.c = {
    subnet_id: ref("aws_subnet.c"),
    private_ip: "10.3.0.10",
    vpc_security_group_ids: [ref("aws_security_group.sc")],
    tags: { Name: "c" },
  };
  r.aws_ec2_transit_gateway_route.toC = {
    destination_cidr_block: "10.3.0.0/24",
    transit_gateway_attachment_id: ref("aws_ec2_transit_gateway_vpc_attachment.xb"),
    transit_gateway_route_table_id: ref("aws_ec2_transit_gateway_route_table.spokes"),
  };
  r.aws_route.aToC = {
    route_table_id: ref("aws_route_table.ta"),
    destination_cidr_block: "10.3.0.0/24",
    transit_gateway_id: ref("aws_ec2_transit_gateway.T"),
  };
  if (!peered) return;
  r.aws_route_table.tc = { vpc_id: ref("aws_vpc.C") };
  r.aws_route_table_association.c = { subnet_id: ref("aws_subnet.c"), route_table_id: ref("aws_route_table.tc") };
  r.aws_vpc_peering_connection = { BC: { vpc_id: ref("aws_vpc.B"), peer_vpc_id: ref("aws_vpc.C") } };
  r.aws_route.cToB = {
    route_table_id: ref("aws_route_table.tc"),
    destination_cidr_block: back,
    vpc_peering_connection_id: ref("aws_vpc_peering_connection.BC"),
  };
  r.aws_vpc_security_group_ingress_rule.cIn = {
    security_group_id: ref("aws_security_group.sc"),
    ip_protocol: "tcp",
    from_port: 80,
    to_port: 80,
    cidr_ipv4: admit,
  };
}

describe("the reachability analysis reads Transit Gateways", () => {
  it("a static route to an attachment one way and a propagated block back: allowed, and the reasons name both", () => {
    expect(allowed(hubWorld(), "a", "b")).toBe(true);
    expect(reasons(hubWorld(), "a", "b")[1]).toBe(
      "aws_route.toB: 10.2.0.0/24 to aws_ec2_transit_gateway.T, then aws_ec2_transit_gateway_route_table.spokes (aws_ec2_transit_gateway_route.toB: 10.2.0.0/24) to aws_ec2_transit_gateway_vpc_attachment.xb in 10.2.0.0/24",
    );
    const why = reasons(hubWorld(), "a", "b").join("\n");
    expect(why).toMatch(/aws_ec2_transit_gateway_route\.toB: 10\.2\.0\.0\/24\) to aws_ec2_transit_gateway_vpc_attachment\.xb/);
    expect(why).toMatch(/replies: .*aws_ec2_transit_gateway_route_table_propagation\.xa \(propagated\): 10\.1\.0\.0\/24/);
  });

  it("a VPC route to the gateway is not enough: the table of the VPC's attachment decides", () => {
    const noStatic = hubWorld((r) => delete r.aws_ec2_transit_gateway_route);
    expect(allowed(noStatic, "a", "b")).toBe(false);
    expect(reasons(noStatic, "a", "b")).toContainEqual(
      expect.stringMatching(
        /^BLOCKED: .*aws_ec2_transit_gateway_route_table\.spokes \(of aws_ec2_transit_gateway_vpc_attachment\.xa\) has no route to 10\.2\.0\.10\/32$/,
      ),
    );
    const unassociated = hubWorld((r) => delete r.aws_ec2_transit_gateway_route_table_association.xa);
    expect(reasons(unassociated, "a", "b")).toContainEqual(
      expect.stringMatching(/^BLOCKED: .*xa is associated with no route table of the gateway$/),
    );
    const unattached = hubWorld((r) => delete r.aws_ec2_transit_gateway_vpc_attachment.xa);
    expect(reasons(unattached, "a", "b")).toContainEqual(expect.stringMatching(/^BLOCKED: .*but 10\.1\.0\.0\/24 has no attachment to it$/));
    // An attachment to another gateway does not count.
    const other = hubWorld((r) => {
      r.aws_ec2_transit_gateway.T2 = { default_route_table_association: "disable", default_route_table_propagation: "disable" };
      r.aws_route.toB.transit_gateway_id = ref("aws_ec2_transit_gateway.T2");
      r.aws_ec2_transit_gateway_vpc_attachment.xa2 = {
        ...r.aws_ec2_transit_gateway_vpc_attachment.xb,
        transit_gateway_id: ref("aws_ec2_transit_gateway.T2"),
      };
    });
    expect(reasons(other, "a", "b")).toContain(
      "BLOCKED: aws_route.toB: 10.2.0.0/24 to aws_ec2_transit_gateway.T2, but 10.1.0.0/24 has no attachment to it",
    );
    // A target that is no gateway of the stack, in a stack that has one.
    const endpoint = hubWorld((r) => ((r.aws_route.toB.transit_gateway_id = undefined), (r.aws_route.toB.vpc_endpoint_id = "vpce-1")));
    expect(reasons(endpoint, "a", "b")).toContain(
      "BLOCKED: aws_route.toB sends 10.2.0.0/24 to other, which is not a peering, Transit Gateway, NAT gateway or virtual private gateway of this stack",
    );
  });

  it("a blackhole route drops the traffic even where a wider route would deliver it", () => {
    const blackhole = hubWorld(
      (r) =>
        (r.aws_ec2_transit_gateway_route.hole = {
          destination_cidr_block: "10.2.0.0/25",
          blackhole: true,
          transit_gateway_route_table_id: ref("aws_ec2_transit_gateway_route_table.spokes"),
        }),
    );
    expect(allowed(blackhole, "a", "b")).toBe(false);
    expect(reasons(blackhole, "a", "b")).toContainEqual(
      expect.stringMatching(/^BLOCKED: .*drops 10\.2\.0\.0\/25 \(aws_ec2_transit_gateway_route\.hole \(blackhole\)\)$/),
    );
  });

  it("the most specific route wins, in the VPC's table and in the gateway's", () => {
    // A more specific static route to A's own attachment sends B's traffic back where it came from: A, not B.
    const back = hubWorld(
      (r) =>
        (r.aws_ec2_transit_gateway_route.loop = {
          destination_cidr_block: "10.2.0.0/25",
          transit_gateway_attachment_id: ref("aws_ec2_transit_gateway_vpc_attachment.xa"),
          transit_gateway_route_table_id: ref("aws_ec2_transit_gateway_route_table.spokes"),
        }),
    );
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
      thirdVpc(r);
      r.aws_subnet.b2 = { vpc_id: ref("aws_vpc.B"), cidr_block: "10.2.0.128/25" };
      r.aws_route_table.tb2 = { vpc_id: ref("aws_vpc.B") };
      r.aws_route_table_association.b2 = { subnet_id: ref("aws_subnet.b2"), route_table_id: ref("aws_route_table.tb2") };
      r.aws_nat_gateway = {
        N: { connectivity_type: "private", subnet_id: ref("aws_subnet.b2"), private_ip: "10.2.0.200", tags: { Name: "nat" } },
      };
      Object.assign(r.aws_route, {
        bToNat: {
          route_table_id: ref("aws_route_table.tb"),
          destination_cidr_block: "10.3.0.0/24",
          nat_gateway_id: ref("aws_nat_gateway.N"),
        },
        b2ToC: {
          route_table_id: ref("aws_route_table.tb2"),
          destination_cidr_block: "10.3.0.0/24",
          vpc_peering_connection_id: ref("aws_vpc_peering_connection.BC"),
        },
        b2ToA: {
          route_table_id: ref("aws_route_table.tb2"),
          destination_cidr_block: "10.1.0.0/24",
          transit_gateway_id: ref("aws_ec2_transit_gateway.T"),
        },
      });
      edit(r);
    });
  }

  it("through the Transit Gateway and the NAT gateway: allowed, and the destination sees the NAT's address, never the client's", () => {
    expect(allowed(natWorld(), "a", "c")).toBe(true);
    const why = reasons(natWorld(), "a", "c");
    expect(why).toContainEqual("c sees the source 10.2.0.200/32 (nat), not 10.1.0.10/32");
    expect(why).toContainEqual("replies to nat: aws_route.cToB: 10.2.0.0/24 via aws_vpc_peering_connection.BC");
    expect(why.join("\n")).toMatch(/replies from nat: aws_route\.b2ToA: 10\.1\.0\.0\/24 to aws_ec2_transit_gateway\.T/);
    // C admits only B's block: without the NAT gateway A's own address would be refused.
    expect(
      allowed(
        natWorld((r) => (r.aws_vpc_security_group_ingress_rule.cIn.cidr_ipv4 = "10.2.0.128/26")),
        "a",
        "c",
      ),
    ).toBe(false);
  });

  it("without the route to the NAT gateway, app -> service is denied", () => {
    const stack = natWorld((r) => delete r.aws_route.bToNat);
    expect(allowed(stack, "a", "c")).toBe(false);
    expect(reasons(stack, "a", "c")).toContainEqual(
      expect.stringMatching(
        /BLOCKED: .*no route in aws_route_table\.tb from aws_ec2_transit_gateway_vpc_attachment\.xb in aws_subnet\.b to 10\.3\.0\.10\/32/,
      ),
    );
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
    expect(reasons(stack, "a", "c")).toContainEqual(
      expect.stringMatching(
        /BLOCKED: aws_route\.aToC sends 10\.3\.0\.0\/24 into aws_vpc_peering_connection\.AB, which joins 10\.2\.0\.0\/24, not 10\.3\.0\.0\/24: peering is not transitive/,
      ),
    );
  });
});

describe("the reachability analysis reads UDP and resolver endpoints", () => {
  const verdictOf = (stack: any, from: string, to: string, port: number, protocol: "tcp" | "udp") =>
    analyzeReachability(stack).verdicts.find((x) => x.from === from && x.to === to && x.port === port && x.protocol === protocol);
  /** DNS from a to b: UDP and TCP 53 out of sa, into sb; `udp` is the UDP rules' protocol field. */
  const dns =
    (udp = "udp") =>
    (r: Record<string, Record<string, any>>) => {
      r.aws_vpc_security_group_egress_rule.aDnsU = {
        security_group_id: ref("aws_security_group.sa"),
        ip_protocol: udp,
        from_port: 53,
        to_port: 53,
        cidr_ipv4: "10.2.0.10/32",
      };
      r.aws_vpc_security_group_egress_rule.aDnsT = {
        security_group_id: ref("aws_security_group.sa"),
        ip_protocol: "tcp",
        from_port: 53,
        to_port: 53,
        cidr_ipv4: "10.2.0.10/32",
      };
      r.aws_vpc_security_group_ingress_rule.bDnsU = {
        security_group_id: ref("aws_security_group.sb"),
        ip_protocol: udp,
        from_port: 53,
        to_port: 53,
        cidr_ipv4: "10.1.0.0/24",
      };
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
      r.aws_vpc_security_group_ingress_rule.bDnsT = {
        security_group_id: ref("aws_security_group.sb"),
        ip_protocol: "tcp",
        from_port: 53,
        to_port: 53,
        cidr_ipv4: "10.1.0.0/24",
      };
      const rule = (protocol: string, from: number, to: number) => ({
        rule_no: 100,
        protocol,
        action: "allow",
        cidr_block: "0.0.0.0/0",
        from_port: from,
        to_port: to,
      });
      r.aws_network_acl = {
        N: { subnet_ids: [ref("aws_subnet.b")], ingress: [rule("17", 53, 53)], egress: [rule("udp", 1024, 65535)] },
      };
    });
    expect(verdictOf(acl, "a", "b", 53, "udp")?.allowed).toBe(true);
    expect(verdictOf(acl, "a", "b", 53, "tcp")?.reasons).toContain(
      "BLOCKED: aws_network_acl.N has no ingress rule for 10.1.0.10/32 tcp port 53 (implicit deny)",
    );
  });

  it("a resolver endpoint as a place in each of its subnets, at a fixed address where one is given, with its groups", () => {
    const endpoint = (ips: Record<string, unknown>[]) =>
      world((r) => {
        dns()(r);
        delete r.aws_instance.a;
        r.aws_route53_resolver_endpoint = {
          R: { direction: "OUTBOUND", ip_address: ips, security_group_ids: [ref("aws_security_group.sa")], tags: { Name: "resolver" } },
        };
      });
    const both = endpoint([{ subnet_id: ref("aws_subnet.a"), ip: "10.1.0.53" }, { subnet_id: ref("aws_subnet.a2") }]);
    const found = analyzeReachability(both).endpoints.find((e) => e.name === "resolver")!;
    expect(found.address).toBe("aws_route53_resolver_endpoint.R");
    expect(found.placements.map((p) => p.range)).toStrictEqual(["10.1.0.53/32", "10.1.0.128/25"]);
    expect(found.groups).toStrictEqual(["aws_security_group.sa"]);
    expect(verdictOf(both, "resolver", "b", 53, "udp")?.allowed).toBe(true);
    // An address in a subnet that the ingress rule leaves out: denied for that subnet, so denied.
    const narrow = world((r) => {
      dns()(r);
      delete r.aws_instance.a;
      r.aws_vpc_security_group_ingress_rule.bDnsU.cidr_ipv4 = "10.1.0.0/25";
      r.aws_route53_resolver_endpoint = {
        R: {
          ip_address: [{ subnet_id: ref("aws_subnet.a") }, { subnet_id: ref("aws_subnet.a2") }],
          security_group_ids: [ref("aws_security_group.sa")],
        },
      };
    });
    const v = verdictOf(narrow, "aws_route53_resolver_endpoint.R", "b", 53, "udp")!;
    expect(v.allowed).toBe(false);
    expect(v.reasons[0]).toBe("from 10.1.0.128/25 to 10.2.0.10/32 (of 2 pairs of subnets):");
    expect(verdictOf(both, "resolver", "b", 53, "udp")!.reasons[0]).toBe(
      "for all 2 pairs of subnets, such as 10.1.0.53/32 to 10.2.0.10/32:",
    );
    // An endpoint in no known subnet is no place at all.
    expect(analyzeReachability(endpoint([{ subnet_id: "subnet-elsewhere" }])).endpoints.map((e) => e.name)).not.toContain("resolver");
  });
});

describe("the reachability analysis reads a fleet behind a Network Load Balancer", () => {
  /**
   * B holds an Auto Scaling group of proxies (launch template T, group sg st) behind an internal
   * NLB L at 10.2.0.20 (group slb) that forwards 3128 to target group G; a in A is the client.
   */
  function fleetWorld(edit: (r: Record<string, Record<string, any>>) => void = () => undefined): any {
    return world((r) => {
      delete r.aws_instance.b;
      r.aws_security_group.slb = { vpc_id: ref("aws_vpc.B") };
      r.aws_security_group.st = { vpc_id: ref("aws_vpc.B") };
      r.aws_vpc_security_group_egress_rule.aProxy = {
        security_group_id: ref("aws_security_group.sa"),
        ip_protocol: "tcp",
        from_port: 3128,
        to_port: 3128,
        cidr_ipv4: "10.2.0.20/32",
      };
      r.aws_vpc_security_group_ingress_rule.lbIn = {
        security_group_id: ref("aws_security_group.slb"),
        ip_protocol: "tcp",
        from_port: 3128,
        to_port: 3128,
        cidr_ipv4: "10.1.0.0/24",
      };
      r.aws_vpc_security_group_egress_rule.lbOut = {
        security_group_id: ref("aws_security_group.slb"),
        ip_protocol: "tcp",
        from_port: 3128,
        to_port: 3128,
        referenced_security_group_id: ref("aws_security_group.st"),
      };
      r.aws_vpc_security_group_ingress_rule.tIn = {
        security_group_id: ref("aws_security_group.st"),
        ip_protocol: "tcp",
        from_port: 3128,
        to_port: 3128,
        referenced_security_group_id: ref("aws_security_group.slb"),
      };
      r.aws_launch_template = {
        T: {
          vpc_security_group_ids: [ref("aws_security_group.st")],
          tag_specifications: [
            { resource_type: "volume", tags: { Name: "vol" } },
            { resource_type: "instance", tags: { Name: "proxy" } },
          ],
        },
      };
      r.aws_autoscaling_group = {
        F: {
          launch_template: { id: ref("aws_launch_template.T") },
          vpc_zone_identifier: [ref("aws_subnet.b")],
          target_group_arns: [ref("aws_lb_target_group.G", "arn")],
          tag: [
            { key: "Project", value: "p" },
            { key: "Name", value: "group-name" },
          ],
        },
      };
      r.aws_lb = {
        L: {
          subnet_mapping: [{ subnet_id: ref("aws_subnet.b"), private_ipv4_address: "10.2.0.20" }],
          security_groups: [ref("aws_security_group.slb")],
        },
      };
      r.aws_lb_target_group = { G: { port: 3128 }, Other: { port: 9999 } };
      r.aws_lb_listener = {
        Li: {
          load_balancer_arn: ref("aws_lb.L", "arn"),
          port: 3128,
          default_action: [{ type: "forward", target_group_arn: ref("aws_lb_target_group.G", "arn") }],
        },
        Elsewhere: {
          load_balancer_arn: ref("aws_lb.M", "arn"),
          port: 3129,
          default_action: [{ type: "forward", target_group_arn: ref("aws_lb_target_group.G", "arn") }],
        },
        Fixed: {
          load_balancer_arn: ref("aws_lb.L", "arn"),
          port: 3130,
          default_action: [{ type: "fixed-response", target_group_arn: ref("aws_lb_target_group.G", "arn") }],
        },
        OtherGroup: {
          load_balancer_arn: ref("aws_lb.L", "arn"),
          port: 3131,
          default_action: [{ type: "forward", target_group_arn: ref("aws_lb_target_group.Other", "arn") }],
        },
      };
      edit(r);
    });
  }
  const verdictOf = (stack: any, from: string, to: string, port: number, protocol: "tcp" | "udp" = "tcp") =>
    analyzeReachability(stack).verdicts.find((x) => x.from === from && x.to === to && x.port === port && x.protocol === protocol)!;

  it("reads the group's instances from its template (name, groups, subnets) and the listeners that forward to its target group", () => {
    const model = new Model(fleetWorld());
    const fleet = model.endpoints.find((e) => e.address === "aws_autoscaling_group.F")!;
    expect(fleet.name).toBe("proxy");
    expect(fleet.groups).toEqual(["aws_security_group.st"]);
    expect(fleet.placements.map((p) => p.range)).toEqual(["10.2.0.0/25"]);
    const front = model.frontends.get("aws_autoscaling_group.F")!;
    expect(front.address).toBe("aws_lb.L");
    expect(front.nodes.map((n) => [n.name, n.range, n.groups])).toEqual([["aws_lb.L", "10.2.0.20/32", ["aws_security_group.slb"]]]);
    expect([...front.listeners]).toEqual([
      [3128, { targetGroup: "aws_lb_target_group.G", targetPort: 3128, listener: "aws_lb_listener.Li" }],
    ]);
  });

  it("names a group's instances by the group's Name tag, then by its address, when the template names none", () => {
    const byGroup = new Model(
      fleetWorld((r) => (r.aws_launch_template.T.tag_specifications = [{ resource_type: "volume", tags: { Name: "vol" } }])),
    );
    expect(byGroup.endpoints.find((e) => e.address === "aws_autoscaling_group.F")!.name).toBe("group-name");
    const byAddress = new Model(
      fleetWorld((r) => (delete r.aws_launch_template.T.tag_specifications, delete r.aws_autoscaling_group.F.tag)),
    );
    expect(byAddress.endpoints.find((e) => e.address === "aws_autoscaling_group.F")!.name).toBe("aws_autoscaling_group.F");
  });

  it("names the group when its template's instance tags carry no Name, skips a group without a launch template, and keeps a listener whose target group the stack lacks", () => {
    const untagged = new Model(fleetWorld((r) => (r.aws_launch_template.T.tag_specifications = [{ resource_type: "instance" }])));
    expect(untagged.endpoints.find((e) => e.address === "aws_autoscaling_group.F")!.name).toBe("group-name");
    expect(new Model(fleetWorld((r) => delete r.aws_autoscaling_group.F.launch_template)).endpoints.map((e) => e.address)).toStrictEqual([
      "aws_instance.a",
      "aws_instance.a2",
    ]);
    const gone = new Model(
      fleetWorld((r) => {
        delete r.aws_lb_target_group;
        r.aws_autoscaling_group.F.target_group_arns = [ref("aws_lb_target_group.G", "arn")];
      }),
    );
    expect(gone.frontends.get("aws_autoscaling_group.F")!.listeners.get(3128)!.targetPort).toBeNaN();
    const otherName = new Model(fleetWorld((r) => (r.aws_lb_target_group = { Else: { port: 1 } })));
    expect(otherName.frontends.get("aws_autoscaling_group.F")!.listeners.get(3128)!.targetPort).toBeNaN();
    expect(new Model(world((r) => (r.aws_network_acl = { N: {} }))).naclOfSubnet.size).toBe(0);
  });

  it("skips a group without its template or without a known subnet, and a load balancer whose listeners forward elsewhere", () => {
    expect(new Model(fleetWorld((r) => delete r.aws_launch_template)).endpoints.map((e) => e.address)).not.toContain(
      "aws_autoscaling_group.F",
    );
    expect(
      new Model(fleetWorld((r) => (r.aws_autoscaling_group.F.vpc_zone_identifier = ["subnet-unknown"]))).endpoints.map((e) => e.address),
    ).not.toContain("aws_autoscaling_group.F");
    const elsewhere = new Model(
      fleetWorld(
        (r) => (
          (r.aws_autoscaling_group.F.target_group_arns = [ref("aws_lb_target_group.Other", "arn")]),
          delete r.aws_lb_listener.OtherGroup
        ),
      ),
    );
    expect(elsewhere.frontends.size).toBe(0);
    expect(new Model(fleetWorld((r) => delete r.aws_autoscaling_group.F.target_group_arns)).frontends.size).toBe(0);
  });

  it("through the load balancer: client to node, node to target with the client's address kept", () => {
    const v = verdictOf(fleetWorld(), "a", "proxy", 3128);
    expect(v.allowed).toBe(true);
    expect(v.reasons[0]).toBe("through aws_lb.L (aws_lb_listener.Li on 3128 to aws_lb_target_group.G on 3128, client addresses kept)");
    expect(v.reasons).toContain("ingress aws_vpc_security_group_ingress_rule.lbIn");
    expect(v.reasons).toContain("ingress aws_vpc_security_group_ingress_rule.tIn");
  });

  it("denies the fleet when its group admits neither the client's range nor the load balancer's group, and says why", () => {
    const v = verdictOf(
      fleetWorld((r) => (r.aws_vpc_security_group_ingress_rule.tIn.referenced_security_group_id = ref("aws_security_group.sb"))),
      "a",
      "proxy",
      3128,
    );
    expect(v.allowed).toBe(false);
    expect(v.reasons).toContain(
      "BLOCKED: no ingress rule of proxy allows tcp 3128 from 10.1.0.10/32 (the client's address, which the load balancer keeps) or from the load balancer's group",
    );
  });

  it("denies the fleet when the client may not reach the load balancer's node", () => {
    const v = verdictOf(
      fleetWorld((r) => (r.aws_vpc_security_group_ingress_rule.lbIn.cidr_ipv4 = "10.9.0.0/24")),
      "a",
      "proxy",
      3128,
    );
    expect(v.allowed).toBe(false);
    expect(v.reasons).toContain("BLOCKED: no ingress rule of aws_lb.L allows tcp 3128 from 10.1.0.10/32");
  });

  it("sends UDP straight to the instances: the load balancer's listeners carry TCP", () => {
    const udp = fleetWorld((r) => {
      r.aws_vpc_security_group_egress_rule.aUdp = {
        security_group_id: ref("aws_security_group.sa"),
        ip_protocol: "udp",
        from_port: 3128,
        to_port: 3128,
        cidr_ipv4: "10.2.0.0/24",
      };
    });
    const v = verdictOf(udp, "a", "proxy", 3128, "udp");
    expect(v.reasons[0]).toBe("egress aws_vpc_security_group_egress_rule.aUdp");
    expect(v.reasons).toContain("BLOCKED: no ingress rule of proxy allows udp 3128 from 10.1.0.10/32");
  });
});

describe("the reachability analysis, at the edges of its model", () => {
  const verdictOf = (stack: any, from: string, to: string, port = 80) =>
    analyzeReachability(stack).verdicts.find((x) => x.from === from && x.to === to && x.port === port && x.protocol === "tcp")!;

  it("gives a verdict for every ordered pair of distinct places and every port, and no more", () => {
    const report = analyzeReachability(world());
    expect(report.ports).toEqual([80]);
    expect(report.verdicts).toHaveLength(3 * 2);
    expect(report.verdicts.some((v) => v.from === v.to)).toBe(false);
  });

  it("lists the reasons of a direct flow exactly: egress, route, ingress, route back, with no blank steps", () => {
    expect(verdictOf(world(), "a", "b").reasons).toEqual([
      "egress aws_vpc_security_group_egress_rule.aOut",
      "aws_route.toB: 10.2.0.0/24 via aws_vpc_peering_connection.P",
      "ingress aws_vpc_security_group_ingress_rule.bIn",
      "replies: aws_route.toA: 10.1.0.0/24 via aws_vpc_peering_connection.P",
    ]);
    const local = world(
      (r) =>
        (r.aws_vpc_security_group_ingress_rule.a2In = {
          security_group_id: ref("aws_security_group.sa2"),
          ip_protocol: "tcp",
          from_port: 80,
          to_port: 80,
          cidr_ipv4: "10.1.0.0/24",
        }),
    );
    expect(verdictOf(local, "a", "a2").reasons).toEqual([
      "egress aws_vpc_security_group_egress_rule.aOut",
      "local route in 10.1.0.0/24",
      "ingress aws_vpc_security_group_ingress_rule.a2In",
      "replies: local route in 10.1.0.0/24",
    ]);
  });

  it("denies a rule whose port range ends below the port, and one that starts above it", () => {
    expect(
      allowed(
        world((r) => (r.aws_vpc_security_group_ingress_rule.bIn.to_port = 79)),
        "a",
        "b",
      ),
    ).toBe(false);
    expect(
      allowed(
        world((r) => (r.aws_vpc_security_group_ingress_rule.bIn.from_port = 81)),
        "a",
        "b",
      ),
    ).toBe(false);
    // A rule without ports covers them all.
    expect(
      allowed(
        world(
          (r) => (delete r.aws_vpc_security_group_ingress_rule.bIn.from_port, delete r.aws_vpc_security_group_ingress_rule.bIn.to_port),
        ),
        "a",
        "b",
      ),
    ).toBe(true);
  });

  it("ignores a security group the stack does not hold, and rules of such a group", () => {
    const stack = world((r) => {
      r.aws_instance.b.vpc_security_group_ids = ["sg-0123456789abcdef0", ref("aws_security_group.gone")];
      r.aws_vpc_security_group_ingress_rule.stray = {
        security_group_id: ref("aws_security_group.gone"),
        ip_protocol: "tcp",
        from_port: 80,
        to_port: 80,
        cidr_ipv4: "0.0.0.0/0",
      };
    });
    expect(new Model(stack).endpoints.find((e) => e.name === "b")!.groups).toStrictEqual(["aws_security_group.gone"]);
    expect(verdictOf(stack, "a", "b").reasons).toContain("BLOCKED: no ingress rule of b allows tcp 80 from 10.1.0.10/32");
  });

  it("reads aws_security_group_rule egress rules, and a rule by source group only when it names one", () => {
    const rules = world((r) => {
      delete r.aws_vpc_security_group_egress_rule.aOut;
      r.aws_security_group_rule = {
        aOut: {
          type: "egress",
          security_group_id: ref("aws_security_group.sa"),
          protocol: "tcp",
          from_port: 80,
          to_port: 80,
          cidr_blocks: ["10.2.0.0/24"],
        },
      };
    });
    expect(verdictOf(rules, "a", "b").reasons[0]).toBe("egress aws_security_group_rule.aOut");
    const model = new Model(
      world(
        (r) =>
          (r.aws_security_group_rule = {
            x: {
              type: "ingress",
              security_group_id: ref("aws_security_group.sb"),
              protocol: "tcp",
              from_port: 22,
              to_port: 22,
              cidr_blocks: [],
            },
          }),
      ),
    );
    expect(model.groups.get("aws_security_group.sb")!.ingress.map((x) => x.address)).toEqual(["aws_vpc_security_group_ingress_rule.bIn"]);
  });

  it("reads an inline egress rule by security group, and an instance without a Name by its address", () => {
    const stack = world((r) => {
      delete r.aws_vpc_security_group_egress_rule.aOut;
      r.aws_security_group.sa.egress = [{ protocol: "tcp", from_port: 80, to_port: 80, security_groups: [ref("aws_security_group.sb")] }];
      delete r.aws_instance.b.tags;
    });
    const v = verdictOf(stack, "a", "aws_instance.b");
    expect(v.reasons[0]).toBe("egress aws_security_group.sa (inline egress)");
    expect(new Model(stack).groups.get("aws_security_group.sa")!.egress[0]).toEqual(
      expect.objectContaining({ groupRef: "aws_security_group.sb", protocol: "tcp", fromPort: 80, toPort: 80 }),
    );
  });

  it("keeps the routes of an inline route with a block, skips one without, and names a target it does not know", () => {
    const model = new Model(
      world((r) => {
        r.aws_route_table.ta.route = [
          { ipv6_cidr_block: "::/0", gateway_id: "igw-1" },
          { cidr_block: "10.9.0.0/24", vpc_endpoint_id: "vpce-1" },
        ];
        r.aws_route.v6 = { route_table_id: ref("aws_route_table.ta"), destination_ipv6_cidr_block: "::/0", gateway_id: "igw-1" };
        r.aws_route.loose = { destination_cidr_block: "10.8.0.0/24", gateway_id: "igw-1" };
      }),
    );
    expect(model.routes.get("aws_route_table.ta")).toEqual([
      { destination: "10.9.0.0/24", target: "other", address: "aws_route_table.ta (inline route)" },
      { destination: "10.2.0.0/24", target: "aws_vpc_peering_connection.P", address: "aws_route.toB" },
    ]);
    const toEndpoint = world(
      (r) => ((r.aws_route.toB.vpc_peering_connection_id = undefined), (r.aws_route.toB.vpc_endpoint_id = "vpce-1")),
    );
    expect(verdictOf(toEndpoint, "a", "b").reasons).toContain(
      "BLOCKED: aws_route.toB sends 10.2.0.0/24 to other, which is not a peering, Transit Gateway, NAT gateway or virtual private gateway of this stack",
    );
  });

  it("keeps a route table without routes, and reads an association only when both ends are known", () => {
    const model = new Model(
      world(
        (r) => (
          (r.aws_route_table.empty = { vpc_id: ref("aws_vpc.A") }),
          (r.aws_route_table_association.half = { subnet_id: ref("aws_subnet.a") })
        ),
      ),
    );
    expect(model.routes.get("aws_route_table.empty")).toEqual([]);
    expect(model.routeTableOfSubnet.get("aws_subnet.a")).toBe("aws_route_table.ta");
  });

  it("picks the most specific route even when the wider one comes first, and denies by the first ACL rule by number", () => {
    const wideFirst = world(
      (r) =>
        (r.aws_route = {
          wide: { route_table_id: ref("aws_route_table.ta"), destination_cidr_block: "10.0.0.0/8", vpc_endpoint_id: "vpce-1" },
          ...r.aws_route,
        }),
    );
    expect(verdictOf(wideFirst, "a", "b").reasons[1]).toBe("aws_route.toB: 10.2.0.0/24 via aws_vpc_peering_connection.P");
    const acl = (ingress: any[]) =>
      world(
        (r) =>
          (r.aws_network_acl = {
            N: {
              subnet_ids: [ref("aws_subnet.b")],
              ingress,
              egress: [{ rule_no: 100, protocol: "-1", action: "allow", cidr_block: "0.0.0.0/0", from_port: 0, to_port: 0 }],
            },
          }),
      );
    const rule = (rule_no: number, action: string) => ({
      rule_no,
      protocol: "tcp",
      action,
      cidr_block: "0.0.0.0/0",
      from_port: 80,
      to_port: 80,
    });
    expect(allowed(acl([rule(300, "deny"), rule(100, "allow")]), "a", "b")).toBe(true);
    expect(verdictOf(acl([rule(300, "allow"), rule(100, "deny")]), "a", "b").reasons).toContain(
      "BLOCKED: aws_network_acl.N rule 100 denies 10.1.0.10/32 tcp port 80",
    );
  });

  it("applies only the ACL rules whose block holds the peer: a lower-numbered deny for another block does not count", () => {
    const stack = world((r) => {
      const rule = (rule_no: number, action: string, cidr_block: string) => ({
        rule_no,
        protocol: "tcp",
        action,
        cidr_block,
        from_port: 0,
        to_port: 65535,
      });
      r.aws_network_acl = {
        N: {
          subnet_ids: [ref("aws_subnet.b")],
          ingress: [rule(100, "deny", "10.9.0.0/24"), rule(200, "allow", "10.1.0.0/24")],
          egress: [rule(100, "allow", "10.1.0.0/24")],
        },
      };
    });
    expect(allowed(stack, "a", "b")).toBe(true);
  });

  it("reads routes of a table the stack does not hold, and an ACL or instance in a subnet it does not hold is skipped", () => {
    const stack = world((r) => {
      r.aws_route.lost = {
        route_table_id: ref("aws_route_table.gone"),
        destination_cidr_block: "10.2.0.0/24",
        vpc_peering_connection_id: ref("aws_vpc_peering_connection.P"),
      };
      r.aws_route_table_association.a = { subnet_id: ref("aws_subnet.a"), route_table_id: ref("aws_route_table.void") };
      r.aws_network_acl = { N: { subnet_ids: ["subnet-literal", ref("aws_subnet.gone")] } };
      r.aws_instance.lost = { subnet_id: ref("aws_subnet.gone"), vpc_security_group_ids: [], tags: { Name: "lost" } };
    });
    const model = new Model(stack);
    expect(model.routes.get("aws_route_table.gone")).toEqual([
      { destination: "10.2.0.0/24", target: "aws_vpc_peering_connection.P", address: "aws_route.lost" },
    ]);
    expect([...model.naclOfSubnet.keys()]).toStrictEqual(["aws_subnet.gone"]);
    expect(model.endpoints.map((e) => e.address)).toStrictEqual(["aws_instance.a", "aws_instance.a2", "aws_instance.b"]);
    expect(verdictOf(stack, "a", "b").reasons).toContain("BLOCKED: no route in aws_route_table.void from a to 10.2.0.10/32");
  });

  it("takes an id given literally for a VPC, and shows a VPC the stack does not hold by that id", () => {
    const model = new Model(
      world((r) => {
        r.aws_subnet.x = { vpc_id: "vpc-0123456789abcdef0", cidr_block: "10.5.0.0/24" };
        r.aws_vpc_peering_connection.X = { vpc_id: ref("aws_vpc.A"), peer_vpc_id: "vpc-0123456789abcdef0" };
        r.aws_security_group.sx = { vpc_id: "vpc-0123456789abcdef0" };
        r.aws_instance.x = {
          subnet_id: ref("aws_subnet.x"),
          private_ip: "10.5.0.10",
          vpc_security_group_ids: [ref("aws_security_group.sx")],
          tags: { Name: "x" },
        };
      }),
    );
    expect(model.subnets.get("aws_subnet.x")!.vpc).toBe("vpc-0123456789abcdef0");
    expect(model.peerings.get("aws_vpc_peering_connection.X")).toStrictEqual(["aws_vpc.A", "vpc-0123456789abcdef0"]);
    expect(model.groups.get("aws_security_group.sx")!.vpc).toBe("vpc-0123456789abcdef0");
    expect(model.endpoints.find((e) => e.name === "x")!.vpcCidr).toBe("vpc-0123456789abcdef0");
    expect(model.cidrOf("aws_vpc.B")).toBe("10.2.0.0/24");
  });

  it("reads inline rules exactly: one per block and per CIDR or group, none for a block without either", () => {
    const model = new Model(
      world((r) => {
        r.aws_security_group.sb.ingress = [
          {
            protocol: "tcp",
            from_port: 80,
            to_port: 80,
            cidr_blocks: ["10.1.0.0/25", "10.1.0.128/25"],
            security_groups: [ref("aws_security_group.sa")],
          },
          { protocol: "udp", from_port: 53, to_port: 53 },
        ];
      }),
    );
    expect(model.groups.get("aws_security_group.sb")!.ingress.map((x) => [x.address, x.cidr, x.groupRef])).toStrictEqual([
      ["aws_security_group.sb (inline ingress)", "10.1.0.0/25", undefined],
      ["aws_security_group.sb (inline ingress)", "10.1.0.128/25", undefined],
      ["aws_security_group.sb (inline ingress)", undefined, "aws_security_group.sa"],
      ["aws_vpc_security_group_ingress_rule.bIn", "10.1.0.0/24", undefined],
    ]);
  });

  it("denies a flow from a subnet without a route table of the stack's", () => {
    const stack = world((r) => delete r.aws_route_table_association.a);
    expect(verdictOf(stack, "a", "b").reasons).toContain(
      "BLOCKED: a's subnet has no route table of ours (the VPC's main table has the local route only)",
    );
  });

  it("denies a peering route from the accepter's side into a third VPC, and a route into a peering the VPC is not part of", () => {
    const open = (r: Record<string, Record<string, any>>) => {
      r.aws_vpc.C = { cidr_block: "10.3.0.0/24" };
      r.aws_subnet.c = { vpc_id: ref("aws_vpc.C"), cidr_block: "10.3.0.0/25" };
      r.aws_route_table.tc = { vpc_id: ref("aws_vpc.C") };
      r.aws_route_table_association.c = { subnet_id: ref("aws_subnet.c"), route_table_id: ref("aws_route_table.tc") };
      r.aws_security_group.sc = { vpc_id: ref("aws_vpc.C") };
      r.aws_instance.c = {
        subnet_id: ref("aws_subnet.c"),
        private_ip: "10.3.0.10",
        vpc_security_group_ids: [ref("aws_security_group.sc")],
        tags: { Name: "c" },
      };
      const any = { ip_protocol: "-1", cidr_ipv4: "0.0.0.0/0" };
      r.aws_vpc_security_group_egress_rule = {
        b: { security_group_id: ref("aws_security_group.sb"), ...any },
        c: { security_group_id: ref("aws_security_group.sc"), ...any },
      };
      r.aws_vpc_security_group_ingress_rule = {
        b: { security_group_id: ref("aws_security_group.sb"), ...any },
        c: { security_group_id: ref("aws_security_group.sc"), ...any },
        a: { security_group_id: ref("aws_security_group.sa"), ...any },
      };
      r.aws_vpc_security_group_egress_rule.cTcp = {
        security_group_id: ref("aws_security_group.sc"),
        ip_protocol: "tcp",
        from_port: 80,
        to_port: 80,
        cidr_ipv4: "0.0.0.0/0",
      };
    };
    // B (the accepter of P) sends C's block into P, which joins A and B only.
    const fromAccepter = world(
      (r) => (
        open(r),
        (r.aws_route.bToC = {
          route_table_id: ref("aws_route_table.tb"),
          destination_cidr_block: "10.3.0.0/24",
          vpc_peering_connection_id: ref("aws_vpc_peering_connection.P"),
        })
      ),
    );
    expect(verdictOf(fromAccepter, "b", "c").reasons).toContain(
      "BLOCKED: aws_route.bToC sends 10.3.0.0/24 into aws_vpc_peering_connection.P, which joins 10.1.0.0/24, not 10.3.0.0/24: peering is not transitive",
    );
    // C has a route into P, a peering it is not part of, towards B and towards A.
    const outsider = world((r) => {
      open(r);
      r.aws_route.cToB = {
        route_table_id: ref("aws_route_table.tc"),
        destination_cidr_block: "10.2.0.0/24",
        vpc_peering_connection_id: ref("aws_vpc_peering_connection.P"),
      };
      r.aws_route.cToA = {
        route_table_id: ref("aws_route_table.tc"),
        destination_cidr_block: "10.1.0.0/24",
        vpc_peering_connection_id: ref("aws_vpc_peering_connection.P"),
      };
    });
    expect(verdictOf(outsider, "c", "b").reasons).toContain(
      "BLOCKED: aws_route.cToB sends 10.2.0.0/24 into aws_vpc_peering_connection.P, which joins 10.1.0.0/24 and 10.2.0.0/24, not 10.3.0.0/24",
    );
    expect(verdictOf(outsider, "c", "a").reasons).toContain(
      "BLOCKED: aws_route.cToA sends 10.1.0.0/24 into aws_vpc_peering_connection.P, which joins 10.1.0.0/24 and 10.2.0.0/24, not 10.3.0.0/24",
    );
    // And the accepter's own way back to the requester works.
    expect(verdictOf(fromAccepter, "b", "a").allowed).toBe(true);
  });

  it("network ACLs: egress and ingress rules apart, ephemeral ports only when the range covers 1024 to 65535, a port inside the rule's range", () => {
    const acl = (ingress: any[], egress: any[]) => (r: Record<string, Record<string, any>>) =>
      (r.aws_network_acl = { N: { subnet_ids: [ref("aws_subnet.b")], ingress, egress } });
    const rule = (from: number, to: number, action = "allow") => ({
      rule_no: 100,
      protocol: "tcp",
      action,
      cidr_block: "0.0.0.0/0",
      from_port: from,
      to_port: to,
    });
    // An ingress rule that allows every port does not let the replies out.
    expect(verdictOf(world(acl([rule(0, 65535)], [])), "a", "b").reasons).toContain(
      "BLOCKED: aws_network_acl.N has no egress rule for 10.1.0.10/32 tcp port ephemeral (implicit deny)",
    );
    expect(allowed(world(acl([rule(0, 65535)], [rule(2000, 65535)])), "a", "b")).toBe(false);
    expect(allowed(world(acl([rule(0, 65535)], [rule(1024, 60000)])), "a", "b")).toBe(false);
    expect(allowed(world(acl([rule(0, 65535)], [rule(1024, 65535)])), "a", "b")).toBe(true);
    expect(allowed(world(acl([rule(81, 90)], [rule(1024, 65535)])), "a", "b")).toBe(false);
    expect(allowed(world(acl([rule(70, 79)], [rule(1024, 65535)])), "a", "b")).toBe(false);
    // The source's ACL: its egress for the port, its ingress for the replies.
    const source = (egress: any[], ingress: any[]) => (r: Record<string, Record<string, any>>) =>
      (r.aws_network_acl = { S: { subnet_ids: [ref("aws_subnet.a")], ingress, egress } });
    expect(verdictOf(world(source([rule(80, 80)], [])), "a", "b").reasons).toContain(
      "BLOCKED: aws_network_acl.S has no ingress rule for 10.2.0.10/32 tcp port ephemeral (implicit deny)",
    );
    expect(verdictOf(world(source([], [rule(1024, 65535)])), "a", "b").reasons).toContain(
      "BLOCKED: aws_network_acl.S has no egress rule for 10.2.0.10/32 tcp port 80 (implicit deny)",
    );
    expect(allowed(world(source([rule(80, 80)], [rule(1024, 65535)])), "a", "b")).toBe(true);
  });

  it("reads aws_network_acl_rule resources into their own ACL only, by direction", () => {
    const stack = world((r) => {
      r.aws_network_acl = { N: { subnet_ids: [ref("aws_subnet.b")] }, M: { subnet_ids: [ref("aws_subnet.a2")] } };
      r.aws_network_acl_rule = {
        in: {
          network_acl_id: ref("aws_network_acl.N"),
          rule_number: 100,
          egress: false,
          protocol: "tcp",
          rule_action: "allow",
          cidr_block: "0.0.0.0/0",
          from_port: 80,
          to_port: 80,
        },
        out: {
          network_acl_id: ref("aws_network_acl.N"),
          rule_number: 100,
          egress: true,
          protocol: "tcp",
          rule_action: "allow",
          cidr_block: "0.0.0.0/0",
          from_port: 1024,
          to_port: 65535,
        },
      };
    });
    const model = new Model(stack);
    expect(model.naclOfSubnet.get("aws_subnet.b")!.rules.map((x) => x.egress)).toEqual([false, true]);
    expect(model.naclOfSubnet.get("aws_subnet.a2")!.rules).toEqual([]);
    expect(model.naclOfSubnet.has("aws_subnet.a")).toBe(false);
    expect(allowed(stack, "a", "b")).toBe(true);
  });
});

describe("the reachability analysis, at the edges of Transit Gateways and NAT gateways", () => {
  const verdictOf = (stack: any, from: string, to: string, port = 80) =>
    analyzeReachability(stack).verdicts.find((x) => x.from === from && x.to === to && x.port === port && x.protocol === "tcp")!;

  it("refuses a gateway whose default propagation is on, and an attachment whose default association is on, naming each", () => {
    expect(() => analyzeReachability(hubWorld((r) => (r.aws_ec2_transit_gateway.T.default_route_table_propagation = "enable")))).toThrow(
      /which aws_ec2_transit_gateway\.T use\(s\)/,
    );
    expect(() =>
      analyzeReachability(
        hubWorld((r) => (r.aws_ec2_transit_gateway_vpc_attachment.xa.transit_gateway_default_route_table_association = true)),
      ),
    ).toThrow(/which aws_ec2_transit_gateway_vpc_attachment\.xa use\(s\) \(its association or propagation is not off\)/);
    expect(() =>
      analyzeReachability(
        hubWorld(
          (r) => (
            (r.aws_ec2_transit_gateway.T.default_route_table_association = "enable"),
            (r.aws_ec2_transit_gateway_vpc_attachment.xb.transit_gateway_default_route_table_association = true)
          ),
        ),
      ),
    ).toThrow(/which aws_ec2_transit_gateway\.T, aws_ec2_transit_gateway_vpc_attachment\.xb use\(s\)/);
  });

  it("reads attachments, tables, associations, propagations and static routes, skipping those that name nothing known", () => {
    const model = new Model(
      hubWorld((r) => {
        r.aws_ec2_transit_gateway_vpc_attachment.xa.subnet_ids = [ref("aws_subnet.a"), "subnet-literal"];
        r.aws_ec2_transit_gateway_route_table.lonely = { transit_gateway_id: ref("aws_ec2_transit_gateway.T") };
        r.aws_ec2_transit_gateway_route_table_association.half = {
          transit_gateway_route_table_id: ref("aws_ec2_transit_gateway_route_table.hub"),
        };
        r.aws_ec2_transit_gateway_route_table_propagation.ghost = {
          transit_gateway_attachment_id: ref("aws_ec2_transit_gateway_vpc_attachment.ghost"),
          transit_gateway_route_table_id: ref("aws_ec2_transit_gateway_route_table.hub"),
        };
        r.aws_ec2_transit_gateway_route_table_propagation.tableless = {
          transit_gateway_attachment_id: ref("aws_ec2_transit_gateway_vpc_attachment.xb"),
        };
        r.aws_ec2_transit_gateway_route.nodest = {
          transit_gateway_attachment_id: ref("aws_ec2_transit_gateway_vpc_attachment.xb"),
          transit_gateway_route_table_id: ref("aws_ec2_transit_gateway_route_table.spokes"),
        };
        r.aws_ec2_transit_gateway_route.notable = {
          destination_cidr_block: "10.7.0.0/24",
          transit_gateway_attachment_id: ref("aws_ec2_transit_gateway_vpc_attachment.xb"),
        };
        r.aws_ec2_transit_gateway_route.hole = {
          destination_cidr_block: "10.6.0.0/24",
          blackhole: true,
          transit_gateway_attachment_id: ref("aws_ec2_transit_gateway_vpc_attachment.xb"),
          transit_gateway_route_table_id: ref("aws_ec2_transit_gateway_route_table.spokes"),
        };
      }),
    );
    expect(model.tgwAttachments.get("aws_ec2_transit_gateway_vpc_attachment.xa")).toStrictEqual({
      address: "aws_ec2_transit_gateway_vpc_attachment.xa",
      gateway: "aws_ec2_transit_gateway.T",
      vpc: "aws_vpc.A",
      subnets: ["aws_subnet.a"],
    });
    expect(model.tgwRoutes.get("aws_ec2_transit_gateway_route_table.lonely")).toEqual([]);
    expect([...model.tgwRoutes.keys()]).toStrictEqual([
      "aws_ec2_transit_gateway_route_table.spokes",
      "aws_ec2_transit_gateway_route_table.hub",
      "aws_ec2_transit_gateway_route_table.lonely",
    ]);
    expect([...model.tgwTableOf]).toEqual([
      ["aws_ec2_transit_gateway_vpc_attachment.xa", "aws_ec2_transit_gateway_route_table.spokes"],
      ["aws_ec2_transit_gateway_vpc_attachment.xb", "aws_ec2_transit_gateway_route_table.hub"],
    ]);
    expect(model.tgwRoutes.get("aws_ec2_transit_gateway_route_table.hub")).toEqual([
      {
        destination: "10.1.0.0/24",
        attachment: "aws_ec2_transit_gateway_vpc_attachment.xa",
        address: "aws_ec2_transit_gateway_route_table_propagation.xa (propagated)",
      },
    ]);
    expect(model.tgwRoutes.get("aws_ec2_transit_gateway_route_table.spokes")).toEqual([
      { destination: "10.2.0.0/24", attachment: "aws_ec2_transit_gateway_vpc_attachment.xb", address: "aws_ec2_transit_gateway_route.toB" },
      { destination: "10.6.0.0/24", attachment: undefined, address: "aws_ec2_transit_gateway_route.hole (blackhole)" },
    ]);
  });

  it("denies through an attachment associated with a table the stack does not hold, and learns no block from an attachment of a VPC it does not hold", () => {
    const gone = hubWorld(
      (r) =>
        (r.aws_ec2_transit_gateway_route_table_association.xa.transit_gateway_route_table_id = ref(
          "aws_ec2_transit_gateway_route_table.gone",
        )),
    );
    expect(reasons(gone, "a", "b")).toContainEqual(
      expect.stringMatching(
        /^BLOCKED: .*aws_ec2_transit_gateway_route_table\.gone \(of aws_ec2_transit_gateway_vpc_attachment\.xa\) has no route to 10\.2\.0\.10\/32$/,
      ),
    );
    const byId = new Model(hubWorld((r) => (r.aws_ec2_transit_gateway_vpc_attachment.xa.vpc_id = "vpc-0123456789abcdef0")));
    expect(byId.tgwRoutes.get("aws_ec2_transit_gateway_route_table.hub")).toStrictEqual([]);
    expect(
      new Model(hubWorld((r) => delete r.aws_ec2_transit_gateway_vpc_attachment.xb.subnet_ids)).tgwAttachments.get(
        "aws_ec2_transit_gateway_vpc_attachment.xb",
      )!.subnets,
    ).toStrictEqual([]);
  });

  it("names a gateway given by id (an existing one) as it is given", () => {
    const model = new Model(hubWorld((r) => (r.aws_ec2_transit_gateway_vpc_attachment.xa.transit_gateway_id = "tgw-0123456789abcdef0")));
    expect(model.tgwAttachments.get("aws_ec2_transit_gateway_vpc_attachment.xa")!.gateway).toBe("tgw-0123456789abcdef0");
  });

  it("denies a route to an attachment the stack does not hold, and through an attachment in no subnet", () => {
    const ghost = hubWorld(
      (r) => (r.aws_ec2_transit_gateway_route.toB.transit_gateway_attachment_id = ref("aws_ec2_transit_gateway_vpc_attachment.ghost")),
    );
    expect(verdictOf(ghost, "a", "b").reasons).toContainEqual(
      expect.stringMatching(
        /^BLOCKED: .*aws_ec2_transit_gateway_route\.toB sends it to aws_ec2_transit_gateway_vpc_attachment\.ghost, which is not an attachment of this stack$/,
      ),
    );
    // Into a third VPC through B: B's attachment sits in no subnet, so nothing forwards it on.
    const nowhere = hubWorld((r) => {
      thirdVpc(r, { peered: false });
      r.aws_ec2_transit_gateway_vpc_attachment.xb.subnet_ids = [];
    });
    expect(verdictOf(nowhere, "a", "c").reasons).toContainEqual(
      expect.stringMatching(/^BLOCKED: .*to aws_ec2_transit_gateway_vpc_attachment\.xb in 10\.2\.0\.0\/24, which sits in no subnet$/),
    );
  });

  it("no edge-to-edge routing: what entered a VPC from the gateway does not go on over its peering", () => {
    const stack = hubWorld((r) => {
      thirdVpc(r, { back: "10.0.0.0/8", admit: "10.0.0.0/8" });
      r.aws_vpc_security_group_egress_rule.bOut = {
        security_group_id: ref("aws_security_group.sb"),
        ip_protocol: "tcp",
        from_port: 80,
        to_port: 80,
        cidr_ipv4: "10.3.0.0/24",
      };
      r.aws_route.bToC = {
        route_table_id: ref("aws_route_table.tb"),
        destination_cidr_block: "10.3.0.0/24",
        vpc_peering_connection_id: ref("aws_vpc_peering_connection.BC"),
      };
    });
    const v = verdictOf(stack, "a", "c");
    expect(v.allowed).toBe(false);
    expect(v.reasons.find((x) => x.includes("aws_route.aToC"))).toMatch(
      /^BLOCKED: aws_route\.aToC: 10\.3\.0\.0\/24 to aws_ec2_transit_gateway\.T, then .*; aws_route\.bToC sends 10\.3\.0\.0\/24 into aws_vpc_peering_connection\.BC, but the packet's source lies in 10\.1\.0\.0\/24, not 10\.2\.0\.0\/24: a peering carries no traffic that entered its VPC from elsewhere \(no edge-to-edge routing\)$/,
    );
    // B's own instance uses the peering; C's replies to A over it are refused the same way.
    expect(verdictOf(stack, "b", "c").allowed).toBe(true);
    expect(verdictOf(stack, "a", "c").reasons).toContain(
      "BLOCKED: replies: aws_route.cToB sends 10.0.0.0/8 into aws_vpc_peering_connection.BC, which joins 10.2.0.0/24, not 10.1.0.0/24: peering is not transitive",
    );
  });

  it("into a VPC through an attachment in two subnets: every subnet's table must forward it, and the reasons are joined with '; '", () => {
    // C sits behind a NAT gateway of B, which re-originates A's connection: each attachment subnet must send C to it.
    const two = (edit: (r: Record<string, Record<string, any>>) => void) =>
      hubWorld((r) => {
        thirdVpc(r);
        r.aws_subnet.b2 = { vpc_id: ref("aws_vpc.B"), cidr_block: "10.2.0.128/26" };
        r.aws_subnet.bn = { vpc_id: ref("aws_vpc.B"), cidr_block: "10.2.0.192/26" };
        r.aws_route_table.tb2 = { vpc_id: ref("aws_vpc.B") };
        r.aws_route_table.tbn = { vpc_id: ref("aws_vpc.B") };
        r.aws_route_table_association.b2 = { subnet_id: ref("aws_subnet.b2"), route_table_id: ref("aws_route_table.tb2") };
        r.aws_route_table_association.bn = { subnet_id: ref("aws_subnet.bn"), route_table_id: ref("aws_route_table.tbn") };
        r.aws_nat_gateway = {
          N: { connectivity_type: "private", subnet_id: ref("aws_subnet.bn"), private_ip: "10.2.0.200", tags: { Name: "nat" } },
        };
        r.aws_ec2_transit_gateway_vpc_attachment.xb.subnet_ids = [ref("aws_subnet.b"), ref("aws_subnet.b2")];
        Object.assign(r.aws_route, {
          bToNat: {
            route_table_id: ref("aws_route_table.tb"),
            destination_cidr_block: "10.3.0.0/24",
            nat_gateway_id: ref("aws_nat_gateway.N"),
          },
          b2ToNat: {
            route_table_id: ref("aws_route_table.tb2"),
            destination_cidr_block: "10.3.0.0/24",
            nat_gateway_id: ref("aws_nat_gateway.N"),
          },
          natToC: {
            route_table_id: ref("aws_route_table.tbn"),
            destination_cidr_block: "10.3.0.0/24",
            vpc_peering_connection_id: ref("aws_vpc_peering_connection.BC"),
          },
          natToA: {
            route_table_id: ref("aws_route_table.tbn"),
            destination_cidr_block: "10.1.0.0/24",
            transit_gateway_id: ref("aws_ec2_transit_gateway.T"),
          },
        });
        edit(r);
      });
    const v = verdictOf(
      two(() => undefined),
      "a",
      "c",
    );
    expect(v.allowed).toBe(true);
    expect(v.reasons.find((x) => x.includes("aws_route.aToC"))).toMatch(
      /^aws_route\.aToC: 10\.3\.0\.0\/24 to aws_ec2_transit_gateway\.T, then .* in 10\.2\.0\.0\/24; aws_route\.b2ToNat: 10\.3\.0\.0\/24 to aws_nat_gateway\.N, which re-originates .*; aws_route\.natToC: 10\.3\.0\.0\/24 via aws_vpc_peering_connection\.BC$/,
    );
    // The first subnet without a route decides, though the second has one; and the other way round.
    const firstMissing = verdictOf(
      two((r) => delete r.aws_route.bToNat),
      "a",
      "c",
    );
    expect(firstMissing.reasons.join("\n")).toMatch(
      /no route in aws_route_table\.tb from aws_ec2_transit_gateway_vpc_attachment\.xb in aws_subnet\.b to 10\.3\.0\.10\/32/,
    );
    const secondMissing = verdictOf(
      two((r) => delete r.aws_route.b2ToNat),
      "a",
      "c",
    );
    expect(secondMissing.reasons.join("\n")).toMatch(
      /no route in aws_route_table\.tb2 from aws_ec2_transit_gateway_vpc_attachment\.xb in aws_subnet\.b2 to 10\.3\.0\.10\/32/,
    );
  });

  it("calls a path that keeps going round a loop, and stops", () => {
    // The spokes' table sends B's block back to A's own attachment: A's table sends it to the gateway again.
    const loop = hubWorld(
      (r) => (r.aws_ec2_transit_gateway_route.toB.transit_gateway_attachment_id = ref("aws_ec2_transit_gateway_vpc_attachment.xa")),
    );
    const v = verdictOf(loop, "a", "b");
    expect(v.allowed).toBe(false);
    expect(v.reasons.join("\n")).toMatch(
      /more than 8 hops from aws_ec2_transit_gateway_vpc_attachment\.xa in aws_subnet\.a towards 10\.2\.0\.10\/32: a routing loop/,
    );
  });

  it("reads NAT gateways: name, subnet, a fixed address or the subnet's block, public or private; none in an unknown subnet", () => {
    const nat = (g: Record<string, unknown>) =>
      new Model(world((r) => (r.aws_nat_gateway = { N: g }))).natGateways.get("aws_nat_gateway.N");
    expect(nat({ subnet_id: ref("aws_subnet.b"), connectivity_type: "private", private_ip: "10.2.0.99", tags: { Name: "n" } })).toEqual({
      address: "aws_nat_gateway.N",
      name: "n",
      subnet: "aws_subnet.b",
      range: "10.2.0.99/32",
      connectivity: "private",
    });
    expect(nat({ subnet_id: ref("aws_subnet.b") })).toEqual({
      address: "aws_nat_gateway.N",
      name: "aws_nat_gateway.N",
      subnet: "aws_subnet.b",
      range: "10.2.0.0/25",
      connectivity: "public",
    });
    expect(nat({ subnet_id: ref("aws_subnet.b"), private_ip: "${aws_eip.x.private_ip}" })?.range).toBe("10.2.0.0/25");
    expect(nat({ subnet_id: "subnet-literal" })).toBeUndefined();
    expect(nat({ subnet_id: ref("aws_subnet.gone") })).toBeUndefined();
  });

  it("refuses a second NAT gateway on one path", () => {
    const stack = world((r) => {
      r.aws_nat_gateway = {
        N1: { subnet_id: ref("aws_subnet.a2"), tags: { Name: "n1" } },
        N2: { subnet_id: ref("aws_subnet.a2"), tags: { Name: "n2" } },
      };
      r.aws_route_table.ta2 = { vpc_id: ref("aws_vpc.A") };
      r.aws_route_table_association.a2 = { subnet_id: ref("aws_subnet.a2"), route_table_id: ref("aws_route_table.ta2") };
      r.aws_route.toB.nat_gateway_id = ref("aws_nat_gateway.N1");
      r.aws_route.toB.vpc_peering_connection_id = undefined;
      r.aws_route.a2ToB = {
        route_table_id: ref("aws_route_table.ta2"),
        destination_cidr_block: "10.2.0.0/24",
        nat_gateway_id: ref("aws_nat_gateway.N2"),
      };
    });
    const v = verdictOf(stack, "a", "b");
    expect(v.allowed).toBe(false);
    expect(v.reasons.join("\n")).toMatch(
      /aws_route\.toB: 10\.2\.0\.0\/24 to aws_nat_gateway\.N1, which re-originates the connection from its own address in 10\.1\.0\.128\/25; aws_route\.a2ToB sends 10\.2\.0\.0\/24 to a second NAT gateway, aws_nat_gateway\.N2/,
    );
  });
});

describe("the reachability analysis names what it refuses", () => {
  it.each([
    ["aws_network_acl_association", "associates a network ACL with a subnet"],
    ["aws_default_network_acl", "sets the rules of the VPC's default network ACL"],
    ["aws_default_route_table", "sets the routes of the VPC's main route table"],
    ["aws_main_route_table_association", "changes which route table a VPC's unassociated subnets use"],
    ["aws_network_interface_sg_attachment", "adds a security group to an instance's interface"],
    ["aws_ec2_transit_gateway_peering_attachment", "joins two transit gateways"],
    ["aws_ec2_transit_gateway_connect", "attaches an appliance to a transit gateway"],
    ["aws_vpn_connection", "joins a network over VPN, which may route anywhere"],
    ["aws_ec2_transit_gateway_prefix_list_reference", "routes a prefix list inside a transit gateway"],
  ])("%s: %s", (type, what) => {
    expect(() => analyzeReachability(world((r) => (r[type] = { X: {}, Y: {} })))).toThrow(
      `the reachability analysis does not read ${type}.X, ${type}.Y (${what}); its verdicts for this stack could be wrong, so it gives none`,
    );
  });

  it("lists every unread shape at once, and self rules in inline ingress or egress blocks", () => {
    const stack = world((r) => {
      r.aws_default_route_table = { D: {} };
      r.aws_security_group.sa.ingress = [
        { protocol: "tcp", from_port: 80, to_port: 80, cidr_blocks: [] },
        { protocol: "tcp", from_port: 80, to_port: 80, self: true },
      ];
      r.aws_security_group.sb.egress = [{ protocol: "tcp", from_port: 80, to_port: 80, self: true }];
      r.aws_security_group.sa2.ingress = [{ protocol: "tcp", from_port: 80, to_port: 80, self: false }];
    });
    expect(() => analyzeReachability(stack)).toThrow(
      "the reachability analysis does not read aws_default_route_table.D (sets the routes of the VPC's main route table); aws_security_group.sa, aws_security_group.sb (a rule with self = true); its verdicts",
    );
  });
});
