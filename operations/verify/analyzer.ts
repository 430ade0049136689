/** --analyzer: EC2 Reachability Analyzer's verdict on each expected flow, next to the offline analysis's. */
import { addressAt } from "../../lib/cidr";
import { EnvironmentConfig } from "../../lib/config";
import { outputNames, serverNames } from "../../lib/naming";
import { Check } from "./judge";
import { DeployedState } from "./state";

/** AWS's list price per analysis (us-east-1 and most regions, 2026). */
export const PRICE_PER_ANALYSIS_USD = 0.1;

/** One path for Reachability Analyzer: between two resources, to a port. */
export interface AnalyzerPath {
  readonly source: string;
  readonly destination: string;
  /** An address at the destination (a service beyond a virtual private gateway). */
  readonly destinationIp?: string;
  readonly protocol: "tcp" | "udp";
  readonly port: number;
}

/** AWS's answer for one path. */
export interface AnalyzerVerdict {
  readonly found: boolean;
  /** AWS's explanation codes with the component each names, for a path not found. */
  readonly explanations: readonly string[];
}

/** An expected flow as verify analyses it: its hops (two through the proxy), or why it cannot be. */
export interface FlowPlan {
  readonly label: string;
  readonly expectAllowed: boolean;
  readonly hops: readonly AnalyzerPath[];
  readonly skipped?: string;
}

/** The offline analysis's verdict for a flow, by its label. */
export type OfflineVerdicts = Readonly<Record<string, { readonly allowed: boolean; readonly reasons: readonly string[] } | undefined>>;

type Flow = EnvironmentConfig["expectedFlows"][number];

/** The resource an end of a flow stands for, with an address for a service beyond a gateway; or why there is none. */
function resourceOf(
  env: EnvironmentConfig,
  state: DeployedState,
  end: string,
  proxies: readonly string[],
): { id?: string; ip?: string; why?: string } {
  const named = (name: string) => state.instancesByName[name]?.id;
  if (end === "proxy") return proxies[0] ? { id: proxies[0] } : { why: "no running proxy instance was found by its Name tag" };
  if (end === "resolver")
    return { why: "Reachability Analyzer starts at a resource, and the resolver endpoint's interfaces are not in the state" };
  if (end === "service" && env.serviceSide.type === "peeredVpc")
    return { id: named(serverNames.service(env.name)), why: "the stand-in is not in the state" };
  const service = env.services.find((s) => s.name === end);
  if (service) {
    const gateway = Object.entries(state.idsByType).find(([type]) => type === "aws_vpn_gateway")?.[1][0];
    return gateway
      ? { id: gateway, ip: addressAt(service.cidr, 1) }
      : { why: "the proxy VPC has no virtual private gateway to analyse towards" };
  }
  const app = env.appVpcs.find((a) => a.name === end);
  if (app?.appServer) return { id: named(serverNames.appServer(env.name, app.name)), why: `app VPC ${end}'s server is not in the state` };
  return { why: `${end} has no server to start from` };
}

/**
 * The proxy as `from` reaches it: behind PrivateLink an app VPC's server reaches its own interface endpoint (Reachability
 * Analyzer stops there: the endpoint service's side is another VPC with no route to it), else the proxy instance.
 */
function proxyFrom(
  env: EnvironmentConfig,
  state: DeployedState,
  from: string,
  proxies: readonly string[],
): { id?: string; ip?: string; why?: string } {
  if (env.connectivity.type !== "privateLink" || !env.appVpcs.some((a) => a.name === from)) return resourceOf(env, state, "proxy", proxies);
  const dns = state.outputs[outputNames.appProxyEndpointDns(from)];
  const id = typeof dns === "string" ? state.endpointIdsByDns[dns] : undefined;
  return id ? { id } : { why: `app VPC ${from}'s interface endpoint to the proxy is not in the state` };
}

/** The analyzer's plan for each expected flow; `proxies` are the running proxy instances (the fleet's are not in the state). */
export function flowPlans(
  env: EnvironmentConfig,
  state: DeployedState,
  proxies: readonly string[],
  label: (f: Flow) => string,
): FlowPlan[] {
  return env.expectedFlows.map((f) => {
    const from = resourceOf(env, state, f.from, proxies);
    const to = f.to === "proxy" ? proxyFrom(env, state, f.from, proxies) : resourceOf(env, state, f.to, proxies);
    const protocol = f.protocol ?? "tcp";
    const plan = { label: label(f), expectAllowed: f.expect === "allowed" };
    const missing = [from, to].find((r) => !r.id);
    if (missing) return { ...plan, hops: [], skipped: missing.why };
    if (!f.via) return { ...plan, hops: [{ source: from.id!, destination: to.id!, destinationIp: to.ip, protocol, port: f.port }] };
    const proxy = resourceOf(env, state, "proxy", proxies);
    const entry = proxyFrom(env, state, f.from, proxies);
    const unknown = [proxy, entry].find((r) => !r.id);
    if (unknown) return { ...plan, hops: [], skipped: unknown.why };
    return {
      ...plan,
      hops: [
        { source: from.id!, destination: entry.id!, protocol: "tcp", port: env.proxy.port },
        { source: proxy.id!, destination: to.id!, destinationIp: to.ip, protocol, port: f.port },
      ],
    };
  });
}

/** The number of analyses the plans start: one per hop. */
export function analysisCount(plans: readonly FlowPlan[]): number {
  return plans.reduce((n, p) => n + p.hops.length, 0);
}

/** One check per flow: AWS's verdict (all hops found) against the offline analysis's and the expectation. */
export function compareVerdicts(
  plans: readonly FlowPlan[],
  aws: readonly (readonly AnalyzerVerdict[])[],
  offline: OfflineVerdicts,
): Check[] {
  return plans.map((plan, i) => {
    const name = `analyzer: ${plan.label}`;
    if (plan.skipped) return { name, pass: true, skipped: true, evidence: `not analysed: ${plan.skipped}` };
    const verdicts = aws[i];
    const awsAllowed = verdicts.every((v) => v.found);
    const why = verdicts.flatMap((v) => v.explanations).join("; ");
    const local = offline[plan.label];
    const awsText = `AWS: ${awsAllowed ? "reachable" : `not reachable (${why || "no explanation"})`}`;
    const localText = local ? `offline: ${local.allowed ? "allowed" : `denied (${local.reasons.join("; ")})`}` : "offline: no verdict";
    const agree = awsAllowed === plan.expectAllowed && local?.allowed === awsAllowed;
    return { name, pass: agree, evidence: `${awsText}; ${localText}; expected ${plan.expectAllowed ? "allowed" : "denied"}` };
  });
}
