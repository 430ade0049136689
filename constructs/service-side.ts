import { Construct } from "constructs";
import { outermostBlocks } from "../lib/cidr";
import { ServiceConfig, ServiceSideConfig, servicePorts } from "../lib/config";
import { constructIds, SERVICE_VPC, vpcName } from "../lib/naming";
import { DirectConnectAttachment } from "./direct-connect-attachment";
import type { InstanceRole } from "./instance-role";
import { Network, NetworkProps } from "./network";
import type { INetwork } from "./network-ref";
import { Peering } from "./peering";
import { serverSettings } from "./server";
import { ServiceServer } from "./service-server";

/** Props of {@link ServiceSide}. */
export interface ServiceSideProps {
  /** The environment's name, for names. */
  readonly environment: string;
  /** How the proxy VPC reaches the service, as the environment file gives it. */
  readonly side: ServiceSideConfig;
  /** The services: their blocks are routed to the service side, their ports opened there. */
  readonly services: readonly ServiceConfig[];
  /** The proxy VPC. */
  readonly proxyNetwork: INetwork;
  /** What a created VPC shares with the environment's other VPCs: region and flow logs. */
  readonly networkDefaults: Pick<NetworkProps, "region" | "flowLogs">;
  /** The role of the stand-in service's server. */
  readonly serverRole: InstanceRole;
  /** The stand-in service's fixed address (verification). @default one AWS picks */
  readonly serverPrivateIp?: string;
  /** Domains the stand-in answers as the provider's DNS (verification, with DNS forwarding). @default no DNS */
  readonly dnsDomains?: readonly string[];
}

/**
 * The proxy VPC's way to the service: in verification a service VPC peered with the proxy VPC,
 * running httpd that accepts only the proxy VPC's block; in production a virtual private gateway
 * (and perhaps a Direct Connect gateway association) with routes to exactly the services' blocks.
 */
export class ServiceSide extends Construct {
  /** The peering with the stand-in service VPC (verification only). */
  public readonly peering?: Peering;
  /** The stand-in service (verification only). */
  public readonly service?: ServiceServer;
  /** The Direct Connect side (production only). */
  public readonly attachment?: DirectConnectAttachment;

  constructor(scope: Construct, id: string, props: ServiceSideProps) {
    super(scope, id);
    if (props.services.length === 0) throw new Error("ServiceSide: services is empty; give at least one service");
    const destinations = outermostBlocks(props.services.map((s) => s.cidr));
    const side = props.side;
    if (side.type === "peeredVpc") {
      const network = new Network(this, constructIds.linkVpc, {
        ...props.networkDefaults,
        name: vpcName(props.environment, SERVICE_VPC),
        cidr: side.vpc.cidr,
        subnets: side.vpc.subnets,
        enableSessionManagerEndpoints: side.vpc.sessionManagerEndpoints,
      });
      this.peering = new Peering(this, constructIds.linkPeering, {
        requester: props.proxyNetwork,
        accepter: network,
        requesterDestinations: destinations,
      });
      this.service = new ServiceServer(this, constructIds.linkServer, {
        environment: props.environment,
        network,
        allowedFrom: props.proxyNetwork,
        ports: props.services.flatMap(servicePorts),
        privateIp: props.serverPrivateIp,
        dnsDomains: props.dnsDomains,
        ...serverSettings({ ...side.server, role: props.serverRole }),
      });
    } else {
      this.attachment = new DirectConnectAttachment(this, "DirectConnect", {
        network: props.proxyNetwork,
        destinations,
        routing: side.routing,
        amazonSideAsn: side.amazonSideAsn,
        directConnectGatewayId: side.type === "directConnectGateway" ? side.directConnectGatewayId : undefined,
      });
    }
  }
}
