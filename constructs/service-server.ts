import { Construct } from "constructs";
import { serverNames } from "../lib/naming";
import type { ServicePort } from "../lib/squid";
import { renderServiceUserData, StandInDns } from "../lib/user-data";
import { DNS_PORT } from "./dns-forwarding";
import type { INetwork } from "./network-ref";
import { Peer } from "./security-group";
import { Server, serverSettings, ServerSettings } from "./server";

/** Props of {@link ServiceServer}. */
export interface ServiceServerProps extends ServerSettings {
  /** The environment's name, for names and the page. */
  readonly environment: string;
  /** The service VPC that stands in for the Direct Connect side. */
  readonly network: INetwork;
  /** The only network allowed in: the proxy VPC, the range the provider dictates. */
  readonly allowedFrom: INetwork;
  /** The TCP ports httpd listens on, plain HTTP or TLS. */
  readonly ports: readonly ServicePort[];
  /** A fixed private address. @default one AWS picks */
  readonly privateIp?: string;
  /** Domains that dnsmasq answers with the server's address, standing in for the provider's DNS. Needs `privateIp`. @default no DNS */
  readonly dnsDomains?: readonly string[];
}

/**
 * httpd standing in for the external service. Like the real one, it accepts connections only from
 * the dictated range: the proxy VPC.
 */
export class ServiceServer extends Construct {
  /** The server underneath. */
  public readonly server: Server;

  constructor(scope: Construct, id: string, props: ServiceServerProps) {
    super(scope, id);
    if (props.ports.length === 0) throw new Error("ServiceServer: ports is empty; give at least one port");
    if (props.dnsDomains && props.privateIp === undefined)
      throw new Error("ServiceServer: dnsDomains needs privateIp, the address the forwarding rules send queries to");
    const dns: StandInDns | undefined =
      props.dnsDomains && props.privateIp ? { domains: props.dnsDomains, address: props.privateIp } : undefined;
    this.server = new Server(this, "Server", {
      network: props.network,
      name: serverNames.service(props.environment),
      description: `Stand-in for the external service of ${props.environment}: its ports from the proxy VPC only`,
      ...serverSettings(props),
      privateIp: props.privateIp,
      userData: renderServiceUserData(props.environment, props.ports, dns),
    });
    for (const port of [...new Set(props.ports.map((p) => p.port))]) {
      this.server.securityGroup.allowTcpIn(
        Peer.cidr(props.allowedFrom.cidr),
        port,
        `Port ${port} from the proxy VPC ${props.allowedFrom.name}`,
      );
    }
    if (dns) {
      // The resolver endpoint's addresses lie in the proxy VPC: the provider's DNS accepts that range only.
      this.server.securityGroup.allowUdpIn(
        Peer.cidr(props.allowedFrom.cidr),
        DNS_PORT,
        `DNS (UDP) from the proxy VPC ${props.allowedFrom.name}`,
      );
      this.server.securityGroup.allowTcpIn(
        Peer.cidr(props.allowedFrom.cidr),
        DNS_PORT,
        `DNS (TCP) from the proxy VPC ${props.allowedFrom.name}`,
      );
    }
  }
}
