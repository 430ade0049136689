/**
 * The checks that span several settings of an environment file. They run only on values that
 * passed the field schema, and each problem names the setting it is about.
 */
import { addressInCidr, cidrContains, cidrsOverlap, subnetHostProblem } from "../cidr";
import { flowEnds, portNumbers, resolverEndpointSubnets, serviceServerIp, servicePorts } from "./derived";
import { Egress, egressOf, FleetConfig, runsSquid } from "./egress";
import { Issue, pathText } from "./path-text";
import { subnetListIssues } from "./subnet-lists";
import {
  appVpcsOverlapProblem,
  createdVpcOnlyProblem,
  createdVpcSubnetsProblem,
  endpointZoneProblem,
  fleetSizeProblem,
  fleetSubnetCountProblem,
  loadBalancerAddressCountProblem,
  privateLinkProxyOverlapProblem,
  routeTablesProblem,
  repeatedForwardProblem,
  resolverZonesProblem,
  subnetOutsideVpcProblem,
  vpcOverlapProblem,
} from "./rules";

export type { Issue };
import { constructIds } from "../naming";
import { loadBalancerDeletionProtection } from "../policy/rules/elb/deletion-protection";
import { logRetentionMinimum, MIN_LOG_RETENTION_DAYS } from "../policy/rules/logs/retention-minimum";
import { architectureOf, isMacInstanceType, memoryBelowOneGiB, parameterArchitecture } from "./instance-types";
import { quotaIssues, quotaWarnings } from "./quotas";
import { portBudgetPerDestination, portsIn, PROXY_PORT_RANGE, TIME_WAIT_SECONDS } from "../proxy-kernel";
import { amazonLinux2023Parameter, EnvironmentConfig } from "./schema";

const LOG_RETENTION_RULE = logRetentionMinimum.id;
const DELETION_PROTECTION_RULE = loadBalancerDeletionProtection.id;

/** A VPC the environment creates or peers, with where it sits in the file. */
type VpcSetting = { path: (string | number)[]; cidr: string; subnets: { availabilityZone: string; cidr: string }[] };

/** Every check that spans several settings; each problem names the setting it is about. */
export function crossFieldIssues(env: EnvironmentConfig): Issue[] {
  const vpcs = vpcSettings(env);
  const egress = egressOf(env);
  return [
    ...appVpcIssues(env),
    ...vpcs.flatMap((v) => vpcSubnetIssues(env, v)),
    ...vpcOverlapIssues(vpcs, env),
    ...nameIssues(env),
    ...serviceBlockIssues(env, vpcs),
    ...imageIssues(env, egress),
    ...domainIssues(env, egress),
    ...dnsIssues(env, egress),
    ...connectivityIssues(env, egress),
    ...egressIssues(env, egress),
    ...flowIssues(env, egress),
    ...quotaIssues(env),
    ...logRetentionIssues(env),
    ...proxyBypassIssues(env),
    ...allowlistIssues(env, egress),
  ];
}

/** Who may use each service (`from`) names app VPCs of the file; alerts name a topic of the environment's region; both need Squid. */
function allowlistIssues(env: EnvironmentConfig, egress: Egress): Issue[] {
  const issues: Issue[] = [];
  const appNames = env.appVpcs.map((a) => a.name);
  env.services.forEach((s, i) =>
    s.from?.forEach((app, j) => {
      if (!appNames.includes(app))
        issues.push({
          path: ["services", i, "from", j],
          message: `names no app VPC of this file; the app VPCs are ${appNames.join(", ")}`,
        });
    }),
  );
  if (!runsSquid(egress)) {
    const i = env.services.findIndex((s) => s.from !== undefined);
    if (i >= 0)
      issues.push({
        path: ["services", i, "from"],
        message:
          'is set, but with egress "privateNat" no proxy reads an allowlist (NAT relays every app VPC alike); remove it, or use egress "squid"',
      });
    if (env.alerts)
      issues.push({
        path: ["alerts"],
        message:
          'is set, but with egress "privateNat" there is no proxy log to count denials and errors in; remove it, or use egress "squid"',
      });
  }
  if (runsSquid(egress) && !env.proxyVpc.sessionManagerEndpoints)
    issues.push({
      path: ["proxyVpc", "sessionManagerEndpoints"],
      message:
        "is false, but the proxies fetch their allowlist through the proxy VPC's ssm endpoint and ship Squid's log through its logs endpoint, and the proxy VPC has no other way to AWS's APIs; set it to true",
    });
  const topicRegion = env.alerts?.topicArn?.split(":")[3];
  if (topicRegion !== undefined && topicRegion !== env.region)
    issues.push({
      path: ["alerts", "topicArn"],
      message: `is a topic in ${topicRegion}, but alarms in ${env.region} notify topics of their own region only; name a topic in ${env.region}`,
    });
  return issues;
}

/** The proxy VPC, the app VPCs, and the service VPC when the service side is a peered VPC, in that order. */
function vpcSettings(env: EnvironmentConfig): VpcSetting[] {
  const side = env.serviceSide;
  const serviceVpc = side.type === "peeredVpc" ? side.vpc : undefined;
  return [
    { path: ["proxyVpc"], ...env.proxyVpc },
    ...env.appVpcs.map((a, i) => ({ path: ["appVpcs", i], cidr: a.cidr, subnets: a.subnets ?? [] })),
    ...(serviceVpc ? [{ path: ["serviceSide", "vpc"], ...serviceVpc }] : []),
  ];
}

/** An existing app VPC takes only what peering it needs (both accountId and roleArn, or neither); a created one needs subnets. */
function appVpcIssues(env: EnvironmentConfig): Issue[] {
  const issues: Issue[] = [];
  env.appVpcs.forEach((a, i) => {
    if (a.existing) {
      for (const key of ["subnets", "appServer"] as const) {
        const problem = createdVpcOnlyProblem(true, a[key]);
        if (problem) issues.push({ path: ["appVpcs", i, key], message: problem });
      }
      if (a.sessionManagerEndpoints)
        issues.push({
          path: ["appVpcs", i, "sessionManagerEndpoints"],
          message: "is true for an existing VPC; the project adds no endpoints to it. Remove it",
        });
      if ((a.existing.accountId === undefined) !== (a.existing.roleArn === undefined)) {
        issues.push({
          path: ["appVpcs", i, "existing", a.existing.accountId ? "roleArn" : "accountId"],
          message: "is missing; cross-account peering needs both accountId and roleArn",
        });
      }
      if (a.existing.roleArn && a.existing.accountId && !a.existing.roleArn.includes(`::${a.existing.accountId}:`)) {
        issues.push({
          path: ["appVpcs", i, "existing", "roleArn"],
          message: `is not a role of account ${a.existing.accountId}; the role must live where the VPC does`,
        });
      }
    } else {
      const problem = createdVpcSubnetsProblem(false, a.subnets);
      if (problem) issues.push({ path: ["appVpcs", i, "subnets"], message: problem });
    }
  });
  return issues;
}

/** A VPC's subnets: in the region, inside the VPC's block, one per zone, disjoint. */
function vpcSubnetIssues(env: EnvironmentConfig, v: VpcSetting): Issue[] {
  return subnetListIssues(env.region, {
    path: [...v.path, "subnets"],
    subnets: v.subnets,
    outside: (cidr) => subnetOutsideVpcProblem(v.cidr, cidr),
    earlier: (j, cidr) => `subnet ${j} (${cidr}) of the same VPC`,
    zones: "perVpc",
  });
}

/**
 * Every VPC is peered with or routed through the proxy VPC, so all of them need disjoint blocks;
 * with privateLink nothing routes between app VPCs, so their blocks may overlap each other (not the proxy VPC's).
 */
function vpcOverlapIssues(vpcs: readonly VpcSetting[], env: EnvironmentConfig): Issue[] {
  const issues: Issue[] = [];
  const privateLink = env.connectivity.type === "privateLink";
  const isApp = (v: VpcSetting) => v.path[0] === "appVpcs";
  vpcs.forEach((v, i) => {
    for (let j = 0; j < i; j++) {
      const other = vpcs[j];
      const otherName = `\`${pathText([...other.path, "cidr"])}\``;
      let problem: string | undefined;
      if (isApp(v) && isApp(other)) problem = privateLink ? undefined : appVpcsOverlapProblem(v.cidr, otherName, other.cidr);
      else if (privateLink && isApp(v) && other.path[0] === "proxyVpc") problem = privateLinkProxyOverlapProblem(v.cidr, other.cidr);
      else problem = vpcOverlapProblem(v.cidr, otherName, other.cidr);
      if (problem) issues.push({ path: [...v.path, "cidr"], message: problem });
    }
  });
  return issues;
}

/** App VPCs and services each have a name of their own. */
function nameIssues(env: EnvironmentConfig): Issue[] {
  return [
    ...duplicates(env.appVpcs.map((a) => a.name)).map((i): Issue => ({
      path: ["appVpcs", i, "name"],
      message: "is used by another app VPC; names must be unique",
    })),
    ...duplicates(env.services.map((s) => s.name)).map((i): Issue => ({
      path: ["services", i, "name"],
      message: "is used by another service; names must be unique",
    })),
  ];
}

/** Each service: its ports listed once, its block outside the proxy and app VPCs, and inside a peered service VPC. */
function serviceBlockIssues(env: EnvironmentConfig, vpcs: readonly VpcSetting[]): Issue[] {
  const issues: Issue[] = [];
  const serviceVpc = env.serviceSide.type === "peeredVpc" ? env.serviceSide.vpc : undefined;
  env.services.forEach((s, i) => {
    duplicates(portNumbers(s)).forEach((p) =>
      issues.push({ path: ["services", i, "ports", p], message: "is listed twice; list each port once" }),
    );
    for (const v of vpcs.slice(0, 1 + env.appVpcs.length)) {
      if (cidrsOverlap(v.cidr, s.cidr)) {
        issues.push({
          path: ["services", i, "cidr"],
          message:
            env.connectivity.type === "privateLink" && v.path[0] === "appVpcs"
              ? `overlaps \`${pathText([...v.path, "cidr"])}\` ${v.cidr}; even with privateLink a service lies outside the app VPCs: Squid's allowlist names app servers by source block and services by destination block, and one address in both would make its rules and log ambiguous`
              : `overlaps \`${pathText([...v.path, "cidr"])}\` ${v.cidr}; the service must lie outside the proxy and app VPCs or its routes collide`,
        });
      }
    }
    if (serviceVpc && !cidrContains(serviceVpc.cidr, s.cidr)) {
      issues.push({
        path: ["services", i, "cidr"],
        message: `is not inside \`serviceSide.vpc.cidr\` ${serviceVpc.cidr}; with a peered service VPC every service lies in that VPC`,
      });
    }
  });
  return issues;
}

/** The access log is the record of who went where: kept long enough, unless a suppression says why not. */
function logRetentionIssues(env: EnvironmentConfig): Issue[] {
  if (env.logRetentionDays < MIN_LOG_RETENTION_DAYS && !env.policySuppressions.some((s) => s.rule === LOG_RETENTION_RULE)) {
    return [
      {
        path: ["logRetentionDays"],
        message: `is below ${MIN_LOG_RETENTION_DAYS} days, and the access log is the record of who went where; use ${MIN_LOG_RETENTION_DAYS} or more, or say why in policySuppressions: { "rule": "${LOG_RETENTION_RULE}", "path": "", "reason": "..." }`,
      },
    ];
  }
  return [];
}

/** The app servers reach instance metadata directly, not through the proxy. */
function proxyBypassIssues(env: EnvironmentConfig): Issue[] {
  if (env.proxyBypass.includes("169.254.169.254")) return [];
  return [
    {
      path: ["proxyBypass"],
      message: "leaves out 169.254.169.254; Windows agents would send instance metadata requests to the proxy, which refuses them. Add it",
    },
  ];
}

/**
 * Expected flows name ends the analysis knows (flowEnds), each naming one end only; a flow
 * through the proxy needs a proxy, starts and ends elsewhere, and is TCP, which Squid relays.
 */
function flowIssues(env: EnvironmentConfig, egress: Egress): Issue[] {
  const ends = flowEnds(env);
  const known = [...new Set(ends)].map((e) => `"${e}"`).join(", ");
  const issues: Issue[] = [];
  env.expectedFlows.forEach((flow, i) => {
    for (const end of ["from", "to"] as const) {
      const count = ends.filter((e) => e === flow[end]).length;
      if (count === 0) issues.push({ path: ["expectedFlows", i, end], message: `names no end of a flow; use one of ${known}` });
      if (count > 1)
        issues.push({
          path: ["expectedFlows", i, end],
          message:
            "names two ends (a service, an app VPC, the proxy or the resolver share the name); rename one so that flows can tell them apart",
        });
    }
    if (flow.via === undefined) return;
    if (!runsSquid(egress)) {
      issues.push({
        path: ["expectedFlows", i, "via"],
        message: "names the proxy, and with privateNat egress none runs; leave via out (the NAT gateways relay a direct flow)",
      });
    } else if (flow.from === "proxy" || flow.to === "proxy") {
      issues.push({
        path: ["expectedFlows", i, "via"],
        message: 'is "proxy", and the flow already starts or ends at the proxy; leave via out',
      });
    } else if (flow.protocol !== "tcp") {
      issues.push({
        path: ["expectedFlows", i, "protocol"],
        message: 'is "udp", and the proxy relays TCP only (HTTP and CONNECT); use "tcp" or leave via out',
      });
    }
  });
  return issues;
}

/**
 * Whether each server's instance type can run its image: the architectures of both (a Graviton
 * type runs arm64 images only, every other type x86_64 ones), no Mac types (macOS only), and for
 * Windows no arm64 and at least 1 GiB of memory.
 */
function imageIssues(env: EnvironmentConfig, egress: Egress): Issue[] {
  const servers: { path: (string | number)[]; server: { instanceType: string; amiParameter: string }; windows: boolean }[] = [
    ...(runsSquid(egress) ? [{ path: ["proxy"], server: egress.proxy, windows: false }] : []),
    ...env.appVpcs.flatMap((a, i) => (a.appServer ? [{ path: ["appVpcs", i, "appServer"], server: a.appServer, windows: true }] : [])),
    ...(env.serviceSide.type === "peeredVpc" ? [{ path: ["serviceSide", "server"], server: env.serviceSide.server, windows: false }] : []),
  ];
  const issues: Issue[] = [];
  for (const { path, server, windows } of servers) {
    const type = server.instanceType;
    const at = (key: string) => [...path, key];
    const x86Example = windows ? "t3.medium" : "t3.micro";
    if (isMacInstanceType(type)) {
      issues.push({
        path: at("instanceType"),
        message: `is a Mac instance type, which runs only macOS, on a Dedicated Host; use a type such as ${x86Example}`,
      });
      continue;
    }
    const arch = architectureOf(type);
    if (windows && arch === "arm64") {
      issues.push({
        path: at("instanceType"),
        message: `is a Graviton (arm64) type, and Windows Server has no arm64 AMI on EC2; use an x86_64 type such as ${x86Example}`,
      });
      continue;
    }
    const memory = memoryBelowOneGiB(type);
    if (windows && memory !== undefined) {
      issues.push({
        path: at("instanceType"),
        message: `has ${memory} GiB of memory, and Windows Server needs at least 1 GiB (the nano sizes and t1.micro have less); use t3.micro or larger, such as ${x86Example}`,
      });
    }
    const imageArch = parameterArchitecture(server.amiParameter);
    if (imageArch && imageArch !== arch) {
      const kind = arch === "arm64" ? "a Graviton (arm64)" : "an x86_64";
      const defaultImage = windows ? "Windows Server, x86_64" : `Amazon Linux 2023 for ${arch}: ${amazonLinux2023Parameter(type)}`;
      const otherType = imageArch === "arm64" ? "t4g.micro" : x86Example;
      issues.push({
        path: at("amiParameter"),
        message: `names an ${imageArch} image, which \`${pathText(at("instanceType"))}\` ${type} cannot run: it is ${kind} type. Leave amiParameter out (${defaultImage}), name an ${arch} image, or choose an ${imageArch} instance type such as ${otherType}`,
      });
    }
  }
  return issues;
}

/** How app VPCs reach the proxy VPC: settings that fit the chosen way, and zones a NAT gateway serves. */
function connectivityIssues(env: EnvironmentConfig, egress: Egress): Issue[] {
  const c = env.connectivity;
  const issues = c.type === "privateLink" ? [] : privateLinkSettingIssues(env);
  if (c.type === "privateLink") return privateLinkIssues(env, egress);
  if (c.type === "peering") return [...issues, ...peeringSettingIssues(env, egress)];
  issues.push(...transitGatewayIssues(env));
  if (runsSquid(egress)) {
    if (c.attachmentSubnets !== undefined) {
      issues.push({
        path: ["connectivity", "attachmentSubnets"],
        message: 'is for privateNat egress; with "squid" the Transit Gateway attaches to the proxy subnets (proxyVpc.subnets). Remove it',
      });
    }
    return issues;
  }
  return [...issues, ...privateNatIssues(env)];
}

/** Without privateLink: none of its settings. */
function privateLinkSettingIssues(env: EnvironmentConfig): Issue[] {
  const issues: Issue[] = [];
  const type = env.connectivity.type;
  for (const key of ["acceptanceRequired", "allowedPrincipals"] as const) {
    if (env.connectivity[key] !== undefined)
      issues.push({
        path: ["connectivity", key],
        message: `is a PrivateLink setting, but connectivity.type is "${type}"; remove it, or set connectivity.type to "privateLink"`,
      });
  }
  env.appVpcs.forEach((a, i) => {
    if (a.existing?.endpointSubnetIds)
      issues.push({
        path: ["appVpcs", i, "existing", "endpointSubnetIds"],
        message: `is a PrivateLink setting, but connectivity.type is "${type}"; remove it`,
      });
    const tables = a.existing && routeTablesProblem(false, a.existing.routeTableIds);
    if (tables) issues.push({ path: ["appVpcs", i, "existing", "routeTableIds"], message: tables });
  });
  return issues;
}

/**
 * With PrivateLink: Squid in a fleet (an endpoint service fronts a Network Load Balancer), no
 * Transit Gateway or NAT settings, and each existing app VPC names its endpoint's subnets.
 */
function privateLinkIssues(env: EnvironmentConfig, egress: Egress): Issue[] {
  const issues: Issue[] = [];
  const at = (...path: (string | number)[]) => ["connectivity", ...path];
  if (egress.kind === "privateNat")
    issues.push({
      path: at("egress"),
      message:
        'is "privateNat" with privateLink, which cannot work: an interface endpoint delivers only to the endpoint service\'s load balancer, never to a NAT gateway. Use "squid" (with proxy.fleet)',
    });
  else if (egress.kind === "proxy")
    issues.push({
      path: ["proxy", "fleet"],
      message:
        'is missing; with connectivity.type "privateLink" the proxy is offered as an endpoint service, which fronts a Network Load Balancer: add proxy.fleet ({} runs one proxy per proxy subnet; a fleet of one would leave a zone failure without a proxy)',
    });
  for (const key of ["transitGatewayId", "amazonSideAsn", "attachmentSubnets"] as const) {
    if (env.connectivity[key] !== undefined)
      issues.push({
        path: at(key),
        message: 'is a Transit Gateway setting, but connectivity.type is "privateLink", which routes nothing between VPCs; remove it',
      });
  }
  const serviceZones = env.proxyVpc.subnets.map((s) => s.availabilityZone);
  env.appVpcs.forEach((a, i) => {
    (a.subnets ?? []).forEach((s, j) => {
      const problem = endpointZoneProblem(s.availabilityZone, serviceZones);
      if (problem) issues.push({ path: ["appVpcs", i, "subnets", j, "availabilityZone"], message: problem });
    });
    if (!a.existing) return;
    const tables = routeTablesProblem(true, a.existing.routeTableIds);
    if (tables) issues.push({ path: ["appVpcs", i, "existing", "routeTableIds"], message: tables });
    if (a.existing.attachmentSubnetIds)
      issues.push({
        path: ["appVpcs", i, "existing", "attachmentSubnetIds"],
        message:
          'is a Transit Gateway setting, but connectivity.type is "privateLink"; name the endpoint\'s subnets in endpointSubnetIds instead',
      });
    if (!a.existing.endpointSubnetIds)
      issues.push({
        path: ["appVpcs", i, "existing", "endpointSubnetIds"],
        message:
          'is missing; with privateLink the interface endpoint for the proxy needs the VPC\'s subnets, at most one per zone, such as ["subnet-0123456789abcdef0"]',
      });
  });
  return issues;
}

/** With peering: no NAT egress (peering is not transitive) and no Transit Gateway settings. */
function peeringSettingIssues(env: EnvironmentConfig, egress: Egress): Issue[] {
  const issues: Issue[] = [];
  const c = env.connectivity;
  const at = (...path: (string | number)[]) => ["connectivity", ...path];
  if (egress.kind === "privateNat") {
    issues.push({
      path: at("egress"),
      message:
        'is "privateNat" with peering, which cannot work: peering is not transitive, so a NAT gateway in the proxy VPC never sees the app VPCs\' traffic to the services (AWS drops it at the peering). Use "squid", or set connectivity.type to "transitGateway"',
    });
  }
  for (const key of ["transitGatewayId", "amazonSideAsn", "attachmentSubnets"] as const) {
    if (c[key] !== undefined)
      issues.push({
        path: at(key),
        message:
          'is a Transit Gateway setting, but connectivity.type is "peering"; remove it, or set connectivity.type to "transitGateway"',
      });
  }
  env.appVpcs.forEach((a, i) => {
    if (a.existing?.attachmentSubnetIds)
      issues.push({
        path: ["appVpcs", i, "existing", "attachmentSubnetIds"],
        message: 'is a Transit Gateway setting, but connectivity.type is "peering"; remove it',
      });
  });
  return issues;
}

/** With a Transit Gateway: an existing gateway's ASN is its own, and existing app VPCs attach in this account with subnets named. */
function transitGatewayIssues(env: EnvironmentConfig): Issue[] {
  const issues: Issue[] = [];
  const c = env.connectivity;
  if (c.transitGatewayId !== undefined && c.amazonSideAsn !== undefined) {
    issues.push({
      path: ["connectivity", "amazonSideAsn"],
      message: "is set for an existing Transit Gateway (transitGatewayId), whose ASN is its own; remove it",
    });
  }
  env.appVpcs.forEach((a, i) => {
    if (!a.existing) return;
    if (a.existing.accountId !== undefined) {
      issues.push({
        path: ["appVpcs", i, "existing", "accountId"],
        message:
          'is another account, which a Transit Gateway reaches only through a resource share (AWS RAM) and an accepted attachment there; the project does not build those yet. Attach that VPC by hand and leave it out, or use connectivity.type "peering"',
      });
    }
    if (!a.existing.attachmentSubnetIds) {
      issues.push({
        path: ["appVpcs", i, "existing", "attachmentSubnetIds"],
        message: 'is missing; the Transit Gateway attachment needs the VPC\'s subnets, one per zone, such as ["subnet-0123456789abcdef0"]',
      });
    }
  });
  return issues;
}

/** With privateNat egress: no proxy fleet, and attachment subnets of their own in zones that have a NAT gateway. */
function privateNatIssues(env: EnvironmentConfig): Issue[] {
  const issues: Issue[] = [];
  const attachmentSubnets = env.connectivity.attachmentSubnets;
  if (env.proxy.fleet)
    issues.push({
      path: ["proxy", "fleet"],
      message: 'is set, but with egress "privateNat" no proxy runs (the NAT gateways relay); remove it, or use egress "squid"',
    });
  if (!attachmentSubnets) {
    issues.push({
      path: ["connectivity", "attachmentSubnets"],
      message:
        'is missing; with "privateNat" the Transit Gateway attaches to subnets of their own, one per zone (a /28 each), whose route table sends the services to the NAT gateway of the same zone, such as [{ "availabilityZone": "' +
        `${env.proxyVpc.subnets[0].availabilityZone}", "cidr": "..." }]`,
    });
    return issues;
  }
  issues.push(
    ...subnetListIssues(env.region, {
      path: ["connectivity", "attachmentSubnets"],
      subnets: attachmentSubnets,
      outside: (cidr) =>
        cidrContains(env.proxyVpc.cidr, cidr)
          ? undefined
          : `is not inside the proxy VPC's block ${env.proxyVpc.cidr}; the attachment subnets are part of the proxy VPC`,
      apart: {
        whose: "the attachment subnets",
        blocks: env.proxyVpc.subnets.map((p, j) => ({ name: `proxyVpc.subnets[${j}].cidr`, cidr: p.cidr })),
      },
      zones: (j) => `is the zone of attachmentSubnets[${j}]; give one attachment subnet per zone`,
      earlier: (j, cidr) => `attachmentSubnets[${j}] (${cidr})`,
    }),
    ...natZoneIssues(env, attachmentSubnets),
  );
  return issues;
}

/** Each zone an attachment uses needs a NAT gateway there, so that a flow stays in its zone. */
function natZoneIssues(env: EnvironmentConfig, attachmentSubnets: readonly { availabilityZone: string }[]): Issue[] {
  const natZones = new Set(env.proxyVpc.subnets.map((s) => s.availabilityZone));
  const attachmentZones: { path: (string | number)[]; zone: string }[] = [
    ...attachmentSubnets.map((s, i) => ({ path: ["connectivity", "attachmentSubnets", i, "availabilityZone"], zone: s.availabilityZone })),
    ...env.appVpcs.flatMap((a, i) =>
      (a.subnets ?? []).map((s, j) => ({ path: ["appVpcs", i, "subnets", j, "availabilityZone"], zone: s.availabilityZone })),
    ),
  ];
  return attachmentZones
    .filter(({ zone }) => !natZones.has(zone))
    .map(({ path, zone }) => ({
      path,
      message: `is ${zone}, where a Transit Gateway attachment sits but proxyVpc.subnets has no subnet for a NAT gateway (it has ${[...natZones].join(", ")}); add a proxy subnet in ${zone}`,
    }));
}

/** Does Squid's dstdomain entry `pattern` (a leading dot: the domain and every name under it) match `name`? */
export function domainCovers(pattern: string, name: string): boolean {
  const bare = (n: string) => n.replace(/^\./, "");
  if (!pattern.startsWith(".")) return pattern === name;
  return bare(name) === bare(pattern) || bare(name).endsWith(pattern);
}

/**
 * Names in the services' allowlists: none that another entry of the same list already covers
 * (Squid warns and drops one), none with privateNat (NAT sees no names), and no address-only
 * service whose rule would let any name into a named service's block on the same port.
 */
function domainIssues(env: EnvironmentConfig, egress: Egress): Issue[] {
  const issues: Issue[] = [];
  env.services.forEach((s, i) => {
    if (!s.domains) return;
    if (!runsSquid(egress)) {
      issues.push({
        path: ["services", i, "domains"],
        message:
          'is set, but with egress "privateNat" no proxy reads names (a NAT gateway works on addresses); remove it, or use egress "squid"',
      });
      return;
    }
    s.domains.forEach((d, j) => {
      const earlier = s.domains!.findIndex((o, k) => k !== j && domainCovers(o, d) && (!domainCovers(d, o) || k < j));
      if (earlier >= 0) {
        issues.push({
          path: ["services", i, "domains", j],
          message: `is already allowed by "${s.domains![earlier]}" (domains[${earlier}]); remove it`,
        });
      }
    });
    const ports = servicePorts(s);
    env.services.forEach((other, k) => {
      if (other.domains || !cidrsOverlap(s.cidr, other.cidr)) return;
      const shared = servicePorts(other).filter((p) => ports.some((q) => q.port === p.port && q.carries === p.carries));
      if (shared.length === 0) return;
      issues.push({
        path: ["services", i, "domains"],
        message: `would be bypassed: services[${k}] ("${other.name}", address only) allows ${shared.map((p) => p.port).join(", ")} into ${other.cidr}, which overlaps this service's ${s.cidr}, for any name. Give that service a block apart from ${s.cidr}, other ports, or domains of its own`,
      });
    });
  });
  return issues;
}

/** DNS forwarding: the rules' servers in a service block, one rule per domain, the endpoint's subnets in two zones of the proxy VPC. */
function dnsIssues(env: EnvironmentConfig, egress: Egress): Issue[] {
  const dns = env.dns;
  if (!dns) return [];
  const issues: Issue[] = [];
  if (!runsSquid(egress)) {
    return [
      {
        path: ["dns"],
        message:
          'is set, but with egress "privateNat" nothing in the proxy VPC resolves names (app servers use their own VPC\'s resolver); remove it, or use egress "squid"',
      },
    ];
  }
  const standIn = env.serviceSide.type === "peeredVpc" ? serviceServerIp(env) : undefined;
  dns.forward.forEach((rule, i) => {
    const at = ["dns", "forward", i];
    const repeated = repeatedForwardProblem(
      dns.forward.map((o) => o.domain),
      i,
      (earlier) => `dns.forward[${earlier}]`,
    );
    if (repeated) issues.push({ path: [...at, "domain"], message: repeated });
    rule.servers.forEach((server, j) => {
      if (rule.servers.indexOf(server) < j) issues.push({ path: [...at, "servers", j], message: "is listed twice; list each server once" });
      if (!env.services.some((s) => addressInCidr(server, s.cidr))) {
        issues.push({
          path: [...at, "servers", j],
          message: `is outside every service block (${env.services.map((s) => s.cidr).join(", ")}); the proxy VPC routes only those to the provider. Use the provider's DNS server address, or add its block as a service`,
        });
      } else if (standIn !== undefined && server !== standIn) {
        issues.push({
          path: [...at, "servers", j],
          message: `is not the stand-in service's address ${standIn}, which answers DNS in a verification environment (serviceSide.type "peeredVpc"); use ${standIn}`,
        });
      }
    });
  });
  const subnets = resolverEndpointSubnets(env);
  const own = dns.endpointSubnets !== undefined;
  const where = own ? ["dns", "endpointSubnets"] : ["dns"];
  const oneZone = resolverZonesProblem(subnets.map((s) => s.availabilityZone));
  if (oneZone) {
    issues.push({
      path: own ? where : [...where, "endpointSubnets"],
      message: own
        ? `${oneZone}. Put one in another zone of ${env.region}`
        : `is missing, and proxyVpc.subnets are all in ${subnets[0].availabilityZone}; a Route 53 Resolver endpoint needs two subnets in two zones. Add endpointSubnets, such as two /28 blocks of ${env.proxyVpc.cidr} in ${env.region}a and ${env.region}c`,
    });
  }
  if (!own) return issues;
  const others = [
    ...env.proxyVpc.subnets.map((s, j) => ({ name: `proxyVpc.subnets[${j}]`, cidr: s.cidr })),
    ...(env.connectivity.attachmentSubnets ?? []).map((s, j) => ({ name: `connectivity.attachmentSubnets[${j}]`, cidr: s.cidr })),
  ];
  issues.push(
    ...subnetListIssues(env.region, {
      path: where,
      subnets,
      outside: (cidr) =>
        cidrContains(env.proxyVpc.cidr, cidr)
          ? undefined
          : `is not inside the proxy VPC's block ${env.proxyVpc.cidr}; the endpoint's addresses must lie in the dictated range, the only one the provider's DNS accepts`,
      apart: { whose: "the endpoint's subnets", blocks: others },
      earlier: (j, cidr) => `endpointSubnets[${j}] (${cidr})`,
    }),
  );
  return issues;
}

function duplicates<T>(values: readonly T[]): number[] {
  return values.flatMap((v, i) => (values.indexOf(v) < i ? [i] : []));
}

/** What is allowed but worth knowing before a deploy: AWS quotas above their defaults, a peak above the proxies' port budget. */
export function environmentWarnings(env: EnvironmentConfig): string[] {
  return [...quotaWarnings(env), ...portBudgetWarnings(env)];
}

/** A warning when the proxies' new-connection budget per destination is below `proxy.expectedPeakConnectionsPerSecond`. */
export function portBudgetWarnings(env: EnvironmentConfig): string[] {
  const expected = env.proxy.expectedPeakConnectionsPerSecond;
  const egress = egressOf(env);
  if (expected === undefined || !runsSquid(egress)) return [];
  const proxies = egress.kind === "fleet" ? egress.size : 1;
  const perProxy = portBudgetPerDestination();
  if (proxies * perProxy >= expected) return [];
  const needed = Math.ceil(expected / perProxy);
  return [
    `environment ${env.name}: \`proxy.expectedPeakConnectionsPerSecond\` is ${expected}, above the port budget of ${proxies} ${proxies === 1 ? "proxy" : "proxies"} ` +
      `(${proxies} x ${perProxy} new connections a second to one service address and port: ${portsIn(PROXY_PORT_RANGE)} source ports, each held ${TIME_WAIT_SECONDS} s in TIME_WAIT). ` +
      `Run ${needed} proxies (\`proxy.fleet.size\`: ${Math.max(2, needed)}), have the app servers reuse connections (keep-alive), or spread the load over more service addresses; README Sizing.`,
  ];
}

/** The proxy settings the chosen egress uses: the single proxy's address, or the fleet's settings; none for private NAT. */
function egressIssues(env: EnvironmentConfig, egress: Egress): Issue[] {
  switch (egress.kind) {
    case "proxy":
      return singleProxyIssues(env);
    case "fleet":
      return fleetIssues(env, egress.fleet);
    case "privateNat":
      return [];
  }
}

function singleProxyIssues(env: EnvironmentConfig): Issue[] {
  const proxySubnet = env.proxyVpc.subnets[0].cidr;
  if (env.proxy.privateIp !== undefined) {
    const problem = subnetHostProblem(env.proxy.privateIp, proxySubnet);
    return problem ? [{ path: ["proxy", "privateIp"], message: `${problem}; the proxy sits in the proxy VPC's first subnet` }] : [];
  }
  // The default address (number 10 of the subnet) fits every subnet AWS allows (/28 at least).
  return [];
}

function fleetIssues(env: EnvironmentConfig, fleet: FleetConfig): Issue[] {
  const issues: Issue[] = [];
  const subnets = env.proxyVpc.subnets;
  if (env.proxy.privateIp !== undefined) {
    issues.push({
      path: ["proxy", "privateIp"],
      message: "is set for a fleet, whose address is the load balancer's; remove it (fleet.loadBalancerAddresses sets those)",
    });
  }
  const tooFew = fleetSubnetCountProblem(subnets.length);
  if (tooFew) issues.push({ path: ["proxyVpc", "subnets"], message: `${tooFew}, so add one in another zone of ${env.region}` });
  if (!fleet.deletionProtection && !env.policySuppressions.some((s) => s.rule === DELETION_PROTECTION_RULE)) {
    issues.push({
      path: ["proxy", "fleet", "deletionProtection"],
      message: `is false, so a destroy or a replacement deletes the load balancer that every app server goes through; leave it out (on), or say why in policySuppressions: { "rule": "${DELETION_PROTECTION_RULE}", "path": "${constructIds.proxy}", "reason": "..." }`,
    });
  }
  const size = fleet.size === undefined ? undefined : fleetSizeProblem(fleet.size, subnets.length);
  if (size) issues.push({ path: ["proxy", "fleet", "size"], message: `${size}, or leave size out` });
  if (fleet.loadBalancerAddresses !== undefined) {
    const problem = loadBalancerAddressCountProblem(fleet.loadBalancerAddresses.length, subnets.length);
    if (problem) issues.push({ path: ["proxy", "fleet", "loadBalancerAddresses"], message: problem });
    fleet.loadBalancerAddresses.forEach((address, i) => {
      const subnet = subnets[i]?.cidr;
      const problem = subnet && subnetHostProblem(address, subnet);
      if (problem)
        issues.push({
          path: ["proxy", "fleet", "loadBalancerAddresses", i],
          message: `${problem}; address ${i} belongs in the proxy VPC's subnet ${i}`,
        });
    });
  }
  return issues;
}
