/**
 * Validation rules shared by the environment file's checks and the constructs' own guards. Each
 * returns what is wrong with a value, to follow the value's name (a setting's path or a prop), or
 * undefined when the value passes; so each message is written once.
 */
import { cidrContains, cidrProblem, cidrsOverlap } from "../cidr";

const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;

/** A setting (subnets, appServer) given for an existing VPC, which takes only a created VPC's settings. */
export function createdVpcOnlyProblem(existing: boolean, value: unknown): string | undefined {
  return existing && value !== undefined
    ? "is set for an existing VPC; the project adds nothing to it but the peering and its routes. Remove it"
    : undefined;
}

/** A created VPC's subnets: at least one. */
export function createdVpcSubnetsProblem(existing: boolean, subnets: readonly unknown[] | undefined): string | undefined {
  if (existing || (subnets !== undefined && subnets.length > 0)) return undefined;
  return `is ${subnets === undefined ? "missing" : "empty"}; a created VPC needs at least one subnet (or set existing to use a VPC that exists)`;
}

/** A subnet's block: well formed and inside its VPC's. */
export function subnetOutsideVpcProblem(vpcCidr: string, subnetCidr: string): string | undefined {
  const malformed = cidrProblem(subnetCidr);
  if (malformed) return malformed;
  return cidrContains(vpcCidr, subnetCidr) ? undefined : `is not inside the VPC's block ${vpcCidr}; pick a subnet block within it`;
}

/** The zone of subnet `index`: not the zone of an earlier subnet of the same VPC. */
export function repeatedZoneProblem(zones: readonly string[], index: number): string | undefined {
  return zones.indexOf(zones[index]) < index
    ? "is the zone of an earlier subnet of the same VPC; give at most one subnet per zone"
    : undefined;
}

/** Two VPCs peered or routed together: disjoint blocks. `otherName` names the other block in the message. */
export function vpcOverlapProblem(cidr: string, otherName: string, otherCidr: string): string | undefined {
  return cidrsOverlap(otherCidr, cidr)
    ? `overlaps ${otherName} ${otherCidr}; VPCs that are peered or routed together need disjoint blocks`
    : undefined;
}

/** The subnets a proxy fleet spreads over: at least two. */
export function fleetSubnetCountProblem(subnetCount: number): string | undefined {
  return subnetCount < 2 ? `has ${count(subnetCount, "subnet")}; a fleet spreads over at least two subnets in two zones` : undefined;
}

/** A fleet's size that is not a whole number. */
export const FLEET_SIZE_NOT_WHOLE = "must be a whole number of proxies, at least 2";
/** A fleet of fewer than two proxies. */
export const FLEET_SIZE_BELOW_TWO = "is below 2; a fleet needs at least two proxies";

/** A fleet's size: a whole number, at least two, and at least one proxy per subnet. */
export function fleetSizeProblem(size: number, subnetCount: number): string | undefined {
  if (!Number.isInteger(size)) return FLEET_SIZE_NOT_WHOLE;
  if (size < 2) return FLEET_SIZE_BELOW_TWO;
  return size < subnetCount ? `is below the ${subnetCount} proxy subnets; give at least one proxy per subnet (zone)` : undefined;
}

/** The load balancer's addresses: one per proxy subnet. */
export function loadBalancerAddressCountProblem(addressCount: number, subnetCount: number): string | undefined {
  return addressCount !== subnetCount
    ? `lists ${addressCount} addresses for ${subnetCount} proxy subnets; give one per subnet, in the subnets' order`
    : undefined;
}

/** The domain of forwarding rule `index`: not forwarded by an earlier rule. `ruleName` names that rule in the message. */
export function repeatedForwardProblem(
  domains: readonly string[],
  index: number,
  ruleName: (earlier: number) => string,
): string | undefined {
  const earlier = domains.indexOf(domains[index]);
  return earlier < index
    ? `is forwarded by ${ruleName(earlier)} already; give each domain one rule (list all its servers there)`
    : undefined;
}

/** A Route 53 Resolver endpoint's subnets, by zone: at least two zones. */
export function resolverZonesProblem(zones: readonly (string | undefined)[]): string | undefined {
  if (new Set(zones).size >= 2) return undefined;
  const where = zones.length === 0 ? "has no subnets" : `has all its subnets in ${zones[0]}`;
  return `${where}; a Route 53 Resolver endpoint needs subnets in at least two zones`;
}

/** Why `value` is not a principal an endpoint service may allow (an account id or an IAM ARN), or undefined when it is. */
export function principalProblem(value: string): string | undefined {
  if (value.trim() === "*")
    return "is '*', which would let every AWS account make an endpoint to the proxy; name the accounts of the app VPCs (12-digit ids)";
  if (/^\d{12}$/.test(value) || /^arn:aws[a-z-]*:iam::\d{12}:(root|role\/[\w+=,.@/-]+|user\/[\w+=,.@/-]+)$/.test(value)) return undefined;
  return "is neither a 12-digit account id nor an IAM ARN such as arn:aws:iam::111122223333:root, arn:aws:iam::111122223333:role/name or arn:aws:iam::111122223333:user/name";
}

/** Two app VPCs' blocks with peering or a Transit Gateway: disjoint, or PrivateLink. `otherName` names the other block. */
export function appVpcsOverlapProblem(cidr: string, otherName: string, otherCidr: string): string | undefined {
  return cidrsOverlap(otherCidr, cidr)
    ? `overlaps ${otherName} ${otherCidr}; app VPCs that are peered or routed through a Transit Gateway need disjoint blocks (the proxy VPC routes each block back to one VPC). App VPCs that share a block can reach the proxy with connectivity.type "privateLink", which routes nothing between VPCs`
    : undefined;
}

/** An app VPC's block with PrivateLink: apart from the proxy VPC's, whose load balancer addresses Squid trusts to say who the client is. */
export function privateLinkProxyOverlapProblem(cidr: string, proxyCidr: string): string | undefined {
  return cidrsOverlap(proxyCidr, cidr)
    ? `overlaps \`proxyVpc.cidr\` ${proxyCidr}; even with privateLink app blocks stay apart from the proxy VPC: Squid trusts the PROXY protocol header (the app server's address) only from the load balancer's addresses in that block, and the proxy's log could not tell an app server from a proxy VPC address. Pick another block for the app VPC`
    : undefined;
}

/** An interface endpoint's subnet: one of its VPC's own subnets. */
export function endpointSubnetOutsideVpcProblem(subnetId: string, vpcName: string): string {
  return `${subnetId} is not a subnet of ${vpcName}; an interface endpoint places its addresses in subnets of its own VPC`;
}

/** An interface endpoint's zone: one where the endpoint service's load balancer has a node. */
export function endpointZoneProblem(zone: string, serviceZones: readonly string[]): string | undefined {
  return serviceZones.includes(zone)
    ? undefined
    : `is ${zone}, where the proxy's load balancer has no node (the proxy subnets are in ${serviceZones.join(", ")}), and an interface endpoint can use only its service's zones; move the subnet to one of them, or add a proxy subnet in ${zone}`;
}

/** An existing app VPC's route tables: required where routes join it to the proxy VPC, refused with PrivateLink, which routes nothing. */
export function routeTablesProblem(privateLink: boolean, routeTableIds: unknown): string | undefined {
  if (privateLink && routeTableIds !== undefined)
    return 'is a routing setting, but connectivity.type is "privateLink", which adds no route to an app VPC; remove it';
  if (!privateLink && routeTableIds === undefined)
    return 'is missing; the route tables that learn the proxy VPC\'s block are needed: their ids, such as ["rtb-0123456789abcdef0"], or "all"';
  return undefined;
}
