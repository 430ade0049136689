/** `npm run verify -- <environment>`: after a deploy, the original experiment run in the account, with a PASS/FAIL report. */
import { spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { loadEnvironments, selectEnvironmentFiles, selectionSettings } from "../lib/config";
import { emulatorEndpointProblem } from "../lib/emulator";
import { recordedSources } from "../lib/synth-output";
import { awsAccount } from "../operations/verify/account";
import { renderReport } from "../operations/verify/judge";
import { verify, VerifyStop, SynthesizedStack } from "../operations/verify/run";
import { answerHelp, SELECTION_HELP, TS_RUNNER } from "../tools/cli";
import { analyzeReachability, expectedFlowsOf, flowLabel, surroundingsOf, verdictFor } from "../proof/reachability";
import { EnvironmentConfig } from "../lib/config";
import { PRICE_PER_ANALYSIS_USD } from "../operations/verify/analyzer";
import { AnalyzerOptions, EMULATOR_RUNS_NOTHING } from "../operations/verify/run";
import * as readline from "readline/promises";

const USAGE = `
Usage: npm run verify -- <environment> [--host <service>=<host>] [--log-wait <seconds>] [--json <file>]
                          [--analyzer [--yes] [--keep]]

After npm run deploy: reads the environment's outputs from its state (the S3 backend), then runs
the original experiment in the account through SSM Run Command (no inbound access): from each app
server a request to each service port through the machine's proxy setting, and a direct attempt
that must fail; in a verification environment it reads the stand-in service's access log for the
sources it saw; then finds each request in Squid's access log (CloudWatch Logs Insights) with the
app server's own address. Prints PASS/FAIL per check with its evidence; exit 0 only when all pass.
Changes nothing in the account (Run Command and a Logs Insights query are all it starts).

With --analyzer it also asks EC2 Reachability Analyzer about each expected flow of the
environment file (two paths for a flow through the proxy) and prints AWS's verdict beside the
offline analysis's; any disagreement fails. Each analysis is charged (about $${PRICE_PER_ANALYSIS_USD.toFixed(2)}):
the count and price are printed first and confirmed unless --yes. The paths and analyses it
creates are deleted at the end unless --keep.

Options:
  --host <service>=<host>  the host to request for a service that lists no exact name
  --log-wait <seconds>     how long to wait for the requests to reach Squid's log (default 120)
  --json <file>            also write the checks as JSON (run id, environment, time, checks), for records
  --analyzer               also compare EC2 Reachability Analyzer's verdicts with the offline ones
  --yes                    with --analyzer: agree to the price without being asked
  --keep                   with --analyzer: keep the paths and analyses it created
  --help                   print this and do nothing else

${SELECTION_HELP}
Credentials: the AWS SDK's usual ones (AWS_PROFILE, aws sso login, ...).

Example:
  npm run verify -- my-env
  npm run verify -- my-env --analyzer
`;

const ROOT = path.join(__dirname, "..");

interface Args {
  environment: string;
  analyzer: boolean;
  yes: boolean;
  keep: boolean;
  hosts: Record<string, string>;
  logWaitSeconds: number;
  json?: string;
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

function parseArgs(args: string[]): Args {
  const hosts: Record<string, string> = {};
  let logWaitSeconds = 120;
  let json: string | undefined;
  const rest: string[] = [];
  const flags = { analyzer: false, yes: false, keep: false };
  for (let i = 0; i < args.length; i++) {
    const flag = ({ "--analyzer": "analyzer", "--yes": "yes", "--keep": "keep" } as const)[args[i] as "--analyzer"];
    if (flag) flags[flag] = true;
    else if (args[i] === "--host") {
      const m = /^([^=]+)=(.+)$/.exec(args[++i] ?? "");
      if (!m) fail(`--host = "${args[i] ?? ""}" is not <service>=<host>; write it such as --host api=api.provider.example`);
      hosts[m[1]] = m[2];
    } else if (args[i] === "--json") {
      json = args[++i];
      if (!json || json.startsWith("-")) fail(`--json needs a file to write, such as --json verify-report.json`);
    } else if (args[i] === "--log-wait") {
      logWaitSeconds = Number(args[++i]);
      if (!Number.isInteger(logWaitSeconds) || logWaitSeconds < 0 || logWaitSeconds > 1800)
        fail(`--log-wait = "${args[i] ?? ""}" is not a whole number of seconds from 0 to 1800; write it such as --log-wait 120`);
    } else if (args[i].startsWith("-")) fail(`${args[i]} is not an option of npm run verify; see npm run verify -- --help`);
    else rest.push(args[i]);
  }
  if (rest.length !== 1)
    fail("npm run verify needs one environment: npm run verify -- <environment>, such as npm run verify -- verification");
  if ((flags.yes || flags.keep) && !flags.analyzer)
    fail(`${flags.yes ? "--yes" : "--keep"} is for --analyzer; add --analyzer or leave it out`);
  return { environment: rest[0], hosts, logWaitSeconds, json, ...flags };
}

/** Synthesizes the selected files into a folder of its own; returns the environment's stack and its file. The folder is removed after. */
function synthesizedStack(name: string, files: readonly string[]): { stack: SynthesizedStack; source: string } {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "verify-synth-"));
  try {
    const synth = spawnSync(process.execPath, [TS_RUNNER, path.join(ROOT, "main.ts")], {
      stdio: ["ignore", "ignore", "inherit"],
      env: { ...process.env, CDKTF_OUTDIR: out },
    });
    if (synth.status !== 0) fail("synthesis failed (above); mend the environment file and run again");
    const dir = path.join(out, "stacks", name);
    if (!fs.existsSync(path.join(dir, "cdk.tf.json"))) fail(`no stack "${name}" was synthesized from ${files.join(", ")}`);
    const stack = JSON.parse(fs.readFileSync(path.join(dir, "cdk.tf.json"), "utf8")) as SynthesizedStack;
    return { stack, source: recordedSources(dir)?.[0]?.file ?? files.join(", ") };
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** The one message for an AWS error verify cannot go past, or undefined for anything else. */
function accountProblem(e: unknown): string | undefined {
  const name = (e as { name?: string }).name ?? "";
  if (name === "CredentialsProviderError" || /credential/i.test(String((e as Error).message)))
    return "no AWS credentials: log in (aws sso login, or set AWS_PROFILE) and run again";
  if (["ExpiredToken", "ExpiredTokenException", "InvalidClientTokenId", "UnrecognizedClientException"].includes(name))
    return `the AWS credentials are not accepted (${name}): log in again and run again`;
  if (name === "AccessDenied" || name === "AccessDeniedException")
    return `access denied (${(e as Error).message}): verify needs the reads listed in docs/permissions.md`;
  if (name === "NoSuchBucket") return `the state bucket does not exist: deploy the state stack and the environment first (npm run deploy)`;
  return undefined;
}

/** The offline analysis's verdict on each expected flow, and how --analyzer asks for its price. */
function offlineComparison(env: EnvironmentConfig, stack: SynthesizedStack, yes: boolean, keep: boolean): AnalyzerOptions {
  const report = analyzeReachability(stack as Parameters<typeof analyzeReachability>[0], surroundingsOf(env));
  const expected = expectedFlowsOf(env);
  const offline = Object.fromEntries(expected.map((f) => [flowLabel(f), verdictFor(report, f)]));
  const confirm = async (analyses: number, price: number) => {
    console.log(
      `--analyzer: ${analyses} Reachability Analyzer analyses at about $${PRICE_PER_ANALYSIS_USD.toFixed(2)} each, $${price.toFixed(2)} in all`,
    );
    if (yes) return true;
    if (!process.stdin.isTTY) fail("--analyzer needs your agreement to that price, and there is no terminal to ask: add --yes");
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question("Go on? [y/N] ");
    rl.close();
    return /^y(es)?$/i.test(answer.trim());
  };
  return { offline, label: (f) => flowLabel(expected[env.expectedFlows.indexOf(f)]), confirm, keep, log: (line) => console.log(line) };
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  answerHelp(USAGE, args);
  const { environment, hosts, logWaitSeconds, json, analyzer, yes, keep } = parseArgs(args);
  const selection = selectEnvironmentFiles(ROOT, selectionSettings(process.env));
  const env = loadEnvironments(selection.files).find((e) => e.name === environment);
  if (!env) fail(`no environment named "${environment}" in ${selection.description}; name one of them, or set PROXY_CONFIG to its file`);
  const endpoint = process.env.PROXY_EMULATOR_ENDPOINT;
  const endpointProblem = endpoint ? emulatorEndpointProblem(endpoint) : undefined;
  if (endpointProblem) fail(`PROXY_EMULATOR_ENDPOINT = "${endpoint}" ${endpointProblem}`);
  const { stack, source } = synthesizedStack(environment, selection.files);
  const nonce = randomBytes(6).toString("hex");
  const backend = stack.terraform?.backend?.s3;
  console.log(`verify ${environment}: run ${nonce} (requests to /verify-${nonce}); state s3://${backend?.bucket}/${backend?.key}`);
  const analyzerOptions = analyzer ? offlineComparison(env, stack, yes, keep) : undefined;
  const account = awsAccount(env.region, endpoint);
  const emulated = endpoint !== undefined;
  if (emulated) console.log(`the account is the emulator at ${endpoint}: ${EMULATOR_RUNS_NOTHING}`);
  const checks = await verify({ env, stack, source, account, nonce, hosts, logWaitSeconds, analyzer: analyzerOptions, emulated });
  console.log(renderReport(checks));
  if (json) {
    const record = { run: nonce, environment, at: new Date().toISOString(), passed: checks.every((c) => c.pass), checks };
    fs.writeFileSync(json, `${JSON.stringify(record, null, 2)}\n`);
    console.log(`wrote ${json}`);
  }
  return checks.every((c) => c.pass) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    const problem = e instanceof VerifyStop ? e.message : accountProblem(e);
    if (problem) fail(problem);
    throw e;
  },
);
