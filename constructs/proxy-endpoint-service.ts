import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { VpcEndpointConnectionAccepter } from "@cdktf/provider-aws/lib/vpc-endpoint-connection-accepter";
import { VpcEndpointService } from "@cdktf/provider-aws/lib/vpc-endpoint-service";
import { Token } from "cdktf";
import { Construct } from "constructs";
import { endpointServicePrincipals } from "../lib/config/egress";
import { principalProblem } from "../lib/config/rules";
import { privateLinkNames } from "../lib/naming";

/** Props of {@link ProxyEndpointService}. */
export interface ProxyEndpointServiceProps {
  /** The environment's name, for names. */
  readonly environment: string;
  /** The Network Load Balancer in front of the proxies, which the service offers. */
  readonly loadBalancerArn: string;
  /**
   * Each endpoint's connection waits until it is accepted; the stack accepts its own app VPCs'
   * endpoints ({@link accept}), so only endpoints made elsewhere wait for an operator.
   * @default false: an allowed principal's endpoint connects at once
   */
  readonly acceptanceRequired?: boolean;
  /**
   * Who else may create endpoints: 12-digit account ids (made root ARNs in the stack's partition)
   * or IAM ARNs of accounts, roles or users; never `*`.
   * @default none beyond the stack's own account and `appAccounts`
   */
  readonly allowedPrincipals?: readonly string[];
  /**
   * Accounts of app VPCs that are not the stack's, whose endpoints the stack makes there.
   * @default none
   */
  readonly appAccounts?: readonly string[];
}

/**
 * The proxy fleet's load balancer offered as a VPC endpoint service (AWS PrivateLink): app VPCs
 * reach the proxies through interface endpoints of their own, with no route between VPCs. Only
 * the stack's own account, the app VPCs' accounts and the principals named may make endpoints.
 */
export class ProxyEndpointService extends Construct {
  /** The endpoint service. */
  public readonly resource: VpcEndpointService;
  /** The service's id (vpce-svc-...). */
  public readonly serviceId: string;
  /** The service name that interface endpoints name (com.amazonaws.vpce.<region>.vpce-svc-...). */
  public readonly serviceName: string;
  /** The principals allowed to make endpoints, as ARNs (tokens where they name the stack's account). */
  public readonly allowedPrincipals: readonly string[];
  /** Whether each endpoint's connection waits for acceptance. */
  public readonly acceptanceRequired: boolean;

  constructor(scope: Construct, id: string, props: ProxyEndpointServiceProps) {
    super(scope, id);
    for (const principal of [...(props.allowedPrincipals ?? []), ...(props.appAccounts ?? [])]) {
      const problem = Token.isUnresolved(principal) ? undefined : principalProblem(principal);
      if (problem) throw new Error(`ProxyEndpointService ${id}: principal "${principal}" ${problem}`);
    }
    const partition = new DataAwsPartition(this, "Partition").partition;
    const self = new DataAwsCallerIdentity(this, "Account").accountId;
    this.allowedPrincipals = endpointServicePrincipals(
      { appAccounts: props.appAccounts ?? [], allowedPrincipals: props.allowedPrincipals ?? [] },
      partition,
      self,
    );
    this.acceptanceRequired = props.acceptanceRequired ?? false;
    const name = privateLinkNames.endpointService(props.environment);
    this.resource = new VpcEndpointService(this, "Resource", {
      networkLoadBalancerArns: [props.loadBalancerArn],
      acceptanceRequired: this.acceptanceRequired,
      allowedPrincipals: [...this.allowedPrincipals],
      supportedIpAddressTypes: ["ipv4"],
      tags: { Name: name },
    });
    this.serviceId = this.resource.id;
    this.serviceName = this.resource.serviceName;
  }

  /**
   * Accepts an interface endpoint's connection in `scope`, when acceptance is required; the
   * service's account accepts, whichever account made the endpoint. Returns undefined otherwise.
   */
  public accept(scope: Construct, id: string, endpointId: string): VpcEndpointConnectionAccepter | undefined {
    if (!this.acceptanceRequired) return undefined;
    return new VpcEndpointConnectionAccepter(scope, id, { vpcEndpointServiceId: this.serviceId, vpcEndpointId: endpointId });
  }
}
