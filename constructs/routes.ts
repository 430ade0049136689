import { Route } from "@cdktf/provider-aws/lib/route";
import { ITerraformDependable, TerraformIterator } from "cdktf";
import { Construct } from "constructs";
import type { INetwork } from "./network-ref";

/** Where routes send their destinations: a peering, a Transit Gateway or a NAT gateway. */
export type RouteTarget =
  { readonly vpcPeeringConnectionId: string } | { readonly transitGatewayId: string } | { readonly natGatewayId: string };

/**
 * Routes from every route table of `side` to `target`, one per destination, in a scope named `id`:
 * a route per known table (construct id `<table>-<destination>`), or one per destination over the
 * tables looked up when planning. `dependsOn` holds what must exist before AWS takes such a route
 * (a Transit Gateway route needs the VPC's attachment).
 */
export function routesTo(
  scope: Construct,
  id: string,
  side: INetwork,
  destinations: readonly string[],
  target: RouteTarget,
  dependsOn?: ITerraformDependable[],
): Route[] {
  const routes = new Construct(scope, id);
  const key = (destination: string) => destination.replace(/[./]/g, "_");
  const common = (destination: string) => ({ destinationCidrBlock: destination, ...target, provider: side.provider, dependsOn });
  const tables = side.routeTables;
  if ("lookedUp" in tables) {
    return [...new Set(destinations)].map((destination) => {
      const each = TerraformIterator.fromList(tables.lookedUp);
      return new Route(routes, `EachTable-${key(destination)}`, { forEach: each, routeTableId: each.value, ...common(destination) });
    });
  }
  return tables.known.flatMap((table) =>
    [...new Set(destinations)].map(
      (destination) => new Route(routes, `${table.key}-${key(destination)}`, { routeTableId: table.id, ...common(destination) }),
    ),
  );
}
