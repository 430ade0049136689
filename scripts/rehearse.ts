/**
 * `npm run rehearse`: a full deploy rehearsal of the verification environment in the moto AWS
 * emulator on 127.0.0.1, with no AWS account. Phases: start the emulator, create the state bucket,
 * interrupt a deploy with Ctrl-C (`npm run deploy`, SIGINT to its process group as a terminal
 * sends it: the lock must be released, and the only orphans allowed are creates that Terraform
 * reports as cut off in flight, each found by the sweep and adopted), `cdktf deploy` to the end, read the deployment back through the emulator's
 * API, plan again (no changes), for a proxy fleet deploy a change (another instance type: a new
 * template version, an instance refresh, every proxy replaced, no drift after), prove the state
 * lock, `cdktf destroy`, check that nothing is left;
 * then kill a deploy (SIGKILL to its process group: no chance to save state), sweep for orphans
 * (every one the emulator holds must be found), unlock, adopt them with the generated import blocks,
 * destroy, and check again that nothing is left. One line per phase with its time, then the
 * verdict; the exit code is non-zero on any failure.
 *
 * Settings (environment): PROXY_CONFIG, the environment file, as for `npx cdktf synth` (default
 * demos/verification.json); PROXY_PROVIDER_MIRROR, see docs/proof.md.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { EnvironmentConfig, fleetSize, parseEnvironment, stateKey } from "../lib/config";
import { MotoServer, onPath, startMoto } from "../proof/moto";
import {
  classifyDrift,
  deploymentProblems,
  EmulatorImportIds,
  EmulatorInventory,
  emulatorEnvironment,
  emulatorNotes,
  leftovers,
  otherInstanceType,
  rollingChangeProblems,
  StackOutputs,
  sweepCoverage,
} from "../proof/rehearsal";
import { terraformEnv } from "../proof/terraform";
import { orphanImportsFile } from "../lib/naming";
import { TerraformState } from "../operations/orphans";
import { answerHelp } from "../tools/cli";

const USAGE = `
Usage: npm run rehearse

A full deploy rehearsal in the moto AWS emulator on 127.0.0.1, no AWS account needed: deploy
(npm run deploy, interrupted with Ctrl-C, then to the end), read back, plan again (no changes),
a fleet's change, the state lock, destroy, then a killed deploy, the orphan sweep, adoption and
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
  // eslint-disable-next-line no-control-regex
  return text
    .replace(/\x1b\[[0-9;]*[A-Za-z]/g, "")
    .split("\n")
    .filter((l) => l.trim())
    .slice(-lines)
    .join("\n");
}

async function main(): Promise<number> {
  const runId = `${new Date().toISOString().replace(/[:.]/g, "-")}-${process.pid}`;
  const workDir = path.join(ROOT, ".tmp", "rehearsal", runId);
  fs.mkdirSync(workDir, { recursive: true });
  const log = path.join(workDir, "rehearsal.log");
  const lines: string[] = [];
  let failed = false;
  let moto: MotoServer | undefined;

  const phase = async <T>(name: string, body: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      const result = await body();
      const line = `phase ${name.padEnd(10)} ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  ok`;
      console.log(line);
      lines.push(line);
      return result;
    } catch (e) {
      failed = true;
      console.log(`phase ${name.padEnd(10)} ${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s  FAILED\n${(e as Error).message}`);
      throw e;
    }
  };

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

  for (const tool of ["moto_server", "terraform", "python3"]) {
    if (!onPath(tool)) {
      console.error(
        tool === "moto_server"
          ? "moto_server is not on PATH. Install the AWS emulator with: pip install 'moto[server]==5.2.1', then run npm run rehearse again."
          : `${tool} is not on PATH; install it (Terraform 1.10 or later for S3 lock files) and run again.`,
      );
      return 2;
    }
  }

  const sourceFile = path.resolve(process.env.PROXY_CONFIG || path.join(ROOT, "demos", "verification.json"));
  const { raw, adjustments } = emulatorEnvironment(JSON.parse(fs.readFileSync(sourceFile, "utf8")));
  const env: EnvironmentConfig = parseEnvironment(raw, sourceFile);
  const envFile = path.join(workDir, "environment.json");
  fs.writeFileSync(envFile, JSON.stringify(raw, null, 2));
  console.log(`rehearsal of ${path.relative(ROOT, sourceFile)} (stack ${env.name}); log in ${path.relative(ROOT, log)}`);
  for (const a of adjustments) console.log(`  emulator adjustment: ${a.setting} = ${JSON.stringify(a.value)} (${a.reason})`);
  for (const note of emulatorNotes(env)) console.log(`  emulator difference: ${note}`);

  const outDir = path.join(workDir, "cdktf.out");
  const stackDir = path.join(outDir, "stacks", env.name);
  const region = env.state.region ?? env.region;
  const cdktf = path.join(ROOT, "node_modules", ".bin", "cdktf");

  try {
    moto = await phase("emulator", () => startMoto(workDir));
    const endpoint = moto.endpoint;
    const { env: tfEnv, mirror } = terraformEnv(process.env, workDir);
    console.log(
      `  emulator ${endpoint} (pid ${moto.pid}); provider ${mirror ? `from the mirror ${mirror}` : "from Terraform's own configuration"}`,
    );
    const childEnv: NodeJS.ProcessEnv = {
      ...tfEnv,
      PROXY_CONFIG: envFile,
      PROXY_EMULATOR_ENDPOINT: endpoint,
      AWS_ACCESS_KEY_ID: "test",
      AWS_SECRET_ACCESS_KEY: "test",
      AWS_REGION: env.region,
      AWS_EC2_METADATA_DISABLED: "true",
    };
    // A user's profile or session token must not steer a rehearsal: only the fake keys above count.
    delete childEnv.AWS_PROFILE;
    delete childEnv.AWS_SESSION_TOKEN;
    const api = async (...args: string[]) => {
      const r = await run("python3", [path.join(ROOT, "proof", "emulator", "emulator_api.py"), endpoint, region, ...args], {
        env: childEnv,
        log,
      });
      if (r.code !== 0) throw new PhaseFailure(`emulator_api.py ${args[0]} failed:\n${tail(r.stderr)}`);
      return JSON.parse(r.stdout);
    };
    const terraform = (args: string[], input?: string) => run("terraform", args, { cwd: stackDir, env: childEnv, log, input });

    await phase("bucket", () => api("create-bucket", env.state.bucket));

    const stateDir = path.join(workDir, "state");
    const lockKey = `${stateKey(env)}.tflock`;
    const node = (script: string, ...args: string[]) =>
      [process.execPath, ["--require", "tsx/cjs", path.join(ROOT, "scripts", script), ...args]] as const;
    const deployEnv = { ...childEnv, CDKTF_OUTDIR: outDir, PROXY_STATE_DIR: stateDir };
    /** The stack as the last synthesis wrote it. */
    const readStack = () => JSON.parse(fs.readFileSync(path.join(stackDir, "cdk.tf.json"), "utf8"));
    const readState = async (): Promise<TerraformState> => {
      const { body } = await api("get-object", env.state.bucket, stateKey(env));
      return body ? JSON.parse(body) : {};
    };
    /** Runs the orphan sweep and compares it with the emulator's own inventory. */
    const sweep = async () => {
      const jsonFile = path.join(workDir, `orphans-${Date.now()}.json`);
      const [command, args] = node("orphans.ts", env.name, "--json", jsonFile);
      const r = await run(command, [...args], { env: deployEnv, log });
      if (r.code !== 0 && r.code !== 2) throw new PhaseFailure(`npm run orphans failed (exit ${r.code}):\n${tail(r.stderr + r.stdout)}`);
      const report = JSON.parse(fs.readFileSync(jsonFile, "utf8"));
      const swept = report.orphans.map((o: { resource: { type: string; importId: string } }) => o.resource);
      const coverage = sweepCoverage((await api("import-ids")) as EmulatorImportIds, await readState(), swept);
      const unplaced = report.orphans.filter((o: { address?: string }) => !o.address).length;
      return { ...coverage, unknownKinds: report.unknownKinds.length as number, unplaced, exit: r.code, jsonFile };
    };
    const resourceCount = (state: TerraformState) =>
      (state.resources ?? []).filter((r) => r.mode === "managed").reduce((n, r) => n + r.instances.length, 0);

    await phase("interrupt", async () => {
      const [command, args] = node("deploy.ts", env.name, "-auto-approve", "-no-color");
      const r = await runInterrupted(command, [...args], { env: deployEnv, log, after: INTERRUPT_AFTER, signal: "SIGINT" });
      if (r.stoppedInMs === undefined)
        throw new PhaseFailure(`the deploy ended before ${INTERRUPT_AFTER} creations (exit ${r.code}):\n${tail(r.stdout + r.stderr)}`);
      if (r.code === 0) throw new PhaseFailure("the interrupted deploy exited 0; it must say it was interrupted with a non-zero exit");
      if ((await api("object-exists", env.state.bucket, lockKey)).exists)
        throw new PhaseFailure(`the lock s3://${env.state.bucket}/${lockKey} is still held after the interrupted deploy exited`);
      if (!/Looking for resources whose creation was under way/.test(r.stderr))
        throw new PhaseFailure("the interrupted deploy did not run the orphan sweep");
      // Creates whose API call was in flight are cancelled by the interrupt; AWS may have carried
      // them out. Those, and only those, may be orphans, and the sweep must find each one.
      const cutOff = new Set(
        (r.stdout + r.stderr)
          .split(/\nError: /)
          .slice(1)
          .filter((block) => block.startsWith("creating") && block.includes("context canceled"))
          .map((block) => /with (aws_\w+\.[\w-]+),/.exec(block)?.[1])
          .filter((a): a is string => a !== undefined),
      );
      const held = resourceCount(await readState());
      const s = await sweep();
      const report = JSON.parse(fs.readFileSync(s.jsonFile, "utf8")) as { orphans: { address?: string }[] };
      const unexplained = report.orphans.filter((o) => !o.address || !cutOff.has(o.address));
      console.log(
        `  Ctrl-C after ${r.created} creations: Terraform stopped in ${(r.stoppedInMs / 1000).toFixed(1)} s, lock released, state holds ${held} resources; ${cutOff.size} creates cut off in flight, ${s.orphans.length} orphans, all found by the sweep: ${s.missed.length === 0 ? "yes" : "no"}`,
      );
      const problems = [
        ...s.missed.map((m) => `the sweep missed ${m}`),
        ...s.extra.map((e) => `the sweep reported ${e}, which is no orphan`),
        ...unexplained.map((o) => `an orphan at ${o.address ?? "no address"} whose create Terraform did not report as cut off`),
      ];
      if (s.unknownKinds > 0) problems.push(`${s.unknownKinds} tagged resources of kinds the sweep does not map`);
      if (problems.length > 0) throw new PhaseFailure(problems.map((p) => `  - ${p}`).join("\n"));
      if (s.orphans.length > 0) {
        // The deploy script's own advice: finish with the sweep's import blocks.
        const [adoptCommand, adoptArgs] = node(
          "deploy.ts",
          env.name,
          "--imports",
          orphanImportsFile(stateDir, env.name),
          "-auto-approve",
          "-no-color",
          "-input=false",
        );
        const adopt = await run(adoptCommand, [...adoptArgs], { env: deployEnv, log });
        if (adopt.code !== 0)
          throw new PhaseFailure(`the deploy with the sweep's import blocks failed:\n${tail(adopt.stdout + adopt.stderr)}`);
        console.log(`  adopted with the sweep's import blocks: ${/(\d+) imported/.exec(adopt.stdout)?.[1] ?? "0"} imported`);
      }
    });

    const outputsFile = path.join(workDir, "outputs.json");
    await phase("deploy", async () => {
      const r = await run(
        cdktf,
        ["deploy", env.name, "--auto-approve", "--skip-provider-lock", "--output", outDir, "--outputs-file", outputsFile],
        { env: childEnv, log },
      );
      if (r.code !== 0) throw new PhaseFailure(`cdktf deploy failed:\n${tail(r.stdout + r.stderr)}`);
      const s = await sweep();
      if (s.orphans.length > 0 || s.extra.length > 0)
        throw new PhaseFailure(
          `the deploy after the interruption left orphans:\n${[...s.orphans, ...s.extra].map((o) => `  - ${o}`).join("\n")}`,
        );
      console.log(`  the deploy after the interruption converged: ${resourceCount(await readState())} resources in the state, 0 orphans`);
    });

    await phase("readback", async () => {
      const outputs: StackOutputs = JSON.parse(fs.readFileSync(outputsFile, "utf8"))[env.name];
      const problems = deploymentProblems(env, outputs, (await api("inventory")) as EmulatorInventory);
      if (problems.length > 0) throw new PhaseFailure(problems.map((p) => `  - ${p}`).join("\n"));
    });

    /** A plan of the deployed stack must change nothing but the emulator's known artefacts. */
    const noDrift = async (quiet = false) => {
      const plan = await terraform(["plan", "-detailed-exitcode", "-input=false", "-no-color", "-out=rehearsal.tfplan"]);
      if (plan.code === 0) return;
      if (plan.code !== 2) throw new PhaseFailure(`terraform plan failed:\n${tail(plan.stderr + plan.stdout)}`);
      const show = await terraform(["show", "-json", "rehearsal.tfplan"]);
      const { tolerated, drift } = classifyDrift(JSON.parse(show.stdout));
      if (!quiet) for (const t of tolerated) console.log(`  emulator artefact, not drift: ${t}`);
      if (drift.length > 0)
        throw new PhaseFailure(
          `the plan of an unchanged stack shows changes (drift is a bug in the stack):\n${drift.map((d) => `  - ${d}`).join("\n")}\n${tail(plan.stdout, 60)}`,
        );
    };
    await phase("no-drift", () => noDrift());

    if (env.proxy.fleet) {
      // A change to a running fleet: the template gets a new version, the group follows it, and
      // the provider starts an instance refresh. The rest of the rehearsal runs with the change.
      await phase("change", async () => {
        const before = (await api("inventory")) as EmulatorInventory;
        const instanceType = otherInstanceType(env.proxy.instanceType);
        fs.writeFileSync(envFile, JSON.stringify({ ...raw, proxy: { ...raw.proxy, instanceType } }, null, 2));
        const r = await run(cdktf, ["deploy", env.name, "--auto-approve", "--skip-provider-lock", "--output", outDir], {
          env: childEnv,
          log,
        });
        if (r.code !== 0) throw new PhaseFailure(`cdktf deploy of the change failed:\n${tail(r.stdout + r.stderr)}`);
        const stack = readStack();
        const asked = (
          Object.values(stack.resource.aws_autoscaling_group)[0] as { instance_refresh: { preferences: Record<string, number> } }
        ).instance_refresh.preferences;
        const change = {
          instanceType,
          minHealthyPercentage: asked.min_healthy_percentage,
          maxHealthyPercentage: asked.max_healthy_percentage,
        };
        const problems = rollingChangeProblems(env, before, (await api("inventory")) as EmulatorInventory, change);
        if (problems.length > 0) throw new PhaseFailure(problems.map((p) => `  - ${p}`).join("\n"));
        await noDrift(true);
        console.log(
          `  proxy.instanceType ${env.proxy.instanceType} -> ${instanceType}: a new template version, an instance refresh keeping ${change.minHealthyPercentage}% to ${change.maxHealthyPercentage}% healthy, ${fleetSize(env)} of ${fleetSize(env)} instances replaced; the plan after it is clean`,
        );
      });
    }

    await phase("lock", async () => {
      const before = await terraform(["state", "list"]);
      // The holder: an interactive console keeps the state lock until it exits.
      const holder = spawn("terraform", ["console"], { cwd: stackDir, env: childEnv, stdio: ["pipe", "pipe", "pipe"] });
      children.add(holder);
      const holderExit = new Promise<number | null>((resolve) => holder.on("close", (code) => (children.delete(holder), resolve(code))));
      try {
        // Without a terminal the console reads its input to the end before it answers; it takes
        // the lock at once, so the lock file in S3 is the sign that it holds it.
        holder.stdin.write("1 + 41\n");
        let held = false;
        for (let attempt = 0; attempt < 60 && !held; attempt++) {
          held = (await api("object-exists", env.state.bucket, lockKey)).exists;
          if (!held) await new Promise((r) => setTimeout(r, 500));
        }
        if (!held)
          throw new PhaseFailure(`terraform console did not take the lock (no s3://${env.state.bucket}/${lockKey}) within 60 tries`);
        const contender = await terraform(["plan", "-lock-timeout=0s", "-input=false", "-no-color"]);
        if (contender.code === 0 || !/Error acquiring the state lock/.test(contender.stderr + contender.stdout)) {
          throw new PhaseFailure(
            `a second terraform plan was not refused the lock (exit ${contender.code}):\n${tail(contender.stderr + contender.stdout)}`,
          );
        }
        console.log(
          `  a second holder was refused: ${/StatusCode: (\d+)/.exec(contender.stderr + contender.stdout)?.[0] ?? "Error acquiring the state lock"}`,
        );
      } finally {
        holder.stdin.end();
        const timer = setTimeout(() => holder.kill("SIGTERM"), 30_000);
        await holderExit;
        clearTimeout(timer);
      }
      if ((await api("object-exists", env.state.bucket, lockKey)).exists)
        throw new PhaseFailure("the lock file is still there after the holder exited");
      const after = await terraform(["state", "list"]);
      if (before.code !== 0 || after.stdout !== before.stdout || before.stdout.trim() === "") {
        throw new PhaseFailure("the state changed while it was locked, or cannot be listed");
      }
    });

    await phase("destroy", async () => {
      const r = await run(cdktf, ["destroy", env.name, "--auto-approve", "--skip-provider-lock", "--output", outDir], {
        env: childEnv,
        log,
      });
      if (r.code !== 0) throw new PhaseFailure(`cdktf destroy failed:\n${tail(r.stdout + r.stderr)}`);
    });

    await phase("leftovers", async () => {
      const { left, tolerated } = leftovers((await api("inventory")) as EmulatorInventory);
      for (const t of tolerated) console.log(`  emulator artefact, not a leftover: ${t}`);
      if (left.length > 0) throw new PhaseFailure(`the emulator still holds:\n${left.map((l) => `  - ${l}`).join("\n")}`);
    });

    let stale: string | undefined;
    await phase("kill", async () => {
      const stack = readStack();
      const killAfter = Math.floor(
        KILL_AT_SHARE * Object.values(stack.resource as Record<string, object>).reduce((n, byName) => n + Object.keys(byName).length, 0),
      );
      const [command, args] = node("deploy.ts", env.name, "-auto-approve", "-no-color");
      const r = await runInterrupted(command, [...args], { env: deployEnv, log, after: killAfter, signal: "SIGKILL" });
      if (r.stoppedInMs === undefined)
        throw new PhaseFailure(`the deploy ended before ${killAfter} creations (exit ${r.code}):\n${tail(r.stdout + r.stderr)}`);
      const { body } = await api("get-object", env.state.bucket, lockKey);
      if (!body) throw new PhaseFailure("a killed apply left no lock: it cannot have held one");
      stale = JSON.parse(body).ID;
      console.log(
        `  killed after ${r.created} creations: a stale lock (ID ${stale}) and ${resourceCount(await readState())} resources in the state`,
      );
    });

    await phase("sweep", async () => {
      const s = await sweep();
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
      if (problems.length > 0) throw new PhaseFailure(problems.map((p) => `  - ${p}`).join("\n"));
    });

    await phase("adopt", async () => {
      // The runbook: the lock's ID comes from Lock Info; nothing runs any more, so unlock.
      const unlock = await terraform(["force-unlock", "-force", stale!]);
      if (unlock.code !== 0) throw new PhaseFailure(`terraform force-unlock failed:\n${tail(unlock.stderr + unlock.stdout)}`);
      const imports = orphanImportsFile(stateDir, env.name);
      const [command, args] = node("deploy.ts", env.name, "--imports", imports, "-auto-approve", "-no-color", "-input=false");
      const r = await run(command, [...args], { env: deployEnv, log });
      if (r.code !== 0) throw new PhaseFailure(`the deploy with the sweep's import blocks failed:\n${tail(r.stdout + r.stderr)}`);
      const imported = /(\d+) imported/.exec(r.stdout)?.[1] ?? "0";
      const s = await sweep();
      if (s.orphans.length > 0 || s.extra.length > 0)
        throw new PhaseFailure(`orphans remain after the adoption:\n${[...s.orphans, ...s.extra].map((o) => `  - ${o}`).join("\n")}`);
      console.log(`  ${imported} imported, the rest created: ${resourceCount(await readState())} resources in the state, 0 orphans`);
    });

    await phase("teardown", async () => {
      const r = await terraform(["destroy", "-auto-approve", "-input=false", "-no-color"]);
      if (r.code !== 0) throw new PhaseFailure(`terraform destroy failed:\n${tail(r.stdout + r.stderr)}`);
    });

    await phase("none-left", async () => {
      const { left } = leftovers((await api("inventory")) as EmulatorInventory);
      if (left.length > 0) throw new PhaseFailure(`the emulator still holds:\n${left.map((l) => `  - ${l}`).join("\n")}`);
    });
  } catch (e) {
    failed = true;
    if (!(e instanceof PhaseFailure)) console.log(`error: ${(e as Error).stack ?? e}`);
  } finally {
    await stopAll();
  }
  console.log(
    failed
      ? `verdict: FAILED (details in ${path.relative(ROOT, log)})`
      : `verdict: PASSED, ${lines.length} phases; the emulator is stopped`,
  );
  return failed ? 1 : 0;
}

main().then((code) => process.exit(code));
