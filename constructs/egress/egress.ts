import type { Construct } from "constructs";
import type { EnvironmentConfig, Egress } from "../../lib/config";
import type { Network } from "../network";

/** A rule an app server's security group needs: TCP out to `cidr` on `port`. */
export interface EgressRule {
  readonly cidr: string;
  readonly port: number;
  /** The rule's description. */
  readonly description: string;
}

/** A stack output an egress adds; the stack creates it, so its name is the output's name. */
export interface EgressOutput {
  readonly name: string;
  readonly value: string | readonly string[];
  readonly description: string;
}

/** Where app servers send their requests, whatever stands in front of Squid. */
export interface IProxyEndpoint {
  /** The host of the app servers' proxy setting: an address, or a DNS name that no single zone carries. */
  readonly host: string;
  /** The addresses app servers connect to, for their security group rules. */
  readonly addresses: readonly string[];
  /** The port Squid listens on. */
  readonly port: number;
}

/** A Squid proxy of an environment: one instance or a fleet. */
export interface IProxy extends IProxyEndpoint {
  /** `http://host:port`, for proxy settings. */
  readonly proxyUrl: string;
  /** The squid.conf that every proxy's user data installs. */
  readonly squidConf: string;
  /** The CloudWatch Logs group that receives Squid's access log. */
  readonly accessLogGroupName: string;
}

/** How app servers use an egress: their proxy setting and what they may send to. */
export interface IAppServerEgress {
  /** The app servers' proxy setting, host:port. @default none: app servers reach the services directly */
  readonly proxySetting?: string;
  /** What an app server may send to: the proxy on its port, or each service's block on its ports. */
  readonly appServerRules: readonly EgressRule[];
}

/**
 * How traffic leaves the proxy VPC, whatever relays it: what the app VPCs route to and point at,
 * the outputs, and the source the service sees. Implemented by the single proxy, the fleet and the
 * private NAT gateways.
 */
export interface IEgress extends IAppServerEgress {
  /** Which kind of egress this is, as the environment's {@link Egress} names it. */
  readonly kind: Egress["kind"];
  /** What an app VPC sends to the proxy VPC through a Transit Gateway: the proxy's addresses (/32) or the services' blocks. */
  readonly destinations: readonly string[];
  /** The proxy VPC's subnets that a Transit Gateway attaches in. */
  readonly attachmentSubnetIds: readonly string[];
  /** The blocks the service sees app traffic come from, all inside the proxy VPC's dictated block. */
  readonly sourceBlocks: readonly string[];
  /** The stack outputs this egress adds. */
  readonly outputs: readonly EgressOutput[];
  /** The Squid proxy, for what reads its configuration. @default none: no Squid relays */
  readonly proxy?: IProxy;
  /** The load balancer an endpoint service offers, when app VPCs connect by PrivateLink. @default none: reached by routes */
  readonly privateLink?: IPrivateLinkTarget;
}

/** A proxy fleet's side of PrivateLink: the load balancer an endpoint service offers, and Squid's knowledge of the endpoints. */
export interface IPrivateLinkTarget {
  /** The Network Load Balancer in front of the proxies. */
  readonly loadBalancerArn: string;
  /** Tells Squid that requests through `endpointId` (a VPC endpoint's id, a token) come from app VPC `client` (its Squid client name). */
  addEndpoint(client: string, endpointId: string): void;
}

/** What an egress is built from: the environment and its proxy VPC. */
export interface EgressContext {
  readonly config: EnvironmentConfig;
  readonly network: Network;
}

/** One kind of egress, as aws-cdk's NatProvider: what it needs of the proxy VPC, then how it is built. */
export interface EgressProvider {
  /** Whether the proxy VPC gets an S3 gateway endpoint (Squid installs from Amazon Linux's S3 repositories). */
  readonly s3Endpoint: boolean;
  /** Interface endpoints beyond Session Manager's, where the proxy VPC has those (Squid ships its access log). */
  readonly interfaceEndpoints: readonly string[];
  /** Builds the egress in `stack`, in the proxy VPC. */
  provide(stack: Construct, context: EgressContext): IEgress;
}
