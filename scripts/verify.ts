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
import { answerHelp, SELECTION_HELP } from "../tools/cli";

const USAGE = `
Usage: npm run verify -- <environment> [--host <service>=<host>] [--log-wait <seconds>]

After npm run deploy: reads the environment's outputs from its state (the S3 backend), then runs
the original experiment in the account through SSM Run Command (no inbound access): from each app
server a request to each service port through the machine's proxy setting, and a direct attempt
that must fail; in a verification environment it reads the stand-in service's access log for the
sources it saw; then finds each request in Squid's access log (CloudWatch Logs Insights) with the
app server's own address. Prints PASS/FAIL per check with its evidence; exit 0 only when all pass.
Changes nothing in the account (Run Command and a Logs Insights query are all it starts).

Options:
  --host <service>=<host>  the host to request for a service that lists no exact name
  --log-wait <seconds>     how long to wait for the requests to reach Squid's log (default 120)
  --help                   print this and do nothing else

${SELECTION_HELP}
Credentials: the AWS SDK's usual ones (AWS_PROFILE, aws sso login, ...).
`;

const ROOT = path.join(__dirname, "..");

interface Args {
  environment: string;
  hosts: Record<string, string>;
  logWaitSeconds: number;
}

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

function parseArgs(args: string[]): Args {
  const hosts: Record<string, string> = {};
  let logWaitSeconds = 120;
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--host") {
      const m = /^([^=]+)=(.+)$/.exec(args[++i] ?? "");
      if (!m) fail(`--host = "${args[i] ?? ""}" is not <service>=<host>; write it such as --host api=api.provider.example`);
      hosts[m[1]] = m[2];
    } else if (args[i] === "--log-wait") {
      logWaitSeconds = Number(args[++i]);
      if (!Number.isInteger(logWaitSeconds) || logWaitSeconds < 0 || logWaitSeconds > 1800)
        fail(`--log-wait = "${args[i] ?? ""}" is not a whole number of seconds from 0 to 1800; write it such as --log-wait 120`);
    } else if (args[i].startsWith("-")) fail(`${args[i]} is not an option of npm run verify; see npm run verify -- --help`);
    else rest.push(args[i]);
  }
  if (rest.length !== 1)
    fail("npm run verify needs one environment: npm run verify -- <environment>, such as npm run verify -- verification");
  return { environment: rest[0], hosts, logWaitSeconds };
}

/** Synthesizes the selected files into a folder of its own; returns the environment's stack and its file. The folder is removed after. */
function synthesizedStack(name: string, files: readonly string[]): { stack: SynthesizedStack; source: string } {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), "verify-synth-"));
  try {
    const synth = spawnSync(process.execPath, [path.join(ROOT, "scripts", "app.js"), path.join(ROOT, "main.ts")], {
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

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  answerHelp(USAGE, args);
  const { environment, hosts, logWaitSeconds } = parseArgs(args);
  const selection = selectEnvironmentFiles(ROOT, selectionSettings(process.env));
  const env = loadEnvironments(selection.files).find((e) => e.name === environment);
  if (!env) fail(`no environment named "${environment}" in ${selection.description}; name one of them, or set PROXY_CONFIG to its file`);
  const endpoint = process.env.PROXY_EMULATOR_ENDPOINT;
  const endpointProblem = endpoint ? emulatorEndpointProblem(endpoint) : undefined;
  if (endpointProblem) fail(`PROXY_EMULATOR_ENDPOINT = "${endpoint}" ${endpointProblem}`);
  const { stack, source } = synthesizedStack(environment, selection.files);
  const nonce = randomBytes(6).toString("hex");
  console.log(`verify ${environment}: run ${nonce} (requests to /verify-${nonce})`);
  const checks = await verify({ env, stack, source, account: awsAccount(env.region, endpoint), nonce, hosts, logWaitSeconds });
  console.log(renderReport(checks));
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
