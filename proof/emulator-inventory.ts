/**
 * What proof/emulator/emulator_api.py reads back of the emulator, as the rehearsal's judgements take it, and how
 * they find an environment's VPCs in it.
 */
import { EnvironmentConfig } from "../lib/config";
import { vpcName } from "../lib/naming";

/** What proof/emulator/emulator_api.py reports of the emulator's contents. */
export interface EmulatorInventory {
  readonly instances: readonly {
    id: string;
    name?: string;
    state: string;
    privateIp?: string;
    publicIp?: string;
    httpTokens?: string;
    userData?: string | null;
    securityGroups: string[];
  }[];
  readonly vpcs: readonly { id: string; cidr: string; name?: string; project?: string }[];
  readonly peerings: readonly {
    id: string;
    status: string;
    requesterCidr?: string;
    accepterCidr?: string;
    requesterVpcId?: string;
    accepterVpcId?: string;
  }[];
  readonly routes: readonly {
    vpcId: string;
    routeTableId?: string;
    destination?: string;
    peering?: string;
    transitGateway?: string;
    natGateway?: string;
  }[];
  readonly subnets?: readonly { id: string; vpcId: string; cidr: string; zone: string }[];
  readonly transitGateways?: readonly {
    id: string;
    state: string;
    defaultAssociation?: string;
    defaultPropagation?: string;
    autoAccept?: string;
  }[];
  readonly tgwAttachments?: readonly {
    id: string;
    transitGatewayId: string;
    vpcId: string;
    subnetIds: string[];
    state: string;
    applianceMode?: string;
  }[];
  readonly tgwRouteTables?: readonly {
    id: string;
    transitGatewayId: string;
    name?: string;
    associations: string[];
    propagations: string[];
    routes: { destination?: string; type?: string; state?: string; attachments: string[] }[];
  }[];
  readonly natGateways?: readonly { id: string; subnetId: string; connectivity?: string; state: string; privateIp?: string | null }[];
  readonly resolverEndpoints?: readonly {
    id: string;
    name?: string;
    direction: string;
    status: string;
    vpcId?: string;
    securityGroups: string[];
    addresses: { subnetId: string; ip?: string }[];
  }[];
  readonly resolverRules?: readonly {
    id: string;
    name?: string;
    domain: string;
    type: string;
    endpointId?: string;
    targets: { ip?: string; port?: number }[];
  }[];
  readonly resolverRuleAssociations?: readonly { id: string; ruleId: string; vpcId: string; status?: string }[];
  readonly securityGroups: readonly {
    id: string;
    name: string;
    vpcId?: string;
    /** Inbound rules, one per permission; the groups a rule admits by id. */
    ingress?: { protocol?: string; fromPort?: number; toPort?: number; cidrs: string[]; groups: string[] }[];
  }[];
  readonly vpcEndpoints: readonly string[];
  readonly interfaceEndpoints?: readonly {
    id: string;
    name?: string;
    vpcId: string;
    serviceName: string;
    state: string;
    subnetIds: string[];
    securityGroups: string[];
    dnsNames: string[];
  }[];
  readonly endpointServices?: readonly {
    id: string;
    name?: string;
    serviceName: string;
    state?: string;
    acceptanceRequired?: boolean;
    loadBalancers: string[];
    /** As DescribeVpcEndpointServicePermissions lists them. */
    principals: string[];
  }[];
  readonly networkInterfaces: readonly { id: string; status: string; attachedToTerminated: boolean; ofDeletedNatGateway?: boolean }[];
  readonly iamRoles: readonly string[];
  readonly instanceProfiles: readonly string[];
  readonly logGroups: readonly string[];
  readonly alarms: readonly string[];
  readonly flowLogs: readonly string[];
  readonly loadBalancers?: readonly {
    arn: string;
    name: string;
    dnsName?: string;
    scheme?: string;
    type?: string;
    addresses: string[];
    listeners: { port: number; protocol: string; targetGroups: string[] }[];
    securityGroups?: string[];
    /** EnforceSecurityGroupInboundRulesOnPrivateLinkTraffic: "on", "off", or none when never set. */
    enforcePrivateLinkInbound?: string | null;
  }[];
  readonly targetGroups?: readonly {
    arn: string;
    name: string;
    protocol?: string;
    port?: number;
    preserveClientIp?: string;
    deregistrationDelaySeconds?: string;
    proxyProtocolV2?: string;
  }[];
  readonly autoScalingGroups?: readonly {
    name: string;
    desired: number;
    instances: string[];
    launchTemplate: { LaunchTemplateId?: string; Version?: string };
    targetGroups: string[];
    healthCheckType?: string;
    zones: number;
    /** The group's instance refreshes, newest first. */
    refreshes?: { status: string; minHealthyPercentage?: number | null; maxHealthyPercentage?: number | null }[];
  }[];
  /** The allowlist parameter as SSM reads it back (scripts/rehearse.ts adds it; emulator_api.py reads no SSM). */
  readonly allowlistParameter?: { readonly name: string; readonly value: string; readonly version: number };
  readonly launchTemplates?: readonly {
    id: string;
    name: string;
    latestVersion: number;
    instanceType?: string;
    httpTokens?: string;
    encrypted: string[];
    userData?: string | null;
  }[];
}

/** Stack outputs as `cdktf deploy --outputs-file` writes them. */
export type StackOutputs = Record<string, string>;

export type Vpc = EmulatorInventory["vpcs"][number];

/** A VPC of the environment by its Name tag (`vpcName`): app VPCs may share a block (PrivateLink), never a name. */
export function vpcNamed(env: EnvironmentConfig, inv: EmulatorInventory, vpc: string): Vpc | undefined {
  return inv.vpcs.find((v) => v.name === vpcName(env.name, vpc));
}
