/** Reading an analysis: the reviewer's matrix, and expected flows compared with the verdicts. */
import { ReachabilityReport, Verdict } from "./analysis";

const HEADER = "from -> to";

/** A reviewer's matrix: one row per source and destination, one column per port. */
export function formatMatrix(report: ReachabilityReport): string {
  const pairs = [...new Set(report.verdicts.map((v) => `${v.from} -> ${v.to}`))];
  const width = Math.max(...pairs.map((p) => p.length), HEADER.length);
  const header = `${HEADER.padEnd(width)} | ${report.ports.map((p) => String(p).padStart(5)).join(" | ")}`;
  const rows = pairs.map((pair) => {
    const cells = report.ports.map((port) => {
      const v = report.verdicts.find((x) => `${x.from} -> ${x.to}` === pair && x.port === port);
      return (v?.allowed ? "yes" : "-").padStart(5);
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
  readonly allowed: boolean;
}

/**
 * An expected flow that the report contradicts, as data: the verdict that went the other way, or,
 * for a flow that names no pair or port of the stack, the servers and ports it has.
 */
export type FlowMismatch =
  | { readonly flow: ExpectedFlow; readonly verdict: Verdict }
  | { readonly flow: ExpectedFlow; readonly known: { readonly instances: readonly string[]; readonly ports: readonly number[] } };

/** The expectations that the report contradicts. */
export function flowMismatches(report: ReachabilityReport, flows: readonly ExpectedFlow[]): FlowMismatch[] {
  return flows.flatMap((flow): FlowMismatch[] => {
    const verdict = report.verdicts.find((v) => v.from === flow.from && v.to === flow.to && v.port === flow.port);
    if (!verdict) return [{ flow, known: { instances: report.endpoints.map((e) => e.name), ports: report.ports } }];
    return verdict.allowed === flow.allowed ? [] : [{ flow, verdict }];
  });
}

/** A mismatch in words, with the verdict's reasons. */
export function describeMismatch(m: FlowMismatch): string {
  const { flow } = m;
  if ("known" in m) {
    return `${flow.from} -> ${flow.to}:${flow.port}: no such pair and port in the stack (instances: ${m.known.instances.join(", ")}; ports: ${m.known.ports.join(", ")})`;
  }
  return `${flow.from} -> ${flow.to}:${flow.port} is ${m.verdict.allowed ? "allowed" : "denied"}, expected ${flow.allowed ? "allowed" : "denied"}:\n      ${m.verdict.reasons.join("\n      ")}`;
}
