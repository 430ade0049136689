import { Instance } from "@cdktf/provider-aws/lib/instance";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Route } from "@cdktf/provider-aws/lib/route";
import { VpcPeeringConnection } from "@cdktf/provider-aws/lib/vpc-peering-connection";
import { configFrom, resourcesOf, synthEnvironment, verificationRaw } from "./helpers/stack";

/** Destination blocks of the routes in the route table of the VPC whose Name tag is `vpcName`. */
function routesFrom(json: string, vpcName: string): string[] {
  const vpcs = resourcesOf(json, "aws_vpc");
  const vpcId = Object.keys(vpcs).find((k) => vpcs[k].tags.Name === vpcName)!;
  const tables = resourcesOf(json, "aws_route_table");
  const tableIds = Object.keys(tables).filter((k) => tables[k].vpc_id === `\${aws_vpc.${vpcId}.id}`);
  return Object.values(resourcesOf(json, "aws_route"))
    .filter((r) => tableIds.some((t) => r.route_table_id === `\${aws_route_table.${t}.id}`))
    .map((r) => r.destination_cidr_block)
    .sort();
}

describe("EnvironmentStack (verification)", () => {
  const { json } = synthEnvironment();

  it("holds the three VPCs, two peerings and three instances of the original experiment", () => {
    expect(
      Object.values(resourcesOf(json, "aws_vpc"))
        .map((v) => v.cidr_block)
        .sort(),
    ).toEqual(["10.0.0.0/24", "172.16.0.0/24", "192.168.0.0/24"]);
    expect(Object.keys(resourcesOf(json, "aws_vpc_peering_connection"))).toHaveLength(2);
    expect(json).toHaveResourceWithProperties(VpcPeeringConnection, { auto_accept: true });
    expect(Object.keys(resourcesOf(json, "aws_instance"))).toHaveLength(3);
    expect(json).toHaveResource(Instance);
  });

  it("routes in both directions of each peering, and nothing else", () => {
    expect(routesFrom(json, "verification-app")).toEqual(["10.0.0.0/24"]);
    expect(routesFrom(json, "verification-proxy")).toEqual(["172.16.0.0/24", "192.168.0.0/24"]);
    expect(routesFrom(json, "verification-service")).toEqual(["10.0.0.0/24"]);
    expect(json).toHaveResourceWithProperties(Route, { destination_cidr_block: "192.168.0.0/24" });
  });

  it("never routes the app VPC to the service side (peering is not transitive)", () => {
    expect(routesFrom(json, "verification-app")).not.toContain("172.16.0.0/24");
    expect(routesFrom(json, "verification-service")).not.toContain("192.168.0.0/24");
  });

  it("tags every resource through the provider, and names resources after the environment", () => {
    expect(json).toHaveProviderWithProperties(AwsProvider, {
      region: "ap-northeast-1",
      default_tags: [{ tags: { Project: "proxy-over-peering", Environment: "verification", ManagedBy: "cdktf" } }],
    });
    const names = Object.values(resourcesOf(json, "aws_instance"))
      .map((i) => i.tags.Name)
      .sort();
    expect(names).toEqual(["verification-app-server", "verification-proxy", "verification-service"]);
  });

  it("outputs what a reviewer needs", () => {
    const outputs = JSON.parse(json).output;
    expect(outputs.proxy_address.value).toBe("10.0.0.10");
    expect(outputs.proxy_url.value).toBe("http://10.0.0.10:3128");
    expect(outputs.service_url.value).toMatch(/^http:\/\/\$\{aws_instance\.ServiceSide_Server_\w+\.private_ip\}:80\/$/);
    expect(outputs.peering_app_id.value).toMatch(/^\$\{aws_vpc_peering_connection\.App-app_Peering_\w+\.id\}$/);
    expect(outputs.service_peering_id.value).toMatch(/^\$\{aws_vpc_peering_connection\.ServiceSide_Peering_\w+\.id\}$/);
  });

  it("matches the reviewed snapshot", () => {
    expect(JSON.parse(json)).toMatchSnapshot();
  });
});

describe("EnvironmentStack state", () => {
  it("keeps state in S3, per environment, encrypted and locked with a lock file", () => {
    const { json } = synthEnvironment(undefined, true);
    expect(JSON.parse(json).terraform.backend).toEqual({
      s3: {
        bucket: "proxy-over-peering-tfstate-example",
        key: "proxy-over-peering/verification/terraform.tfstate",
        region: "ap-northeast-1",
        encrypt: true,
        use_lockfile: true,
      },
    });
  });

  it("uses the state region when it differs from the environment's", () => {
    const raw = verificationRaw();
    raw.state.region = "us-east-1";
    const { json } = synthEnvironment(configFrom(raw), true);
    expect(JSON.parse(json).terraform.backend.s3.region).toBe("us-east-1");
  });

  it("takes another backend when one is injected", () => {
    const { json } = synthEnvironment();
    expect(JSON.parse(json).terraform.backend).toEqual({ local: { path: "terraform.tfstate" } });
  });
});

describe("EnvironmentStack with several app VPCs", () => {
  const raw = verificationRaw();
  raw.appVpcs.push(
    { name: "batch", cidr: "192.168.1.0/24", subnets: [{ availabilityZone: "ap-northeast-1c", cidr: "192.168.1.0/24" }] },
    { name: "cgnat", cidr: "100.64.0.0/24", subnets: [{ availabilityZone: "ap-northeast-1a", cidr: "100.64.0.0/24" }] },
  );
  const { json } = synthEnvironment(configFrom(raw));

  it("peers each app VPC with the proxy VPC and routes both ways", () => {
    expect(Object.keys(resourcesOf(json, "aws_vpc_peering_connection"))).toHaveLength(4);
    expect(routesFrom(json, "verification-proxy")).toEqual(["100.64.0.0/24", "172.16.0.0/24", "192.168.0.0/24", "192.168.1.0/24"]);
    for (const app of ["app", "batch", "cgnat"]) expect(routesFrom(json, `verification-${app}`)).toEqual(["10.0.0.0/24"]);
  });

  it("creates app servers only where asked, and lets every app VPC use the proxy", () => {
    expect(Object.keys(resourcesOf(json, "aws_instance"))).toHaveLength(3);
    const proxy = Object.values(resourcesOf(json, "aws_instance")).find((i) => i.tags.Name === "verification-proxy");
    const allowlist = Object.values(resourcesOf(json, "aws_ssm_parameter"))[0].value;
    for (const cidr of ["192.168.0.0/24", "192.168.1.0/24", "100.64.0.0/24"]) {
      expect(allowlist).toContain(`acl localnet src ${cidr}\n`);
      expect(proxy.user_data).not.toContain(cidr);
    }
    const ingress = Object.values(resourcesOf(json, "aws_vpc_security_group_ingress_rule")).filter((r) => r.from_port === 3128);
    expect(ingress.map((r) => r.cidr_ipv4).sort()).toEqual(["100.64.0.0/24", "192.168.0.0/24", "192.168.1.0/24"]);
  });

  it("routes the proxy VPC to the outermost service blocks only", () => {
    const more = verificationRaw();
    more.services.push({ name: "one-host", cidr: "172.16.0.10/32", ports: [8090] });
    expect(routesFrom(synthEnvironment(configFrom(more)).json, "verification-proxy")).toEqual(["172.16.0.0/24", "192.168.0.0/24"]);
  });
});
