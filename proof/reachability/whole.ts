/**
 * The whole-network check of a stack: every place and traffic class judged, the environment's invariants checked, the paths it
 * needs found allowed, then the same with each availability zone taken out in turn.
 */
import { EnvironmentConfig, flowEndName } from "../../lib/config";
import { TerraformJson } from "../../lib/tf-json";
import { checkInvariants, factsOf, Facts, InvariantResult } from "./invariants";
import { Model } from "./model";
import { analyzeNetwork, Network } from "./network";
import { ExpectedPath, expectedPaths, judgePath, PathResult, proxyEntry } from "./paths";
import { surroundingsOf } from "./report";
import { withoutZone, zonesOf } from "./zones";

/** How an expected path fares without a zone. */
export interface DegradedPath extends PathResult {
  /** "survives"; "lost" (an end, or the whole egress, ran only in the zone: reported, not a violation); "broken" (a violation). */
  readonly outcome: "survives" | "lost" | "broken";
  /** Why it is lost or broken. */
  readonly why?: string;
}

/** The checks with one zone taken out. */
export interface ZoneResult {
  readonly zone: string;
  readonly invariants: readonly InvariantResult[];
  readonly paths: readonly DegradedPath[];
}

/** The whole-network check of one stack. */
export interface WholeNetworkResult {
  readonly network: Network;
  readonly invariants: readonly InvariantResult[];
  readonly paths: readonly PathResult[];
  readonly zones: readonly ZoneResult[];
  /** The zones the egress runs in (the proxies, load balancer nodes, NAT gateways). */
  readonly egressZones: readonly string[];
}

/** The network of `model` for `facts`: the services' blocks count as inside, the DNS servers as addresses of their own. */
function networkOf(model: Model, facts: Facts): Network {
  return analyzeNetwork(
    model,
    facts.services.map((s) => s.cidr),
    facts.dnsServers,
  );
}

/** The places traffic leaves the proxy VPC through (the proxy's entry and the proxy, the NAT gateways), and their zones. */
interface Egress {
  readonly names: readonly string[];
  readonly zones: readonly string[];
}

/** The egress of `network`. */
function egressOf(network: Network, env: EnvironmentConfig): Egress {
  const proxy = flowEndName(env, "proxy");
  const names = new Set([proxy, proxyEntry(network, proxy)]);
  const places = network.places.filter((p) => names.has(p.name) || p.kind === "nat");
  const zones = places.flatMap((p) => p.spots.map((s) => network.model.subnets.get(s.subnet)?.zone ?? ""));
  return { names: places.map((p) => p.name), zones: [...new Set(zones.filter((z) => z !== ""))].sort() };
}

/** An expected path without `zone`: survives, lost with an end or the whole egress, or broken while its ends and egress remain. */
function degraded(network: Network, path: ExpectedPath, zone: string, egress: Egress): DegradedPath {
  const { zones: egressZones, names: egressNames } = egress;
  const result = judgePath(network, path);
  if (result.allowed) return { ...result, outcome: "survives" };
  const elsewhere = egressZones.filter((z) => z !== zone);
  if (result.lost) {
    const place = result.lost.replace(/ is not in the network$/, "");
    if (!egressNames.includes(place)) return { ...result, outcome: "lost", why: `${place} runs only in ${zone}` };
    if (elsewhere.length === 0)
      return {
        ...result,
        outcome: "lost",
        why: `${place} runs only in ${zone}: the egress runs in that zone only, so losing it loses the path`,
      };
    return { ...result, outcome: "broken", why: `${place} runs only in ${zone}, though the egress runs in ${elsewhere.join(", ")} too` };
  }
  if (elsewhere.length === 0) return { ...result, outcome: "lost", why: `the egress runs only in ${zone}, so losing it loses the path` };
  return {
    ...result,
    outcome: "broken",
    why: `its ends remain and the egress runs in ${elsewhere.join(", ")} too, yet it is blocked`,
  };
}

/** Checks the whole network of `stack` (its environment `env`), then each zone taken out in turn. */
export function checkWholeNetwork(stack: TerraformJson, env: EnvironmentConfig): WholeNetworkResult {
  const surroundings = surroundingsOf(env);
  const facts = factsOf(env);
  const model = new Model(stack, surroundings);
  const network = networkOf(model, facts);
  const paths = expectedPaths(env, network);
  const egress = egressOf(network, env);
  const zones = zonesOf(model).map((zone) => {
    const without = networkOf(withoutZone(stack, surroundings, zone), facts);
    return {
      zone,
      invariants: checkInvariants(without, facts),
      paths: paths.map((p) => degraded(without, p, zone, egress)),
    };
  });
  const checked = paths.map((p) => judgePath(network, p));
  return { network, invariants: checkInvariants(network, facts), paths: checked, zones, egressZones: egress.zones };
}

/** The number of failures: invariant violations (whole and degraded), blocked expected paths, paths a zone breaks. */
export function wholeNetworkFailures(r: WholeNetworkResult): number {
  const violations = (results: readonly InvariantResult[]) => results.reduce((n, i) => n + i.violations.length, 0);
  return (
    violations(r.invariants) +
    r.paths.filter((p) => !p.allowed).length +
    r.zones.reduce((n, z) => n + violations(z.invariants) + z.paths.filter((p) => p.outcome === "broken").length, 0)
  );
}
