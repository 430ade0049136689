import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  AssociateResolverRuleCommand,
  CreateResolverEndpointCommand,
  CreateResolverRuleCommand,
  Route53ResolverClient,
} from "@aws-sdk/client-route53resolver";
import { readInventory } from "../operations/orphan-inventory";
import { placeOrphans } from "../operations/orphans";
import { SuiteMoto, suiteMoto } from "./helpers/moto";
import { synthEnvironment } from "./helpers/stack";

/**
 * The sweep's reading of Route 53 Resolver against the emulator: the Tagging API does not list
 * these kinds there, so the sweep's own listings must find them, with what places them.
 */
describe("the orphan sweep reads Route 53 Resolver", () => {
  // The run's shared emulator (global-setup.ts), in its default account: readInventory makes its own clients.
  let moto: SuiteMoto;
  const saved = { ...process.env };
  beforeAll(async () => {
    moto = await suiteMoto();
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", AWS_EC2_METADATA_DISABLED: "true" });
  });
  afterAll(async () => {
    process.env = saved;
    await moto?.release();
  });

  it("finds an owned endpoint, its rule and the rule's association, leaves others' alone, and places them on the synthesized resources", async () => {
    const common = { region: "ap-northeast-1", endpoint: moto.endpoint };
    const ec2 = new EC2Client(common);
    const resolver = new Route53ResolverClient(common);
    const owner = [
      { Key: "Project", Value: "proxy-over-peering" },
      { Key: "Environment", Value: "verification" },
    ];
    const vpc = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/24" }))).Vpc!.VpcId!;
    const subnets = await Promise.all(
      [
        ["10.0.0.128/28", "ap-northeast-1a"],
        ["10.0.0.144/28", "ap-northeast-1c"],
      ].map(
        async ([cidr, zone]) =>
          (await ec2.send(new CreateSubnetCommand({ VpcId: vpc, CidrBlock: cidr, AvailabilityZone: zone }))).Subnet!.SubnetId!,
      ),
    );
    const group = (
      await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpc, GroupName: "verification-proxy-resolver", Description: "test" }))
    ).GroupId!;
    const endpoint = async (name: string, tags: { Key: string; Value: string }[]) =>
      (
        await resolver.send(
          new CreateResolverEndpointCommand({
            CreatorRequestId: name,
            Name: name,
            Direction: "OUTBOUND",
            SecurityGroupIds: [group],
            IpAddresses: subnets.map((SubnetId) => ({ SubnetId })),
            Tags: tags,
          }),
        )
      ).ResolverEndpoint!.Id!;
    const ours = await endpoint("verification-proxy-resolver", [...owner, { Key: "Name", Value: "verification-proxy-resolver" }]);
    await endpoint("someone-elses", [{ Key: "Project", Value: "other" }]);
    const rule = (
      await resolver.send(
        new CreateResolverRuleCommand({
          CreatorRequestId: "rule",
          Name: "verification-service-example",
          RuleType: "FORWARD",
          DomainName: "service.example",
          TargetIps: [{ Ip: "172.16.0.10", Port: 53 }],
          ResolverEndpointId: ours,
          Tags: [...owner, { Key: "Name", Value: "verification-service-example" }],
        }),
      )
    ).ResolverRule!.Id!;
    const association = (
      await resolver.send(new AssociateResolverRuleCommand({ ResolverRuleId: rule, VPCId: vpc, Name: "verification-service-example" }))
    ).ResolverRuleAssociation!.Id!;

    const { found, unknownKinds } = await readInventory({
      region: "ap-northeast-1",
      project: "proxy-over-peering",
      environment: "verification",
      endpoint: moto.endpoint,
    });
    const resolverKinds = found.filter((f) => f.type.startsWith("aws_route53_resolver"));
    expect(resolverKinds.map((f) => [f.type, f.importId])).toEqual([
      ["aws_route53_resolver_endpoint", ours],
      ["aws_route53_resolver_rule", rule],
      ["aws_route53_resolver_rule_association", association],
    ]);
    expect(resolverKinds[1].attributes).toEqual(
      expect.objectContaining({ domain_name: "service.example", rule_type: "FORWARD", resolver_endpoint_id: ours }),
    );
    expect(unknownKinds).toEqual([]);

    // With nothing in the state, the endpoint and the rule land on the stack's own; the association follows its rule.
    const synthesized = JSON.parse(synthEnvironment().json);
    const placed = placeOrphans(resolverKinds, synthesized, { resources: [] });
    expect(placed.map((o) => o.address)).toEqual([
      expect.stringMatching(/^aws_route53_resolver_endpoint\.DnsForwarding_Endpoint_/),
      expect.stringMatching(/^aws_route53_resolver_rule\.DnsForwarding_Rule-service_example_Rule_/),
      expect.stringMatching(/^aws_route53_resolver_rule_association\.DnsForwarding_Rule-service_example_Association_/),
    ]);
  });
});
