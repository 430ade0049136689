/**
 * Every `throw` in constructs/ has a case here that makes it throw, and the count is checked, so a
 * new validation without a test fails this file.
 */
import * as fs from "fs";
import * as path from "path";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Testing } from "cdktf";
import { Construct } from "constructs";
import { AppServer } from "../constructs/app-server";
import { BootstrapStack } from "../constructs/bootstrap-stack";
import { AppVpcLink, AppVpcLinkProps } from "../constructs/app-vpc-link";
import { DirectConnectAttachment } from "../constructs/direct-connect-attachment";
import { DnsForwarding, DnsForwardingProps } from "../constructs/dns-forwarding";
import { ExistingNetwork } from "../constructs/existing-network";
import { InstanceRole } from "../constructs/instance-role";
import { Network, NetworkProps } from "../constructs/network";
import { Peering } from "../constructs/peering";
import { ProxyFleet, ProxyFleetProps } from "../constructs/egress/proxy-fleet";
import { ProxyServer, ProxyServerProps } from "../constructs/egress/proxy-server";
import { ProxyMonitoring, ProxyMonitoringProps } from "../constructs/egress/proxy-monitoring";
import { Peer, SecurityGroup } from "../constructs/security-group";
import { ServiceServer } from "../constructs/service-server";
import { ServiceSide } from "../constructs/service-side";
import { StateBucket } from "../constructs/state-bucket";
import { PrivateNatEgress } from "../constructs/egress/private-nat-egress";
import { TransitGatewayHub } from "../constructs/transit-gateway-hub";
import { EnvironmentStack } from "../constructs/environment-stack";
import { ProxyEndpoint } from "../constructs/proxy-endpoint";
import { ProxyEndpointService } from "../constructs/proxy-endpoint-service";
import { configFrom, localBackend, testFlowLogs } from "./helpers/stack";
import { privateLinkRaw } from "./helpers/privatelink";

const AL2023 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64";
/** An app server's side of a Squid proxy at 10.0.0.10:3128. */
const SQUID_AT_10 = {
  proxySetting: "10.0.0.10:3128",
  appServerRules: [{ cidr: "10.0.0.10/32", port: 3128, description: "HTTP(S) through the Squid proxy" }],
};
const server = (scope: Construct) => ({
  instanceType: "t3.micro",
  amiParameter: AL2023,
  rootVolumeSizeGiB: 8,
  detailedMonitoring: true,
  role: (scope.node.tryFindChild("Role") as InstanceRole | undefined) ?? new InstanceRole(scope, "Role", { name: "test" }),
});

const network = (scope: Construct, id: string, cidr: string, extra: Partial<NetworkProps> = {}) =>
  new Network(scope, id, {
    name: id.toLowerCase(),
    region: "ap-northeast-1",
    cidr,
    subnets: [{ availabilityZone: "ap-northeast-1a", cidr }],
    flowLogs: testFlowLogs(scope),
    ...extra,
  });

const existing = (scope: Construct, extra: Partial<ConstructorParameters<typeof ExistingNetwork>[2]> = {}) =>
  new ExistingNetwork(scope, "Existing", {
    name: "existing",
    vpcId: "vpc-0123456789abcdef0",
    cidr: "192.168.0.0/24",
    routeTableIds: "all",
    ...extra,
  });

const proxyProps = (scope: Construct, extra: Partial<ProxyServerProps> = {}): ProxyServerProps => ({
  environment: "test",
  network: network(scope, "Proxy", "10.0.0.0/24"),
  clients: [{ name: "app", cidr: "192.168.0.0/24" }],
  destinations: [{ name: "svc", cidr: "172.16.0.0/24", ports: [{ port: 80, carries: "http" }] }],
  port: 3128,
  accessLogRetentionDays: 7,
  privateIp: "10.0.0.10",
  ...server(scope),
  ...extra,
});

/** ProxyMonitoring's props around a single proxy, with `extra` on top. */
const monitoringProps = (scope: Construct, extra: Partial<ProxyMonitoringProps> = {}): ProxyMonitoringProps => {
  const proxy = new ProxyServer(scope, "X", proxyProps(scope));
  return {
    environment: "test",
    region: "ap-northeast-1",
    proxy,
    health: { kind: "instance", instanceId: proxy.server.instance.id },
    appVpcs: [{ name: "app", logName: "test-app" }],
    logRetentionDays: 7,
    ...extra,
  };
};

const twoZones = (scope: Construct) =>
  network(scope, "Proxy", "10.0.0.0/24", {
    subnets: [
      { availabilityZone: "ap-northeast-1a", cidr: "10.0.0.0/25" },
      { availabilityZone: "ap-northeast-1c", cidr: "10.0.0.128/25" },
    ],
  });

const fleetProps = (scope: Construct, extra: Partial<ProxyFleetProps> = {}): ProxyFleetProps => {
  return {
    environment: "test",
    network: twoZones(scope),
    clients: [{ name: "app", cidr: "192.168.0.0/24" }],
    destinations: [{ name: "svc", cidr: "172.16.0.0/24", ports: [{ port: 80, carries: "http" }] }],
    port: 3128,
    accessLogRetentionDays: 365,
    ...server(scope),
    size: 2,
    loadBalancerAddresses: ["10.0.0.10", "10.0.0.138"],
    deregistrationDelaySeconds: 300,
    healthCheckIntervalSeconds: 10,
    healthyThreshold: 2,
    unhealthyThreshold: 2,
    healthCheckGracePeriodSeconds: 300,
    ...extra,
  };
};

const linkProps = (scope: Construct, app: AppVpcLinkProps["app"]): AppVpcLinkProps => ({
  environment: "test",
  app,
  proxyNetwork: network(scope, "Proxy", "10.0.0.0/24"),
  egress: SQUID_AT_10,
  networkDefaults: { region: "ap-northeast-1", flowLogs: testFlowLogs(scope) },
  providerDefaults: { region: "ap-northeast-1" },
  serverRole: server(scope).role,
  bypass: ["169.254.169.254"],
});

const hub = (scope: Construct) => new TransitGatewayHub(scope, "Hub", { environment: "test" });
const tgwLink = (scope: Construct, existingVpc: NonNullable<AppVpcLinkProps["app"]["existing"]>): AppVpcLinkProps => {
  const props = linkProps(scope, { name: "app", cidr: "192.168.0.0/24", sessionManagerEndpoints: false, existing: existingVpc });
  const h = hub(scope);
  return {
    ...props,
    connect: {
      kind: "transitGateway",
      hub: h,
      proxyAttachment: h.attachProxyVpc(props.proxyNetwork, ["subnet-p"], ["172.16.0.0/24"]),
      destinations: ["172.16.0.0/24"],
    },
  };
};

/** An app link over PrivateLink to a stand-in endpoint service. */
const privateLinkLink = (scope: Construct, existingVpc: NonNullable<AppVpcLinkProps["app"]["existing"]>): AppVpcLinkProps => ({
  ...linkProps(scope, { name: "app", cidr: "192.168.0.0/24", sessionManagerEndpoints: false, existing: existingVpc }),
  connect: { kind: "privateLink", service: endpointService(scope), port: 3128 },
});
const endpointService = (scope: Construct, extra: Partial<ConstructorParameters<typeof ProxyEndpointService>[2]> = {}) =>
  new ProxyEndpointService(scope, "Service", {
    environment: "test",
    loadBalancerArn: "arn:aws:elasticloadbalancing:ap-northeast-1:111122223333:loadbalancer/net/test/0123456789abcdef",
    ...extra,
  });

const dnsProps = (scope: Construct, extra: Partial<DnsForwardingProps> = {}): DnsForwardingProps => ({
  environment: "test",
  rules: [{ domain: "service.example", servers: ["172.16.0.10"] }],
  ...extra,
  network: extra.network ?? twoZones(scope),
});

/** [file, what is wrong, how to build it, the message]. */
const CASES: [string, string, (scope: Construct) => void, RegExp][] = [
  [
    "app-vpc-link.ts",
    "an app server in an existing VPC",
    (s) =>
      void new AppVpcLink(
        s,
        "L",
        linkProps(s, {
          name: "app",
          cidr: "192.168.0.0/24",
          sessionManagerEndpoints: false,
          existing: { vpcId: "vpc-0123456789abcdef0", routeTableIds: "all" },
          appServer: { instanceType: "t3.medium", amiParameter: AL2023, rootVolumeSizeGiB: 30, detailedMonitoring: true },
        }),
      ),
    /AppVpcLink app: appServer is set for an existing VPC; the project adds nothing to it but the peering and its routes\. Remove it/,
  ],
  [
    "app-vpc-link.ts",
    "a created VPC without subnets",
    (s) => void new AppVpcLink(s, "L", linkProps(s, { name: "app", cidr: "192.168.0.0/24", sessionManagerEndpoints: false })),
    /AppVpcLink app: subnets is missing; a created VPC needs at least one subnet \(or set existing to use a VPC that exists\)/,
  ],
  [
    "app-vpc-link.ts",
    "a VPC of another account on a Transit Gateway",
    (s) =>
      void new AppVpcLink(
        s,
        "L",
        tgwLink(s, {
          vpcId: "vpc-0123456789abcdef0",
          routeTableIds: "all",
          accountId: "111122223333",
          attachmentSubnetIds: ["subnet-0123456789abcdef0"],
        }),
      ),
    /AppVpcLink app: a VPC of another account attaches to a Transit Gateway only through a resource share/,
  ],
  [
    "app-vpc-link.ts",
    "an existing VPC on a Transit Gateway without attachment subnets",
    (s) => void new AppVpcLink(s, "L", tgwLink(s, { vpcId: "vpc-0123456789abcdef0", routeTableIds: "all" })),
    /AppVpcLink app: an existing VPC needs attachmentSubnetIds/,
  ],
  [
    "app-vpc-link.ts",
    "an existing VPC over PrivateLink without endpoint subnets",
    (s) => void new AppVpcLink(s, "L", privateLinkLink(s, { vpcId: "vpc-0123456789abcdef0" })),
    /AppVpcLink app: an existing VPC needs endpointSubnetIds for its interface endpoint to the proxy/,
  ],
  [
    "app-vpc-link.ts",
    "route tables for an existing VPC over PrivateLink",
    (s) =>
      void new AppVpcLink(
        s,
        "L",
        privateLinkLink(s, { vpcId: "vpc-0123456789abcdef0", routeTableIds: "all", endpointSubnetIds: ["subnet-0123456789abcdef0"] }),
      ),
    /AppVpcLink app: existing\.routeTableIds is a routing setting, but connectivity\.type is "privateLink", which adds no route to an app VPC; remove it/,
  ],
  [
    "proxy-endpoint-service.ts",
    "the principal *",
    (s) => void endpointService(s, { allowedPrincipals: ["*"] }),
    /ProxyEndpointService Service: principal "\*" is '\*', which would let every AWS account make an endpoint to the proxy; name the accounts/,
  ],
  [
    "proxy-endpoint.ts",
    "no subnets",
    (s) => void new ProxyEndpoint(s, "E", { network: network(s, "App", "192.168.0.0/24"), subnetIds: [], serviceName: "svc", port: 3128 }),
    /ProxyEndpoint app: subnetIds is empty; give one subnet per zone/,
  ],
  [
    "proxy-endpoint.ts",
    "a subnet of another VPC",
    (s) => {
      const other = network(s, "Other", "192.168.1.0/24");
      new ProxyEndpoint(s, "E", {
        network: network(s, "App", "192.168.0.0/24"),
        subnetIds: other.subnetIds,
        serviceName: "svc",
        port: 3128,
      });
    },
    /ProxyEndpoint app: \$\{TfToken\[TOKEN\.\d+\]\} is not a subnet of app; an interface endpoint places its addresses in subnets of its own VPC/,
  ],
  [
    "environment-stack.ts",
    "PrivateLink without a fleet",
    (s) => {
      const raw = privateLinkRaw();
      raw.appVpcs.splice(1);
      raw.expectedFlows = [];
      const config = configFrom(raw);
      void new EnvironmentStack(s, "test", {
        config: { ...config, proxy: { ...config.proxy, fleet: undefined } },
        stateBackend: localBackend,
      });
    },
    /EnvironmentStack privatelink: connectivity.type "privateLink" needs a proxy fleet behind a load balancer \(proxy.fleet\); the egress is "proxy"/,
  ],
  [
    "transit-gateway-hub.ts",
    "an ASN for an existing gateway",
    (s) => void new TransitGatewayHub(s, "Hub", { environment: "test", existingId: "tgw-0123456789abcdef0", amazonSideAsn: 64600 }),
    /amazonSideAsn is for a new Transit Gateway; an existing one \(tgw-0123456789abcdef0\) keeps its own/,
  ],
  [
    "transit-gateway-hub.ts",
    "the proxy VPC attached twice",
    (s) => {
      const h = hub(s);
      const proxy = network(s, "Proxy", "10.0.0.0/24");
      h.attachProxyVpc(proxy, proxy.subnetIds, ["172.16.0.0/24"]);
      h.attachProxyVpc(proxy, proxy.subnetIds, ["172.16.0.0/24"]);
    },
    /TransitGatewayHub Hub: the proxy VPC is attached already/,
  ],
  [
    "transit-gateway-hub.ts",
    "a malformed destination",
    (s) => void hub(s).attachProxyVpc(network(s, "Proxy", "10.0.0.0/24"), ["subnet-p"], ["172.16.0.1/24"]),
    /TransitGatewayHub Hub: destination "172\.16\.0\.1\/24" has host bits set/,
  ],
  [
    "transit-gateway-hub.ts",
    "an attachment without subnets",
    (s) => void hub(s).attachAppVpc("App", network(s, "App", "192.168.0.0/24"), []),
    /TransitGatewayHub Hub: app needs at least one subnet for its attachment/,
  ],
  [
    "egress/private-nat-egress.ts",
    "an attachment subnet in a zone without a NAT gateway",
    (s) =>
      void new PrivateNatEgress(s, "N", {
        environment: "test",
        network: network(s, "Proxy", "10.0.0.0/24", { subnets: [{ availabilityZone: "ap-northeast-1a", cidr: "10.0.0.0/25" }] }),
        attachmentSubnets: [{ availabilityZone: "ap-northeast-1c", cidr: "10.0.0.240/28" }],
        services: [{ name: "svc", cidr: "172.16.0.0/24", ports: [80] }],
      }),
    /PrivateNatEgress N: no NAT gateway in ap-northeast-1c for the attachment subnet 10\.0\.0\.240\/28; give proxy a subnet in that zone/,
  ],
  [
    "egress/private-nat-egress.ts",
    "an attachment subnet inside a NAT subnet",
    (s) =>
      void new PrivateNatEgress(s, "N", {
        environment: "test",
        network: network(s, "Proxy", "10.0.0.0/24", { subnets: [{ availabilityZone: "ap-northeast-1a", cidr: "10.0.0.0/25" }] }),
        attachmentSubnets: [{ availabilityZone: "ap-northeast-1a", cidr: "10.0.0.0/28" }],
        services: [{ name: "svc", cidr: "172.16.0.0/24", ports: [80] }],
      }),
    /attachment subnet 10\.0\.0\.0\/28 must lie in 10\.0\.0\.0\/24 apart from the NAT gateways' subnets/,
  ],
  [
    "bootstrap-stack.ts",
    "a relative state path",
    () =>
      void new BootstrapStack(Testing.app(), "state-b", {
        bucketName: "b-test",
        region: "ap-northeast-1",
        noncurrentVersionExpirationDays: 90,
        project: "p",
        statePath: "state/state-b.tfstate",
      }),
    /statePath "state\/state-b\.tfstate" is relative, so Terraform would put the state in the stack's synthesis folder/,
  ],
  [
    "direct-connect-attachment.ts",
    "a destination inside the proxy VPC",
    (s) =>
      void new DirectConnectAttachment(s, "D", {
        network: network(s, "Proxy", "10.0.0.0/24"),
        destinations: ["10.0.0.0/25"],
        routing: "static",
      }),
    /destination 10\.0\.0\.0\/25 overlaps the proxy VPC 10\.0\.0\.0\/24/,
  ],
  [
    "direct-connect-attachment.ts",
    "static routing without destinations",
    (s) => void new DirectConnectAttachment(s, "D", { network: network(s, "Proxy", "10.0.0.0/24"), destinations: [], routing: "static" }),
    /static routing needs at least one destination/,
  ],
  [
    "direct-connect-attachment.ts",
    "a VPC whose route tables are looked up",
    (s) => void new DirectConnectAttachment(s, "D", { network: existing(s), destinations: ["172.16.0.0/24"], routing: "static" }),
    /route tables of existing are looked up when planning/,
  ],
  [
    "dns-forwarding.ts",
    "no rules",
    (s) => void new DnsForwarding(s, "D", dnsProps(s, { rules: [] })),
    /DnsForwarding D: rules is empty; give at least one domain to forward/,
  ],
  [
    "dns-forwarding.ts",
    "two rules for one domain",
    (s) =>
      void new DnsForwarding(
        s,
        "D",
        dnsProps(s, {
          rules: [
            { domain: "a.example", servers: ["172.16.0.10"] },
            { domain: "a.example", servers: ["172.16.0.11"] },
          ],
        }),
      ),
    /DnsForwarding D: domain a\.example is forwarded by rules\[0\] already; give each domain one rule \(list all its servers there\)/,
  ],
  [
    "dns-forwarding.ts",
    "a server that is not an address",
    (s) => void new DnsForwarding(s, "D", dnsProps(s, { rules: [{ domain: "a.example", servers: ["ns1.a.example"] }] })),
    /DnsForwarding D: server "ns1\.a\.example" is not an IPv4 address/,
  ],
  [
    "dns-forwarding.ts",
    "an endpoint in one zone",
    (s) => void new DnsForwarding(s, "D", dnsProps(s, { network: network(s, "Proxy", "10.0.0.0/24") })),
    /DnsForwarding D: the endpoint has all its subnets in ap-northeast-1a; a Route 53 Resolver endpoint needs subnets in at least two zones/,
  ],
  [
    "existing-network.ts",
    "a malformed block",
    (s) => void existing(s, { cidr: "192.168.0.1/24" }),
    /ExistingNetwork existing: cidr "192\.168\.0\.1\/24" has host bits set/,
  ],
  [
    "existing-network.ts",
    "an empty route table list",
    (s) => void existing(s, { routeTableIds: [] }),
    /routeTableIds is empty; list the route tables or say "all"/,
  ],
  ["network.ts", "a malformed block", (s) => void network(s, "N", "10.0.0/24"), /Network n: cidr "10\.0\.0\/24" is not an IPv4 CIDR block/],
  ["network.ts", "no subnets", (s) => void network(s, "N", "10.0.0.0/24", { subnets: [] }), /Network n: subnets is empty/],
  [
    "network.ts",
    "a subnet outside the VPC",
    (s) => void network(s, "N", "10.0.0.0/24", { subnets: [{ availabilityZone: "ap-northeast-1a", cidr: "10.0.1.0/24" }] }),
    /Network n: subnet "10\.0\.1\.0\/24" is not inside the VPC's block 10\.0\.0\.0\/24; pick a subnet block within it/,
  ],
  [
    "network.ts",
    "two subnets in one zone",
    (s) =>
      void network(s, "N", "10.0.0.0/24", {
        subnets: [
          { availabilityZone: "ap-northeast-1a", cidr: "10.0.0.0/25" },
          { availabilityZone: "ap-northeast-1a", cidr: "10.0.0.128/25" },
        ],
      }),
    /Network n: the zone ap-northeast-1a of subnet "10\.0\.0\.128\/25" is the zone of an earlier subnet of the same VPC/,
  ],
  [
    "network.ts",
    "an added subnet outside the VPC",
    (s) => void network(s, "N", "10.0.0.0/24").addSubnet(s, "Extra", { availabilityZone: "ap-northeast-1c", cidr: "10.0.1.0/28" }, "extra"),
    /Network n: subnet "10\.0\.1\.0\/28" is not inside the VPC's block 10\.0\.0\.0\/24/,
  ],
  [
    "network.ts",
    "extra endpoints without Session Manager's",
    (s) => void network(s, "N", "10.0.0.0/24", { extraInterfaceEndpoints: ["logs"] }),
    /extraInterfaceEndpoints needs enableSessionManagerEndpoints/,
  ],
  [
    "peering.ts",
    "overlapping VPCs",
    (s) => void new Peering(s, "P", { requester: network(s, "A", "10.0.0.0/24"), accepter: network(s, "B", "10.0.0.0/25") }),
    /Peering P: a 10\.0\.0\.0\/24 overlaps b 10\.0\.0\.0\/25; VPCs that are peered or routed together need disjoint blocks/,
  ],
  [
    "peering.ts",
    "a route to the side's own block",
    (s) =>
      void new Peering(s, "P", {
        requester: network(s, "A", "10.0.0.0/24"),
        accepter: network(s, "B", "10.0.1.0/24"),
        requesterDestinations: ["10.0.0.0/28"],
      }),
    /requesterDestinations holds 10\.0\.0\.0\/28, which overlaps a's own 10\.0\.0\.0\/24/,
  ],
  [
    "peering.ts",
    "a requester in another account",
    (s) =>
      void new Peering(s, "P", {
        requester: existing(s, {
          accountId: "111122223333",
          provider: new AwsProvider(s, "other", { region: "ap-northeast-1", alias: "other" }),
        }),
        accepter: network(s, "B", "10.0.1.0/24"),
      }),
    /the requester existing must be in the stack's own account/,
  ],
  [
    "peering.ts",
    "an accepter with an account but no provider",
    (s) => void new Peering(s, "P", { requester: network(s, "A", "10.0.1.0/24"), accepter: existing(s, { accountId: "111122223333" }) }),
    /the accepter existing needs both accountId and provider, or neither/,
  ],
  [
    "egress/proxy-fleet.ts",
    "a network with one subnet",
    (s) => void new ProxyFleet(s, "F", fleetProps(s, { network: network(s, "One", "10.1.0.0/24") })),
    /ProxyFleet F: the network one has 1 subnet; a fleet spreads over at least two subnets in two zones/,
  ],
  [
    "egress/proxy-fleet.ts",
    "a fleet of one",
    (s) => void new ProxyFleet(s, "F", fleetProps(s, { size: 1 })),
    /ProxyFleet F: size 1 is below 2; a fleet needs at least two proxies/,
  ],
  [
    "egress/proxy-fleet.ts",
    "fewer addresses than subnets",
    (s) => void new ProxyFleet(s, "F", fleetProps(s, { loadBalancerAddresses: ["10.0.0.10"] })),
    /ProxyFleet F: loadBalancerAddresses lists 1 addresses for 2 proxy subnets; give one per subnet, in the subnets' order/,
  ],
  [
    "egress/proxy-fleet.ts",
    "an address outside the proxy VPC",
    (s) => void new ProxyFleet(s, "F", fleetProps(s, { loadBalancerAddresses: ["10.0.0.10", "10.9.0.10"] })),
    /ProxyFleet F: load balancer address 10\.9\.0\.10 is outside the proxy VPC 10\.0\.0\.0\/24/,
  ],
  [
    "egress/proxy-fleet.ts",
    "no clients",
    (s) => void new ProxyFleet(s, "F", fleetProps(s, { clients: [] })),
    /ProxyFleet F: clients is empty/,
  ],
  [
    "egress/proxy-server.ts",
    "an address outside the proxy VPC",
    (s) => void new ProxyServer(s, "X", proxyProps(s, { privateIp: "10.9.0.10" })),
    /privateIp 10\.9\.0\.10 is outside the proxy VPC/,
  ],
  [
    "egress/proxy-server.ts",
    "no clients",
    (s) => void new ProxyServer(s, "X", proxyProps(s, { clients: [] })),
    /ProxyServer: clients is empty/,
  ],
  [
    "egress/proxy-monitoring.ts",
    "no app VPCs",
    (s) => void new ProxyMonitoring(s, "M", monitoringProps(s, { appVpcs: [] })),
    /ProxyMonitoring: appVpcs is empty; give the app VPCs whose denials are counted/,
  ],
  [
    "egress/proxy-monitoring.ts",
    "an app VPC twice",
    (s) =>
      void new ProxyMonitoring(
        s,
        "M",
        monitoringProps(s, {
          appVpcs: [
            { name: "app", logName: "test-app" },
            { name: "app", logName: "test-app" },
          ],
        }),
      ),
    /ProxyMonitoring: appVpcs names test-app twice; each app VPC once/,
  ],
  [
    "egress/proxy-monitoring.ts",
    "alerts that name nothing",
    (s) => void new ProxyMonitoring(s, "M", monitoringProps(s, { alerts: {} })),
    /ProxyMonitoring: alerts names neither topicArn nor email; give one of them, or leave alerts out/,
  ],
  [
    "egress/proxy-monitoring.ts",
    "a topic that is no SNS topic ARN",
    (s) => void new ProxyMonitoring(s, "M", monitoringProps(s, { alerts: { topicArn: "proxy-alerts" } })),
    /ProxyMonitoring: alerts.topicArn proxy-alerts is not an SNS topic ARN; write one such as arn:aws:sns:ap-northeast-1:111122223333:proxy-alerts/,
  ],
  [
    "egress/proxy-monitoring.ts",
    "a topic of another region",
    (s) =>
      void new ProxyMonitoring(s, "M", monitoringProps(s, { alerts: { topicArn: "arn:aws:sns:us-east-1:111122223333:proxy-alerts" } })),
    /ProxyMonitoring: alerts.topicArn .* is a topic in us-east-1; alarms in ap-northeast-1 notify topics of their own region only/,
  ],
  [
    "egress/squid.ts",
    "an allowlist larger than its parameter holds",
    (s) => {
      const names = (i: number) => Array.from({ length: 4 }, (_, n) => `host-${n}.service-${i}.partner.example`);
      const destinations = Array.from({ length: 40 }, (_, i) => ({
        name: `s${i}`,
        cidr: "172.16.0.0/24",
        ports: [{ port: 443, carries: "tls" as const }],
        domains: names(i),
      }));
      new ProxyServer(s, "X", proxyProps(s, { destinations }));
    },
    /services: the allowlist rendered from 40 services \(160 domains\) and 1 app VPCs is \d+ bytes, more than the 8192 bytes/,
  ],
  [
    "egress/proxy-fleet.ts",
    "endpoint ids for a fleet reached by routes",
    (s) => void new ProxyFleet(s, "F", fleetProps(s)).squidConfWithEndpoints({ app: "vpce-0123456789abcdef0" }),
    /ProxyFleet F: squidConfWithEndpoints is for a fleet behind PrivateLink; use squidConf/,
  ],
  [
    "egress/proxy-fleet.ts",
    "no endpoint id for a client behind PrivateLink",
    (s) => {
      const fleet = new ProxyFleet(s, "F", fleetProps(s, { privateLink: true }));
      fleet.privateLink!.addEndpoint("app", "vpce-0123456789abcdef0");
      fleet.squidConfWithEndpoints({});
    },
    /ProxyFleet F: squidConfWithEndpoints has no endpoint id for app/,
  ],
  [
    "egress/squid.ts",
    "PROXY protocol without the endpoints' ids",
    (s) => void new ProxyServer(s, "X", proxyProps(s, { proxyProtocol: { trustedSources: ["10.0.0.10"] } })),
    /createProxyAllowlist: proxyProtocol needs endpointIds, which name each client's endpoint/,
  ],
  [
    "egress/squid.ts",
    "an app VPC with two endpoints",
    (s) => {
      const fleet = new ProxyFleet(s, "F", fleetProps(s, { privateLink: true }));
      fleet.privateLink!.addEndpoint("app", "vpce-0123456789abcdef0");
      fleet.privateLink!.addEndpoint("app", "vpce-0123456789abcdef1");
    },
    /EndpointIds: client app has an endpoint already; give each app VPC one/,
  ],
  [
    "egress/squid.ts",
    "an app VPC without an endpoint behind PrivateLink",
    (s) => void new ProxyFleet(s, "F", fleetProps(s, { privateLink: true })),
    /EndpointIds: app VPC app has no interface endpoint to the proxy; Squid could not tell its requests apart/,
  ],
  [
    "security-group.ts",
    "the same rule twice",
    (s) => {
      const group = new SecurityGroup(s, "G", { network: network(s, "N", "10.0.0.0/24"), name: "g", description: "test group" });
      group.allowTcpIn(Peer.cidr("192.168.0.0/24"), 443, "first");
      group.allowTcpIn(Peer.cidr("192.168.0.0/24"), 443, "again");
    },
    /SecurityGroup g: a rule In-192_168_0_0_24-443 exists already \(tcp 443 from 192\.168\.0\.0\/24\)/,
  ],
  [
    "server.ts",
    "a network without subnets",
    (s) =>
      void new AppServer(s, "A", {
        environment: "test",
        appName: "app",
        network: existing(s),
        egress: SQUID_AT_10,
        bypass: [],
        ...server(s),
      }),
    /Server test-app-server: the network existing has no subnets/,
  ],
  [
    "service-server.ts",
    "no ports",
    (s) =>
      void new ServiceServer(s, "S", {
        environment: "test",
        network: network(s, "Svc", "172.16.0.0/24"),
        allowedFrom: network(s, "Proxy", "10.0.0.0/24"),
        ports: [],
        ...server(s),
      }),
    /ServiceServer: ports is empty/,
  ],
  [
    "service-server.ts",
    "DNS without a fixed address",
    (s) =>
      void new ServiceServer(s, "S", {
        environment: "test",
        network: network(s, "Svc", "172.16.0.0/24"),
        allowedFrom: network(s, "Proxy", "10.0.0.0/24"),
        ports: [{ port: 80, carries: "http" }],
        dnsDomains: ["service.example"],
        ...server(s),
      }),
    /ServiceServer: dnsDomains needs privateIp/,
  ],
  [
    "service-side.ts",
    "no services",
    (s) =>
      void new ServiceSide(s, "S", {
        environment: "test",
        side: { type: "virtualPrivateGateway", routing: "static" },
        services: [],
        proxyNetwork: network(s, "Proxy", "10.0.0.0/24"),
        networkDefaults: { region: "ap-northeast-1", flowLogs: testFlowLogs(s) },
        serverRole: server(s).role,
      }),
    /ServiceSide: services is empty/,
  ],
  [
    "state-bucket.ts",
    "a retention below one day",
    (s) => void new StateBucket(s, "B", { bucketName: "b-test", noncurrentVersionExpirationDays: 0 }),
    /noncurrentVersionExpirationDays is 0; give a whole number of days, at least 1/,
  ],
];

describe("every validation in constructs/ throws a message that names the fix", () => {
  it.each(CASES)("%s refuses %s", (_file, _what, build, message) => {
    expect(() => Testing.synthScope((scope) => build(scope))).toThrow(message);
  });

  it("has a case for every throw in constructs/", () => {
    const dir = path.join(__dirname, "..", "constructs");
    const files = (fs.readdirSync(dir, { recursive: true }) as string[])
      .filter((f) => f.endsWith(".ts"))
      .map((f) => f.split(path.sep).join("/"));
    const throwsPerFile = Object.fromEntries(
      files
        .map((f) => [f, (fs.readFileSync(path.join(dir, f), "utf8").match(/\bthrow new /g) ?? []).length] as const)
        .filter(([, n]) => n > 0),
    );
    const casesPerFile: Record<string, number> = {};
    for (const [file] of CASES) casesPerFile[file] = (casesPerFile[file] ?? 0) + 1;
    expect(casesPerFile).toEqual(throwsPerFile);
  });
});
