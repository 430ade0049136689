/**
 * `npm run reachability`: who can reach whom on which port in synthesized stacks, with the reason for each verdict,
 * checked against the flows each environment expects (see USAGE).
 */
import * as fs from "fs";
import * as path from "path";
import { EnvironmentConfig, loadEnvironments, selectEnvironmentFiles, selectionSettings } from "../lib/config";
import {
  analyzeReachability,
  checkWholeNetwork,
  describeMismatch,
  ExpectedFlow,
  expectedFlowsOf,
  flowLabel,
  flowMismatches,
  formatMatrix,
  formatWholeNetwork,
  portLabel,
  surroundingsOf,
  verdictFor,
  WholeNetworkResult,
  wholeNetworkFailures,
} from "../proof/reachability";
import { changedSource } from "../lib/synth-output";
import { answerHelp, SELECTION_HELP, synthesizedStackFiles } from "../tools/cli";

const USAGE = `
Usage: npm run reachability -- [--all] [--json] [--allow-no-expectations] [stack dir or cdk.tf.json ...]

Who can reach whom on which port in synthesized stacks (every stack in cdktf.out without
arguments), with the reason for each verdict, checked against the flows each environment expects.
With --all, also the whole network: every pair of places (servers, load balancer, resolver
endpoint, NAT gateways, the service side, package repositories, an outsider in every VPC and one
outside them all) for every protocol and port class the rules tell apart, checked against the
environment's invariants and the paths it needs, then again with each availability zone taken out.
Exits non-zero on any mismatch, violated invariant or blocked path, on a stack whose environment
file is unknown, and on an environment that declares no expected flows.

Options:
  --all                    check the whole network too (what CI runs)
  --json                   print the verdicts as JSON
  --allow-no-expectations  accept an environment that declares no expectedFlows
  --help                   print this and do nothing else

${SELECTION_HELP}

Example:
  npx cdktf synth && npm run reachability -- --all
`;
answerHelp(USAGE);

const ROOT = path.join(__dirname, "..");

/** One stack's analysis and how it meets the flows its environment expects. */
interface StackResult {
  readonly stack: string;
  readonly file: string;
  readonly report: ReturnType<typeof analyzeReachability>;
  readonly expectedFlows: ExpectedFlow[];
  readonly mismatches: ReturnType<typeof flowMismatches>;
  /** The whole-network check, under --all, for a stack whose environment is known. */
  readonly whole?: WholeNetworkResult;
}

/** Why a stack cannot be judged as asked: no environment of its name, a source changed since synthesis, or no expected flows. */
function stackProblem(
  stackName: string,
  env: EnvironmentConfig | undefined,
  changed: ReturnType<typeof changedSource> | undefined,
  selection: { description: string },
  allowNoExpectations: boolean,
): string | undefined {
  if (!env) {
    return `stack ${stackName}: no environment of ${selection.description} is named ${stackName}; set PROXY_CONFIG to the file the stack was synthesized from`;
  } else if (changed) {
    return `stack ${stackName}: ${changed.file} changed after this stack was synthesized from it, so the analysis would judge an old stack against new expectations; run npx cdktf synth first`;
  } else if (env.expectedFlows.length === 0 && !allowNoExpectations) {
    return `stack ${stackName}: its environment declares no expectedFlows, so nothing would be checked; add some, or pass --allow-no-expectations`;
  }
  return undefined;
}

/** Analyses each stack with a network and compares it with its environment's expected flows. */
function judgeStacks(
  files: readonly string[],
  environments: ReadonlyMap<string, EnvironmentConfig>,
  selection: { description: string },
  allowNoExpectations: boolean,
  all: boolean,
): { results: StackResult[]; problems: string[] } {
  const problems: string[] = [];
  const results = files.flatMap((file) => {
    const stackName = path.basename(path.dirname(file));
    const stack = JSON.parse(fs.readFileSync(file, "utf8"));
    // Bootstrap stacks (a state bucket) have no network to analyse.
    if (Object.keys(stack.resource?.aws_vpc ?? {}).length === 0) return [];
    const env = environments.get(stackName);
    const changed = env && changedSource(ROOT, path.dirname(file));
    const flows: ExpectedFlow[] = env ? expectedFlowsOf(env) : [];
    // A port an expected flow names is judged even where no rule names it (RDP between app VPCs, say).
    const flowPorts = flows.flatMap((f) => [
      { protocol: f.protocol ?? "tcp", port: f.port },
      ...(f.via ? [{ protocol: "tcp" as const, port: f.via.port }] : []),
    ]);
    const report = analyzeReachability(stack, env && surroundingsOf(env), flowPorts);
    const problem = stackProblem(stackName, env, changed, selection, allowNoExpectations);
    if (problem !== undefined) problems.push(problem);
    const whole = all && env ? checkWholeNetwork(stack, env) : undefined;
    return [
      { stack: stackName, file, report, expectedFlows: flows, mismatches: flowMismatches(report, flows), ...(whole ? { whole } : {}) },
    ];
  });
  return { results, problems };
}

/** The whole-network check for machines: counts, invariants with their violations, paths, zones. */
function wholeJson(w: WholeNetworkResult): object {
  const flow = (v: WholeNetworkResult["network"]["verdicts"][number]) => ({
    from: v.from.name,
    fromAddresses: v.fromSpot.span,
    to: v.to.name,
    toAddresses: v.toSpot.span,
    traffic: v.traffic.label,
    seen: v.seen,
    reasons: v.reasons,
  });
  const invariants = (list: WholeNetworkResult["invariants"]) =>
    list.map((i) => ({
      id: i.id,
      text: i.text,
      checked: i.checked,
      violations: i.violations.map((x) => ({ breaks: x.breaks, ...flow(x.verdict) })),
    }));
  return {
    places: w.network.places.map((p) => ({ name: p.name, kind: p.kind, addresses: p.spots.map((s) => s.span) })),
    traffic: w.network.traffic.map((t) => t.label),
    verdicts: w.network.verdicts.length,
    allowed: w.network.verdicts.filter((v) => v.allowed).map(flow),
    invariants: invariants(w.invariants),
    paths: w.paths.map((p) => ({
      ...p.path,
      allowed: p.allowed,
      ...(p.lost ? { lost: p.lost } : {}),
      ...(p.failing ? { failing: flow(p.failing) } : {}),
    })),
    zones: w.zones.map((z) => ({
      zone: z.zone,
      invariants: invariants(z.invariants),
      paths: z.paths.map((p) => ({ ...p.path, outcome: p.outcome, ...(p.why ? { why: p.why } : {}) })),
    })),
    failures: wholeNetworkFailures(w),
  };
}

function printJson(results: readonly StackResult[], problems: readonly string[]): void {
  console.log(
    JSON.stringify(
      results.map(({ stack, report, expectedFlows, mismatches, whole }) => ({
        stack,
        ...report,
        expectedFlows,
        mismatches: mismatches.map(describeMismatch),
        ...(whole ? { wholeNetwork: wholeJson(whole) } : {}),
      })),
      null,
      2,
    ),
  );
  for (const p of problems) console.error(`FAIL ${p}`);
}

/** One stack's matrix, why each allowed flow gets through, and PASS or FAIL per expected flow. */
function printStack(r: StackResult): void {
  console.log(`\n== ${r.stack} (${path.relative(ROOT, r.file)})\n`);
  if (r.report.endpoints.length < 2) {
    console.log(`${r.report.endpoints.length} instance(s) in this stack: no pairs to analyse`);
  } else {
    console.log(formatMatrix(r.report));
    console.log("\nwhy each allowed flow gets through:");
    for (const v of r.report.verdicts.filter((x) => x.allowed))
      console.log(`  ${v.from} -> ${v.to}:${portLabel(v.protocol, v.port)}\n      ${v.reasons.join("\n      ")}`);
  }
  if (r.expectedFlows.length === 0) console.log("\nno expected flows declared for this stack");
  for (const flow of r.expectedFlows) {
    const found = r.mismatches.find((m) => m.flow === flow);
    const mismatch = found && describeMismatch(found);
    const verdict = verdictFor(r.report, flow);
    const blocked = verdict?.reasons.filter((reason) => reason.startsWith("BLOCKED: ")).map((reason) => reason.slice(9)) ?? [];
    const why = !mismatch && !flow.allowed && blocked.length > 0 ? `\n     because ${blocked.join("\n     and ")}` : "";
    console.log(
      `${mismatch ? "FAIL" : "PASS"} expected ${flowLabel(flow)} ${flow.allowed ? "allowed" : "denied"}${mismatch ? `\n     ${mismatch}` : why}`,
    );
  }
  if (r.whole) console.log(`\n${formatWholeNetwork(r.whole)}`);
}

function main(): number {
  const args = process.argv.slice(2);
  const flags = ["--all", "--json", "--allow-no-expectations"];
  const unknown = args.find((a) => a.startsWith("--") && !flags.includes(a));
  if (unknown) throw new Error(`unknown option ${unknown}; the options are ${flags.join(", ")}`);
  const selection = selectEnvironmentFiles(ROOT, selectionSettings(process.env));
  const environments = new Map<string, EnvironmentConfig>(loadEnvironments(selection.files).map((e) => [e.name, e]));
  const files = synthesizedStackFiles(
    args.filter((a) => !flags.includes(a)),
    process.env.CDKTF_OUTDIR ?? path.join(ROOT, "cdktf.out"),
  );
  const all = args.includes("--all");
  const { results, problems } = judgeStacks(files, environments, selection, args.includes("--allow-no-expectations"), all);
  const mismatched = results.reduce((n, r) => n + r.mismatches.length, 0);
  const wholeFailures = results.reduce((n, r) => n + (r.whole ? wholeNetworkFailures(r.whole) : 0), 0);
  const failures = mismatched + problems.length + wholeFailures;
  if (args.includes("--json")) {
    printJson(results, problems);
  } else {
    results.forEach(printStack);
    for (const p of problems) console.log(`FAIL ${p}`);
    const checked = results.reduce((n, r) => n + r.expectedFlows.length, 0);
    console.log(`\nreachability: ${checked - mismatched} passed, ${mismatched + problems.length} failed`);
    if (all) {
      const checkedStacks = results.filter((r) => r.whole);
      console.log(
        `whole network: ${checkedStacks.length} stack(s), ${checkedStacks.reduce((n, r) => n + r.whole!.network.verdicts.length, 0)} verdicts, ${wholeFailures} failure(s)`,
      );
    }
    // From the process's start: loading the modules is part of the run.
    console.log(`elapsed: ${process.uptime().toFixed(2)} s`);
  }
  return failures === 0 ? 0 : 1;
}

try {
  process.exit(main());
} catch (e) {
  console.error(`npm run reachability: ${(e as Error).message}`);
  process.exit(2);
}
