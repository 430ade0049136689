import { Construct } from "constructs";
import { serverNames } from "../lib/naming";
import { renderAppServerUserData, renderDirectAppServerUserData } from "../lib/user-data";
import type { INetwork } from "./network-ref";
import type { IAppServerEgress } from "./egress/egress";
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
  /** The environment's egress: the server's proxy setting (or none) and what it may send to. */
  readonly egress: IAppServerEgress;
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
      userData:
        props.egress.proxySetting === undefined
          ? renderDirectAppServerUserData()
          : renderAppServerUserData({ proxy: props.egress.proxySetting, bypass: props.bypass }),
    });
    for (const rule of props.egress.appServerRules) {
      this.server.securityGroup.allowTcpOut(Peer.cidr(rule.cidr), rule.port, rule.description);
    }
  }
}
