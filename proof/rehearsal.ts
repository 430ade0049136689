/**
 * The judgements of the deploy rehearsal, kept pure so that tests can feed them made-up input:
 * what the emulator must hold after a deploy, which plan changes are emulator artefacts, and what
 * must be gone after a destroy.
 */
import { addressInCidr } from "../lib/cidr";
import {
  AMAZON_LINUX_2023_PARAMETER,
  EnvironmentConfig,
  egressOf,
  FleetEgress,
  firstServicePort,
  fleetSize,
  peeredServiceSide,
  PrivateNatEgressChoice,
  proxyPrivateIp,
  resolverEndpointSubnets,
  runsSquid,
  SquidEgress,
} from "../lib/config";
import { squidPolicyOf } from "../lib/allowlist-sync";
import { ALLOWLIST_FILE, endpointNoteValue, renderAllowlist } from "../lib/squid";
import {
  accessLogGroupName,
  allowlistParameterName,
  fleetNames,
  outputNames,
  PROXY_VPC,
  recoveryAlarmName,
  resolverNames,
  SERVICE_VPC,
  serverPaths,
  transitGatewayNames,
  vpcName,
} from "../lib/naming";
import { stateKeys, TerraformState } from "../operations/orphans";
import { freePorts } from "./allowlist-lab";

import { EmulatorInventory, StackOutputs, Vpc, vpcNamed } from "./emulator-inventory";
import { privateLinkAllowlistPolicy, privateLinkProblems, proxyEndpointOf } from "./privatelink-readback";

export type { EmulatorInventory, StackOutputs } from "./emulator-inventory";

/** A change to the environment that the emulator needs, with the reason. */
export interface EmulatorAdjustment {
  readonly setting: string;
  readonly value: unknown;
  readonly reason: string;
}

/** A server's settings in an environment file, as the emulator adjusts them. */
type RawServer = Record<string, unknown>;

/** An environment file's JSON, as far as the emulator adjusts it. */
export interface RawEnvironment {
  [key: string]: unknown;
  proxy?: RawServer;
  appVpcs?: { name: string; appServer?: RawServer }[];
  serviceSide?: { server?: RawServer };
  policySuppressions?: unknown[];
}

/**
 * The environment as the emulator can run it. moto 5.2 knows no Windows AMI parameters (they are
 * reserved names it cannot create either) and does not implement MonitorInstances.
 */
export function emulatorEnvironment(raw: unknown): { raw: RawEnvironment; adjustments: EmulatorAdjustment[] } {
  const copy = JSON.parse(JSON.stringify(raw)) as RawEnvironment;
  const adjustments: EmulatorAdjustment[] = [];
  const servers: [string, RawServer | undefined, string][] = [
    ["proxy", copy.proxy, serverPaths.proxy],
    ...(copy.appVpcs ?? []).map(
      (a, i) => [`appVpcs[${i}].appServer`, a.appServer, serverPaths.appServer(a.name)] as [string, RawServer | undefined, string],
    ),
    ["serviceSide.server", copy.serviceSide?.server, serverPaths.service],
  ];
  copy.policySuppressions = [...(copy.policySuppressions ?? [])];
  for (const [path, server, constructPath] of servers) {
    if (!server) continue;
    if (path.startsWith("appVpcs")) {
      server.amiParameter = AMAZON_LINUX_2023_PARAMETER;
      adjustments.push({
        setting: `${path}.amiParameter`,
        value: AMAZON_LINUX_2023_PARAMETER,
        reason: "moto knows no Windows AMI parameters",
      });
    }
    server.detailedMonitoring = false;
    adjustments.push({ setting: `${path}.detailedMonitoring`, value: false, reason: "moto does not implement MonitorInstances" });
    copy.policySuppressions.push({
      rule: "PX-EC2-DETAILED-MONITORING",
      path: constructPath,
      reason: "emulator rehearsal: moto does not implement MonitorInstances",
    });
  }
  return { raw: copy, adjustments };
}

type RunningInstance = EmulatorInventory["instances"][number];

/** Everything that contradicts the deployed environment; empty when the deploy is as designed. */
export function deploymentProblems(env: EnvironmentConfig, outputs: StackOutputs, inv: EmulatorInventory): string[] {
  const egress = egressOf(env);
  const problems = networkProblems(env, outputs, inv);
  const vpcIds = env.appVpcs.length + 2;
  if (inv.flowLogs.length !== vpcIds) problems.push(`${inv.flowLogs.length} flow logs, expected one for each of the ${vpcIds} VPCs`);
  const running = inv.instances.filter((i) => i.state === "running");
  if (!runsSquid(egress))
    return [...problems, ...directAppServerProblems(env, outputs, running), ...serviceProblems(env, outputs, running)];
  return [...problems, ...squidProblems(env, egress, outputs, inv, running)];
}

/** The VPCs, the service peering, and the app VPCs' peerings (never transitive), their Transit Gateway or their endpoints. */
function networkProblems(env: EnvironmentConfig, outputs: StackOutputs, inv: EmulatorInventory): string[] {
  const problems: string[] = [];
  const serviceCidr = peeredServiceSide(env, "the rehearsal's read-back").vpc.cidr;
  const expected: [string, string][] = [
    [PROXY_VPC, env.proxyVpc.cidr],
    [SERVICE_VPC, serviceCidr],
    ...env.appVpcs.map((a) => [a.name, a.cidr] as [string, string]),
  ];
  for (const [vpc, cidr] of expected) {
    const found = vpcNamed(env, inv, vpc);
    if (!found) problems.push(`no VPC named ${vpcName(env.name, vpc)}`);
    else if (found.cidr !== cidr) problems.push(`VPC ${found.name} has ${found.cidr}, expected ${cidr}`);
  }
  const proxy = vpcNamed(env, inv, PROXY_VPC);
  const peered = (a: Vpc | undefined, b: Vpc | undefined, output: string, aDestinations: string[], bDestinations: string[]) =>
    problems.push(...peeringProblems(inv, outputs, { a, b, output, aDestinations, bDestinations }));
  peered(
    proxy,
    vpcNamed(env, inv, SERVICE_VPC),
    outputNames.servicePeeringId,
    env.services.map((s) => s.cidr),
    [env.proxyVpc.cidr],
  );
  if (env.connectivity.type === "peering") {
    for (const app of env.appVpcs)
      peered(vpcNamed(env, inv, app.name), proxy, outputNames.appPeeringId(app.name), [env.proxyVpc.cidr], [app.cidr]);
    for (const app of env.appVpcs) {
      const vpc = vpcNamed(env, inv, app.name);
      const leak = inv.routes.find((r) => r.vpcId === vpc?.id && env.services.some((s) => s.cidr === r.destination));
      if (leak) problems.push(`app VPC ${app.name} has a route to the service side (${leak.destination}); peering must not be transitive`);
    }
  } else if (env.connectivity.type === "privateLink") {
    problems.push(...privateLinkProblems(env, outputs, inv));
  } else {
    problems.push(...transitGatewayProblems(env, outputs, inv));
  }
  return problems;
}

/** The peering of VPCs `a` and `b`: active, named by the output, with the routes each side needs through it. */
function peeringProblems(
  inv: EmulatorInventory,
  outputs: StackOutputs,
  p: { a?: Vpc; b?: Vpc; output: string; aDestinations: string[]; bDestinations: string[] },
): string[] {
  const { a, b } = p;
  if (!a || !b) return [];
  const between = `${a.name} and ${b.name}`;
  const peering = inv.peerings.find(
    (x) => (x.requesterVpcId === a.id && x.accepterVpcId === b.id) || (x.requesterVpcId === b.id && x.accepterVpcId === a.id),
  );
  if (!peering) return [`no peering between ${between}`];
  const problems: string[] = [];
  if (peering.status !== "active") problems.push(`peering ${peering.id} between ${between} is ${peering.status}, not active`);
  if (outputs[p.output] !== peering.id)
    problems.push(`output ${p.output} is ${outputs[p.output]}, but the peering between ${between} is ${peering.id}`);
  const routes: [Vpc, string][] = [
    ...p.aDestinations.map((d) => [a, d] as [Vpc, string]),
    ...p.bDestinations.map((d) => [b, d] as [Vpc, string]),
  ];
  for (const [vpc, destination] of routes)
    if (!inv.routes.some((r) => r.vpcId === vpc.id && r.destination === destination && r.peering === peering.id))
      problems.push(`no route in ${vpc.name} to ${destination} via ${peering.id}`);
  return problems;
}

/** With Squid: its log and alarm, the proxies and their user data, the outputs, the service, DNS and the app servers' setting. */
function squidProblems(
  env: EnvironmentConfig,
  egress: SquidEgress,
  outputs: StackOutputs,
  inv: EmulatorInventory,
  running: readonly RunningInstance[],
): string[] {
  const problems: string[] = [];
  const port = egress.proxy.port;
  const accessLog = accessLogGroupName(env.name);
  if (!inv.logGroups.includes(accessLog)) problems.push(`no log group ${accessLog} for Squid's access log`);
  const alarm = egress.kind === "fleet" ? fleetNames.unhealthyAlarm(env.name) : recoveryAlarmName(env.name);
  if (!inv.alarms.includes(alarm)) problems.push(`no alarm ${alarm}`);

  const proxies = egress.kind === "fleet" ? egress.size : 1;
  const expectedServers = proxies + 1 + env.appVpcs.filter((a) => a.appServer).length;
  if (running.length !== expectedServers) problems.push(`${running.length} running instances, expected ${expectedServers}`);
  const fleetInstances = new Set(inv.autoScalingGroups?.flatMap((g) => g.instances) ?? []);
  for (const instance of running) {
    // moto launches a group's instances without the template's metadata options; the template is checked instead.
    if (instance.httpTokens !== "required" && !fleetInstances.has(instance.id))
      problems.push(`instance ${instance.name} allows IMDSv1 (http_tokens ${instance.httpTokens})`);
    if (instance.publicIp) problems.push(`instance ${instance.name} has a public address ${instance.publicIp}`);
    if (instance.securityGroups.length === 0) problems.push(`instance ${instance.name} has no security group`);
  }

  const fleet = egress.kind === "fleet" ? fleetProblems(env, egress, inv, problems) : undefined;
  const proxyHost = fleet?.host ?? proxyPrivateIp(env);
  const proxyInstances = fleet ? running.filter((i) => fleet.instances.includes(i.id)) : running.filter((i) => i.privateIp === proxyHost);
  if (proxyInstances.length === 0)
    problems.push(fleet ? "no running instance in the proxy fleet's group" : `no running instance at the proxy address ${proxyHost}`);
  for (const proxy of proxyInstances) problems.push(...proxyUserDataProblems(env, `the user data of proxy ${proxy.id}`, proxy.userData));
  problems.push(...allowlistParameterProblems(env, inv.allowlistParameter, inv));
  if (outputs[outputNames.proxyAddress] !== proxyHost)
    problems.push(`output ${outputNames.proxyAddress} is ${outputs[outputNames.proxyAddress]}, expected ${proxyHost}`);
  if (outputs[outputNames.proxyUrl] !== `http://${proxyHost}:${port}`)
    problems.push(`output ${outputNames.proxyUrl} is ${outputs[outputNames.proxyUrl]}, expected http://${proxyHost}:${port}`);

  problems.push(...serviceProblems(env, outputs, running), ...dnsProblems(env, outputs, inv));
  for (const app of env.appVpcs.filter((a) => a.appServer)) {
    const id = outputs[outputNames.appServerId(app.name)];
    const server = running.find((i) => i.id === id);
    // Behind PrivateLink each app server's way is its own VPC's endpoint, by the DNS name the emulator gives it.
    const host = env.connectivity.type === "privateLink" ? proxyEndpointOf(env, inv, app.name)?.dnsNames[0] : proxyHost;
    if (!server) problems.push(`output ${outputNames.appServerId(app.name)} ${id} is no running instance`);
    else if (!host) problems.push(`app server ${app.name}: no endpoint read back to check its proxy setting against`);
    else if (!server.userData?.includes(`$proxy = '${host}:${port}'`))
      problems.push(`app server ${app.name} is not set to use ${host}:${port}`);
  }
  return problems;
}

/** A proxy's user data installs Squid with the base squid.conf, which includes the allowlist, and reads the allowlist parameter. */
function proxyUserDataProblems(env: EnvironmentConfig, what: string, userData: string | null | undefined): string[] {
  const problems: string[] = [];
  if (!userData?.includes("dnf install -y squid")) problems.push(`${what} does not install Squid`);
  if (!userData?.includes(`include ${ALLOWLIST_FILE}\n`)) problems.push(`${what} lacks the line include ${ALLOWLIST_FILE}`);
  if (!userData?.includes(`'${allowlistParameterName(env.name)}'`))
    problems.push(`${what} does not fetch the allowlist parameter ${allowlistParameterName(env.name)}`);
  return problems;
}

/**
 * The allowlist parameter, as read back through SSM, holds the allowlist rendered from the environment: an ACL per app
 * VPC (behind PrivateLink by its endpoint's id, which `inv` reads back) and the rest.
 */
export function allowlistParameterProblems(
  env: EnvironmentConfig,
  parameter: EmulatorInventory["allowlistParameter"],
  inv?: EmulatorInventory,
): string[] {
  const name = allowlistParameterName(env.name);
  if (!parameter) return [`no allowlist parameter ${name} to read back`];
  if (parameter.name !== name) return [`the allowlist parameter read back is ${parameter.name}, expected ${name}`];
  const byEndpoint = env.connectivity.type === "privateLink";
  const { policy, missing: noEndpoint } = byEndpoint
    ? privateLinkAllowlistPolicy(env, inv ?? {})
    : { policy: squidPolicyOf(env), missing: [] };
  if (noEndpoint.length > 0)
    return [`the allowlist parameter ${name} cannot be judged: no endpoint read back for app VPC ${noEndpoint.join(", ")}`];
  // Each app VPC's ACL: its block, or behind PrivateLink its endpoint's id (clients come in the order of env.appVpcs).
  const lacking = env.appVpcs
    .map((app, i) => ({ app, key: byEndpoint ? policy.clients[i].endpointId! : policy.clients[i].cidr }))
    .filter(({ key }) => !parameter.value.includes(byEndpoint ? endpointNoteValue(key) : `acl localnet src ${key}\n`));
  if (lacking.length > 0)
    return lacking.map(({ app, key }) => `the allowlist parameter ${name} lacks the ACL for ${key} (app VPC ${app.name})`);
  return parameter.value === renderAllowlist(policy)
    ? []
    : [`the allowlist parameter ${name} (version ${parameter.version}) is not the allowlist rendered from the environment`];
}

/**
 * DNS forwarding as designed: one outbound endpoint in the proxy VPC with an address in each of its
 * subnets (two zones at least) and its own security group, a FORWARD rule per domain to the
 * configured servers on port 53 through that endpoint, each associated with the proxy VPC.
 */
export function dnsProblems(env: EnvironmentConfig, outputs: StackOutputs, inv: EmulatorInventory): string[] {
  const endpoints = inv.resolverEndpoints ?? [];
  if (!env.dns) return endpoints.length > 0 ? [`${endpoints.length} resolver endpoint(s), but the environment forwards no domain`] : [];
  const problems: string[] = [];
  const proxyVpc = vpcNamed(env, inv, PROXY_VPC);
  const endpoint = endpoints.find((e) => e.id === outputs[outputNames.resolverEndpointId]);
  if (!endpoint)
    return [
      `output ${outputNames.resolverEndpointId} is ${outputs[outputNames.resolverEndpointId]}, which is no resolver endpoint (there are ${endpoints.map((e) => e.id).join(", ") || "none"})`,
    ];
  if (endpoint.direction !== "OUTBOUND") problems.push(`resolver endpoint ${endpoint.id} is ${endpoint.direction}, expected OUTBOUND`);
  const subnets = endpoint.addresses.map((a) => inv.subnets?.find((s) => s.id === a.subnetId));
  const expected = resolverEndpointSubnets(env);
  const got = subnets.map((s) => s?.cidr ?? "?").sort();
  const want = expected.map((s) => s.cidr).sort();
  if (got.join() !== want.join())
    problems.push(`resolver endpoint ${endpoint.id} has addresses in ${got.join(", ")}, expected one in each of ${want.join(", ")}`);
  if (new Set(subnets.map((s) => s?.zone)).size < 2) problems.push(`resolver endpoint ${endpoint.id} sits in fewer than two zones`);
  if (subnets.some((s) => s && s.vpcId !== proxyVpc?.id))
    problems.push(`resolver endpoint ${endpoint.id} has an address outside the proxy VPC`);
  const group = inv.securityGroups.find((g) => endpoint.securityGroups.includes(g.id));
  if (endpoint.securityGroups.length !== 1 || group?.name !== resolverNames.endpoint(env.name)) {
    problems.push(
      `resolver endpoint ${endpoint.id} has groups ${endpoint.securityGroups.join(", ")}, expected only ${resolverNames.endpoint(env.name)}`,
    );
  }
  const rules = inv.resolverRules ?? [];
  for (const forward of env.dns.forward) {
    const rule = rules.find((r) => r.domain === forward.domain);
    if (!rule) {
      problems.push(`no resolver rule for ${forward.domain}`);
      continue;
    }
    if (rule.type !== "FORWARD") problems.push(`resolver rule for ${forward.domain} is ${rule.type}, expected FORWARD`);
    if (rule.endpointId !== endpoint.id)
      problems.push(`resolver rule for ${forward.domain} goes through ${rule.endpointId}, expected ${endpoint.id}`);
    const targets = rule.targets.map((t) => `${t.ip}:${t.port}`).sort();
    const wanted = forward.servers.map((ip) => `${ip}:53`).sort();
    if (targets.join() !== wanted.join())
      problems.push(`resolver rule for ${forward.domain} forwards to ${targets.join(", ")}, expected ${wanted.join(", ")}`);
    const associations = (inv.resolverRuleAssociations ?? []).filter((a) => a.ruleId === rule.id);
    if (associations.length !== 1 || associations[0].vpcId !== proxyVpc?.id) {
      problems.push(
        `resolver rule for ${forward.domain} is associated with ${associations.map((a) => a.vpcId).join(", ") || "no VPC"}, expected the proxy VPC ${proxyVpc?.id} alone`,
      );
    }
  }
  if (rules.length !== env.dns.forward.length) problems.push(`${rules.length} resolver rules, expected ${env.dns.forward.length}`);
  return problems;
}

/** The stand-in service runs, and the output points at it. */
function serviceProblems(env: EnvironmentConfig, outputs: StackOutputs, running: readonly RunningInstance[]): string[] {
  const serviceCidr = peeredServiceSide(env, "the rehearsal's read-back").vpc.cidr;
  const service = running.find((i) => i.privateIp && addressInCidr(i.privateIp, serviceCidr));
  if (!service) return ["no running service instance"];
  return outputs[outputNames.serviceUrl] === `http://${service.privateIp}:${firstServicePort(env, "http")}/`
    ? []
    : [`output ${outputNames.serviceUrl} is ${outputs[outputNames.serviceUrl]}, but the service runs at ${service.privateIp}`];
}

/** With private NAT egress: no proxy runs, and the app servers have no proxy setting. */
function directAppServerProblems(env: EnvironmentConfig, outputs: StackOutputs, running: readonly RunningInstance[]): string[] {
  const problems: string[] = [];
  const expected = 1 + env.appVpcs.filter((a) => a.appServer).length;
  if (running.length !== expected)
    problems.push(`${running.length} running instances, expected ${expected} (the service and the app servers; no proxy with privateNat)`);
  for (const instance of running) {
    if (instance.httpTokens !== "required") problems.push(`instance ${instance.name} allows IMDSv1 (http_tokens ${instance.httpTokens})`);
    if (instance.publicIp) problems.push(`instance ${instance.name} has a public address ${instance.publicIp}`);
  }
  for (const app of env.appVpcs.filter((a) => a.appServer)) {
    const server = running.find((i) => i.id === outputs[outputNames.appServerId(app.name)]);
    if (!server) problems.push(`output ${outputNames.appServerId(app.name)} is no running instance`);
    else if (server.userData?.includes("$proxy"))
      problems.push(`app server ${app.name} has a proxy setting, but no proxy runs with privateNat`);
  }
  if (outputs[outputNames.proxyAddress] !== undefined)
    problems.push(`output ${outputNames.proxyAddress} exists, but no proxy runs with privateNat`);
  return problems;
}

/**
 * What in the emulator contradicts the Transit Gateway design: defaults, attachments, both tables, VPC routes, and the private NAT gateways.
 */
export function transitGatewayProblems(env: EnvironmentConfig, outputs: StackOutputs, inv: EmulatorInventory): string[] {
  const egress = egressOf(env);
  const c = env.connectivity;
  const gateways = inv.transitGateways ?? [];
  const tgw = c.transitGatewayId ? gateways.find((g) => g.id === c.transitGatewayId) : gateways[0];
  if (!tgw) return ["no Transit Gateway"];
  const problems = gatewayProblems(env, outputs, gateways, tgw);
  const attachmentOf = (vpc: string) =>
    (inv.tgwAttachments ?? []).find((a) => a.transitGatewayId === tgw.id && a.vpcId === vpcNamed(env, inv, vpc)?.id);
  const proxy = attachmentOf(PROXY_VPC);
  const apps = env.appVpcs.map((a) => ({ app: a, attachment: attachmentOf(a.name) }));
  if (!proxy) problems.push(`no attachment of the proxy VPC ${env.proxyVpc.cidr}`);
  else if (proxy.applianceMode !== "enable")
    problems.push(`the proxy VPC's attachment ${proxy.id} has appliance mode ${proxy.applianceMode}, expected enable`);
  for (const { app, attachment } of apps) if (!attachment) problems.push(`no attachment of app VPC ${app.name}`);
  for (const a of [proxy, ...apps.map((x) => x.attachment)])
    if (a && a.state !== "available") problems.push(`attachment ${a.id} is ${a.state}, not available`);

  const destinations = runsSquid(egress) ? [] : env.services.map((s) => s.cidr);
  problems.push(...routeTableProblems(env, inv, proxy, apps, destinations));
  const hasRoute = (vpc: string, destination: string) =>
    inv.routes.some((r) => r.vpcId === vpcNamed(env, inv, vpc)?.id && r.destination === destination && r.transitGateway === tgw.id);
  for (const app of env.appVpcs) {
    for (const d of destinations)
      if (!hasRoute(app.name, d)) problems.push(`app VPC ${app.name} has no route to ${d} via the Transit Gateway`);
    if (!hasRoute(PROXY_VPC, app.cidr)) problems.push(`the proxy VPC has no route back to ${app.cidr} via the Transit Gateway`);
  }
  if (egress.kind !== "privateNat") return problems;
  return [...problems, ...privateNatProblems(env, egress, outputs, inv, proxy, destinations)];
}

type TransitGateway = NonNullable<EmulatorInventory["transitGateways"]>[number];
type TgwAttachment = NonNullable<EmulatorInventory["tgwAttachments"]>[number];

/** A gateway the project created has its defaults off and is the only one; the output names it. */
function gatewayProblems(
  env: EnvironmentConfig,
  outputs: StackOutputs,
  gateways: readonly TransitGateway[],
  tgw: TransitGateway,
): string[] {
  const problems: string[] = [];
  if (!env.connectivity.transitGatewayId) {
    if (gateways.length !== 1) problems.push(`${gateways.length} Transit Gateways, expected one`);
    if (tgw.defaultAssociation !== "disable" || tgw.defaultPropagation !== "disable") {
      problems.push(
        `Transit Gateway ${tgw.id} has default route table association ${tgw.defaultAssociation} and propagation ${tgw.defaultPropagation}, expected both disable`,
      );
    }
    if (tgw.autoAccept === "enable") problems.push(`Transit Gateway ${tgw.id} accepts shared attachments by itself`);
  }
  if (outputs[outputNames.transitGatewayId] !== tgw.id)
    problems.push(`output ${outputNames.transitGatewayId} is ${outputs[outputNames.transitGatewayId]}, expected ${tgw.id}`);
  return problems;
}

/** The apps table: the app attachments, static routes to `destinations`, nothing but the proxy attachment; the proxy table: the rest. */
function routeTableProblems(
  env: EnvironmentConfig,
  inv: EmulatorInventory,
  proxy: TgwAttachment | undefined,
  apps: readonly { app: EnvironmentConfig["appVpcs"][number]; attachment?: TgwAttachment }[],
  destinations: readonly string[],
): string[] {
  const problems: string[] = [];
  const names = transitGatewayNames(env.name);
  const tables = inv.tgwRouteTables ?? [];
  const appsTable = tables.find((t) => t.name === names.appsTable);
  const proxyTable = tables.find((t) => t.name === names.proxyTable);
  if (!appsTable) problems.push(`no Transit Gateway route table ${names.appsTable}`);
  else {
    for (const { app, attachment } of apps)
      if (attachment && !appsTable.associations.includes(attachment.id))
        problems.push(`app VPC ${app.name}'s attachment is not associated with ${names.appsTable}`);
    for (const route of appsTable.routes) {
      if (!proxy || route.attachments.some((a) => a !== proxy.id))
        problems.push(
          `${names.appsTable} sends ${route.destination} elsewhere than the proxy VPC's attachment; app VPCs must not reach each other`,
        );
    }
    for (const d of destinations)
      if (!appsTable.routes.some((r) => r.destination === d && r.type === "static"))
        problems.push(`${names.appsTable} has no static route to ${d}`);
  }
  if (!proxyTable) problems.push(`no Transit Gateway route table ${names.proxyTable}`);
  else {
    if (proxy && !proxyTable.associations.includes(proxy.id))
      problems.push(`the proxy VPC's attachment is not associated with ${names.proxyTable}`);
    for (const { app, attachment } of apps)
      if (attachment && !proxyTable.propagations.includes(attachment.id))
        problems.push(`app VPC ${app.name} does not propagate into ${names.proxyTable}`);
  }
  return problems;
}

/** With privateNat: a private NAT gateway per proxy subnet, the attachment subnets routed to their zone's, and the output. */
function privateNatProblems(
  env: EnvironmentConfig,
  egress: PrivateNatEgressChoice,
  outputs: StackOutputs,
  inv: EmulatorInventory,
  proxy: TgwAttachment | undefined,
  destinations: readonly string[],
): string[] {
  const problems: string[] = [];
  const subnets = inv.subnets ?? [];
  const nats = inv.natGateways ?? [];
  for (const s of env.proxyVpc.subnets) {
    const subnet = subnets.find((x) => x.cidr === s.cidr);
    const nat = nats.find((n) => n.subnetId === subnet?.id);
    if (!nat) problems.push(`no NAT gateway in the proxy subnet ${s.cidr}`);
    else if (nat.connectivity !== "private") problems.push(`NAT gateway ${nat.id} is ${nat.connectivity}, expected private`);
  }
  for (const s of egress.attachmentSubnets) {
    const subnet = subnets.find((x) => x.cidr === s.cidr);
    if (!subnet) problems.push(`no attachment subnet ${s.cidr}`);
    else if (proxy && !proxy.subnetIds.includes(subnet.id))
      problems.push(`the proxy VPC's attachment is not in the attachment subnet ${s.cidr}`);
    const zoneNat = nats.find((n) => subnets.find((x) => x.id === n.subnetId)?.zone === s.availabilityZone);
    for (const d of destinations) {
      if (
        !inv.routes.some(
          (r) => r.destination === d && r.natGateway !== undefined && r.natGateway === zoneNat?.id && r.routeTableId !== undefined,
        )
      ) {
        problems.push(`no route from the attachment subnet ${s.cidr} to ${d} via the NAT gateway of ${s.availabilityZone}`);
      }
    }
  }
  const addresses = outputs[outputNames.natGatewayAddresses] as unknown as string[] | undefined;
  if (!Array.isArray(addresses) || addresses.length !== env.proxyVpc.subnets.length)
    problems.push(`output ${outputNames.natGatewayAddresses} is ${JSON.stringify(addresses)}, expected one address per proxy subnet`);
  return problems;
}

/**
 * What contradicts a deployed fleet: an internal network load balancer at the configured addresses,
 * a listener on the proxy port forwarding to a target group that keeps client addresses and drains
 * as configured, and a group of the configured size on the template's latest version. Returns the
 * load balancer's DNS name and the group's instances for the other checks.
 */
function fleetProblems(
  env: EnvironmentConfig,
  egress: FleetEgress,
  inv: EmulatorInventory,
  problems: string[],
): { host?: string; instances: string[] } {
  const { fleet, size } = egress;
  const port = egress.proxy.port;
  const lb = inv.loadBalancers?.find((l) => l.name === fleetNames.loadBalancer(env.name));
  const tg = inv.targetGroups?.find((t) => t.name === fleetNames.targetGroup(env.name));
  const group = inv.autoScalingGroups?.find((g) => g.name === fleetNames.autoScalingGroup(env.name));
  if (!lb) problems.push(`no load balancer ${fleetNames.loadBalancer(env.name)}`);
  else {
    if (lb.scheme !== "internal" || lb.type !== "network")
      problems.push(`load balancer ${lb.name} is ${lb.scheme} ${lb.type}, expected an internal network load balancer`);
    const wanted = [...egress.loadBalancerAddresses].sort();
    // AWS reports each zone's address (moto through proof/emulator/moto_server.py too); when it does, they must match.
    if (lb.addresses.length > 0 && JSON.stringify(lb.addresses) !== JSON.stringify(wanted))
      problems.push(`load balancer ${lb.name} has the addresses ${lb.addresses.join(", ")}, expected ${wanted.join(", ")}`);
    const listener = lb.listeners.find((l) => l.port === port);
    if (!listener || listener.protocol !== "TCP" || !tg || !listener.targetGroups.includes(tg.arn))
      problems.push(`load balancer ${lb.name} has no TCP listener on ${port} forwarding to its target group`);
  }
  if (!tg) problems.push(`no target group ${fleetNames.targetGroup(env.name)}`);
  else {
    if (env.connectivity.type === "privateLink") {
      if (tg.preserveClientIp !== "false")
        problems.push(
          `target group ${tg.name} keeps client addresses (preserve_client_ip ${tg.preserveClientIp}); behind PrivateLink they come in the PROXY header`,
        );
    } else if (tg.preserveClientIp !== "true")
      problems.push(`target group ${tg.name} does not keep client addresses (preserve_client_ip ${tg.preserveClientIp})`);
    if (tg.deregistrationDelaySeconds !== String(fleet.deregistrationDelaySeconds))
      problems.push(`target group ${tg.name} drains for ${tg.deregistrationDelaySeconds} s, expected ${fleet.deregistrationDelaySeconds}`);
  }
  if (!group) problems.push(`no Auto Scaling group ${fleetNames.autoScalingGroup(env.name)}`);
  else {
    if (group.desired !== size || group.instances.length !== size)
      problems.push(`group ${group.name} wants ${group.desired} and has ${group.instances.length} instances, expected ${size}`);
    if (group.zones < 2) problems.push(`group ${group.name} spans ${group.zones} subnet(s), expected at least two`);
    if (tg && !group.targetGroups.includes(tg.arn)) problems.push(`group ${group.name} does not register with the target group`);
    const template = inv.launchTemplates?.find((t) => t.id === group.launchTemplate.LaunchTemplateId);
    if (!template) problems.push(`group ${group.name} uses no launch template of the deployment`);
    else {
      if (group.launchTemplate.Version !== String(template.latestVersion)) {
        problems.push(
          `group ${group.name} uses version ${group.launchTemplate.Version} of ${template.name}, not its latest ${template.latestVersion} (a "$Latest" reference never starts an instance refresh)`,
        );
      }
      if (template.httpTokens !== "required")
        problems.push(`launch template ${template.name} allows IMDSv1 (http_tokens ${template.httpTokens})`);
      if (template.encrypted.length === 0 || template.encrypted.some((e) => e !== "true"))
        problems.push(`launch template ${template.name} has unencrypted volumes (${template.encrypted.join(", ")})`);
      problems.push(...proxyUserDataProblems(env, `launch template ${template.name}'s user data`, template.userData));
    }
  }
  return { host: lb?.dnsName, instances: group?.instances ?? [] };
}

/**
 * What remains in the emulator of the project after a destroy (`left`, empty when nothing does),
 * and what remains only because of how the emulator works (`tolerated`, with the reason).
 */
export function leftovers(inv: EmulatorInventory): { left: string[]; tolerated: string[] } {
  const left: string[] = [];
  const tolerated: string[] = [];
  const add = (what: string, items: readonly unknown[]) =>
    items.length > 0 && left.push(`${items.length} ${what}: ${JSON.stringify(items)}`);
  add("VPCs", inv.vpcs);
  add("instances", inv.instances);
  add("peering connections", inv.peerings);
  add("security groups", inv.securityGroups);
  add("VPC endpoints", inv.vpcEndpoints);
  const [artefacts, interfaces] = [
    inv.networkInterfaces.filter((n) => n.attachedToTerminated),
    inv.networkInterfaces.filter((n) => !n.attachedToTerminated && !n.ofDeletedNatGateway),
  ];
  const natArtefacts = inv.networkInterfaces.filter((n) => n.ofDeletedNatGateway);
  add(
    "network interfaces",
    interfaces.map((n) => n.id),
  );
  add("IAM roles", inv.iamRoles);
  add("instance profiles", inv.instanceProfiles);
  add("log groups", inv.logGroups);
  add("alarms", inv.alarms);
  add("flow logs", inv.flowLogs);
  add(
    "load balancers",
    (inv.loadBalancers ?? []).map((l) => l.name),
  );
  add(
    "target groups",
    (inv.targetGroups ?? []).map((t) => t.name),
  );
  add(
    "Auto Scaling groups",
    (inv.autoScalingGroups ?? []).map((g) => g.name),
  );
  add(
    "launch templates",
    (inv.launchTemplates ?? []).map((t) => t.name),
  );
  add(
    "Transit Gateways",
    (inv.transitGateways ?? []).map((t) => t.id),
  );
  add(
    "Transit Gateway attachments",
    (inv.tgwAttachments ?? []).map((a) => a.id),
  );
  add(
    "Transit Gateway route tables",
    (inv.tgwRouteTables ?? []).map((t) => t.id),
  );
  add(
    "NAT gateways",
    (inv.natGateways ?? []).map((n) => n.id),
  );
  add(
    "resolver endpoints",
    (inv.resolverEndpoints ?? []).map((e) => e.id),
  );
  add(
    "resolver rules",
    (inv.resolverRules ?? []).map((r) => r.id),
  );
  add(
    "resolver rule associations",
    (inv.resolverRuleAssociations ?? []).map((a) => a.id),
  );
  if (natArtefacts.length > 0) {
    tolerated.push(
      `${natArtefacts.length} network interfaces of deleted NAT gateways (${natArtefacts.map((n) => n.id).join(", ")}): moto 5.2 keeps a NAT gateway's interface after deleting it; AWS deletes it`,
    );
  }
  if (artefacts.length > 0) {
    tolerated.push(
      `${artefacts.length} network interfaces of terminated instances (${artefacts.map((n) => n.id).join(", ")}): moto 5.2 keeps an instance's own interface after termination; AWS deletes it`,
    );
  }
  return { left, tolerated };
}

/** One resource change from `terraform show -json <plan>`. */
export interface PlannedChange {
  readonly address: string;
  readonly type: string;
  readonly change: {
    readonly actions: readonly string[];
    readonly before?: Readonly<Record<string, unknown>> | null;
    readonly after?: Readonly<Record<string, unknown>> | null;
  };
}

/** What moto 5.2 does differently with PrivateLink (measured with hashicorp/aws 5.100.0). */
const PRIVATELINK_NOTES = [
  "moto 5.2 forgets a load balancer's enforce_security_group_inbound_rules_on_private_link_traffic and an endpoint service's supported_ip_address_types; proof/emulator/moto_server.py keeps both, so they are read back as in AWS and the plan after the deploy is clean",
  "moto 5.2 does not implement AcceptVpcEndpointConnections and connects every interface endpoint at once, whatever the service's principals and acceptance: the demo keeps acceptance off, and the read-back checks the principals as listed (DescribeVpcEndpointServicePermissions), not that AWS enforces them",
  "moto 5.2 gives an interface endpoint one made-up DNS name (vpce-<id>-<hex>.com.amazonaws.vpce.<region>.vpce-svc-<id>, none per zone) and network interfaces at random 10.x addresses, not from its subnets; the read-back compares the outputs and the app servers' proxy setting with the name it lists",
  "moto 5.2 forwards no packets and sends no PROXY protocol header: Squid telling the two app VPCs of one block apart by endpoint is proven by npm run e2e (the PrivateLink lab) and npm run reachability, not here",
];

/** What the emulator does differently for an environment, said before the read-back. */
export function emulatorNotes(env: EnvironmentConfig): string[] {
  if (env.connectivity.type === "transitGateway") {
    return [
      "moto 5.2 runs with proof/emulator/moto_server.py's Transit Gateway fixes, as in AWS: no invented default route table for a gateway with defaults disabled, explicit associations shown on the attachment, attachments tagged at creation, static routes naming their attachment",
      "moto 5.2 gives a private NAT gateway an address outside its subnet, so the read-back counts the NAT gateways and their outputs; the address the service sees is proven by npm run reachability and the e2e lab",
      "moto 5.2 forwards no packets: routing through the gateway's tables is proven by npm run reachability and the e2e lab, not here",
    ];
  }
  const privateLink = env.connectivity.type === "privateLink" ? PRIVATELINK_NOTES : [];
  return egressOf(env).kind === "fleet"
    ? [
        ...privateLink,
        "moto 5.2 launches an Auto Scaling group's instances without the launch template's metadata options (IMDSv2 shows as optional on them); the read-back checks the template instead",
        "moto 5.2 forgets a network load balancer's fixed addresses; proof/emulator/moto_server.py keeps them, so they are read back as in AWS",
        "moto 5.2 runs no health checks and no instance refresh; proof/emulator/moto_server.py answers a refresh by replacing the group's instances at once: the fleet's behaviour under failure and change is proven by npm run e2e (the fleet lab), not here",
      ]
    : [];
}

/** What the rehearsal's rolling change of a fleet sets, and what the synthesized group asks of a refresh. */
export interface FleetChange {
  readonly instanceType: string;
  readonly minHealthyPercentage: number;
  readonly maxHealthyPercentage: number;
}

/** Another instance type for the fleet's proxies: the change the rehearsal deploys to a running fleet. */
export function otherInstanceType(current: string): string {
  return current === "t3.small" ? "t3.micro" : "t3.small";
}

/**
 * Judges a change deployed to a running fleet: one new version of the launch template with the new
 * setting, the group on it, an instance refresh that ended with the preferences the stack gives,
 * and a whole fleet of new instances.
 */
export function rollingChangeProblems(
  env: EnvironmentConfig,
  before: EmulatorInventory,
  after: EmulatorInventory,
  change: FleetChange,
): string[] {
  const name = fleetNames.autoScalingGroup(env.name);
  const groupBefore = before.autoScalingGroups?.find((g) => g.name === name);
  const group = after.autoScalingGroups?.find((g) => g.name === name);
  if (!groupBefore || !group) return [`no Auto Scaling group ${name} ${groupBefore ? "after" : "before"} the change`];
  const templateBefore = before.launchTemplates?.find((t) => t.id === groupBefore.launchTemplate.LaunchTemplateId);
  const template = after.launchTemplates?.find((t) => t.id === group.launchTemplate.LaunchTemplateId);
  if (!templateBefore || !template || template.id !== templateBefore.id)
    return [`group ${name} does not keep its launch template through the change`];
  const problems: string[] = [];
  if (template.latestVersion !== templateBefore.latestVersion + 1)
    problems.push(
      `launch template ${template.name} went from version ${templateBefore.latestVersion} to ${template.latestVersion}, expected one new version`,
    );
  if (template.instanceType !== change.instanceType)
    problems.push(`launch template ${template.name} launches ${template.instanceType}, expected ${change.instanceType}`);
  if (group.launchTemplate.Version !== String(template.latestVersion))
    problems.push(
      `group ${name} stays on version ${group.launchTemplate.Version} of ${template.name}, not the new ${template.latestVersion}`,
    );
  const refreshes = group.refreshes ?? [];
  const started = refreshes.length - (groupBefore.refreshes ?? []).length;
  if (started !== 1) problems.push(`the change started ${started} instance refreshes of group ${name}, expected 1`);
  else {
    const refresh = refreshes[0];
    if (refresh.status !== "Successful")
      problems.push(`the instance refresh of group ${name} ended ${refresh.status}, expected Successful`);
    if (refresh.minHealthyPercentage !== change.minHealthyPercentage || refresh.maxHealthyPercentage !== change.maxHealthyPercentage) {
      problems.push(
        `the instance refresh of group ${name} kept ${refresh.minHealthyPercentage}% to ${refresh.maxHealthyPercentage}% healthy, the stack asks ${change.minHealthyPercentage}% to ${change.maxHealthyPercentage}%`,
      );
    }
  }
  const kept = group.instances.filter((i) => groupBefore.instances.includes(i));
  if (kept.length > 0) problems.push(`group ${name} still runs ${kept.join(", ")} from before the change`);
  if (group.instances.length !== fleetSize(env))
    problems.push(`group ${name} has ${group.instances.length} instances after the change, expected ${fleetSize(env)}`);
  return problems;
}

/** A difference that only the emulator produces, and why AWS does not. */
interface EmulatorQuirk {
  readonly id: string;
  readonly reason: string;
  matches(change: PlannedChange, changedAttributes: readonly string[]): boolean;
}

const only = (attrs: readonly string[], allowed: readonly string[]) => attrs.length > 0 && attrs.every((a) => allowed.includes(a));

const EMULATOR_QUIRKS: readonly EmulatorQuirk[] = [
  {
    id: "group-reference-owner",
    reason:
      "moto 5.2 returns a rule's referenced group as <account>/<group id> and drops its description (AWS returns the group id and keeps it)",
    matches: (c, attrs) =>
      ["aws_vpc_security_group_egress_rule", "aws_vpc_security_group_ingress_rule"].includes(c.type) &&
      c.change.actions.join() === "update" &&
      only(attrs, ["description", "referenced_security_group_id"]) &&
      String(c.change.before?.referenced_security_group_id ?? "").endsWith(`/${c.change.after?.referenced_security_group_id}`),
  },
  {
    id: "fixed-address-instance-groups",
    reason:
      "moto 5.2 lists no security groups on an instance launched with a fixed private address (its interface has them; AWS lists them on both)",
    matches: (c, attrs) =>
      c.type === "aws_instance" &&
      c.change.actions.join() === "update" &&
      typeof c.change.before?.private_ip === "string" &&
      attrs.length === 1 &&
      attrs[0] === "vpc_security_group_ids" &&
      ((c.change.before?.vpc_security_group_ids ?? []) as readonly unknown[]).length === 0,
  },
  {
    id: "prefix-list-rule-description",
    reason: "moto 5.2 stores no description on security group rules that name a prefix list (AWS keeps it)",
    matches: (c, attrs) =>
      ["aws_vpc_security_group_egress_rule", "aws_vpc_security_group_ingress_rule"].includes(c.type) &&
      c.change.actions.join() === "update" &&
      typeof c.change.after?.prefix_list_id === "string" &&
      attrs.length === 1 &&
      attrs[0] === "description" &&
      !c.change.before?.description,
  },
];

/** The top-level attributes whose values differ between before and after. */
export function changedAttributes(change: PlannedChange["change"]): string[] {
  const keys = new Set([...Object.keys(change.before ?? {}), ...Object.keys(change.after ?? {})]);
  return [...keys].filter((k) => JSON.stringify(change.before?.[k]) !== JSON.stringify(change.after?.[k])).sort();
}

/**
 * Sorts the changes of a plan of an unchanged stack into emulator artefacts (each with its reason)
 * and drift, which is a bug in the stack.
 */
export function classifyDrift(plan: { resource_changes?: PlannedChange[] }): { tolerated: string[]; drift: string[] } {
  const changes = (plan.resource_changes ?? []).filter((c) => !["no-op", "read"].includes(c.change.actions.join()));
  const tolerated: string[] = [];
  const drift: string[] = [];
  for (const change of changes) {
    const attrs = changedAttributes(change.change);
    const quirk = EMULATOR_QUIRKS.find((q) => q.matches(change, attrs));
    const line = `${change.address}: ${change.change.actions.join("+")} ${attrs.join(", ")}`;
    if (quirk) tolerated.push(`${line} (${quirk.id}: ${quirk.reason})`);
    else drift.push(line);
  }
  return { tolerated, drift };
}

/** What the rehearsal's "allowlist" phase deploys to a running environment: a port added to services[0]. */
export function allowlistChange(raw: RawEnvironment, env: EnvironmentConfig): { raw: RawEnvironment; service: string; port: number } {
  const copy = JSON.parse(JSON.stringify(raw)) as RawEnvironment & { services: { name: string; ports: unknown[] }[] };
  const [port] = freePorts(env, 1);
  copy.services[0].ports.push(port);
  return { raw: copy, service: copy.services[0].name, port };
}

/** What an allowlist change may create or delete besides its parameter: the rules and routes of a port or block. */
const ALLOWLIST_COMPANIONS = [
  "aws_vpc_security_group_egress_rule",
  "aws_vpc_security_group_ingress_rule",
  "aws_security_group_rule",
  "aws_route",
];
/** The proxies' own kinds, which an allowlist change must leave alone. */
const PROXY_KINDS = ["aws_instance", "aws_launch_template", "aws_autoscaling_group"];
/** The verification's stand-in service: its user data listens on every service port, so a port that comes or goes replaces it. */
const STAND_IN_SERVICE = /^aws_instance\.ServiceSide_/;

/** One change of an allowlist plan: a note when it may happen, a problem when it may not. */
function judgeAllowlistChange(c: PlannedChange, parameterName: string): { note?: string; problem?: string } {
  const actions = c.change.actions.join("+");
  const attrs = changedAttributes(c.change);
  const line = `${c.address}: ${actions}`;
  const quirk = EMULATOR_QUIRKS.find((q) => q.matches(c, attrs));
  if (quirk) return { note: `${line} (${quirk.id}, an emulator artefact)` };
  if (c.type === "aws_ssm_parameter") {
    // version and insecure_value are computed anew; the read-back compares the value with the rendered allowlist.
    if (
      c.change.after?.name === parameterName &&
      actions === "update" &&
      attrs.every((a) => ["value", "version", "insecure_value", "description"].includes(a))
    )
      return { note: `${line} in place (a new version)` };
    return { problem: `${line} (${attrs.join(", ")}): only the allowlist parameter ${parameterName} may change, in place` };
  }
  if (STAND_IN_SERVICE.test(c.address) && attrs.includes("user_data"))
    return { note: `${line}: the verification's stand-in service listens on every service port (production has none)` };
  if (PROXY_KINDS.includes(c.type))
    return {
      problem: `${line} (${attrs.join(", ")}): an allowlist change must not touch an instance, a launch template or a group (the proxies stay)`,
    };
  if (!ALLOWLIST_COMPANIONS.includes(c.type))
    return { problem: `${line}: an allowlist change may only update the parameter and create or delete security group rules and routes` };
  if (actions === "create" || actions === "delete") return { note: line };
  if (actions === "update" && attrs.every((a) => ["description", "tags", "tags_all"].includes(a)))
    return { note: `${line} of its description` };
  return { problem: `${line} (${attrs.join(", ")}): a rule or route may be created or deleted, not replaced or changed otherwise` };
}

/**
 * Judges the plan of an allowlist change: the parameter `parameterName` updated in place, rules and routes created or
 * deleted, nothing of the proxies and no replacement (the verification's stand-in service aside); emulator quirks noted.
 */
export function allowlistPlanProblems(
  plan: { resource_changes?: PlannedChange[] },
  parameterName: string,
): { problems: string[]; notes: string[] } {
  const changes = (plan.resource_changes ?? []).filter((c) => !["no-op", "read"].includes(c.change.actions.join()));
  const verdicts = changes.map((c) => judgeAllowlistChange(c, parameterName));
  const problems = verdicts.flatMap((v) => (v.problem ? [v.problem] : []));
  const updated = changes.some((c, i) => c.type === "aws_ssm_parameter" && verdicts[i].note);
  if (!updated) problems.unshift(`the plan does not update the allowlist parameter ${parameterName} in place`);
  return { problems, notes: verdicts.flatMap((v) => (v.note ? [v.note] : [])) };
}

/** The proxies' instances: the fleet's group's, or the single proxy at its fixed address. */
export function proxyInstanceIds(env: EnvironmentConfig, inv: EmulatorInventory): string[] {
  if (egressOf(env).kind === "fleet")
    return [...(inv.autoScalingGroups?.find((g) => g.name === fleetNames.autoScalingGroup(env.name))?.instances ?? [])].sort();
  return inv.instances.filter((i) => i.state === "running" && i.privateIp === proxyPrivateIp(env)).map((i) => i.id);
}

/** After an allowlist change: the parameter holds the allowlist of the edited `env` as one new version, and the same proxies run. */
export function allowlistReadbackProblems(
  env: EnvironmentConfig,
  before: { parameter: EmulatorInventory["allowlistParameter"]; proxies: readonly string[] },
  after: { parameter: EmulatorInventory["allowlistParameter"]; proxies: readonly string[]; inventory?: EmulatorInventory },
): string[] {
  const problems = allowlistParameterProblems(env, after.parameter, after.inventory);
  if (before.parameter && after.parameter && after.parameter.version !== before.parameter.version + 1)
    problems.push(
      `the allowlist parameter went from version ${before.parameter.version} to ${after.parameter.version}, expected ${before.parameter.version + 1}`,
    );
  if (before.proxies.length === 0) problems.push("no proxy instance ran before the change");
  if (before.proxies.join() !== after.proxies.join())
    problems.push(
      `the proxies were ${before.proxies.join(", ")} before the change and are ${after.proxies.join(", ") || "none"} after: an allowlist change must not replace them`,
    );
  return problems;
}

/** What the emulator holds, by Terraform type, as import ids (proof/emulator/emulator_api.py import-ids). */
export type EmulatorImportIds = Readonly<Record<string, readonly string[]>>;

/** How the orphan sweep did against the emulator's own inventory. */
export interface SweepCoverage {
  /** The true orphans: created in the emulator, unknown to the state ("type id"). */
  readonly orphans: readonly string[];
  /** True orphans the sweep did not report. */
  readonly missed: readonly string[];
  /** Resources the sweep reported that are not true orphans (in the state, or not in the emulator). */
  readonly extra: readonly string[];
}

/**
 * Compares the sweep's orphans with the truth: everything the emulator holds that the state does
 * not (by the same keys the state is read by).
 */
export function sweepCoverage(
  emulator: EmulatorImportIds,
  state: TerraformState,
  swept: readonly { type: string; importId: string }[],
): SweepCoverage {
  const known = stateKeys(state);
  const orphans = Object.entries(emulator)
    .flatMap(([type, ids]) => ids.filter((id) => !known.has(`${type}|${id}`)).map((id) => `${type} ${id}`))
    .sort();
  const reported = new Set(swept.map((s) => `${s.type} ${s.importId}`));
  const truth = new Set(orphans);
  return { orphans, missed: orphans.filter((o) => !reported.has(o)), extra: [...reported].filter((r) => !truth.has(r)).sort() };
}
