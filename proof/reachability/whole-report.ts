/** The whole-network check in words: places, traffic classes, allowed flows, invariants, expected paths, zones. */
import { InvariantResult, Violation } from "./invariants";
import { NetworkVerdict } from "./network";
import { pathLabel, PathResult } from "./paths";
import { WholeNetworkResult } from "./whole";

/** Violations of one invariant printed in full; the rest are counted. */
const SHOWN_VIOLATIONS = 8;

/** The traffic classes of `verdicts` in words: "all traffic" when they are every class, else their labels. */
function trafficText(verdicts: readonly NetworkVerdict[], classes: number): string {
  const labels = [...new Set(verdicts.map((v) => v.traffic.label))];
  return labels.length === classes ? "all traffic" : labels.join(", ");
}

/** Verdicts grouped by `key`, in order of first appearance. */
function grouped<T>(items: readonly T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(item);
  }
  return [...groups.values()];
}

/** The allowed flows, a line per pair of places. */
function allowedLines(r: WholeNetworkResult): string[] {
  const classes = r.network.traffic.length;
  const allowed = r.network.verdicts.filter((v) => v.allowed);
  return grouped(allowed, (v) => `${v.from.name}\0${v.to.name}`).map((vs) => {
    const [v] = vs;
    const unfiltered = !v.from.filtered && !v.to.filtered ? " (no security group of the stack at either end: routes alone decide)" : "";
    return `  ${v.from.name} -> ${v.to.name}: ${trafficText(vs, classes)}${unfiltered}`;
  });
}

/** One invariant: PASS, or FAIL with each violation's path and the rules and routes along it. */
export function invariantLines(result: InvariantResult, indent = ""): string[] {
  const head = `${indent}${result.violations.length === 0 ? "PASS" : "FAIL"} invariant ${result.id}: ${result.text} (${result.checked} allowed flows examined)`;
  const groups = grouped(
    result.violations,
    (x: Violation) => `${x.verdict.from.name}\0${x.verdict.to.name}\0${x.breaks.replace(/ on .*$/, "")}`,
  );
  const lines = groups.slice(0, SHOWN_VIOLATIONS).flatMap((vs) => {
    const { verdict: v, breaks } = vs[0];
    return [
      `${indent}     ${v.from.name} (${v.fromSpot.span}) -> ${v.to.name} (${v.toSpot.span}): ${[...new Set(vs.map((x) => x.verdict.traffic.label))].join(", ")}: ${breaks}`,
      ...v.reasons.map((reason) => `${indent}         ${reason}`),
    ];
  });
  const more = groups.length > SHOWN_VIOLATIONS ? [`${indent}     and ${groups.length - SHOWN_VIOLATIONS} more pairs of places`] : [];
  return [head, ...lines, ...more];
}

/** An expected path: PASS, or FAIL with the steps that block it. */
function pathLines(p: PathResult): string[] {
  const head = `${p.allowed ? "PASS" : "FAIL"} path ${pathLabel(p.path)} allowed (${p.path.why})`;
  if (p.allowed) return [head];
  if (p.lost) return [head, `     ${p.lost}`];
  const v = p.failing!;
  const blocked = v.reasons.filter((r) => r.startsWith("BLOCKED: "));
  return [
    head,
    `     from ${v.fromSpot.span} to ${v.toSpot.span} (${v.traffic.label}) it is blocked by:`,
    ...(blocked.length > 0 ? blocked : v.reasons).map((r) => `       ${r}`),
  ];
}

/** Each zone taken out in turn: the invariants, and what becomes of each expected path. */
function zoneLines(r: WholeNetworkResult): string[] {
  if (r.zones.length === 0) return ["no availability zones in the stack's subnets: no degraded states"];
  return [
    `degraded states (each zone taken out in turn: its subnets, instances, NAT gateways and load balancer addresses); the egress runs in ${r.egressZones.join(", ") || "no zone of the stack"}:`,
    ...r.zones.flatMap((z) => {
      const broken = z.invariants.filter((i) => i.violations.length > 0);
      const survive = z.paths.filter((p) => p.outcome === "survives").length;
      const head = `  without ${z.zone}: ${broken.length === 0 ? "every invariant holds" : `${broken.length} invariant(s) broken`}; ${survive} of ${z.paths.length} expected paths survive`;
      return [
        head,
        ...broken.flatMap((i) => invariantLines(i, "    ")),
        ...z.paths
          .filter((p) => p.outcome !== "survives")
          .map((p) => `    ${p.outcome === "broken" ? "FAIL broken" : "lost (reported, not a violation)"}: ${pathLabel(p.path)}: ${p.why}`),
      ];
    }),
  ];
}

/** The whole-network check of one stack, in words. */
export function formatWholeNetwork(r: WholeNetworkResult): string {
  const { network } = r;
  const allowed = network.verdicts.filter((v) => v.allowed).length;
  const count = (p: string) =>
    network.traffic.filter((t) => (p === "other" ? t.protocol !== "tcp" && t.protocol !== "udp" : t.protocol === p)).length;
  return [
    `whole network: ${network.places.length} places, ${network.traffic.length} traffic classes (tcp ${count("tcp")}, udp ${count("udp")}, other protocols ${count("other")}), ${network.verdicts.length} verdicts, ${allowed} allowed`,
    `places: ${network.places.map((p) => `${p.name} [${p.spots.map((s) => s.span).join("; ")}]`).join(", ")}`,
    `traffic classes: ${network.traffic.map((t) => t.label).join(", ")}`,
    "allowed:",
    ...allowedLines(r),
    ...r.invariants.flatMap((i) => invariantLines(i)),
    ...r.paths.flatMap(pathLines),
    ...zoneLines(r),
  ].join("\n");
}
