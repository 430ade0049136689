import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { Testing } from "cdktf";
import { Network, NetworkProps } from "../constructs/network";
import { resourcesOf, testFlowLogs } from "./helpers/stack";

const props: Omit<NetworkProps, "flowLogs"> = {
  name: "test-proxy",
  region: "ap-northeast-1",
  cidr: "10.0.0.0/24",
  subnets: [
    { availabilityZone: "ap-northeast-1a", cidr: "10.0.0.0/25" },
    { availabilityZone: "ap-northeast-1c", cidr: "10.0.0.128/25" },
  ],
};

const synth = (p: Partial<NetworkProps> = {}) =>
  Testing.synthScope((scope) => void new Network(scope, "Net", { ...props, flowLogs: testFlowLogs(scope), ...p }));

describe("Network", () => {
  it("creates the VPC with DNS on, as interface endpoints need", () => {
    expect(synth()).toHaveResourceWithProperties(Vpc, {
      cidr_block: "10.0.0.0/24",
      enable_dns_support: true,
      enable_dns_hostnames: true,
      tags: { Name: "test-proxy" },
    });
  });

  it("creates private subnets only, each associated with the route table", () => {
    const json = synth();
    const subnets = Object.values(resourcesOf(json, "aws_subnet"));
    expect(subnets.map((s) => [s.availability_zone, s.cidr_block, s.map_public_ip_on_launch])).toEqual([
      ["ap-northeast-1a", "10.0.0.0/25", false],
      ["ap-northeast-1c", "10.0.0.128/25", false],
    ]);
    expect(Object.keys(resourcesOf(json, "aws_route_table_association"))).toHaveLength(2);
    expect(json).toHaveResource(RouteTableAssociation);
    expect(resourcesOf(json, "aws_internet_gateway")).toEqual({});
  });

  it("records all traffic in a flow log to a log group of its own, with the given retention", () => {
    const json = synth();
    expect(json).toHaveResourceWithProperties(FlowLog, {
      vpc_id: expect.stringMatching(/^\$\{aws_vpc\.Net_\w+\.id\}$/),
      traffic_type: "ALL",
      log_destination_type: "cloud-watch-logs",
      log_destination: expect.stringMatching(/^\$\{aws_cloudwatch_log_group\.Net_FlowLogGroup_\w+\.arn\}$/),
      iam_role_arn: expect.stringMatching(/^\$\{aws_iam_role\.FlowLogRole_\w+\.arn\}$/),
    });
    expect(json).toHaveResourceWithProperties(CloudwatchLogGroup, { name: "/vpc-flow-logs/test-proxy", retention_in_days: 7 });
  });

  it("empties the default security group", () => {
    const json = synth();
    expect(json).toHaveResource(DefaultSecurityGroup);
    const group = Object.values(resourcesOf(json, "aws_default_security_group"))[0];
    expect(group.ingress).toBeUndefined();
    expect(group.egress).toBeUndefined();
  });

  it("adds an S3 gateway endpoint on every route table by default", () => {
    expect(synth()).toHaveResourceWithProperties(VpcEndpoint, {
      service_name: "com.amazonaws.ap-northeast-1.s3",
      vpc_endpoint_type: "Gateway",
      route_table_ids: [expect.stringMatching(/^\$\{aws_route_table\.Net_RouteTable_\w+\.id\}$/)],
    });
    expect(Object.keys(resourcesOf(synth({ enableS3Endpoint: false }), "aws_vpc_endpoint"))).toHaveLength(0);
  });

  it("lets the S3 endpoint read the Amazon Linux repositories and the SSM Agent's buckets, and nothing else", () => {
    const endpoint = Object.values(resourcesOf(synth(), "aws_vpc_endpoint"))[0];
    const statements = JSON.parse(endpoint.policy).Statement;
    expect(statements).toHaveLength(1);
    expect(statements[0]).toEqual(expect.objectContaining({ Effect: "Allow", Action: ["s3:GetObject"] }));
    expect(statements[0].Resource).toHaveLength(4);
    expect(statements[0].Resource.some((r: string) => r.endsWith(":s3:::al2023-repos-ap-northeast-1-de612dc2/*"))).toBe(true);
    expect(
      statements[0].Resource.every((r: string) =>
        /:s3:::(al2023-repos-ap-northeast-1-de612dc2|amazon-ssm-ap-northeast-1|amazon-ssm-packages-ap-northeast-1|aws-ssm-ap-northeast-1)\/\*$/.test(
          r,
        ),
      ),
    ).toBe(true);
    expect(JSON.stringify(statements)).not.toMatch(/s3:Put|s3:\*|"Resource":"\*"/);
  });

  it("adds the three Session Manager endpoints, reachable on 443 from the VPC, only when asked", () => {
    const json = synth({ enableSessionManagerEndpoints: true });
    const interfaces = Object.values(resourcesOf(json, "aws_vpc_endpoint")).filter((e) => e.vpc_endpoint_type === "Interface");
    expect(interfaces.map((e) => e.service_name).sort()).toEqual(
      ["ec2messages", "ssm", "ssmmessages"].map((s) => `com.amazonaws.ap-northeast-1.${s}`),
    );
    expect(interfaces.every((e) => e.private_dns_enabled === true && e.subnet_ids.length === 2)).toBe(true);
    expect(Object.values(resourcesOf(json, "aws_vpc_security_group_ingress_rule"))).toEqual([
      expect.objectContaining({ cidr_ipv4: "10.0.0.0/24", from_port: 443, to_port: 443, ip_protocol: "tcp" }),
    ]);
    expect(Object.values(resourcesOf(synth(), "aws_vpc_endpoint")).filter((e) => e.vpc_endpoint_type === "Interface")).toHaveLength(0);
  });

  it("keys subnets by availability zone, so removing one zone leaves the others' addresses alone", () => {
    const ids = Object.keys(resourcesOf(synth(), "aws_subnet"));
    const later = Object.keys(resourcesOf(synth({ subnets: [props.subnets[1]] }), "aws_subnet"));
    expect(later).toEqual([ids[1]]);
    expect(synth()).toHaveResource(Subnet);
  });

  it.each([
    [{ cidr: "10.0.0.1/24" }, /cidr "10\.0\.0\.1\/24" has host bits set/],
    [{ subnets: [] }, /subnets is empty/],
    [
      { subnets: [{ availabilityZone: "ap-northeast-1a", cidr: "10.0.1.0/25" }] },
      /subnet "10\.0\.1\.0\/25" is not inside the VPC's block 10\.0\.0\.0\/24; pick a subnet block within it/,
    ],
    [
      { subnets: [props.subnets[0], { availabilityZone: "ap-northeast-1a", cidr: "10.0.0.128/25" }] },
      /the zone ap-northeast-1a of subnet "10\.0\.0\.128\/25" is the zone of an earlier subnet of the same VPC; give at most one subnet per zone/,
    ],
  ])("refuses %j before creating anything", (bad, message) => {
    expect(() => synth(bad as Partial<NetworkProps>)).toThrow(message);
  });
});
