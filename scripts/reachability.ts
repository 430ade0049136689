/**
 * `npm run reachability [--json] [stack dir or cdk.tf.json ...]`: who can reach whom on which port
 * in synthesized stacks (every stack in cdktf.out without arguments), with the reason for each
 * verdict, checked against the flows each environment expects. Exits non-zero on any mismatch.
 *
 * Settings (environment): PROXY_CONFIG, an environment file to take expected flows from, besides
 * those in config/.
 */
import * as fs from "fs";
import * as path from "path";
import { EnvironmentConfig, environmentFiles, flowEndName, loadEnvironments } from "../lib/config";
import { analyzeReachability, describeMismatch, ExpectedFlow, flowMismatches, formatMatrix } from "../proof/reachability";

const ROOT = path.join(__dirname, "..");

function stackFiles(args: string[]): string[] {
  if (args.length === 0) {
    const stacks = path.join(ROOT, "cdktf.out", "stacks");
    if (!fs.existsSync(stacks)) throw new Error(`${path.relative(ROOT, stacks)} does not exist; run npx cdktf synth first, or name a stack`);
    return fs.readdirSync(stacks).map((s) => path.join(stacks, s, "cdk.tf.json"));
  }
  return args.map((a) => (fs.statSync(a).isDirectory() ? path.join(a, "cdk.tf.json") : a));
}

function main(): number {
  const args = process.argv.slice(2);
  const json = args.includes("--json");
  const files = stackFiles(args.filter((a) => a !== "--json"));
  const configFiles = [...environmentFiles(path.join(ROOT, "config")), ...(process.env.PROXY_CONFIG ? [path.resolve(process.env.PROXY_CONFIG)] : [])];
  const environments = new Map<string, EnvironmentConfig>(loadEnvironments([...new Set(configFiles)]).map((e) => [e.name, e]));

  let failures = 0;
  const results = files.map((file) => {
    const stackName = path.basename(path.dirname(file));
    const report = analyzeReachability(JSON.parse(fs.readFileSync(file, "utf8")));
    const env = environments.get(stackName);
    const flows: ExpectedFlow[] = (env?.expectedFlows ?? []).map((f) => ({
      from: flowEndName(env!, f.from),
      to: flowEndName(env!, f.to),
      port: f.port,
      allowed: f.expect === "allowed",
    }));
    const mismatches = flowMismatches(report, flows);
    failures += mismatches.length;
    return { stack: stackName, file, report, expectedFlows: flows, mismatches };
  });

  if (json) {
    console.log(
      JSON.stringify(
        results.map(({ stack, report, expectedFlows, mismatches }) => ({ stack, ...report, expectedFlows, mismatches: mismatches.map(describeMismatch) })),
        null,
        2,
      ),
    );
  } else {
    for (const r of results) {
      console.log(`\n== ${r.stack} (${path.relative(ROOT, r.file)})\n`);
      if (r.report.endpoints.length < 2) {
        console.log(`${r.report.endpoints.length} instance(s) in this stack: no pairs to analyse`);
      } else {
        console.log(formatMatrix(r.report));
        console.log("\nwhy each allowed flow gets through:");
        for (const v of r.report.verdicts.filter((x) => x.allowed)) console.log(`  ${v.from} -> ${v.to}:${v.port}\n      ${v.reasons.join("\n      ")}`);
      }
      if (r.expectedFlows.length === 0) console.log("\nno expected flows declared for this stack");
      for (const flow of r.expectedFlows) {
        const found = r.mismatches.find((m) => m.flow === flow);
        const mismatch = found && describeMismatch(found);
        const verdict = r.report.verdicts.find((v) => v.from === flow.from && v.to === flow.to && v.port === flow.port);
        const blocked = verdict?.reasons.filter((reason) => reason.startsWith("BLOCKED: ")).map((reason) => reason.slice(9)) ?? [];
        const why = !mismatch && !flow.allowed && blocked.length > 0 ? `\n     because ${blocked.join("\n     and ")}` : "";
        console.log(`${mismatch ? "FAIL" : "PASS"} expected ${flow.from} -> ${flow.to}:${flow.port} ${flow.allowed ? "allowed" : "denied"}${mismatch ? `\n     ${mismatch}` : why}`);
      }
    }
    console.log(`\nreachability: ${results.reduce((n, r) => n + r.expectedFlows.length, 0) - failures} passed, ${failures} failed`);
  }
  return failures === 0 ? 0 : 1;
}

try {
  process.exit(main());
} catch (e) {
  console.error(`npm run reachability: ${(e as Error).message}`);
  process.exit(2);
}
