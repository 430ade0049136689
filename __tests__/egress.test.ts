import * as path from "path";
import { egressOf, loadEnvironmentFile, runsSquid } from "../lib/config";
import { cidrContains } from "../lib/cidr";
import { outputNames } from "../lib/naming";
import { egressProvider } from "../constructs/egress/factory";
import { PrivateNatEgress } from "../constructs/egress/private-nat-egress";
import { ProxyFleet } from "../constructs/egress/proxy-fleet";
import { ProxyServer } from "../constructs/egress/proxy-server";
import { CONFIG_DIR, configFrom, fleetRaw, synthEnvironment, verificationConfig } from "./helpers/stack";
import { privateLinkRaw } from "./helpers/privatelink";

const transitGateway = () => loadEnvironmentFile(path.join(CONFIG_DIR, "transit-gateway.json"));
const fleet = () => configFrom(fleetRaw({ size: 2 }));

describe("egressOf: the egress chosen once from an environment file", () => {
  it("is one proxy at its fixed address by default", () => {
    const egress = egressOf(verificationConfig());
    expect(egress).toEqual(expect.objectContaining({ kind: "proxy", privateIp: "10.0.0.10" }));
    expect(runsSquid(egress)).toBe(true);
  });

  it("is a fleet when proxy.fleet is set, with its size and the load balancer's addresses", () => {
    const egress = egressOf(fleet());
    expect(egress).toEqual(expect.objectContaining({ kind: "fleet", size: 2, loadBalancerAddresses: ["10.0.0.10", "10.0.0.138"] }));
    expect(runsSquid(egress)).toBe(true);
  });

  it("is a fleet behind an endpoint service with connectivity.type privateLink, with the acceptance, the principals and other accounts' app VPCs", () => {
    const raw = privateLinkRaw();
    expect(egressOf(configFrom(raw))).toEqual(
      expect.objectContaining({ kind: "fleet", privateLink: { acceptanceRequired: false, allowedPrincipals: [], appAccounts: [] } }),
    );
    raw.connectivity = { type: "privateLink", acceptanceRequired: true, allowedPrincipals: ["777788889999"] };
    raw.appVpcs[1] = {
      name: "app2",
      cidr: "192.168.0.0/24",
      existing: {
        vpcId: "vpc-0123456789abcdef0",
        accountId: "444455556666",
        roleArn: "arn:aws:iam::444455556666:role/proxy-link",
        endpointSubnetIds: ["subnet-0123456789abcdef0"],
      },
    };
    raw.expectedFlows = [];
    expect(egressOf(configFrom(raw))).toEqual(
      expect.objectContaining({
        kind: "fleet",
        privateLink: { acceptanceRequired: true, allowedPrincipals: ["777788889999"], appAccounts: ["444455556666"] },
      }),
    );
    expect((egressOf(fleet()) as { privateLink?: unknown }).privateLink).toBeUndefined();
  });

  it("is private NAT with connectivity.egress privateNat, with the attachment subnets, and runs no Squid", () => {
    const egress = egressOf(transitGateway());
    expect(egress).toEqual({ kind: "privateNat", attachmentSubnets: [{ availabilityZone: "ap-northeast-1a", cidr: "10.0.0.240/28" }] });
    expect(runsSquid(egress)).toBe(false);
  });
});

describe("egressProvider: what each kind needs of the proxy VPC", () => {
  it("gives Squid an S3 endpoint and a logs endpoint, and NAT gateways neither", () => {
    for (const config of [verificationConfig(), fleet()]) {
      expect(egressProvider(egressOf(config))).toEqual(expect.objectContaining({ s3Endpoint: true, interfaceEndpoints: ["logs"] }));
    }
    expect(egressProvider(egressOf(transitGateway()))).toEqual(expect.objectContaining({ s3Endpoint: false, interfaceEndpoints: [] }));
  });
});

describe("IEgress, as each implementation answers it", () => {
  it("the single proxy: app VPCs route to its address, app servers point at it, the service sees it", () => {
    const { stack } = synthEnvironment(verificationConfig());
    const egress = stack.egress;
    expect(egress).toBeInstanceOf(ProxyServer);
    expect(egress.kind).toBe("proxy");
    expect(egress.destinations).toEqual(["10.0.0.10/32"]);
    expect(egress.proxySetting).toBe("10.0.0.10:3128");
    expect(egress.appServerRules).toEqual([{ cidr: "10.0.0.10/32", port: 3128, description: "HTTP(S) through the Squid proxy" }]);
    expect(egress.sourceBlocks).toEqual(["10.0.0.10/32"]);
    expect(egress.attachmentSubnetIds).toEqual(stack.proxyNetwork.subnetIds);
    expect(egress.outputs.map((o) => o.name)).toEqual([outputNames.proxyAddress, outputNames.proxyUrl, outputNames.proxyAccessLogGroup]);
    expect(egress.outputs[0].value).toBe("10.0.0.10");
    expect(stack.proxy).toBe(egress);
  });

  it("the fleet: app VPCs route to the load balancer's addresses, app servers point at its name, the service sees the proxy VPC", () => {
    const { stack, json } = synthEnvironment(fleet());
    const egress = stack.egress as ProxyFleet;
    expect(egress).toBeInstanceOf(ProxyFleet);
    expect(egress.kind).toBe("fleet");
    expect(egress.destinations).toEqual(["10.0.0.10/32", "10.0.0.138/32"]);
    expect(egress.proxySetting).toBe(`${egress.host}:3128`);
    expect(JSON.parse(json).output[outputNames.proxyAddress].value).toMatch(/^\$\{aws_lb\.Proxy_LoadBalancer_\w+\.dns_name\}$/);
    expect(egress.appServerRules.map((r) => `${r.cidr}:${r.port}`)).toEqual(["10.0.0.10/32:3128", "10.0.0.138/32:3128"]);
    expect(egress.sourceBlocks).toEqual(["10.0.0.0/24"]);
    expect(egress.outputs.map((o) => o.name)).toEqual([
      outputNames.proxyAddress,
      outputNames.proxyLoadBalancerAddresses,
      outputNames.proxyUrl,
      outputNames.proxyAccessLogGroup,
    ]);
    expect(stack.proxy).toBe(egress);
  });

  it("private NAT: app VPCs route to the services' blocks, app servers have no proxy setting, the service sees the NAT subnets", () => {
    const config = transitGateway();
    const { stack } = synthEnvironment(config);
    const egress = stack.egress as PrivateNatEgress;
    expect(egress).toBeInstanceOf(PrivateNatEgress);
    expect(egress.kind).toBe("privateNat");
    expect(egress.destinations).toEqual(["172.16.0.0/24"]);
    expect(egress.proxySetting).toBeUndefined();
    expect(egress.appServerRules).toEqual([
      { cidr: "172.16.0.0/24", port: 80, description: "To service on 80, through the private NAT gateway" },
      { cidr: "172.16.0.0/24", port: 8443, description: "To service on 8443, through the private NAT gateway" },
    ]);
    expect(egress.sourceBlocks).toEqual(["10.0.0.0/25"]);
    expect(egress.attachmentSubnetIds).toHaveLength(1);
    expect(egress.attachmentSubnetIds).not.toEqual(stack.proxyNetwork.subnetIds);
    expect(egress.outputs.map((o) => o.name)).toEqual([outputNames.natGatewayAddresses]);
    expect(stack.proxy).toBeUndefined();
  });

  it("every kind's sources lie in the proxy VPC's dictated block, the only one the service accepts", () => {
    for (const config of [verificationConfig(), fleet(), transitGateway()]) {
      const { stack } = synthEnvironment(config);
      expect(stack.egress.sourceBlocks.length).toBeGreaterThan(0);
      for (const block of stack.egress.sourceBlocks) expect(cidrContains(config.proxyVpc.cidr, block)).toBe(true);
    }
  });

  it("the stack creates exactly the outputs its egress names, and no other kind's", () => {
    for (const config of [verificationConfig(), fleet(), transitGateway()]) {
      const { stack, json } = synthEnvironment(config);
      const outputs = Object.keys(JSON.parse(json).output);
      const egressNames = [
        outputNames.proxyAddress,
        outputNames.proxyUrl,
        outputNames.proxyAccessLogGroup,
        outputNames.proxyLoadBalancerAddresses,
        outputNames.natGatewayAddresses,
      ];
      expect(outputs.filter((o) => egressNames.includes(o)).sort()).toEqual(stack.egress.outputs.map((o) => o.name).sort());
    }
  });

  it("app servers take their proxy setting from the egress: a machine-wide setting with Squid, none with private NAT", () => {
    const proxied = JSON.parse(synthEnvironment(verificationConfig()).json).resource.aws_instance;
    const direct = JSON.parse(synthEnvironment(transitGateway()).json).resource.aws_instance;
    const userData = (instances: Record<string, { user_data?: string }>) =>
      Object.entries(instances)
        .filter(([id]) => id.startsWith("App-"))
        .map(([, i]) => i.user_data ?? "");
    expect(userData(proxied).every((u) => u.includes("$proxy = '10.0.0.10:3128'"))).toBe(true);
    expect(userData(direct)).toHaveLength(2);
    expect(userData(direct).some((u) => u.includes("$proxy"))).toBe(false);
  });
});
