import { Construct } from "constructs";
import { serverNames } from "../lib/naming";
import { renderAppServerUserData, renderDirectAppServerUserData } from "../lib/user-data";
import type { INetwork } from "./network-ref";
import type { IProxyEndpoint } from "./proxy-server";
import { Peer } from "./security-group";
import { Server, serverSettings, ServerSettings } from "./server";

/** Props of {@link AppServer}. */
export interface AppServerProps extends ServerSettings {
  /** The environment's name, for names. */
  readonly environment: string;
  /** The app VPC's name within the environment, for names. */
  readonly appName: string;
  /** The app VPC, one the project creates. */
  readonly network: INetwork;
  /**
   * The proxy that the server's proxy setting points at.
   * @default no proxy: the server reaches `direct` itself (a NAT gateway relays it)
   */
  readonly proxy?: IProxyEndpoint;
  /** Without a proxy: the blocks and ports the server may send to. @default none */
  readonly direct?: readonly { readonly name: string; readonly cidr: string; readonly ports: readonly number[] }[];
  /** Hosts reached without the proxy; keep 169.254.169.254 in it. */
  readonly bypass: readonly string[];
}

/**
 * A Windows app server as in the original experiment, with its proxy set machine-wide (WinINET
 * per-machine policy and WinHTTP). It may send only to the proxy's port (or, behind a private NAT
 * gateway, only to the services' ports), and nothing may connect to it: administrators use
 * Session Manager.
 */
export class AppServer extends Construct {
  /** The server underneath. */
  public readonly server: Server;

  constructor(scope: Construct, id: string, props: AppServerProps) {
    super(scope, id);
    this.server = new Server(this, "Server", {
      network: props.network,
      name: serverNames.appServer(props.environment, props.appName),
      description: `Windows app server of ${props.environment} in ${props.network.name}: out to the proxy only`,
      ...serverSettings(props),
      userData: props.proxy
        ? renderAppServerUserData({ proxy: `${props.proxy.host}:${props.proxy.port}`, bypass: props.bypass })
        : renderDirectAppServerUserData(),
    });
    if (props.proxy && props.direct?.length) throw new Error(`AppServer ${id}: give a proxy or direct destinations, not both`);
    for (const address of props.proxy?.addresses ?? []) {
      this.server.securityGroup.allowTcpOut(Peer.cidr(`${address}/32`), props.proxy!.port, "HTTP(S) through the Squid proxy");
    }
    for (const service of props.direct ?? []) {
      for (const port of service.ports)
        this.server.securityGroup.allowTcpOut(
          Peer.cidr(service.cidr),
          port,
          `To ${service.name} on ${port}, through the private NAT gateway`,
        );
    }
  }
}
