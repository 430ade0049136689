import { DataAwsSubnet } from "@cdktf/provider-aws/lib/data-aws-subnet";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { LbTargetGroup } from "@cdktf/provider-aws/lib/lb-target-group";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcEndpointService } from "@cdktf/provider-aws/lib/vpc-endpoint-service";
import { Testing } from "cdktf";
import { EnvironmentStack } from "../constructs/environment-stack";
import { EnvironmentConfig } from "../lib/config";
import { configFrom, localBackend, ref, resourcesOf, synthEnvironment } from "./helpers/stack";
import { privateLinkRaw } from "./helpers/privatelink";

/** The logical id of the resource of `type` at construct path `path` (as cdktf makes it: "Resource" and repeated parts dropped, a hash added). */
function idOf(json: string, type: string, path: string): string {
  const parts = path.split("/").filter((p, i, all) => p !== "Resource" && p !== all[i - 1]);
  const pattern = new RegExp(`^${parts.join("_").replace(/[.-]/g, (c) => `\\${c}`)}_[0-9A-F]{8}$`);
  const ids = Object.keys(resourcesOf(json, type)).filter((k) => pattern.test(k));
  expect(ids).toEqual([expect.any(String)]);
  return ids[0];
}

/** The rules of `direction` of the security group whose construct path ends with `suffix`. */
function rulesOf(json: string, direction: "ingress" | "egress", suffix: string): any[] {
  const group = ref("aws_security_group", idOf(json, "aws_security_group", `${suffix}/Resource`));
  return Object.values(resourcesOf(json, `aws_vpc_security_group_${direction}_rule`)).filter((r) => r.security_group_id === group);
}

/** The demo with one app VPC made an existing VPC of another account, and `connectivity` on top. */
function crossAccountRaw(connectivity: Record<string, unknown> = {}): any {
  const raw = privateLinkRaw();
  raw.connectivity = { type: "privateLink", ...connectivity };
  raw.appVpcs[1] = {
    name: "app2",
    cidr: "192.168.0.0/24",
    existing: {
      vpcId: "vpc-0123456789abcdef0",
      accountId: "444455556666",
      roleArn: "arn:aws:iam::444455556666:role/proxy-link",
      endpointSubnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"],
    },
  };
  raw.expectedFlows = raw.expectedFlows.filter((f: { from: string; to: string }) => f.from !== "app2" && f.to !== "app2");
  return raw;
}

describe("PrivateLink (demos/privatelink.json)", () => {
  const { json } = synthEnvironment(configFrom(privateLinkRaw()));

  it("offers the fleet's load balancer as an endpoint service to the stack's own account only", () => {
    const service = Object.values(resourcesOf(json, "aws_vpc_endpoint_service"));
    expect(service).toHaveLength(1);
    expect(json).toHaveResourceWithProperties(VpcEndpointService, {
      network_load_balancer_arns: [ref("aws_lb", idOf(json, "aws_lb", "Proxy/LoadBalancer"), "arn")],
      acceptance_required: false,
      supported_ip_address_types: ["ipv4"],
    });
    expect(service[0].allowed_principals).toEqual([
      expect.stringMatching(
        /^arn:\$\{data\.aws_partition\.EndpointService_Partition_\w+\.partition\}:iam::\$\{data\.aws_caller_identity\.EndpointService_Account_\w+\.account_id\}:root$/,
      ),
    ]);
    expect(resourcesOf(json, "aws_vpc_endpoint_connection_accepter")).toEqual({});
  });

  it("sends PROXY protocol v2 to the proxies, and the load balancer admits endpoint traffic only", () => {
    expect(json).toHaveResourceWithProperties(LbTargetGroup, { proxy_protocol_v2: true, preserve_client_ip: "false" });
    expect(json).toHaveResourceWithProperties(Lb, { enforce_security_group_inbound_rules_on_private_link_traffic: "off" });
    expect(rulesOf(json, "ingress", "Proxy/LoadBalancerSecurityGroup")).toEqual([]);
    expect(rulesOf(json, "egress", "Proxy/LoadBalancerSecurityGroup").map((r) => [r.cidr_ipv4, r.from_port])).toEqual([
      ["10.0.0.0/24", 3128],
    ]);
  });

  it("gives each app VPC an interface endpoint in its own subnets, whose group admits the proxy port from its own block only", () => {
    for (const app of ["app1", "app2"]) {
      const endpoint = resourcesOf(json, "aws_vpc_endpoint")[idOf(json, "aws_vpc_endpoint", `App-${app}/ProxyEndpoint/Resource`)];
      const vpc = ref("aws_vpc", idOf(json, "aws_vpc", `App-${app}/Vpc/Resource`));
      const subnets = ["ap-northeast-1a", "ap-northeast-1c"].map((z) =>
        ref("aws_subnet", idOf(json, "aws_subnet", `App-${app}/Vpc/${z}/Subnet`)),
      );
      expect(endpoint).toMatchObject({
        vpc_id: vpc,
        vpc_endpoint_type: "Interface",
        private_dns_enabled: false,
        subnet_ids: subnets,
        service_name: `\${aws_vpc_endpoint_service.${idOf(json, "aws_vpc_endpoint_service", "EndpointService/Resource")}.service_name}`,
        security_group_ids: [
          ref("aws_security_group", idOf(json, "aws_security_group", `App-${app}/ProxyEndpoint/SecurityGroup/Resource`)),
        ],
      });
      const ingress = rulesOf(json, "ingress", `App-${app}/ProxyEndpoint/SecurityGroup`);
      expect(ingress.map((r) => [r.ip_protocol, r.cidr_ipv4, r.from_port, r.to_port])).toEqual([["tcp", "192.168.0.0/24", 3128, 3128]]);
      expect(rulesOf(json, "egress", `App-${app}/ProxyEndpoint/SecurityGroup`)).toEqual([]);
    }
    expect(json).toHaveResourceWithProperties(VpcEndpoint, { tags: { Name: "privatelink-app2-proxy-endpoint" } });
  });

  it("peers, attaches and routes nothing between the app VPCs and the proxy VPC", () => {
    const peerings = Object.values(resourcesOf(json, "aws_vpc_peering_connection"));
    expect(Object.keys(resourcesOf(json, "aws_vpc_peering_connection"))).toEqual([
      idOf(json, "aws_vpc_peering_connection", "ServiceSide/Peering"),
    ]);
    expect(peerings).toHaveLength(1);
    for (const type of ["aws_ec2_transit_gateway", "aws_ec2_transit_gateway_vpc_attachment", "aws_nat_gateway"]) {
      expect(resourcesOf(json, type)).toEqual({});
    }
    const routes = Object.values(resourcesOf(json, "aws_route"));
    expect(routes.map((r) => r.destination_cidr_block).sort()).toEqual(["10.0.0.0/24", "172.16.0.0/24"]);
    expect(Object.keys(resourcesOf(json, "aws_route")).every((id) => id.startsWith("ServiceSide_Peering_"))).toBe(true);
  });

  it("points each app server at its own VPC's endpoint, and lets it send there on the proxy port only", () => {
    for (const app of ["app1", "app2"]) {
      const endpoint = idOf(json, "aws_vpc_endpoint", `App-${app}/ProxyEndpoint/Resource`);
      const server = resourcesOf(json, "aws_instance")[idOf(json, "aws_instance", `App-${app}/Server/Server/Resource`)];
      expect(server.user_data).toContain(`$proxy = '\${aws_vpc_endpoint.${endpoint}.dns_entry[0].dns_name}:3128'`);
      const egress = rulesOf(json, "egress", `App-${app}/Server/Server/SecurityGroup`).map((r) => `${r.cidr_ipv4}:${r.from_port}`);
      expect(egress.sort()).toEqual(["192.168.0.0/24:3128", "192.168.0.0/24:443"]);
    }
  });

  it("tells the app VPCs apart in Squid's allowlist by endpoint id, and Squid requires the load balancer's PROXY header", () => {
    const allowlist = Object.values(resourcesOf(json, "aws_ssm_parameter"))[0].value as string;
    for (const app of ["app1", "app2"]) {
      const endpoint = idOf(json, "aws_vpc_endpoint", `App-${app}/ProxyEndpoint/Resource`);
      expect(allowlist).toContain(`acl app_privatelink-${app} note vpc_endpoint %01\${aws_vpc_endpoint.${endpoint}.id}`);
    }
    expect(allowlist).not.toMatch(/ src 192\.168\.0\.0\/24/);
    const template = Object.values(resourcesOf(json, "aws_launch_template"))[0];
    const userData = Buffer.from(template.user_data, "base64").toString("utf8");
    expect(userData).toContain("http_port 3128 require-proxy-header");
    expect(userData).toContain("acl load_balancer src 10.0.0.10 10.0.0.138");
    expect(userData).toMatch(/proxy_protocol_access allow load_balancer\nproxy_protocol_access deny all/);
  });

  it("outputs each app VPC's endpoint name and the endpoint service's name, and no peering", () => {
    const outputs = JSON.parse(json).output;
    for (const app of ["app1", "app2"]) {
      const endpoint = idOf(json, "aws_vpc_endpoint", `App-${app}/ProxyEndpoint/Resource`);
      expect(outputs[`proxy_endpoint_${app}_dns`].value).toBe(`\${aws_vpc_endpoint.${endpoint}.dns_entry[0].dns_name}`);
      expect(outputs[`peering_${app}_id`]).toBeUndefined();
    }
    expect(outputs.proxy_endpoint_service_name.value).toMatch(/^\$\{aws_vpc_endpoint_service\.EndpointService_\w+\.service_name\}$/);
  });
});

describe("PrivateLink with acceptance and another account's VPC", () => {
  const config = configFrom(
    crossAccountRaw({ acceptanceRequired: true, allowedPrincipals: ["777788889999", "arn:aws:iam::111122223333:role/ops"] }),
  );
  const { json } = synthEnvironment(config);

  it("allows the stack's account, the app VPC's account and the listed principals, as ARNs", () => {
    const [service] = Object.values(resourcesOf(json, "aws_vpc_endpoint_service"));
    expect(service.acceptance_required).toBe(true);
    expect(service.allowed_principals.slice(1)).toEqual([
      expect.stringMatching(/^arn:\$\{data\.aws_partition\.\w+\.partition\}:iam::444455556666:root$/),
      expect.stringMatching(/^arn:\$\{data\.aws_partition\.\w+\.partition\}:iam::777788889999:root$/),
      "arn:aws:iam::111122223333:role/ops",
    ]);
  });

  it("accepts each app VPC's endpoint in the service's account", () => {
    const accepters = Object.values(resourcesOf(json, "aws_vpc_endpoint_connection_accepter"));
    expect(accepters).toHaveLength(2);
    for (const app of ["app1", "app2"]) {
      const endpoint = idOf(json, "aws_vpc_endpoint", `App-${app}/ProxyEndpoint/Resource`);
      const accepter = accepters.find((a) => a.vpc_endpoint_id === ref("aws_vpc_endpoint", endpoint))!;
      expect(accepter.vpc_endpoint_service_id).toBe(
        ref("aws_vpc_endpoint_service", idOf(json, "aws_vpc_endpoint_service", "EndpointService/Resource")),
      );
      expect(accepter.provider).toBeUndefined();
    }
  });

  it("makes the other account's endpoint and its group with that account's provider, in the subnets named, checked when planning", () => {
    const endpoint = resourcesOf(json, "aws_vpc_endpoint")[idOf(json, "aws_vpc_endpoint", "App-app2/ProxyEndpoint/Resource")];
    expect(endpoint.provider).toBe("aws.app_app2");
    expect(endpoint.subnet_ids).toEqual(["subnet-0123456789abcdef0", "subnet-0123456789abcdef1"]);
    expect(
      resourcesOf(json, "aws_security_group")[idOf(json, "aws_security_group", "App-app2/ProxyEndpoint/SecurityGroup/Resource")].provider,
    ).toBe("aws.app_app2");
    expect(rulesOf(json, "ingress", "App-app2/ProxyEndpoint/SecurityGroup").map((r) => r.provider)).toEqual(["aws.app_app2"]);
    expect(json).toHaveDataSourceWithProperties(DataAwsSubnet, {
      id: "subnet-0123456789abcdef1",
      provider: "aws.app_app2",
      lifecycle: {
        postcondition: [
          {
            condition: '${self.vpc_id == "vpc-0123456789abcdef0"}',
            error_message: expect.stringContaining("subnet-0123456789abcdef1 is not a subnet of privatelink-app2 (vpc-0123456789abcdef0)"),
          },
        ],
      },
    });
    expect(resourcesOf(json, "aws_vpc_peering_connection_accepter")).toEqual({});
  });
});

describe("PrivateLink settings are refused where they cannot work", () => {
  const refuse = (edit: (raw: any) => void, message: RegExp) => {
    const raw = privateLinkRaw();
    edit(raw);
    expect(() => configFrom(raw)).toThrow(message);
  };

  it("refuses a single proxy, naming the fix", () => {
    refuse(
      (raw) => delete raw.proxy.fleet,
      /`proxy.fleet` is missing; with connectivity.type "privateLink" the proxy is offered as an endpoint service, which fronts a Network Load Balancer: add proxy.fleet/,
    );
  });

  it("refuses privateNat egress", () => {
    refuse(
      (raw) => (raw.connectivity.egress = "privateNat"),
      /`connectivity.egress` = "privateNat": is "privateNat" with privateLink, which cannot work/,
    );
  });

  it("refuses Transit Gateway settings", () => {
    refuse(
      (raw) => (raw.connectivity.attachmentSubnets = [{ availabilityZone: "ap-northeast-1a", cidr: "10.0.0.240/28" }]),
      /`connectivity.attachmentSubnets`.*is a Transit Gateway setting, but connectivity.type is "privateLink", which routes nothing between VPCs; remove it/,
    );
    refuse(
      (raw) => (raw.connectivity.transitGatewayId = "tgw-0123456789abcdef0"),
      /`connectivity.transitGatewayId`.*is a Transit Gateway setting/,
    );
  });

  it("refuses the principal * and what is no account or ARN", () => {
    refuse(
      (raw) => (raw.connectivity.allowedPrincipals = ["*"]),
      /`connectivity.allowedPrincipals\[0\]` = "\*": is '\*', which would let every AWS account make an endpoint/,
    );
    refuse(
      (raw) => (raw.connectivity.allowedPrincipals = ["arn:aws:s3:::bucket"]),
      /`connectivity.allowedPrincipals\[0\]` = "arn:aws:s3:::bucket": is neither a 12-digit account id nor an IAM ARN/,
    );
    refuse(
      (raw) => (raw.connectivity.allowedPrincipals = ["12345"]),
      /allowedPrincipals\[0\]` = "12345": is neither a 12-digit account id/,
    );
  });

  it("refuses an existing VPC without endpoint subnets, or with attachment subnets", () => {
    const raw = crossAccountRaw();
    delete raw.appVpcs[1].existing.endpointSubnetIds;
    raw.appVpcs[1].existing.attachmentSubnetIds = ["subnet-0123456789abcdef0"];
    expect(() => configFrom(raw)).toThrow(/`appVpcs\[1\].existing.endpointSubnetIds` is missing; with privateLink the interface endpoint/);
    expect(() => configFrom(raw)).toThrow(
      /`appVpcs\[1\].existing.attachmentSubnetIds`.*name the endpoint's subnets in endpointSubnetIds instead/,
    );
  });

  it("refuses route tables for an existing VPC (nothing is routed), which peering still requires", () => {
    const raw = crossAccountRaw();
    raw.appVpcs[1].existing.routeTableIds = "all";
    expect(() => configFrom(raw)).toThrow(
      /`appVpcs\[1\].existing.routeTableIds` = "all": is a routing setting, but connectivity.type is "privateLink", which adds no route to an app VPC; remove it/,
    );
    const peered = crossAccountRaw();
    peered.connectivity = { type: "peering" };
    delete peered.appVpcs[1].existing.endpointSubnetIds;
    peered.appVpcs[1].cidr = "192.168.1.0/24";
    expect(() => configFrom(peered)).toThrow(
      /`appVpcs\[1\].existing.routeTableIds` is missing; the route tables that learn the proxy VPC's block are needed: their ids, such as \["rtb-0123456789abcdef0"\], or "all"/,
    );
    peered.appVpcs[1].existing.routeTableIds = "all";
    expect(configFrom(peered).appVpcs[1].existing?.routeTableIds).toBe("all");
  });

  it("refuses an app subnet in a zone where the load balancer has no node", () => {
    refuse(
      (raw) => (raw.appVpcs[0].subnets[1].availabilityZone = "ap-northeast-1d"),
      /`appVpcs\[0\].subnets\[1\].availabilityZone` = "ap-northeast-1d": is ap-northeast-1d, where the proxy's load balancer has no node \(the proxy subnets are in ap-northeast-1a, ap-northeast-1c\)/,
    );
  });

  it("refuses PrivateLink settings with peering or a Transit Gateway", () => {
    const raw = privateLinkRaw();
    raw.connectivity = { type: "peering", acceptanceRequired: true };
    raw.appVpcs[1].cidr = "192.168.1.0/24";
    raw.appVpcs[1].subnets = [{ availabilityZone: "ap-northeast-1a", cidr: "192.168.1.0/25" }];
    expect(() => configFrom(raw)).toThrow(
      /`connectivity.acceptanceRequired` = true: is a PrivateLink setting, but connectivity.type is "peering"/,
    );
  });
});

describe("overlapping app VPC blocks", () => {
  it("are accepted with PrivateLink", () => {
    const config: EnvironmentConfig = configFrom(privateLinkRaw());
    expect(config.appVpcs.map((a) => a.cidr)).toEqual(["192.168.0.0/24", "192.168.0.0/24"]);
  });

  it.each(["peering", "transitGateway"])("are refused with %s, with PrivateLink suggested", (type) => {
    const raw = privateLinkRaw();
    raw.connectivity = { type };
    expect(() => configFrom(raw)).toThrow(
      /`appVpcs\[1\].cidr` = "192.168.0.0\/24": overlaps `appVpcs\[0\].cidr` 192.168.0.0\/24; app VPCs that are peered or routed through a Transit Gateway need disjoint blocks .* connectivity.type "privateLink"/,
    );
  });

  it("are refused against the proxy VPC and the services even with PrivateLink, saying why", () => {
    const raw = privateLinkRaw();
    raw.appVpcs[1].cidr = "10.0.0.0/24";
    raw.appVpcs[1].subnets = [{ availabilityZone: "ap-northeast-1a", cidr: "10.0.0.0/25" }];
    expect(() => configFrom(raw)).toThrow(
      /`appVpcs\[1\].cidr` = "10.0.0.0\/24": overlaps `proxyVpc.cidr` 10.0.0.0\/24; even with privateLink .* Squid trusts the PROXY protocol header/,
    );
    const service = privateLinkRaw();
    service.services[0].cidr = "192.168.0.0/25";
    expect(() => configFrom(service)).toThrow(
      /`services\[0\].cidr` = "192.168.0.0\/25": overlaps `appVpcs\[0\].cidr` 192.168.0.0\/24; even with privateLink a service lies outside the app VPCs/,
    );
  });
});

describe("ProxyEndpoint", () => {
  it("builds no peering even for an app VPC the stack creates", () => {
    const app = Testing.app();
    const stack = new EnvironmentStack(app, "privatelink", { config: configFrom(privateLinkRaw()), stateBackend: localBackend });
    expect(stack.endpointService).toBeDefined();
    for (const link of stack.appLinks.values()) {
      expect(link.peering).toBeUndefined();
      expect(link.attachment).toBeUndefined();
      expect(link.proxyEndpoint?.proxySetting).toMatch(/:3128$/);
    }
  });
});
