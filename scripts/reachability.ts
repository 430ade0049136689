/**
 * `npm run reachability [--json] [--allow-no-expectations] [stack dir or cdk.tf.json ...]`: who
 * can reach whom on which port in synthesized stacks (every stack in cdktf.out without arguments),
 * with the reason for each verdict, checked against the flows each environment expects. Exits
 * non-zero on any mismatch, on a stack whose environment file is unknown, and on an environment
 * that declares no expected flows (unless --allow-no-expectations says that is intended).
 *
 * Settings (environment): PROXY_CONFIG, the environment file, as for `npx cdktf synth`: that one
 * file instead of the files of environments/ (or the demos when it holds none).
 */
import * as fs from "fs";
import * as path from "path";
import { EnvironmentConfig, loadEnvironments, selectEnvironmentFiles, selectionSettings } from "../lib/config";
import {
  analyzeReachability,
  describeMismatch,
  ExpectedFlow,
  expectedFlowsOf,
  flowLabel,
  flowMismatches,
  formatMatrix,
  portLabel,
  surroundingsOf,
  verdictFor,
} from "../proof/reachability";
import { changedSource } from "../lib/synth-output";
import { answerHelp, SELECTION_HELP, synthesizedStackFiles } from "../tools/cli";

const USAGE = `
Usage: npm run reachability -- [--json] [--allow-no-expectations] [stack dir or cdk.tf.json ...]

Who can reach whom on which port in synthesized stacks (every stack in cdktf.out without
arguments), with the reason for each verdict, checked against the flows each environment expects.
Exits non-zero on any mismatch, on a stack whose environment file is unknown, and on an
environment that declares no expected flows.

Options:
  --json                   print the verdicts as JSON
  --allow-no-expectations  accept an environment that declares no expectedFlows
  --help                   print this and do nothing else

${SELECTION_HELP}

Example:
  npx cdktf synth && npm run reachability
`;
answerHelp(USAGE);

const ROOT = path.join(__dirname, "..");

function main(): number {
  const args = process.argv.slice(2);
  const flags = ["--json", "--allow-no-expectations"];
  const unknown = args.find((a) => a.startsWith("--") && !flags.includes(a));
  if (unknown) throw new Error(`unknown option ${unknown}; the options are ${flags.join(", ")}`);
  const json = args.includes("--json");
  const allowNoExpectations = args.includes("--allow-no-expectations");
  const selection = selectEnvironmentFiles(ROOT, selectionSettings(process.env));
  const environments = new Map<string, EnvironmentConfig>(loadEnvironments(selection.files).map((e) => [e.name, e]));
  const files = synthesizedStackFiles(
    args.filter((a) => !flags.includes(a)),
    process.env.CDKTF_OUTDIR ?? path.join(ROOT, "cdktf.out"),
  );

  let failures = 0;
  const problems: string[] = [];
  const results = files.flatMap((file) => {
    const stackName = path.basename(path.dirname(file));
    const stack = JSON.parse(fs.readFileSync(file, "utf8"));
    // Bootstrap stacks (a state bucket) have no network to analyse.
    if (Object.keys(stack.resource?.aws_vpc ?? {}).length === 0) return [];
    const env = environments.get(stackName);
    const changed = env && changedSource(ROOT, path.dirname(file));
    const report = analyzeReachability(stack, env && surroundingsOf(env));
    if (!env) {
      problems.push(
        `stack ${stackName}: no environment of ${selection.description} is named ${stackName}; set PROXY_CONFIG to the file the stack was synthesized from`,
      );
    } else if (changed) {
      problems.push(
        `stack ${stackName}: ${changed.file} changed after this stack was synthesized from it, so the analysis would judge an old stack against new expectations; run npx cdktf synth first`,
      );
    } else if (env.expectedFlows.length === 0 && !allowNoExpectations) {
      problems.push(
        `stack ${stackName}: its environment declares no expectedFlows, so nothing would be checked; add some, or pass --allow-no-expectations`,
      );
    }
    const flows: ExpectedFlow[] = env ? expectedFlowsOf(env) : [];
    const mismatches = flowMismatches(report, flows);
    failures += mismatches.length;
    return [{ stack: stackName, file, report, expectedFlows: flows, mismatches }];
  });
  failures += problems.length;

  if (json) {
    console.log(
      JSON.stringify(
        results.map(({ stack, report, expectedFlows, mismatches }) => ({
          stack,
          ...report,
          expectedFlows,
          mismatches: mismatches.map(describeMismatch),
        })),
        null,
        2,
      ),
    );
    for (const p of problems) console.error(`FAIL ${p}`);
  } else {
    for (const r of results) {
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
    }
    for (const p of problems) console.log(`FAIL ${p}`);
    const checked = results.reduce((n, r) => n + r.expectedFlows.length, 0);
    console.log(`\nreachability: ${checked - (failures - problems.length)} passed, ${failures} failed`);
  }
  return failures === 0 ? 0 : 1;
}

try {
  process.exit(main());
} catch (e) {
  console.error(`npm run reachability: ${(e as Error).message}`);
  process.exit(2);
}
