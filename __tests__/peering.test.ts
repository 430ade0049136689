import { Route } from "@cdktf/provider-aws/lib/route";
import { VpcPeeringConnection } from "@cdktf/provider-aws/lib/vpc-peering-connection";
import { Testing } from "cdktf";
import { Construct } from "constructs";
import { Network } from "../constructs/network";
import { Peering, PeeringProps } from "../constructs/peering";
import { resourcesOf, testFlowLogs } from "./helpers/stack";

function networks(scope: Construct) {
  const net = (id: string, name: string, cidr: string) =>
    new Network(scope, id, {
      name,
      region: "ap-northeast-1",
      cidr,
      subnets: [{ availabilityZone: "ap-northeast-1a", cidr }],
      flowLogs: testFlowLogs(scope),
    });
  return { app: net("App", "app", "192.168.0.0/24"), proxy: net("Proxy", "proxy", "10.0.0.0/24") };
}

const synth = (extra: Partial<PeeringProps> = {}) =>
  Testing.synthScope((scope) => {
    const { app, proxy } = networks(scope);
    new Peering(scope, "Peering", { requester: app, accepter: proxy, ...extra });
  });

describe("Peering", () => {
  it("connects the two VPCs in one account and region, accepted automatically", () => {
    expect(synth()).toHaveResourceWithProperties(VpcPeeringConnection, {
      vpc_id: expect.stringMatching(/^\$\{aws_vpc\.App_\w+\.id\}$/),
      peer_vpc_id: expect.stringMatching(/^\$\{aws_vpc\.Proxy_\w+\.id\}$/),
      auto_accept: true,
    });
  });

  it("routes traffic to the peer from every route table on both sides", () => {
    const json = synth();
    const tables = resourcesOf(json, "aws_route_table");
    const tableOf = (route: any) => Object.keys(tables).find((id) => route.route_table_id === `\${aws_route_table.${id}.id}`);
    const routes = Object.values(resourcesOf(json, "aws_route"));
    expect(routes).toHaveLength(2);
    expect(routes.map((r) => [tableOf(r)?.split("_")[0], r.destination_cidr_block]).sort()).toEqual([
      ["App", "10.0.0.0/24"],
      ["Proxy", "192.168.0.0/24"],
    ]);
    expect(routes.every((r) => /^\$\{aws_vpc_peering_connection\.Peering_\w+\.id\}$/.test(r.vpc_peering_connection_id))).toBe(true);
    expect(json).toHaveResourceWithProperties(Route, { destination_cidr_block: "10.0.0.0/24" });
  });

  it("routes only the given destinations where they are given", () => {
    const routes = Object.values(
      resourcesOf(synth({ requesterDestinations: ["10.0.0.16/28", "10.0.0.16/28", "10.0.0.64/28"] }), "aws_route"),
    );
    expect(routes.map((r) => r.destination_cidr_block).sort()).toEqual(["10.0.0.16/28", "10.0.0.64/28", "192.168.0.0/24"]);
  });

  it("refuses overlapping VPCs", () => {
    expect(() =>
      Testing.synthScope((scope) => {
        const { app } = networks(scope);
        const twin = new Network(scope, "Twin", {
          name: "twin",
          region: "ap-northeast-1",
          cidr: "192.168.0.0/23",
          subnets: [{ availabilityZone: "ap-northeast-1a", cidr: "192.168.1.0/24" }],
          flowLogs: testFlowLogs(scope),
        });
        new Peering(scope, "Peering", { requester: app, accepter: twin });
      }),
    ).toThrow(/app 192\.168\.0\.0\/24 overlaps twin 192\.168\.0\.0\/23; VPCs that are peered or routed together need disjoint blocks/);
  });

  it("refuses a destination that is the side's own block", () => {
    expect(() => synth({ accepterDestinations: ["10.0.0.0/25"] })).toThrow(
      /accepterDestinations holds 10\.0\.0\.0\/25, which overlaps proxy's own/,
    );
  });
});
