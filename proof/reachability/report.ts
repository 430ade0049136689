/** Reading an analysis: the reviewer's matrix, expected flows against the verdicts, and what an environment puts outside its stack. */
import { EnvironmentConfig, flowEndName } from "../../lib/config";
import { vpcName } from "../../lib/naming";
import type { Transport } from "../../lib/tf-json";
import { allowlistJudgement } from "./allowlist";
import { ReachabilityReport, Verdict } from "./servers";
import type { Surroundings } from "./model";

const HEADER = "from -> to";

/** A port as the matrix and messages show it: TCP ports bare, UDP ports as 53/udp. */
export function portLabel(protocol: Transport, port: number): string {
  return protocol === "udp" ? `${port}/udp` : String(port);
}

/** A reviewer's matrix: one row per source and destination, one column per TCP port, then per UDP port. */
export function formatMatrix(report: ReachabilityReport): string {
  const pairs = [...new Set(report.verdicts.map((v) => `${v.from} -> ${v.to}`))];
  const columns = [
    ...report.ports.map((port) => ({ protocol: "tcp" as const, port })),
    ...report.udpPorts.map((port) => ({ protocol: "udp" as const, port })),
  ];
  const width = Math.max(...pairs.map((p) => p.length), HEADER.length);
  const labels = columns.map((c) => portLabel(c.protocol, c.port).padStart(5));
  const header = `${HEADER.padEnd(width)} | ${labels.join(" | ")}`;
  const rows = pairs.map((pair) => {
    const cells = columns.map(({ protocol, port }, i) => {
      const v = report.verdicts.find((x) => `${x.from} -> ${x.to}` === pair && x.port === port && x.protocol === protocol);
      return (v?.allowed ? "yes" : "-").padStart(labels[i].length);
    });
    return `${pair.padEnd(width)} | ${cells.join(" | ")}`;
  });
  return [header, "-".repeat(header.length), ...rows].join("\n");
}

/** An expected flow, as environments declare them. */
export interface ExpectedFlow {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  /** @default "tcp" */
  readonly protocol?: Transport;
  readonly allowed: boolean;
  /**
   * Through the proxy: `from` reaches the proxy (`name`) on its `port`, then the proxy connects to `to`; allowed only when both are.
   * @default a direct flow
   */
  readonly via?: { readonly name: string; readonly port: number };
}

/** An environment's expected flows, with the ends named as the analysis names them. */
export function expectedFlowsOf(env: EnvironmentConfig): ExpectedFlow[] {
  return env.expectedFlows.map((f) => ({
    from: flowEndName(env, f.from),
    to: flowEndName(env, f.to),
    port: f.port,
    protocol: f.protocol,
    allowed: f.expect === "allowed",
    ...(f.via ? { via: { name: flowEndName(env, f.via), port: env.proxy.port } } : {}),
  }));
}

/** What an environment puts outside its stack (services beyond its gateway, app VPCs of the user's servers), named as flows name them. */
export function surroundingsOf(env: EnvironmentConfig): Surroundings {
  return {
    beyondGateway: env.serviceSide.type === "peeredVpc" ? [] : env.services.map((s) => ({ name: flowEndName(env, s.name), cidr: s.cidr })),
    appVpcs: env.appVpcs
      .filter((a) => !a.appServer)
      .map((a) => ({
        name: flowEndName(env, a.name),
        cidr: a.cidr,
        vpcName: vpcName(env.name, a.name),
        ...(a.existing ? { existing: { vpcId: a.existing.vpcId, routeTableIds: a.existing.routeTableIds } } : {}),
      })),
  };
}

/** A flow in words: its ends, port, and the proxy it goes through. */
export function flowLabel(flow: ExpectedFlow): string {
  return `${flow.from} -> ${flow.to}:${portLabel(flow.protocol ?? "tcp", flow.port)}${flow.via ? ` via ${flow.via.name}` : ""}`;
}

/**
 * The verdict an expected flow is judged by: the report's own, or through the proxy both connections and the proxy's allowlist
 * (when the stack has one); undefined for an unknown pair.
 */
export function verdictFor(report: ReachabilityReport, flow: ExpectedFlow): Verdict | undefined {
  const protocol = flow.protocol ?? "tcp";
  const find = (from: string, to: string, port: number, p: Transport) =>
    report.verdicts.find((v) => v.from === from && v.to === to && v.port === port && v.protocol === p);
  if (!flow.via) return find(flow.from, flow.to, flow.port, protocol);
  const toProxy = find(flow.from, flow.via.name, flow.via.port, "tcp");
  const onward = find(flow.via.name, flow.to, flow.port, protocol);
  if (!toProxy || !onward) return undefined;
  const rule = proxyRule(report, flow);
  return {
    from: flow.from,
    to: flow.to,
    port: flow.port,
    protocol,
    allowed: toProxy.allowed && onward.allowed && (rule?.allowed ?? true),
    reasons: [
      `to ${flow.via.name} on ${flow.via.port}:`,
      ...toProxy.reasons,
      `then ${flow.via.name}'s own connection to ${flow.to} on ${portLabel(protocol, flow.port)}:`,
      ...onward.reasons,
      ...(rule ? [`and ${flow.via.name}'s allowlist:`, ...rule.reasons] : []),
    ],
  };
}

/** What the proxy's allowlist says of a TCP flow through the proxy, from the from-end's address to the to-end's; undefined without an allowlist. */
function proxyRule(report: ReachabilityReport, flow: ExpectedFlow): { allowed: boolean; reasons: string[] } | undefined {
  if (!report.allowlist || !flow.via || (flow.protocol ?? "tcp") !== "tcp") return undefined;
  const from = report.endpoints.find((e) => e.name === flow.from);
  const to = report.endpoints.find((e) => e.name === flow.to);
  if (!from || !to) return undefined;
  return allowlistJudgement(report.allowlist, flow.via.name, from, to, flow.port, report.clientEndpoints?.[flow.from]);
}

/** An expected flow the report contradicts: the verdict that went the other way, or for an unknown pair, the stack's servers and ports. */
export type FlowMismatch =
  | { readonly flow: ExpectedFlow; readonly verdict: Verdict }
  | { readonly flow: ExpectedFlow; readonly known: { readonly instances: readonly string[]; readonly ports: readonly string[] } };

/** The expectations that the report contradicts. */
export function flowMismatches(report: ReachabilityReport, flows: readonly ExpectedFlow[]): FlowMismatch[] {
  return flows.flatMap((flow): FlowMismatch[] => {
    const verdict = verdictFor(report, flow);
    if (!verdict) {
      const ports = [...report.ports.map((p) => portLabel("tcp", p)), ...report.udpPorts.map((p) => portLabel("udp", p))];
      return [{ flow, known: { instances: report.endpoints.map((e) => e.name), ports } }];
    }
    return verdict.allowed === flow.allowed ? [] : [{ flow, verdict }];
  });
}

/** A mismatch in words, with the verdict's reasons. */
export function describeMismatch(m: FlowMismatch): string {
  const { flow } = m;
  if ("known" in m) {
    return `${flowLabel(flow)}: no such pair and port in the stack (instances: ${m.known.instances.join(", ")}; ports: ${m.known.ports.join(", ")})`;
  }
  return `${flowLabel(flow)} is ${m.verdict.allowed ? "allowed" : "denied"}, expected ${flow.allowed ? "allowed" : "denied"}:\n      ${m.verdict.reasons.join("\n      ")}`;
}
