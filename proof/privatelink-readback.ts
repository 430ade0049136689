/**
 * The rehearsal's read-back of an environment whose app VPCs reach the proxy fleet by PrivateLink: nothing routed
 * between VPCs, the endpoint service and its principals, an interface endpoint per app VPC, PROXY protocol v2 on the
 * target group and the load balancer's group. Pure, so that tests can feed it made-up inventories.
 */
import { AppVpcConfig, EnvironmentConfig, endpointServicePrincipals, loadBalancerAddresses, privateLinkService } from "../lib/config";
import { policyWithEndpoints, squidPolicyOf } from "../lib/allowlist-sync";
import { SquidPolicy } from "../lib/squid";
import { fleetNames, outputNames, privateLinkNames, PROXY_VPC, SERVICE_VPC, vpcName } from "../lib/naming";
import { EmulatorInventory, StackOutputs, vpcNamed } from "./emulator-inventory";

type InterfaceEndpoint = NonNullable<EmulatorInventory["interfaceEndpoints"]>[number];
type EndpointService = NonNullable<EmulatorInventory["endpointServices"]>[number];

/** Everything that contradicts the PrivateLink design in the emulator; empty when the deploy is as designed. */
export function privateLinkProblems(env: EnvironmentConfig, outputs: StackOutputs, inv: EmulatorInventory): string[] {
  const service = endpointServiceOf(env, inv);
  return [
    ...isolationProblems(env, inv),
    ...endpointServiceProblems(env, outputs, inv),
    ...env.appVpcs.flatMap((app) => endpointProblems(env, outputs, inv, app, service)),
    ...loadBalancerSideProblems(env, inv),
  ];
}

/** The endpoint service the stack names after the environment. */
function endpointServiceOf(env: EnvironmentConfig, inv: EmulatorInventory): EndpointService | undefined {
  return (inv.endpointServices ?? []).find((s) => s.name === privateLinkNames.endpointService(env.name));
}

/** The proxy's interface endpoint in app VPC `app`, by its Name tag. */
export function proxyEndpointOf(
  env: EnvironmentConfig,
  inv: Pick<EmulatorInventory, "interfaceEndpoints">,
  app: string,
): InterfaceEndpoint | undefined {
  return (inv.interfaceEndpoints ?? []).find((e) => e.name === privateLinkNames.endpoint(vpcName(env.name, app)));
}

/**
 * No peering touches an app VPC, no Transit Gateway or attachment exists, and no route (to a peering, a Transit
 * Gateway or a NAT gateway) starts in an app VPC or leads to an app VPC's block: the endpoints are the only way.
 */
export function isolationProblems(env: EnvironmentConfig, inv: EmulatorInventory): string[] {
  const problems: string[] = [];
  const apps = env.appVpcs.map((a) => ({ app: a, vpc: vpcNamed(env, inv, a.name) }));
  const appOf = (vpcId?: string) => apps.find((a) => a.vpc !== undefined && a.vpc.id === vpcId)?.app.name;
  const proxy = vpcNamed(env, inv, PROXY_VPC)?.id;
  const service = vpcNamed(env, inv, SERVICE_VPC)?.id;
  for (const p of inv.peerings) {
    const ends = [p.requesterVpcId, p.accepterVpcId];
    if (ends.includes(proxy) && ends.includes(service)) continue;
    const app = appOf(p.requesterVpcId) ?? appOf(p.accepterVpcId);
    problems.push(
      `peering connection ${p.id} ${app ? `touches app VPC ${app}` : "is not the proxy VPC's with the service side"}; with PrivateLink only the service side is peered`,
    );
  }
  const gateways = (inv.transitGateways ?? []).length + (inv.tgwAttachments ?? []).length;
  if (gateways > 0) problems.push(`${gateways} Transit Gateways or attachments; with PrivateLink there is none`);
  const appBlocks = new Set(env.appVpcs.map((a) => a.cidr));
  for (const r of inv.routes) {
    const via = r.peering ?? r.transitGateway ?? r.natGateway;
    const from = appOf(r.vpcId);
    if (from) problems.push(`app VPC ${from} has a route to ${r.destination} via ${via}; with PrivateLink nothing is routed between VPCs`);
    else if (r.destination !== undefined && appBlocks.has(r.destination))
      problems.push(
        `VPC ${r.vpcId} has a route to the app block ${r.destination} via ${via}; with PrivateLink nothing is routed to app VPCs`,
      );
  }
  return problems;
}

/**
 * One endpoint service, available, offering the fleet's load balancer, with the configured acceptance and exactly the
 * configured principals (never "*"), its name in the output.
 */
export function endpointServiceProblems(env: EnvironmentConfig, outputs: StackOutputs, inv: EmulatorInventory): string[] {
  const name = privateLinkNames.endpointService(env.name);
  const service = endpointServiceOf(env, inv);
  if (!service) return [`no endpoint service named ${name}`];
  const problems: string[] = [];
  const count = (inv.endpointServices ?? []).length;
  if (count !== 1) problems.push(`${count} endpoint services, expected ${name} alone`);
  if (service.state !== "Available") problems.push(`endpoint service ${name} is ${service.state}, not Available`);
  const lb = inv.loadBalancers?.find((l) => l.name === fleetNames.loadBalancer(env.name));
  if (!lb || service.loadBalancers.join() !== lb.arn)
    problems.push(
      `endpoint service ${name} offers ${service.loadBalancers.join(", ") || "nothing"}, expected the load balancer ${lb?.arn}`,
    );
  const settings = privateLinkService(env);
  if (service.acceptanceRequired !== settings.acceptanceRequired)
    problems.push(
      `endpoint service ${name} has acceptance_required ${service.acceptanceRequired}, expected ${settings.acceptanceRequired}`,
    );
  if (service.principals.includes("*")) problems.push(`endpoint service ${name} allows every principal ("*")`);
  // The stack's own account and partition, as the load balancer's ARN (arn:<partition>:elasticloadbalancing:<region>:<account>:...) gives them.
  const [, partition, , , account] = (lb?.arn ?? "").split(":");
  const wanted = account ? endpointServicePrincipals(settings, partition, account).sort() : [];
  if (account && service.principals.join() !== wanted.join())
    problems.push(`endpoint service ${name} allows ${service.principals.join(", ") || "no one"}, expected ${wanted.join(", ")}`);
  if (outputs[outputNames.proxyEndpointServiceName] !== service.serviceName)
    problems.push(
      `output ${outputNames.proxyEndpointServiceName} is ${outputs[outputNames.proxyEndpointServiceName]}, expected ${service.serviceName}`,
    );
  return problems;
}

/**
 * App VPC `app`'s interface endpoint: one, available, in its VPC and subnets, to the proxy's endpoint service, with one
 * security group that admits the proxy port from the VPC's own block alone; the output gives its DNS name.
 */
export function endpointProblems(
  env: EnvironmentConfig,
  outputs: StackOutputs,
  inv: EmulatorInventory,
  app: AppVpcConfig,
  service: EndpointService | undefined,
): string[] {
  const name = privateLinkNames.endpoint(vpcName(env.name, app.name));
  const endpoint = proxyEndpointOf(env, inv, app.name);
  const vpc = vpcNamed(env, inv, app.name);
  if (!endpoint) return [`no interface endpoint ${name} in app VPC ${app.name}`];
  const problems: string[] = [];
  if (endpoint.vpcId !== vpc?.id)
    problems.push(`interface endpoint ${name} is in ${endpoint.vpcId}, not in app VPC ${app.name} (${vpc?.id})`);
  if (endpoint.state.toLowerCase() !== "available") problems.push(`interface endpoint ${name} is ${endpoint.state}, not available`);
  if (service && endpoint.serviceName !== service.serviceName)
    problems.push(`interface endpoint ${name} is for ${endpoint.serviceName}, not the proxy's ${service.serviceName}`);
  const toService = (inv.interfaceEndpoints ?? []).filter((e) => e.vpcId === vpc?.id && e.serviceName === service?.serviceName);
  if (service && toService.length !== 1)
    problems.push(`app VPC ${app.name} has ${toService.length} endpoints to the proxy's service, expected 1`);
  const subnets = endpoint.subnetIds.map((id) => inv.subnets?.find((s) => s.id === id));
  const got = subnets.map((s) => (s?.vpcId === vpc?.id ? s?.cidr : `${s?.cidr ?? "?"} of another VPC`)).sort();
  const want = app.existing ? [] : (app.subnets ?? []).map((s) => s.cidr).sort();
  if (!app.existing && got.join() !== want.join())
    problems.push(`interface endpoint ${name} has addresses in ${got.join(", ")}, expected ${want.join(", ")}`);
  problems.push(...endpointGroupProblems(env, inv, app, endpoint));
  const output = outputNames.appProxyEndpointDns(app.name);
  if (outputs[output] !== endpoint.dnsNames[0])
    problems.push(`output ${output} is ${outputs[output]}, but endpoint ${name}'s DNS name is ${endpoint.dnsNames[0]}`);
  return problems;
}

/** The endpoint's only group: the proxy port, TCP, from the app VPC's own block and nothing else. */
function endpointGroupProblems(env: EnvironmentConfig, inv: EmulatorInventory, app: AppVpcConfig, endpoint: InterfaceEndpoint): string[] {
  const name = privateLinkNames.endpoint(vpcName(env.name, app.name));
  const groups = endpoint.securityGroups.map((id) => inv.securityGroups.find((g) => g.id === id));
  const group = groups[0];
  if (groups.length !== 1 || group?.name !== name)
    return [`interface endpoint ${name} has groups ${endpoint.securityGroups.join(", ")}, expected only ${name}`];
  const port = env.proxy.port;
  const problems: string[] = [];
  for (const rule of group.ingress ?? []) {
    const what = `${rule.protocol} ${rule.fromPort}-${rule.toPort} from ${[...rule.cidrs, ...rule.groups].join(", ")}`;
    if (rule.cidrs.includes("0.0.0.0/0")) problems.push(`endpoint group ${name} is open to 0.0.0.0/0 (${what})`);
    else if (
      rule.protocol !== "tcp" ||
      rule.fromPort !== port ||
      rule.toPort !== port ||
      rule.groups.length > 0 ||
      rule.cidrs.join() !== app.cidr
    )
      problems.push(`endpoint group ${name} admits ${what}; expected tcp ${port} from ${app.cidr} (app VPC ${app.name}'s own block) alone`);
  }
  const admits = (group.ingress ?? []).some(
    (r) => r.protocol === "tcp" && r.fromPort === port && r.toPort === port && r.cidrs.includes(app.cidr),
  );
  if (!admits) problems.push(`endpoint group ${name} does not admit tcp ${port} from ${app.cidr}`);
  return problems;
}

/**
 * The target group sends PROXY protocol v2 (so Squid learns each client and its endpoint), and the load balancer's
 * only group admits nothing by address, with its rules not enforced on PrivateLink traffic.
 */
export function loadBalancerSideProblems(env: EnvironmentConfig, inv: EmulatorInventory): string[] {
  const problems: string[] = [];
  const tg = inv.targetGroups?.find((t) => t.name === fleetNames.targetGroup(env.name));
  if (tg && tg.proxyProtocolV2 !== "true")
    problems.push(`target group ${tg.name} sends no PROXY protocol v2 header (proxy_protocol_v2 ${tg.proxyProtocolV2}); Squid requires it`);
  const lb = inv.loadBalancers?.find((l) => l.name === fleetNames.loadBalancer(env.name));
  if (!lb) return problems;
  const groupName = fleetNames.loadBalancerSecurityGroup(env.name);
  const groups = (lb.securityGroups ?? []).map((id) => inv.securityGroups.find((g) => g.id === id));
  if (groups.length !== 1 || groups[0]?.name !== groupName)
    problems.push(`load balancer ${lb.name} has groups ${(lb.securityGroups ?? []).join(", ") || "none"}, expected only ${groupName}`);
  else if ((groups[0].ingress ?? []).length > 0)
    problems.push(
      `load balancer group ${groupName} admits ${(groups[0].ingress ?? []).flatMap((r) => r.cidrs.concat(r.groups)).join(", ")}; behind PrivateLink nothing comes in by address`,
    );
  if (lb.enforcePrivateLinkInbound !== "off")
    problems.push(
      `load balancer ${lb.name} has enforce_security_group_inbound_rules_on_private_link_traffic ${lb.enforcePrivateLinkInbound}, expected off`,
    );
  return problems;
}

/**
 * The proxies' policy with each app VPC's endpoint id as read back, which the allowlist parameter must render; the
 * app VPCs whose endpoint is missing are listed apart (the allowlist cannot be rendered without them).
 */
export function privateLinkAllowlistPolicy(
  env: EnvironmentConfig,
  inv: Pick<EmulatorInventory, "interfaceEndpoints">,
): { policy: SquidPolicy; missing: string[] } {
  const base = squidPolicyOf(env);
  // Squid's clients come in the order of env.appVpcs.
  const ids = new Map(base.clients.map((c, i) => [c.name, proxyEndpointOf(env, inv, env.appVpcs[i].name)?.id]));
  return {
    policy: policyWithEndpoints(base, { trustedSources: loadBalancerAddresses(env) }, (client) => ids.get(client) ?? "vpce-missing"),
    missing: env.appVpcs.filter((_, i) => ids.get(base.clients[i].name) === undefined).map((a) => a.name),
  };
}

/** One line of what the read-back found of PrivateLink, for the rehearsal's output. */
export function privateLinkSummary(env: EnvironmentConfig, inv: EmulatorInventory): string {
  const service = endpointServiceOf(env, inv);
  const endpoints = env.appVpcs.map((a) => `${proxyEndpointOf(env, inv, a.name)?.id} in ${a.name} (${a.cidr})`);
  const tg = inv.targetGroups?.find((t) => t.name === fleetNames.targetGroup(env.name));
  return (
    `endpoint service ${service?.id} (acceptance ${service?.acceptanceRequired ? "on" : "off"}, principals ${service?.principals.join(", ")}); ` +
    `endpoints ${endpoints.join(", ")}; target group proxy_protocol_v2 ${tg?.proxyProtocolV2}; no peering, Transit Gateway or route to an app VPC`
  );
}
