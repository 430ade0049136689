import * as fs from "fs";
import * as path from "path";
import { renderAllowlist } from "../lib/squid";
import { allowlistReadbackProblems, deploymentProblems, EmulatorInventory, emulatorNotes } from "../proof/rehearsal";
import { privateLinkAllowlistPolicy, privateLinkSummary } from "../proof/privatelink-readback";
import { configFrom } from "./helpers/stack";

const env = configFrom(JSON.parse(fs.readFileSync(path.join(__dirname, "..", "demos", "privatelink.json"), "utf8")));
const LB = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:loadbalancer/net/privatelink-proxy/1";
const TG = "arn:aws:elasticloadbalancing:ap-northeast-1:123456789012:targetgroup/privatelink-squid/1";
const SERVICE = "com.amazonaws.vpce.ap-northeast-1.vpce-svc-1";
const dnsOf = (app: string) => `vpce-${app}-1.vpce-svc-1.ap-northeast-1.vpce.amazonaws.com`;
const squid =
  "dnf install -y squid\ninclude /etc/squid/allowlist.conf\naws ssm get-parameter --name '/proxy-over-peering/privatelink/squid-allowlist'\n";

const outputs = {
  service_url: "http://172.16.0.10:80/",
  service_peering_id: "pcx-svc",
  app_server_app1_id: "i-app1",
  app_server_app2_id: "i-app2",
  proxy_address: "privatelink-proxy-1.ap-northeast-1.elb.amazonaws.com",
  proxy_url: "http://privatelink-proxy-1.ap-northeast-1.elb.amazonaws.com:3128",
  proxy_endpoint_service_name: SERVICE,
  proxy_endpoint_app1_dns: dnsOf("app1"),
  proxy_endpoint_app2_dns: dnsOf("app2"),
};

/** A server as the emulator lists it. */
const server = (id: string, name: string, privateIp: string, userData: string, httpTokens = "required") => ({
  id,
  name,
  state: "running",
  privateIp,
  httpTokens,
  userData,
  securityGroups: ["sg-1"],
});

/** The network of a correct deployment of demos/privatelink.json: two app VPCs of one block, each with its endpoint. */
function network(): Partial<EmulatorInventory> {
  const appSubnets = (app: string) => [
    { id: `subnet-${app}-a`, vpcId: `vpc-${app}`, cidr: "192.168.0.0/25", zone: "ap-northeast-1a" },
    { id: `subnet-${app}-c`, vpcId: `vpc-${app}`, cidr: "192.168.0.128/25", zone: "ap-northeast-1c" },
  ];
  const endpoint = (app: string) => ({
    id: `vpce-0${app === "app1" ? "a" : "b"}`,
    name: `privatelink-${app}-proxy-endpoint`,
    vpcId: `vpc-${app}`,
    serviceName: SERVICE,
    state: "available",
    subnetIds: [`subnet-${app}-a`, `subnet-${app}-c`],
    securityGroups: [`sg-${app}-endpoint`],
    dnsNames: [dnsOf(app)],
  });
  const endpointGroup = (app: string) => ({
    id: `sg-${app}-endpoint`,
    name: `privatelink-${app}-proxy-endpoint`,
    vpcId: `vpc-${app}`,
    ingress: [{ protocol: "tcp", fromPort: 3128, toPort: 3128, cidrs: ["192.168.0.0/24"], groups: [] }],
  });
  return {
    vpcs: [
      { id: "vpc-app1", cidr: "192.168.0.0/24", name: "privatelink-app1" },
      { id: "vpc-app2", cidr: "192.168.0.0/24", name: "privatelink-app2" },
      { id: "vpc-proxy", cidr: "10.0.0.0/24", name: "privatelink-proxy" },
      { id: "vpc-svc", cidr: "172.16.0.0/24", name: "privatelink-service" },
    ],
    peerings: [{ id: "pcx-svc", status: "active", requesterVpcId: "vpc-proxy", accepterVpcId: "vpc-svc" }],
    routes: [
      { vpcId: "vpc-proxy", destination: "172.16.0.0/24", peering: "pcx-svc" },
      { vpcId: "vpc-svc", destination: "10.0.0.0/24", peering: "pcx-svc" },
    ],
    subnets: [...appSubnets("app1"), ...appSubnets("app2")],
    interfaceEndpoints: [endpoint("app1"), endpoint("app2")],
    endpointServices: [
      {
        id: "vpce-svc-1",
        name: "privatelink-proxy-service",
        serviceName: SERVICE,
        state: "Available",
        acceptanceRequired: false,
        loadBalancers: [LB],
        principals: ["arn:aws:iam::123456789012:root"],
      },
    ],
    securityGroups: [
      endpointGroup("app1"),
      endpointGroup("app2"),
      { id: "sg-lb", name: "privatelink-proxy-lb", vpcId: "vpc-proxy", ingress: [] },
      { id: "sg-proxy", name: "privatelink-proxy", vpcId: "vpc-proxy", ingress: [] },
    ],
  };
}

/** The inventory of a correct deployment of demos/privatelink.json. */
function goodInventory(): EmulatorInventory {
  const inv = {
    ...network(),
    instances: [
      server("i-a", "privatelink-proxy", "10.0.0.37", squid, "optional"),
      server("i-c", "privatelink-proxy", "10.0.0.166", squid, "optional"),
      server("i-app1", "privatelink-app1-server", "192.168.0.4", `$proxy = '${dnsOf("app1")}:3128'`),
      server("i-app2", "privatelink-app2-server", "192.168.0.4", `$proxy = '${dnsOf("app2")}:3128'`),
      server("i-svc", "privatelink-service", "172.16.0.10", "dnf install -y httpd"),
    ],
    resolverEndpoints: [],
    resolverRules: [],
    resolverRuleAssociations: [],
    vpcEndpoints: [],
    networkInterfaces: [],
    iamRoles: [],
    instanceProfiles: [],
    logGroups: ["/proxy-over-peering/privatelink/squid-access"],
    alarms: ["privatelink-proxy-unhealthy-hosts"],
    flowLogs: ["fl-1", "fl-2", "fl-3", "fl-4"],
    loadBalancers: [
      {
        arn: LB,
        name: "privatelink-proxy",
        dnsName: outputs.proxy_address,
        scheme: "internal",
        type: "network",
        addresses: ["10.0.0.10", "10.0.0.138"],
        listeners: [{ port: 3128, protocol: "TCP", targetGroups: [TG] }],
        securityGroups: ["sg-lb"],
        enforcePrivateLinkInbound: "off",
      },
    ],
    targetGroups: [
      {
        arn: TG,
        name: "privatelink-squid",
        protocol: "TCP",
        port: 3128,
        preserveClientIp: "false",
        deregistrationDelaySeconds: "60",
        proxyProtocolV2: "true",
      },
    ],
    autoScalingGroups: [
      {
        name: "privatelink-proxy",
        desired: 2,
        instances: ["i-a", "i-c"],
        launchTemplate: { LaunchTemplateId: "lt-1", Version: "1" },
        targetGroups: [TG],
        zones: 2,
      },
    ],
    launchTemplates: [
      { id: "lt-1", name: "privatelink-proxy", latestVersion: 1, httpTokens: "required", encrypted: ["true"], userData: squid },
    ],
  } as EmulatorInventory;
  const value = renderAllowlist(privateLinkAllowlistPolicy(env, inv).policy);
  return { ...inv, allowlistParameter: { name: "/proxy-over-peering/privatelink/squid-allowlist", value, version: 1 } };
}

/** A copy of the good inventory to spoil. */
const spoilt = (): any => JSON.parse(JSON.stringify(goodInventory()));

describe("deploymentProblems of the PrivateLink environment", () => {
  it("finds nothing wrong with two app VPCs of one block, each reaching the proxy through its own endpoint", () => {
    expect(deploymentProblems(env, outputs, goodInventory())).toEqual([]);
  });

  it("tells the two app VPCs of one block apart by name: app2's endpoint missing is app2's problem alone", () => {
    const inv = spoilt();
    inv.interfaceEndpoints = inv.interfaceEndpoints.filter((e: any) => e.vpcId !== "vpc-app2");
    const problems = deploymentProblems(env, outputs, inv);
    expect(problems).toContain("no interface endpoint privatelink-app2-proxy-endpoint in app VPC app2");
    expect(problems).toContain("app server app2: no endpoint read back to check its proxy setting against");
    expect(problems.join("\n")).not.toMatch(/app1/);
  });

  it("notices a peering connection, a Transit Gateway and routes between VPCs, none of which PrivateLink has", () => {
    const inv = spoilt();
    inv.peerings.push({ id: "pcx-app1", status: "active", requesterVpcId: "vpc-app1", accepterVpcId: "vpc-proxy" });
    inv.routes.push({ vpcId: "vpc-app1", destination: "10.0.0.0/24", peering: "pcx-app1" });
    inv.routes.push({ vpcId: "vpc-proxy", destination: "192.168.0.0/24", peering: "pcx-app1" });
    inv.transitGateways = [{ id: "tgw-1", state: "available" }];
    expect(deploymentProblems(env, outputs, inv)).toEqual([
      "peering connection pcx-app1 touches app VPC app1; with PrivateLink only the service side is peered",
      "1 Transit Gateways or attachments; with PrivateLink there is none",
      "app VPC app1 has a route to 10.0.0.0/24 via pcx-app1; with PrivateLink nothing is routed between VPCs",
      "VPC vpc-proxy has a route to the app block 192.168.0.0/24 via pcx-app1; with PrivateLink nothing is routed to app VPCs",
    ]);
  });

  it('notices a "*" principal, a principal too many and acceptance turned on', () => {
    const inv = spoilt();
    inv.endpointServices[0].principals = ["*", "arn:aws:iam::123456789012:root"];
    inv.endpointServices[0].acceptanceRequired = true;
    expect(deploymentProblems(env, outputs, inv)).toEqual([
      "endpoint service privatelink-proxy-service has acceptance_required true, expected false",
      'endpoint service privatelink-proxy-service allows every principal ("*")',
      "endpoint service privatelink-proxy-service allows *, arn:aws:iam::123456789012:root, expected arn:aws:iam::123456789012:root",
    ]);
  });

  it("notices an endpoint service that offers another load balancer, and one that is missing", () => {
    const inv = spoilt();
    inv.endpointServices[0].loadBalancers = ["arn:other"];
    expect(deploymentProblems(env, outputs, inv)).toEqual([
      `endpoint service privatelink-proxy-service offers arn:other, expected the load balancer ${LB}`,
    ]);
    const none = { ...goodInventory(), endpointServices: [] };
    expect(deploymentProblems(env, outputs, none)).toEqual(["no endpoint service named privatelink-proxy-service"]);
  });

  it("notices a target group without PROXY protocol v2, and one that keeps client addresses", () => {
    const inv = spoilt();
    inv.targetGroups[0].proxyProtocolV2 = "false";
    inv.targetGroups[0].preserveClientIp = "true";
    expect(deploymentProblems(env, outputs, inv)).toEqual([
      "target group privatelink-squid sends no PROXY protocol v2 header (proxy_protocol_v2 false); Squid requires it",
      "target group privatelink-squid keeps client addresses (preserve_client_ip true); behind PrivateLink they come in the PROXY header",
    ]);
  });

  it("notices an endpoint group open to 0.0.0.0/0, one admitting another port, and one of another VPC's block", () => {
    const inv = spoilt();
    inv.securityGroups[0].ingress.push({ protocol: "tcp", fromPort: 3128, toPort: 3128, cidrs: ["0.0.0.0/0"], groups: [] });
    inv.securityGroups[1].ingress = [{ protocol: "tcp", fromPort: 3389, toPort: 3389, cidrs: ["10.0.0.0/24"], groups: [] }];
    expect(deploymentProblems(env, outputs, inv)).toEqual([
      "endpoint group privatelink-app1-proxy-endpoint is open to 0.0.0.0/0 (tcp 3128-3128 from 0.0.0.0/0)",
      "endpoint group privatelink-app2-proxy-endpoint admits tcp 3389-3389 from 10.0.0.0/24; expected tcp 3128 from 192.168.0.0/24 (app VPC app2's own block) alone",
      "endpoint group privatelink-app2-proxy-endpoint does not admit tcp 3128 from 192.168.0.0/24",
    ]);
  });

  it("notices an endpoint in another VPC's subnets, to another service, and an output that is not its DNS name", () => {
    const inv = spoilt();
    inv.interfaceEndpoints[0].subnetIds = ["subnet-app2-a"];
    inv.interfaceEndpoints[1].serviceName = "com.amazonaws.ap-northeast-1.ssm";
    expect(deploymentProblems(env, { ...outputs, proxy_endpoint_app1_dns: "other" }, inv)).toEqual([
      "interface endpoint privatelink-app1-proxy-endpoint has addresses in 192.168.0.0/25 of another VPC, expected 192.168.0.0/25, 192.168.0.128/25",
      `output proxy_endpoint_app1_dns is other, but endpoint privatelink-app1-proxy-endpoint's DNS name is ${dnsOf("app1")}`,
      `interface endpoint privatelink-app2-proxy-endpoint is for com.amazonaws.ap-northeast-1.ssm, not the proxy's ${SERVICE}`,
      "app VPC app2 has 0 endpoints to the proxy's service, expected 1",
    ]);
  });

  it("notices an app server set to the load balancer's name instead of its own VPC's endpoint", () => {
    const inv = spoilt();
    inv.instances[3].userData = `$proxy = '${outputs.proxy_address}:3128'`;
    expect(deploymentProblems(env, outputs, inv)).toEqual([`app server app2 is not set to use ${dnsOf("app2")}:3128`]);
  });

  it("notices a load balancer group that admits an address, a second group, and inbound rules enforced on PrivateLink traffic", () => {
    const inv = spoilt();
    inv.securityGroups[2].ingress = [{ protocol: "tcp", fromPort: 3128, toPort: 3128, cidrs: ["192.168.0.0/24"], groups: [] }];
    inv.loadBalancers[0].enforcePrivateLinkInbound = "on";
    expect(deploymentProblems(env, outputs, inv)).toEqual([
      "load balancer group privatelink-proxy-lb admits 192.168.0.0/24; behind PrivateLink nothing comes in by address",
      "load balancer privatelink-proxy has enforce_security_group_inbound_rules_on_private_link_traffic on, expected off",
    ]);
    inv.loadBalancers[0].securityGroups = ["sg-lb", "sg-proxy"];
    expect(deploymentProblems(env, outputs, inv)).toContain(
      "load balancer privatelink-proxy has groups sg-lb, sg-proxy, expected only privatelink-proxy-lb",
    );
  });

  it("reads the allowlist parameter with each app VPC's endpoint id as read back", () => {
    const swapped = spoilt();
    [swapped.interfaceEndpoints[0].id, swapped.interfaceEndpoints[1].id] = ["vpce-0b", "vpce-0a"];
    expect(deploymentProblems(env, outputs, swapped)).toEqual([
      "the allowlist parameter /proxy-over-peering/privatelink/squid-allowlist (version 1) is not the allowlist rendered from the environment",
    ]);
    const other = spoilt();
    other.interfaceEndpoints[1].id = "vpce-0c";
    expect(deploymentProblems(env, outputs, other)).toEqual([
      "the allowlist parameter /proxy-over-peering/privatelink/squid-allowlist lacks the ACL for vpce-0c (app VPC app2)",
    ]);
    const before = { parameter: goodInventory().allowlistParameter, proxies: ["i-a", "i-c"] };
    const after = { ...before, parameter: { ...before.parameter!, version: 2 }, inventory: goodInventory() };
    expect(allowlistReadbackProblems(env, before, after)).toEqual([]);
    expect(allowlistReadbackProblems(env, before, { ...after, inventory: other })).toEqual([
      "the allowlist parameter /proxy-over-peering/privatelink/squid-allowlist lacks the ACL for vpce-0c (app VPC app2)",
    ]);
  });
});

describe("privateLinkSummary", () => {
  it("names the service, its acceptance and principals, each app VPC's endpoint and the PROXY protocol setting read back", () => {
    expect(privateLinkSummary(env, goodInventory())).toBe(
      "endpoint service vpce-svc-1 (acceptance off, principals arn:aws:iam::123456789012:root); endpoints vpce-0a in app1 (192.168.0.0/24), vpce-0b in app2 (192.168.0.0/24); target group proxy_protocol_v2 true; no peering, Transit Gateway or route to an app VPC",
    );
  });
});

describe("emulatorNotes of the PrivateLink environment", () => {
  it("says what moto lacks for PrivateLink besides the fleet's notes", () => {
    const notes = emulatorNotes(env).join("\n");
    expect(notes).toMatch(/AcceptVpcEndpointConnections/);
    expect(notes).toMatch(/enforce_security_group_inbound_rules_on_private_link_traffic/);
    expect(notes).toMatch(/health checks/);
  });
});
