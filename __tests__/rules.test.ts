import {
  createdVpcOnlyProblem,
  createdVpcSubnetsProblem,
  FLEET_SIZE_BELOW_TWO,
  FLEET_SIZE_NOT_WHOLE,
  fleetSizeProblem,
  fleetSubnetCountProblem,
  loadBalancerAddressCountProblem,
  repeatedForwardProblem,
  repeatedZoneProblem,
  resolverZonesProblem,
  subnetOutsideVpcProblem,
  vpcOverlapProblem,
} from "../lib/config/rules";

describe("the validation rules that config checks and construct guards share", () => {
  it("createdVpcOnlyProblem refuses a created VPC's setting on an existing VPC only", () => {
    expect(createdVpcOnlyProblem(false, { instanceType: "t3.medium" })).toBeUndefined();
    expect(createdVpcOnlyProblem(true, undefined)).toBeUndefined();
    expect(createdVpcOnlyProblem(true, { instanceType: "t3.medium" })).toBe(
      "is set for an existing VPC; the project adds nothing to it but the peering and its routes. Remove it",
    );
  });

  it("createdVpcSubnetsProblem asks a created VPC for at least one subnet", () => {
    expect(createdVpcSubnetsProblem(false, [{}])).toBeUndefined();
    expect(createdVpcSubnetsProblem(true, undefined)).toBeUndefined();
    expect(createdVpcSubnetsProblem(false, undefined)).toBe(
      "is missing; a created VPC needs at least one subnet (or set existing to use a VPC that exists)",
    );
    expect(createdVpcSubnetsProblem(false, [])).toMatch(/^is empty; a created VPC needs at least one subnet/);
  });

  it("subnetOutsideVpcProblem keeps a subnet's block inside its VPC's", () => {
    expect(subnetOutsideVpcProblem("10.0.0.0/24", "10.0.0.128/25")).toBeUndefined();
    expect(subnetOutsideVpcProblem("10.0.0.0/24", "10.0.1.0/25")).toBe(
      "is not inside the VPC's block 10.0.0.0/24; pick a subnet block within it",
    );
    expect(subnetOutsideVpcProblem("10.0.0.0/24", "10.0.0/25")).toMatch(/is not an IPv4 CIDR block/);
  });

  it("repeatedZoneProblem refuses a zone an earlier subnet has", () => {
    expect(repeatedZoneProblem(["ap-northeast-1a", "ap-northeast-1c"], 1)).toBeUndefined();
    expect(repeatedZoneProblem(["ap-northeast-1a", "ap-northeast-1a"], 0)).toBeUndefined();
    expect(repeatedZoneProblem(["ap-northeast-1a", "ap-northeast-1a"], 1)).toBe(
      "is the zone of an earlier subnet of the same VPC; give at most one subnet per zone",
    );
  });

  it("vpcOverlapProblem names the other block when two VPCs overlap", () => {
    expect(vpcOverlapProblem("10.0.0.0/24", "app", "192.168.0.0/24")).toBeUndefined();
    expect(vpcOverlapProblem("10.0.0.0/24", "app", "10.0.0.0/23")).toBe(
      "overlaps app 10.0.0.0/23; VPCs that are peered or routed together need disjoint blocks",
    );
  });

  it("fleetSubnetCountProblem asks for two subnets", () => {
    expect(fleetSubnetCountProblem(2)).toBeUndefined();
    expect(fleetSubnetCountProblem(1)).toBe("has 1 subnet; a fleet spreads over at least two subnets in two zones");
    expect(fleetSubnetCountProblem(0)).toMatch(/^has 0 subnets;/);
  });

  it("fleetSizeProblem asks for a whole number, at least two, and one proxy per subnet", () => {
    expect(fleetSizeProblem(3, 3)).toBeUndefined();
    expect(fleetSizeProblem(2.5, 2)).toBe(FLEET_SIZE_NOT_WHOLE);
    expect(fleetSizeProblem(1, 1)).toBe(FLEET_SIZE_BELOW_TWO);
    expect(fleetSizeProblem(2, 3)).toBe("is below the 3 proxy subnets; give at least one proxy per subnet (zone)");
  });

  it("loadBalancerAddressCountProblem asks for one address per subnet", () => {
    expect(loadBalancerAddressCountProblem(2, 2)).toBeUndefined();
    expect(loadBalancerAddressCountProblem(1, 2)).toBe("lists 1 addresses for 2 proxy subnets; give one per subnet, in the subnets' order");
  });

  it("repeatedForwardProblem refuses a domain an earlier rule forwards, naming that rule", () => {
    const name = (k: number) => `rules[${k}]`;
    expect(repeatedForwardProblem(["a.example", "b.example"], 1, name)).toBeUndefined();
    expect(repeatedForwardProblem(["a.example", "a.example"], 1, name)).toBe(
      "is forwarded by rules[0] already; give each domain one rule (list all its servers there)",
    );
  });

  it("resolverZonesProblem asks for subnets in two zones", () => {
    expect(resolverZonesProblem(["ap-northeast-1a", "ap-northeast-1c"])).toBeUndefined();
    expect(resolverZonesProblem(["ap-northeast-1a", "ap-northeast-1a"])).toBe(
      "has all its subnets in ap-northeast-1a; a Route 53 Resolver endpoint needs subnets in at least two zones",
    );
    expect(resolverZonesProblem([])).toMatch(/^has no subnets;/);
  });
});
