/** Reading an analysis: the reviewer's matrix, and expected flows compared with the verdicts. */
import { EnvironmentConfig, flowEndName } from "../../lib/config";
import type { Transport } from "../../lib/tf-json";
import { ReachabilityReport, Verdict } from "./analysis";

const HEADER = "from -> to";

/** A port as the matrix and messages show it: TCP ports bare, UDP ports as 53/udp. */
export function portLabel(protocol: Transport, port: number): string {
  return protocol === "udp" ? `${port}/udp` : String(port);
}

/** A reviewer's matrix: one row per source and destination, one column per TCP port, then per UDP port. */
export function formatMatrix(report: ReachabilityReport): string {
  const pairs = [...new Set(report.verdicts.map((v) => `${v.from} -> ${v.to}`))];
  const columns = [...report.ports.map((port) => ({ protocol: "tcp" as const, port })), ...report.udpPorts.map((port) => ({ protocol: "udp" as const, port }))];
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
}

/** An environment's expected flows, with the ends named as the stack names its servers. */
export function expectedFlowsOf(env: EnvironmentConfig): ExpectedFlow[] {
  return env.expectedFlows.map((f) => ({ from: flowEndName(env, f.from), to: flowEndName(env, f.to), port: f.port, protocol: f.protocol, allowed: f.expect === "allowed" }));
}

/**
 * An expected flow that the report contradicts, as data: the verdict that went the other way, or,
 * for a flow that names no pair or port of the stack, the servers and ports it has.
 */
export type FlowMismatch =
  | { readonly flow: ExpectedFlow; readonly verdict: Verdict }
  | { readonly flow: ExpectedFlow; readonly known: { readonly instances: readonly string[]; readonly ports: readonly string[] } };

/** The expectations that the report contradicts. */
export function flowMismatches(report: ReachabilityReport, flows: readonly ExpectedFlow[]): FlowMismatch[] {
  return flows.flatMap((flow): FlowMismatch[] => {
    const protocol = flow.protocol ?? "tcp";
    const verdict = report.verdicts.find((v) => v.from === flow.from && v.to === flow.to && v.port === flow.port && v.protocol === protocol);
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
  const port = portLabel(flow.protocol ?? "tcp", flow.port);
  if ("known" in m) {
    return `${flow.from} -> ${flow.to}:${port}: no such pair and port in the stack (instances: ${m.known.instances.join(", ")}; ports: ${m.known.ports.join(", ")})`;
  }
  return `${flow.from} -> ${flow.to}:${port} is ${m.verdict.allowed ? "allowed" : "denied"}, expected ${flow.allowed ? "allowed" : "denied"}:\n      ${m.verdict.reasons.join("\n      ")}`;
}
