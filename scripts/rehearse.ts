/**
 * `npm run rehearse`: a full deploy rehearsal of one environment in the moto AWS emulator on 127.0.0.1, with no AWS account.
 * The phases are PHASES below, after the emulator's start: one line each with its time, then the verdict; the exit code is non-zero on any failure.
 */
import { ChildProcess, ChildProcessWithoutNullStreams, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stripVTControlCharacters } from "util";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { EnvironmentConfig, egressOf, fleetSize, parseEnvironment, runsSquid, stateKey } from "../lib/config";
import { MotoServer, onPath, startMoto } from "../proof/moto";
import {
  allowlistChange,
  allowlistPlanProblems,
  allowlistReadbackProblems,
  classifyDrift,
  deploymentProblems,
  EmulatorImportIds,
  EmulatorInventory,
  emulatorEnvironment,
  emulatorNotes,
  leftovers,
  otherInstanceType,
  proxyInstanceIds,
  rollingChangeProblems,
  StackOutputs,
  sweepCoverage,
} from "../proof/rehearsal";
import { privateLinkSummary } from "../proof/privatelink-readback";
import { terraformEnv } from "../proof/terraform";
import { allowlistParameterName, orphanImportsFile } from "../lib/naming";
import { TerraformState } from "../operations/orphans";
import { answerHelp, TS_RUNNER } from "../tools/cli";

const USAGE = `
Usage: npm run rehearse

A full deploy rehearsal in the moto AWS emulator on 127.0.0.1, no AWS account needed: deploy
(npm run deploy, interrupted with Ctrl-C, then to the end), read back, plan again (no changes),
a fleet's change, an allowlist change (the parameter alone, no proxy replaced), the state lock, destroy, then a killed deploy, the orphan sweep, adoption and
destroy again. One line per phase; exits non-zero on any failure. Needs moto_server and terraform.

Options:
  --help  print this and do nothing else

Settings (environment):
  PROXY_CONFIG=<file>            the environment to rehearse (default demos/verification.json)
  PROXY_PROVIDER_MIRROR=<folder> install the AWS provider from this local mirror

Example:
  PROXY_CONFIG=demos/verification-fleet.json npm run rehearse
`;
answerHelp(USAGE);

// The SDK reads the allowlist parameter back; its notice about Node 22 says nothing about the rehearsal.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const ROOT = path.join(__dirname, "..");
const STEP_TIMEOUT_MS = 10 * 60 * 1000;
/** Completed creations before Ctrl-C: early, so that much is still to do. */
const INTERRUPT_AFTER = 20;
/** The share of the stack's resources created before the kill: late, so that the slow kinds (load balancers, groups) are among the orphans. */
const KILL_AT_SHARE = 0.75;

class PhaseFailure extends Error {}

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const children = new Set<ChildProcess>();

/** Runs a command to its end (bounded by STEP_TIMEOUT_MS); output is kept in the run's log. */
function run(
  command: string,
  args: string[],
  options: { cwd?: string; env: NodeJS.ProcessEnv; log: string; input?: string },
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env, stdio: ["pipe", "pipe", "pipe"] });
    children.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.stdin.end(options.input ?? "");
    const timer = setTimeout(() => child.kill("SIGTERM"), STEP_TIMEOUT_MS);
    child.on("close", (code) => {
      clearTimeout(timer);
      children.delete(child);
      fs.appendFileSync(options.log, `\n$ ${command} ${args.join(" ")}\n${stdout}\n${stderr}\nexit ${code}\n`);
      resolve({ code, stdout, stderr });
    });
  });
}

/** How an interrupted run went. */
interface InterruptedRun extends RunResult {
  /** Resources created before the signal was sent. */
  created: number;
  /** Milliseconds from the signal to the exit; undefined when the run ended before the signal. */
  stoppedInMs?: number;
}

/**
 * Runs a command in a process group of its own and sends `signal` to the whole group once its
 * output has reported `after` completed creations, as a terminal's Ctrl-C (SIGINT) or a kill of
 * everything (SIGKILL) would. Bounded by STEP_TIMEOUT_MS.
 */
function runInterrupted(
  command: string,
  args: string[],
  options: { env: NodeJS.ProcessEnv; log: string; after: number; signal: NodeJS.Signals },
): Promise<InterruptedRun> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, env: options.env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    children.add(child);
    let stdout = "";
    let stderr = "";
    let created = 0;
    let signalledAt: number | undefined;
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // the group has already gone
      }
    };
    child.stdout.on("data", (d) => {
      stdout += d;
      if (signalledAt === undefined) {
        created = (stdout.match(/Creation complete after/g) ?? []).length;
        if (created >= options.after) {
          signalledAt = Date.now();
          signalGroup(options.signal);
        }
      }
    });
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => signalGroup("SIGKILL"), STEP_TIMEOUT_MS);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      fs.appendFileSync(
        options.log,
        `\n$ ${command} ${args.join(" ")} (${options.signal} after ${options.after} creations)\n${stdout}\n${stderr}\nexit ${code ?? signal}\n`,
      );
      resolve({
        code: code ?? 128,
        stdout,
        stderr,
        created,
        stoppedInMs: signalledAt === undefined ? undefined : Date.now() - signalledAt,
      });
    });
  });
}

function tail(text: string, lines = 25): string {
  return stripVTControlCharacters(text)
    .split("\n")
    .filter((l) => l.trim())
    .slice(-lines)
    .join("\n");
}

/** What the phases share: the environment, the run's files, the emulator and the commands that reach it. */
interface Rehearsal {
  readonly env: EnvironmentConfig;
  /** The environment file's contents, as adjusted for the emulator. */
  readonly raw: ReturnType<typeof emulatorEnvironment>["raw"];
  readonly workDir: string;
  readonly log: string;
  readonly envFile: string;
  readonly outDir: string;
  readonly stackDir: string;
  readonly stateDir: string;
  readonly lockKey: string;
  readonly outputsFile: string;
  readonly cdktf: string;
  readonly childEnv: NodeJS.ProcessEnv;
  readonly deployEnv: NodeJS.ProcessEnv;
  /** Runs emulator_api.py with `args` and returns its JSON answer. */
  readonly api: <T>(...args: string[]) => Promise<T>;
  readonly terraform: (args: string[], input?: string) => Promise<RunResult>;
  /** The ID of the lock a killed apply left, for the adoption to release. */
  stale?: string;
}

/** The run's own record: the lines of the phases that passed, and whether any failed. */
interface Tally {
  readonly lines: string[];
  failed: boolean;
}

/** Runs one phase and prints its line with its time. */
async function phase<T>(record: Tally, name: string, body: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    const result = await body();
    const line = `phase ${name.padEnd(10)} ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ok`;
    console.log(line);
    record.lines.push(line);
    return result;
  } catch (e) {
    record.failed = true;
    console.log(`phase ${name.padEnd(10)} ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  FAILED\n${(e as Error).message}`);
    throw e;
  }
}

/** The advice for the first tool the rehearsal needs that is not on PATH, if any. */
function missingTool(): string | undefined {
  const tool = ["moto_server", "terraform", "python3"].find((t) => !onPath(t));
  if (tool === undefined) return undefined;
  return tool === "moto_server"
    ? "moto_server is not on PATH. Install the AWS emulator with: pip install 'moto[server]==5.2.1', then run npm run rehearse again."
    : `${tool} is not on PATH; install it (Terraform 1.10 or later for S3 lock files) and run again.`;
}

/** The environment to rehearse, adjusted for the emulator and written to the run's folder; prints what was adjusted. */
function readEnvironment(workDir: string, log: string): Pick<Rehearsal, "env" | "raw" | "envFile"> {
  const sourceFile = path.resolve(process.env.PROXY_CONFIG || path.join(ROOT, "demos", "verification.json"));
  const { raw, adjustments } = emulatorEnvironment(JSON.parse(fs.readFileSync(sourceFile, "utf8")));
  const env: EnvironmentConfig = parseEnvironment(raw, sourceFile);
  const envFile = path.join(workDir, "environment.json");
  fs.writeFileSync(envFile, JSON.stringify(raw, null, 2));
  console.log(`rehearsal of ${path.relative(ROOT, sourceFile)} (stack ${env.name}); log in ${path.relative(ROOT, log)}`);
  for (const a of adjustments) console.log(`  emulator adjustment: ${a.setting} = ${JSON.stringify(a.value)} (${a.reason})`);
  for (const note of emulatorNotes(env)) console.log(`  emulator difference: ${note}`);
  return { env, raw, envFile };
}

/** The phases' shared setup once the emulator runs: the child processes' environment and the commands that reach it. */
function connect(setup: Pick<Rehearsal, "env" | "raw" | "envFile">, moto: MotoServer, workDir: string, log: string): Rehearsal {
  const { env } = setup;
  const endpoint = moto.endpoint;
  const { env: tfEnv, mirror } = terraformEnv(process.env, workDir);
  console.log(
    `  emulator ${endpoint} (pid ${moto.pid}); provider ${mirror ? `from the mirror ${mirror}` : "from Terraform's own configuration"}`,
  );
  const childEnv: NodeJS.ProcessEnv = {
    ...tfEnv,
    PROXY_CONFIG: setup.envFile,
    PROXY_EMULATOR_ENDPOINT: endpoint,
    AWS_ACCESS_KEY_ID: "test",
    AWS_SECRET_ACCESS_KEY: "test",
    AWS_REGION: env.region,
    AWS_EC2_METADATA_DISABLED: "true",
  };
  // A user's profile or session token must not steer a rehearsal: only the fake keys above count.
  delete childEnv.AWS_PROFILE;
  delete childEnv.AWS_SESSION_TOKEN;
  const region = env.state.region ?? env.region;
  const outDir = path.join(workDir, "cdktf.out");
  const stackDir = path.join(outDir, "stacks", env.name);
  const stateDir = path.join(workDir, "state");
  const api = async <T>(...args: string[]): Promise<T> => {
    const r = await run("python3", [path.join(ROOT, "proof", "emulator", "emulator_api.py"), endpoint, region, ...args], {
      env: childEnv,
      log,
    });
    if (r.code !== 0) throw new PhaseFailure(`emulator_api.py ${args[0]} failed:\n${tail(r.stderr)}`);
    return JSON.parse(r.stdout) as T;
  };
  return {
    ...setup,
    workDir,
    log,
    outDir,
    stackDir,
    stateDir,
    lockKey: `${stateKey(env)}.tflock`,
    outputsFile: path.join(workDir, "outputs.json"),
    cdktf: path.join(ROOT, "node_modules", ".bin", "cdktf"),
    childEnv,
    deployEnv: { ...childEnv, CDKTF_OUTDIR: outDir, PROXY_STATE_DIR: stateDir },
    api,
    terraform: (args, input) => run("terraform", args, { cwd: stackDir, env: childEnv, log, input }),
  };
}

/** A command that runs one of the project's scripts with this Node. */
const node = (script: string, ...args: string[]) => [process.execPath, [TS_RUNNER, path.join(ROOT, "scripts", script), ...args]] as const;

/** The stack as the last synthesis wrote it. */
const readStack = (r: Rehearsal) => JSON.parse(fs.readFileSync(path.join(r.stackDir, "cdk.tf.json"), "utf8"));

async function readState(r: Rehearsal): Promise<TerraformState> {
  const { body } = await r.api<{ body: string | null }>("get-object", r.env.state.bucket, stateKey(r.env));
  return body ? JSON.parse(body) : {};
}

const resourceCount = (state: TerraformState) =>
  (state.resources ?? []).filter((x) => x.mode === "managed").reduce((n, x) => n + x.instances.length, 0);

const lockHeld = async (r: Rehearsal) => (await r.api<{ exists: boolean }>("object-exists", r.env.state.bucket, r.lockKey)).exists;

const bullets = (items: readonly string[]) => items.map((p) => `  - ${p}`).join("\n");

/** Runs the orphan sweep and compares it with the emulator's own inventory. */
async function sweep(r: Rehearsal) {
  const jsonFile = path.join(r.workDir, `orphans-${Date.now()}.json`);
  const [command, args] = node("orphans.ts", r.env.name, "--json", jsonFile);
  const result = await run(command, [...args], { env: r.deployEnv, log: r.log });
  if (result.code !== 0 && result.code !== 2)
    throw new PhaseFailure(`npm run orphans failed (exit ${result.code}):\n${tail(result.stderr + result.stdout)}`);
  const report = JSON.parse(fs.readFileSync(jsonFile, "utf8"));
  const swept = report.orphans.map((o: { resource: { type: string; importId: string } }) => o.resource);
  const coverage = sweepCoverage(await r.api<EmulatorImportIds>("import-ids"), await readState(r), swept);
  const unplaced = report.orphans.filter((o: { address?: string }) => !o.address).length;
  return { ...coverage, unknownKinds: report.unknownKinds.length as number, unplaced, exit: result.code, jsonFile };
}

/** Deploys with the sweep's import blocks, as the deploy script advises; returns the deploy's output. */
async function adoptOrphans(r: Rehearsal): Promise<string> {
  const imports = orphanImportsFile(r.stateDir, r.env.name);
  const [command, args] = node("deploy.ts", r.env.name, "--imports", imports, "-auto-approve", "-no-color", "-input=false");
  const adopt = await run(command, [...args], { env: r.deployEnv, log: r.log });
  if (adopt.code !== 0) throw new PhaseFailure(`the deploy with the sweep's import blocks failed:\n${tail(adopt.stdout + adopt.stderr)}`);
  return adopt.stdout;
}

/** The resources whose create Terraform reports as cancelled in flight by the interrupt (AWS may have carried them out). */
function cutOffCreates(output: string): Set<string> {
  return new Set(
    output
      .split(/\nError: /)
      .slice(1)
      .filter((block) => block.startsWith("creating") && block.includes("context canceled"))
      .map((block) => /with (aws_\w+\.[\w-]+),/.exec(block)?.[1])
      .filter((a): a is string => a !== undefined),
  );
}

/** Ctrl-C during a deploy: the lock is released, and the only orphans are creates cut off in flight, each found and adopted. */
async function interruptPhase(r: Rehearsal): Promise<void> {
  const [command, args] = node("deploy.ts", r.env.name, "-auto-approve", "-no-color");
  const deploy = await runInterrupted(command, [...args], { env: r.deployEnv, log: r.log, after: INTERRUPT_AFTER, signal: "SIGINT" });
  if (deploy.stoppedInMs === undefined)
    throw new PhaseFailure(
      `the deploy ended before ${INTERRUPT_AFTER} creations (exit ${deploy.code}):\n${tail(deploy.stdout + deploy.stderr)}`,
    );
  if (deploy.code === 0) throw new PhaseFailure("the interrupted deploy exited 0; it must say it was interrupted with a non-zero exit");
  if (await lockHeld(r))
    throw new PhaseFailure(`the lock s3://${r.env.state.bucket}/${r.lockKey} is still held after the interrupted deploy exited`);
  if (!/Looking for resources whose creation was under way/.test(deploy.stderr))
    throw new PhaseFailure("the interrupted deploy did not run the orphan sweep");
  const cutOff = cutOffCreates(deploy.stdout + deploy.stderr);
  const held = resourceCount(await readState(r));
  const s = await sweep(r);
  const report = JSON.parse(fs.readFileSync(s.jsonFile, "utf8")) as { orphans: { address?: string }[] };
  const unexplained = report.orphans.filter((o) => !o.address || !cutOff.has(o.address));
  console.log(
    `  Ctrl-C after ${deploy.created} creations: Terraform stopped in ${(deploy.stoppedInMs / 1000).toFixed(1)} s, lock released, state holds ${held} resources; ${cutOff.size} creates cut off in flight, ${s.orphans.length} orphans, all found by the sweep: ${s.missed.length === 0 ? "yes" : "no"}`,
  );
  const problems = [
    ...s.missed.map((m) => `the sweep missed ${m}`),
    ...s.extra.map((e) => `the sweep reported ${e}, which is no orphan`),
    ...unexplained.map((o) => `an orphan at ${o.address ?? "no address"} whose create Terraform did not report as cut off`),
  ];
  if (s.unknownKinds > 0) problems.push(`${s.unknownKinds} tagged resources of kinds the sweep does not map`);
  if (problems.length > 0) throw new PhaseFailure(bullets(problems));
  if (s.orphans.length > 0) {
    const stdout = await adoptOrphans(r);
    console.log(`  adopted with the sweep's import blocks: ${/(\d+) imported/.exec(stdout)?.[1] ?? "0"} imported`);
  }
}

/** `cdktf deploy` to the end: it converges with no orphans left. */
async function deployPhase(r: Rehearsal): Promise<void> {
  const result = await run(
    r.cdktf,
    ["deploy", r.env.name, "--auto-approve", "--skip-provider-lock", "--output", r.outDir, "--outputs-file", r.outputsFile],
    { env: r.childEnv, log: r.log },
  );
  if (result.code !== 0) throw new PhaseFailure(`cdktf deploy failed:\n${tail(result.stdout + result.stderr)}`);
  const s = await sweep(r);
  if (s.orphans.length > 0 || s.extra.length > 0)
    throw new PhaseFailure(`the deploy after the interruption left orphans:\n${bullets([...s.orphans, ...s.extra])}`);
  console.log(`  the deploy after the interruption converged: ${resourceCount(await readState(r))} resources in the state, 0 orphans`);
}

/** The allowlist parameter as SSM reads it back from the emulator; undefined when there is none. */
async function readAllowlistParameter(r: Rehearsal): Promise<EmulatorInventory["allowlistParameter"]> {
  const ssm = new SSMClient({
    region: r.env.region,
    endpoint: r.childEnv.PROXY_EMULATOR_ENDPOINT,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  const name = allowlistParameterName(r.env.name);
  try {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name }));
    return { name, value: Parameter?.Value ?? "", version: Parameter?.Version ?? 0 };
  } catch (e) {
    if ((e as Error).name === "ParameterNotFound") return undefined;
    throw e;
  }
}

/** The emulator's inventory, with the allowlist parameter where the environment runs Squid. */
async function inventory(r: Rehearsal): Promise<EmulatorInventory> {
  const inv = await r.api<EmulatorInventory>("inventory");
  return runsSquid(egressOf(r.env)) ? { ...inv, allowlistParameter: await readAllowlistParameter(r) } : inv;
}

/** The deployment read back through the emulator's API matches the environment and the stack's outputs. */
async function readbackPhase(r: Rehearsal): Promise<void> {
  const outputs: StackOutputs = JSON.parse(fs.readFileSync(r.outputsFile, "utf8"))[r.env.name];
  const inv = await inventory(r);
  const problems = deploymentProblems(r.env, outputs, inv);
  if (problems.length > 0) throw new PhaseFailure(bullets(problems));
  if (r.env.connectivity.type === "privateLink") console.log(`  ${privateLinkSummary(r.env, inv)}`);
}

/** npm run verify against the deployment: it must read the state, find every server online and send its commands; what they print is not judged here (the emulator runs none). */
async function verifyPhase(r: Rehearsal): Promise<void> {
  const jsonFile = path.join(r.workDir, "verify.json");
  const [command, args] = node("verify.ts", r.env.name, "--log-wait", "0", "--json", jsonFile);
  const result = await run(command, [...args], { env: r.childEnv, log: r.log });
  fs.writeFileSync(path.join(r.workDir, "verify.txt"), result.stdout);
  if (result.code !== 0) throw new PhaseFailure(`npm run verify failed (exit ${result.code}):\n${tail(result.stdout + result.stderr)}`);
  const checks: { name: string; pass: boolean; skipped?: boolean }[] = JSON.parse(fs.readFileSync(jsonFile, "utf8")).checks;
  const judged = checks.filter((c) => !c.skipped);
  const needed = ["the state is the deployed stack", "the servers' SSM agents are online"];
  const missing = needed.filter((n) => !judged.some((c) => c.name === n && c.pass));
  if (missing.length > 0 || judged.some((c) => !c.pass))
    throw new PhaseFailure(`npm run verify's report lacks ${missing.join(", ") || "nothing"} or has a FAIL:\n${tail(result.stdout)}`);
  console.log(
    `  ${checks.length} rows: ${judged.length} judged and passed, ${checks.length - judged.length} not judged in the emulator (its Run Command runs nothing)`,
  );
}

/** A plan of the deployed stack must change nothing but the emulator's known artefacts. */
async function noDrift(r: Rehearsal, quiet = false): Promise<void> {
  const plan = await r.terraform(["plan", "-detailed-exitcode", "-input=false", "-no-color", "-out=rehearsal.tfplan"]);
  if (plan.code === 0) return;
  if (plan.code !== 2) throw new PhaseFailure(`terraform plan failed:\n${tail(plan.stderr + plan.stdout)}`);
  const show = await r.terraform(["show", "-json", "rehearsal.tfplan"]);
  const { tolerated, drift } = classifyDrift(JSON.parse(show.stdout));
  if (!quiet) for (const t of tolerated) console.log(`  emulator artefact, not drift: ${t}`);
  if (drift.length > 0)
    throw new PhaseFailure(
      `the plan of an unchanged stack shows changes (drift is a bug in the stack):\n${bullets(drift)}\n${tail(plan.stdout, 60)}`,
    );
}

/**
 * A change to a running fleet: the template gets a new version, the group follows it, and the
 * provider starts an instance refresh. The rest of the rehearsal runs with the change.
 */
async function changePhase(r: Rehearsal): Promise<void> {
  const { env } = r;
  const before = await r.api<EmulatorInventory>("inventory");
  const instanceType = otherInstanceType(env.proxy.instanceType);
  fs.writeFileSync(r.envFile, JSON.stringify({ ...r.raw, proxy: { ...r.raw.proxy, instanceType } }, null, 2));
  const result = await run(r.cdktf, ["deploy", env.name, "--auto-approve", "--skip-provider-lock", "--output", r.outDir], {
    env: r.childEnv,
    log: r.log,
  });
  if (result.code !== 0) throw new PhaseFailure(`cdktf deploy of the change failed:\n${tail(result.stdout + result.stderr)}`);
  const asked = (
    Object.values(readStack(r).resource.aws_autoscaling_group)[0] as { instance_refresh: { preferences: Record<string, number> } }
  ).instance_refresh.preferences;
  const change = {
    instanceType,
    minHealthyPercentage: asked.min_healthy_percentage,
    maxHealthyPercentage: asked.max_healthy_percentage,
  };
  const problems = rollingChangeProblems(env, before, await r.api<EmulatorInventory>("inventory"), change);
  if (problems.length > 0) throw new PhaseFailure(bullets(problems));
  await noDrift(r, true);
  console.log(
    `  proxy.instanceType ${env.proxy.instanceType} -> ${instanceType}: a new template version, an instance refresh keeping ${change.minHealthyPercentage}% to ${change.maxHealthyPercentage}% healthy, ${fleetSize(env)} of ${fleetSize(env)} instances replaced; the plan after it is clean`,
  );
}

/**
 * A change of services on a running environment (a port added to services[0]): synthesized and planned, the plan may
 * only update the allowlist parameter in place and create or delete rules and routes; applied, the parameter reads
 * back as the new allowlist one version up, and the same proxies run. The rest of the rehearsal runs with the change.
 */
async function allowlistPhase(r: Rehearsal): Promise<void> {
  const before = await inventory(r);
  const edit = allowlistChange(JSON.parse(fs.readFileSync(r.envFile, "utf8")), r.env);
  fs.writeFileSync(r.envFile, JSON.stringify(edit.raw, null, 2));
  const edited = parseEnvironment(edit.raw, r.envFile);
  const synth = await run(r.cdktf, ["synth", "--output", r.outDir], { env: r.childEnv, log: r.log });
  if (synth.code !== 0) throw new PhaseFailure(`cdktf synth of the change failed:\n${tail(synth.stdout + synth.stderr)}`);
  const plan = await r.terraform(["plan", "-input=false", "-no-color", "-out=allowlist.tfplan"]);
  if (plan.code !== 0) throw new PhaseFailure(`terraform plan of the change failed:\n${tail(plan.stderr + plan.stdout)}`);
  const show = await r.terraform(["show", "-json", "allowlist.tfplan"]);
  fs.writeFileSync(path.join(r.workDir, "allowlist-plan.json"), show.stdout);
  const verdict = allowlistPlanProblems(JSON.parse(show.stdout), allowlistParameterName(r.env.name));
  if (verdict.problems.length > 0) throw new PhaseFailure(`the plan of ${edit.service} + port ${edit.port}:\n${bullets(verdict.problems)}`);
  const apply = await r.terraform(["apply", "-input=false", "-no-color", "allowlist.tfplan"]);
  if (apply.code !== 0) throw new PhaseFailure(`terraform apply of the change failed:\n${tail(apply.stderr + apply.stdout)}`);
  const after = await inventory(r);
  const problems = allowlistReadbackProblems(
    edited,
    { parameter: before.allowlistParameter, proxies: proxyInstanceIds(r.env, before) },
    { parameter: after.allowlistParameter, proxies: proxyInstanceIds(r.env, after), inventory: after },
  );
  if (problems.length > 0) throw new PhaseFailure(bullets(problems));
  await noDrift(r, true);
  console.log(`  services "${edit.service}" gets port ${edit.port}; the plan:\n${bullets(verdict.notes)}`);
  console.log(
    `  read back: ${after.allowlistParameter!.name} version ${before.allowlistParameter!.version} -> ${after.allowlistParameter!.version}, the new allowlist; proxies ${proxyInstanceIds(r.env, after).join(", ")} as before; the plan after it is clean`,
  );
}

/** While an interactive console holds the state lock, a second plan is refused it; the state is unchanged after. */
async function lockPhase(r: Rehearsal): Promise<void> {
  const before = await r.terraform(["state", "list"]);
  // The holder: an interactive console keeps the state lock until it exits.
  const holder = spawn("terraform", ["console"], { cwd: r.stackDir, env: r.childEnv, stdio: ["pipe", "pipe", "pipe"] });
  children.add(holder);
  const holderExit = new Promise<number | null>((resolve) => holder.on("close", (code) => (children.delete(holder), resolve(code))));
  try {
    await contendForLock(r, holder);
  } finally {
    holder.stdin.end();
    const timer = setTimeout(() => holder.kill("SIGTERM"), 30_000);
    await holderExit;
    clearTimeout(timer);
  }
  if (await lockHeld(r)) throw new PhaseFailure("the lock file is still there after the holder exited");
  const after = await r.terraform(["state", "list"]);
  if (before.code !== 0 || after.stdout !== before.stdout || before.stdout.trim() === "") {
    throw new PhaseFailure("the state changed while it was locked, or cannot be listed");
  }
}

/** Waits for `holder` to take the lock, then has a second plan ask for it and be refused. */
async function contendForLock(r: Rehearsal, holder: ChildProcessWithoutNullStreams): Promise<void> {
  // Without a terminal the console reads its input to the end before it answers; it takes
  // the lock at once, so the lock file in S3 is the sign that it holds it.
  holder.stdin.write("1 + 41\n");
  let held = false;
  for (let attempt = 0; attempt < 60 && !held; attempt++) {
    held = await lockHeld(r);
    if (!held) await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (!held) throw new PhaseFailure(`terraform console did not take the lock (no s3://${r.env.state.bucket}/${r.lockKey}) within 60 tries`);
  const contender = await r.terraform(["plan", "-lock-timeout=0s", "-input=false", "-no-color"]);
  if (contender.code === 0 || !/Error acquiring the state lock/.test(contender.stderr + contender.stdout)) {
    throw new PhaseFailure(
      `a second terraform plan was not refused the lock (exit ${contender.code}):\n${tail(contender.stderr + contender.stdout)}`,
    );
  }
  console.log(
    `  a second holder was refused: ${/StatusCode: (\d+)/.exec(contender.stderr + contender.stdout)?.[0] ?? "Error acquiring the state lock"}`,
  );
}

async function destroyPhase(r: Rehearsal): Promise<void> {
  const result = await run(r.cdktf, ["destroy", r.env.name, "--auto-approve", "--skip-provider-lock", "--output", r.outDir], {
    env: r.childEnv,
    log: r.log,
  });
  if (result.code !== 0) throw new PhaseFailure(`cdktf destroy failed:\n${tail(result.stdout + result.stderr)}`);
}

/** After the destroy the emulator holds nothing but its known artefacts. */
async function leftoversPhase(r: Rehearsal): Promise<void> {
  const { left, tolerated } = leftovers(await r.api<EmulatorInventory>("inventory"));
  for (const t of tolerated) console.log(`  emulator artefact, not a leftover: ${t}`);
  if (left.length > 0) throw new PhaseFailure(`the emulator still holds:\n${bullets(left)}`);
}

/** SIGKILL to a deploy late in its creations: no chance to save state, and a stale lock left behind. */
async function killPhase(r: Rehearsal): Promise<void> {
  const stack = readStack(r);
  const killAfter = Math.floor(
    KILL_AT_SHARE * Object.values(stack.resource as Record<string, object>).reduce((n, byName) => n + Object.keys(byName).length, 0),
  );
  const [command, args] = node("deploy.ts", r.env.name, "-auto-approve", "-no-color");
  const result = await runInterrupted(command, [...args], { env: r.deployEnv, log: r.log, after: killAfter, signal: "SIGKILL" });
  if (result.stoppedInMs === undefined)
    throw new PhaseFailure(`the deploy ended before ${killAfter} creations (exit ${result.code}):\n${tail(result.stdout + result.stderr)}`);
  const { body } = await r.api<{ body: string | null }>("get-object", r.env.state.bucket, r.lockKey);
  if (!body) throw new PhaseFailure("a killed apply left no lock: it cannot have held one");
  r.stale = JSON.parse(body).ID;
  console.log(
    `  killed after ${result.created} creations: a stale lock (ID ${r.stale}) and ${resourceCount(await readState(r))} resources in the state`,
  );
}

/** The sweep finds every orphan the killed deploy left, each with an address. */
async function sweepPhase(r: Rehearsal): Promise<void> {
  const s = await sweep(r);
  const found = s.orphans.length - s.missed.length;
  console.log(
    `  the sweep found ${found} of ${s.orphans.length} orphans (${s.orphans.length === 0 ? "-" : ((100 * found) / s.orphans.length).toFixed(0)}%, target 100%), ${s.extra.length} reported wrongly, ${s.unplaced} without an address, ${s.unknownKinds} of unknown kinds`,
  );
  const kinds = new Map<string, number>();
  for (const o of s.orphans) kinds.set(o.split(" ")[0], (kinds.get(o.split(" ")[0]) ?? 0) + 1);
  console.log(`  orphans by kind: ${[...kinds].map(([k, n]) => `${k.replace(/^aws_/, "")} ${n}`).join(", ")}`);
  if (s.orphans.length === 0) throw new PhaseFailure("the killed apply left no orphans: the kill came too late to prove the sweep");
  const problems = [...s.missed.map((m) => `missed ${m}`), ...s.extra.map((e) => `reported but not an orphan: ${e}`)];
  if (s.unplaced > 0) problems.push(`${s.unplaced} orphans got no address, so the import blocks cannot adopt them`);
  if (s.unknownKinds > 0) problems.push(`${s.unknownKinds} tagged resources of kinds the sweep does not map`);
  if (problems.length > 0) throw new PhaseFailure(bullets(problems));
}

/** The runbook: unlock (nothing runs any more), then adopt the orphans with the sweep's import blocks. */
async function adoptPhase(r: Rehearsal): Promise<void> {
  const unlock = await r.terraform(["force-unlock", "-force", r.stale!]);
  if (unlock.code !== 0) throw new PhaseFailure(`terraform force-unlock failed:\n${tail(unlock.stderr + unlock.stdout)}`);
  const stdout = await adoptOrphans(r);
  const imported = /(\d+) imported/.exec(stdout)?.[1] ?? "0";
  const s = await sweep(r);
  if (s.orphans.length > 0 || s.extra.length > 0)
    throw new PhaseFailure(`orphans remain after the adoption:\n${bullets([...s.orphans, ...s.extra])}`);
  console.log(`  ${imported} imported, the rest created: ${resourceCount(await readState(r))} resources in the state, 0 orphans`);
}

async function teardownPhase(r: Rehearsal): Promise<void> {
  const result = await r.terraform(["destroy", "-auto-approve", "-input=false", "-no-color"]);
  if (result.code !== 0) throw new PhaseFailure(`terraform destroy failed:\n${tail(result.stdout + result.stderr)}`);
}

async function noneLeftPhase(r: Rehearsal): Promise<void> {
  const { left } = leftovers(await r.api<EmulatorInventory>("inventory"));
  if (left.length > 0) throw new PhaseFailure(`the emulator still holds:\n${bullets(left)}`);
}

/** The phases after the emulator's start, in order; `when` leaves one out for environments it does not apply to. */
const PHASES: readonly { name: string; run: (r: Rehearsal) => Promise<unknown>; when?: (env: EnvironmentConfig) => boolean }[] = [
  { name: "bucket", run: (r) => r.api("create-bucket", r.env.state.bucket) },
  { name: "interrupt", run: interruptPhase },
  { name: "deploy", run: deployPhase },
  { name: "readback", run: readbackPhase },
  { name: "no-drift", run: (r) => noDrift(r) },
  { name: "change", run: changePhase, when: (env) => Boolean(env.proxy.fleet) },
  { name: "allowlist", run: allowlistPhase, when: (env) => runsSquid(egressOf(env)) },
  { name: "verify", run: verifyPhase },
  { name: "lock", run: lockPhase },
  { name: "destroy", run: destroyPhase },
  { name: "leftovers", run: leftoversPhase },
  { name: "kill", run: killPhase },
  { name: "sweep", run: sweepPhase },
  { name: "adopt", run: adoptPhase },
  { name: "teardown", run: teardownPhase },
  { name: "none-left", run: noneLeftPhase },
];

async function main(): Promise<number> {
  const runId = `${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}`;
  const workDir = path.join(ROOT, ".tmp", "rehearsal", runId);
  fs.mkdirSync(workDir, { recursive: true });
  const log = path.join(workDir, "rehearsal.log");
  const record: Tally = { lines: [], failed: false };
  let moto: MotoServer | undefined;

  const stopAll = async () => {
    for (const child of children) child.kill("SIGTERM");
    if (moto) await moto.stop();
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      console.log(`\n${signal}: stopping the emulator (pid ${moto?.pid ?? "none"}) and every step`);
      void stopAll().then(() => process.exit(130));
    });
  }
  const missing = missingTool();
  if (missing !== undefined) {
    console.error(missing);
    return 2;
  }
  const setup = readEnvironment(workDir, log);

  try {
    moto = await phase(record, "emulator", () => startMoto(workDir));
    const rehearsal = connect(setup, moto, workDir, log);
    for (const p of PHASES) if (!p.when || p.when(setup.env)) await phase(record, p.name, () => p.run(rehearsal));
  } catch (e) {
    record.failed = true;
    if (!(e instanceof PhaseFailure)) console.log(`error: ${(e as Error).stack ?? e}`);
  } finally {
    await stopAll();
  }
  console.log(
    record.failed
      ? `verdict: FAILED (details in ${path.relative(ROOT, log)})`
      : `verdict: PASSED, ${record.lines.length} phases; the emulator is stopped`,
  );
  return record.failed ? 1 : 0;
}

main().then((code) => process.exit(code));
