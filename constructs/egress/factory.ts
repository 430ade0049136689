import type { Egress } from "../../lib/config";
import type { EgressProvider } from "./egress";
import { PrivateNatEgress } from "./private-nat-egress";
import { ProxyFleet } from "./proxy-fleet";
import { ProxyServer } from "./proxy-server";

/** The provider of an environment's egress: the one place that turns the union's kind into a construct. */
export function egressProvider(egress: Egress): EgressProvider {
  switch (egress.kind) {
    case "proxy":
      return ProxyServer.provider(egress);
    case "fleet":
      return ProxyFleet.provider(egress);
    case "privateNat":
      return PrivateNatEgress.provider(egress);
  }
}
