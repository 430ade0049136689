import { Construct } from "constructs";
import { serverNames } from "../lib/naming";
import { renderAppServerUserData } from "../lib/user-data";
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
  /** The proxy that the server's proxy setting points at. */
  readonly proxy: IProxyEndpoint;
  /** Hosts reached without the proxy; keep 169.254.169.254 in it. */
  readonly bypass: readonly string[];
}

/**
 * A Windows app server as in the original experiment, with its proxy set machine-wide (WinINET
 * per-machine policy and WinHTTP). It may send only to the proxy's port, and nothing may connect
 * to it: administrators use Session Manager.
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
      userData: renderAppServerUserData({ proxy: `${props.proxy.host}:${props.proxy.port}`, bypass: props.bypass }),
    });
    for (const address of props.proxy.addresses) {
      this.server.securityGroup.allowTcpOut(Peer.cidr(`${address}/32`), props.proxy.port, "HTTP(S) through the Squid proxy");
    }
  }
}
