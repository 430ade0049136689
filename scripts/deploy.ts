/**
 * `npm run deploy -- <stack> [--lock-timeout 5m] [--imports <file>] [terraform apply options]`: synthesizes, then runs
 * terraform init and apply in the stack's folder so that Ctrl-C or SIGTERM stops Terraform cleanly (state saved, lock released).
 * `cdktf deploy` quits within a fraction of a second on Ctrl-C and takes Terraform with it before it saves the state.
 */
import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { EnvironmentConfig, loadEnvironments, selectEnvironmentFiles, selectionSettings } from "../lib/config";
import { PLACEHOLDER_STATE_BUCKETS } from "../lib/naming";
import { staleSourceProblem } from "../lib/synth-output";
import { MIRROR_SETTING, terraformEnv } from "../proof/terraform";
import { answerHelp, TS_RUNNER } from "../tools/cli";
import { importsFileProblem, lockTimeoutProblem, placeholderProblem } from "../operations/deploy-options";

const USAGE = `
Usage: npm run deploy -- <stack> [--lock-timeout <duration>] [--imports <file>] [terraform apply options]

Synthesizes the environment files (environments/, or the demos when it holds none, or
PROXY_CONFIG=<file>), checks that <stack> came from one of them as it is now, then runs
terraform init and terraform apply in the stack's folder. Ctrl-C or SIGTERM lets Terraform stop
cleanly, save the state and release the lock; the orphan sweep then says what to adopt.

Options:
  --lock-timeout <duration>  wait this long for a held state lock (default 5m; 30s, 5m, 1h30m)
  --imports <file>           add the import blocks npm run orphans wrote, to adopt what an
                             interrupted apply left behind
  --help                     print this and do nothing else
  Anything else (such as -auto-approve) goes to terraform apply.

Settings (environment):
  PROXY_CONFIG=<file>             deploy from that environment file
  PROXY_ENVIRONMENTS_DIR=<folder> your environment files, if not in environments/
  ${MIRROR_SETTING}=<folder>  install the AWS provider from this local mirror

Refused before anything runs: a stack not synthesized from the files above, a stack whose file
changed since, and the state buckets the demos and examples ship with
(${PLACEHOLDER_STATE_BUCKETS.join(", ")}).

Example:
  cp demos/verification.json environments/my-env.json   # set name, state.bucket, CIDRs
  npm run deploy -- state-<your bucket>                  # once per state bucket
  npm run deploy -- my-env
`;

const ROOT = path.join(__dirname, "..");
/** The name the import blocks of --imports take in the stack's folder. */
const ORPHAN_IMPORTS_IN_STACK = "orphan-imports.tf.json";
const OUT = path.resolve(process.env.CDKTF_OUTDIR ?? path.join(ROOT, "cdktf.out"));

function fail(message: string): never {
  console.error(message);
  process.exit(1);
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  answerHelp(USAGE, args);
  const at = args.indexOf("--lock-timeout");
  const importsAt = args.indexOf("--imports");
  const options = new Set([at, importsAt].filter((i) => i >= 0).flatMap((i) => [i, i + 1]));
  // The stack is the first argument that is neither an option nor an option's value.
  const stackAt = args.findIndex((a, i) => !a.startsWith("-") && !options.has(i));
  const stack = stackAt >= 0 ? args[stackAt] : undefined;
  if (!stack) fail("npm run deploy needs a stack: npm run deploy -- <stack>, such as npm run deploy -- verification");
  const lockTimeout = at >= 0 ? (args[at + 1] ?? "") : "5m";
  const problem = lockTimeoutProblem(lockTimeout);
  if (problem) fail(`--lock-timeout = "${lockTimeout}" ${problem}`);
  const importsFile = importsAt >= 0 ? (args[importsAt + 1] ?? "") : undefined;
  if (importsFile !== undefined) {
    const importsProblem = importsFileProblem(importsFile);
    if (importsProblem) fail(`--imports = "${importsFile}" ${importsProblem}`);
  }
  const passThrough = args.filter((_, i) => i !== stackAt && !options.has(i));

  // Always synthesize first: what is applied is what the environment files say now.
  const selection = selectEnvironmentFiles(ROOT, selectionSettings(process.env));
  const environments = loadEnvironments(selection.files);
  // The emulator's buckets are nobody else's: the placeholders are refused only for real AWS.
  const placeholder = process.env.PROXY_EMULATOR_ENDPOINT
    ? undefined
    : placeholderProblem(stack!, environments, selection.files, process.cwd());
  if (placeholder) fail(placeholder);
  // The mirror changes where the provider comes from, nothing else: apply still asks before it changes anything.
  const tfEnv = process.env[MIRROR_SETTING]
    ? { ...process.env, TF_CLI_CONFIG_FILE: terraformEnv(process.env, OUT).env.TF_CLI_CONFIG_FILE }
    : process.env;
  const synth = spawnSync(process.execPath, [TS_RUNNER, path.join(ROOT, "main.ts")], {
    stdio: "inherit",
    env: { ...process.env, CDKTF_OUTDIR: OUT },
  });
  if (synth.status !== 0) return 1;
  const dir = path.join(OUT, "stacks", stack!);
  if (!fs.existsSync(path.join(dir, "cdk.tf.json"))) {
    const known = fs.readdirSync(path.join(OUT, "stacks")).join(", ");
    fail(
      `stack "${stack}" is not among the synthesized stacks (${known}) of ${selection.description}; name one of them, or set PROXY_CONFIG to its environment file`,
    );
  }
  const stale = staleSourceProblem(ROOT, dir, selection.files, (file) => `PROXY_CONFIG=${file} npm run deploy -- ${stack}`);
  if (stale) fail(stale);

  // Import blocks are added for this apply only: an earlier run's copy is removed first.
  const imports = path.join(dir, ORPHAN_IMPORTS_IN_STACK);
  fs.rmSync(imports, { force: true });
  if (importsFile !== undefined) {
    fs.copyFileSync(importsFile, imports);
    console.error(`adding the import blocks of ${importsFile} to this apply`);
  }

  const init = spawnSync("terraform", ["init", "-input=false"], { cwd: dir, stdio: "inherit", env: tfEnv });
  if (init.error) fail(`terraform could not run (${init.error.message}); install Terraform 1.10 or later`);
  if (init.status !== 0) return init.status ?? 1;

  const apply = spawn("terraform", ["apply", `-lock-timeout=${lockTimeout}`, ...passThrough], { cwd: dir, stdio: "inherit", env: tfEnv });
  let interrupted: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!interrupted) {
      console.error(
        `\n${signal}: Terraform is stopping after the resources in progress; waiting for it to save the state and release the lock. Do not kill it: a killed apply leaves a stale lock and resources the state does not know.`,
      );
    }
    // A terminal's Ctrl-C reaches Terraform itself; anything else (SIGTERM) is passed on once.
    if (signal !== "SIGINT" && !interrupted && apply.pid) apply.kill("SIGINT");
    interrupted = signal;
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  const code = await new Promise<number>((resolve) => apply.on("exit", (c, s) => resolve(c ?? (s ? 128 : 1))));
  if (interrupted) {
    console.error(
      `Terraform has stopped (exit ${code}). Unless it reported an error saving the state or releasing the lock, both are done. Otherwise see docs/operations.md#when-a-deploy-is-interrupted.`,
    );
    sweepAfterInterrupt(stack!, environments);
    return code === 0 ? 130 : code;
  }
  return code;
}

/**
 * After an interrupt, runs the read-only orphan sweep and says how to adopt what it finds; bootstrap stacks are not swept.
 * A create that AWS carried out but whose answer the interrupt cancelled leaves a resource the state does not know.
 */
function sweepAfterInterrupt(stack: string, environments: readonly EnvironmentConfig[]): void {
  if (!environments.some((e) => e.name === stack)) {
    console.error(`Run npm run deploy -- ${stack} again to finish.`);
    return;
  }
  console.error("Looking for resources whose creation was under way when Terraform stopped (npm run orphans, read-only):");
  const sweep = spawnSync(process.execPath, [TS_RUNNER, path.join(ROOT, "scripts", "orphans.ts"), stack], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (sweep.status === 0) console.error(`None: run npm run deploy -- ${stack} again to finish.`);
  else if (sweep.status === 2) console.error(`Finish with the import blocks above, so that they are adopted, not created twice.`);
  else console.error(`The sweep could not run; run npm run orphans -- ${stack} before you deploy again.`);
}

main().then(
  (code) => process.exit(code),
  (e) => fail((e as Error).message ?? String(e)),
);
