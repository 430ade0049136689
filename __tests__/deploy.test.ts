import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { EnvironmentSource, sourceOf, staleSourceProblem } from "../lib/synth-output";
import { lockTimeoutProblem } from "../operations/deploy-options";
import { TS_RUNNER } from "../tools/cli";

const ROOT = path.join(__dirname, "..");

/** The demo verification environment with a state bucket of its own, written to `file`. */
function ownEnvironment(file: string, edit: (raw: any) => void = () => undefined): string {
  const raw = JSON.parse(fs.readFileSync(path.join(ROOT, "demos", "verification.json"), "utf8"));
  raw.state.bucket = "deploy-test-own-bucket";
  edit(raw);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(raw, null, 2));
  return file;
}

/**
 * A stand-in for terraform on PATH: init records the CLI config it was given; apply records its
 * arguments and the cdk.tf.json it was handed, runs for up to 30 s (FAKE_APPLY_TICKS tenths), and
 * on SIGINT saves "state" and exits 1. The environment deploys a copy of the verification demo with
 * its own bucket (PROXY_CONFIG), and an empty folder of user environments.
 */
function fakeTerraform(dir: string): { env: NodeJS.ProcessEnv; marks: string } {
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  const marks = path.join(dir, "marks");
  fs.writeFileSync(
    path.join(bin, "terraform"),
    [
      "#!/bin/bash",
      'case "$1" in',
      `  init) cat "\${TF_CLI_CONFIG_FILE:-/dev/null}" > "${marks}.cliconfig"; exit 0 ;;`,
      `  apply) echo "$*" > "${marks}.args"; echo "TF_INPUT=\${TF_INPUT-unset}" > "${marks}.input"; cp cdk.tf.json "${marks}.stack.json"; cat orphan-imports.tf.json > "${marks}.imports" 2>/dev/null || echo none > "${marks}.imports"`,
      `    trap 'echo interrupted >> "${marks}"; sleep 1; echo state-saved >> "${marks}"; exit 1' INT`,
      `    echo started >> "${marks}"`,
      '    for i in $(seq 1 "${FAKE_APPLY_TICKS:-300}"); do sleep 0.1; done',
      `    echo finished >> "${marks}"; exit 0 ;;`,
      "esac",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  const config = ownEnvironment(path.join(dir, "verification.json"));
  fs.mkdirSync(path.join(dir, "no-environments"));
  return {
    env: {
      ...process.env,
      PATH: `${bin}${path.delimiter}${process.env.PATH}`,
      CDKTF_OUTDIR: path.join(dir, "out"),
      PROXY_STATE_DIR: path.join(dir, "state"),
      PROXY_CONFIG: config,
      PROXY_ENVIRONMENTS_DIR: path.join(dir, "no-environments"),
      PROXY_PROVIDER_MIRROR: "",
      PROXY_EMULATOR_ENDPOINT: "",
      CHECKPOINT_DISABLE: "1",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_CONFIG_FILE: path.join(dir, "none"),
      AWS_SHARED_CREDENTIALS_FILE: path.join(dir, "none"),
      AWS_PROFILE: "",
      AWS_ACCESS_KEY_ID: "",
      AWS_SECRET_ACCESS_KEY: "",
      TF_CLI_CONFIG_FILE: "",
      TF_INPUT: undefined,
      TF_IN_AUTOMATION: undefined,
    },
    marks,
  };
}

const deploy = (args: string[], env: NodeJS.ProcessEnv) =>
  spawn(process.execPath, [TS_RUNNER, path.join(ROOT, "scripts", "deploy.ts"), ...args], { cwd: ROOT, env });

describe("npm run deploy", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("passes a SIGTERM on to Terraform as its interrupt, waits until it has saved the state, and exits non-zero", async () => {
    const { env, marks } = fakeTerraform(dir);
    const child = deploy(["verification", "-auto-approve"], env);
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    for (let i = 0; i < 150 && !(fs.existsSync(marks) && fs.readFileSync(marks, "utf8").includes("started")); i++)
      await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(code).not.toBe(0);
    expect(fs.readFileSync(marks, "utf8").split("\n")).toEqual(["started", "interrupted", "state-saved", ""]);
    expect(stderr).toMatch(
      /SIGTERM: Terraform is stopping after the resources in progress; waiting for it to save the state and release the lock/,
    );
    expect(stderr).toMatch(/Terraform has stopped \(exit 1\)/);
    // Then the orphan sweep looks for creates that were cut off; here it has no credentials and says so.
    expect(stderr).toMatch(/Looking for resources whose creation was under way when Terraform stopped/);
    expect(stderr).toMatch(
      /AWS credentials: none found[\s\S]*The sweep could not run; run npm run orphans -- verification before you deploy again\./,
    );
    expect(fs.readFileSync(`${marks}.args`, "utf8").trim()).toBe("apply -lock-timeout=5m -auto-approve");
  });

  it("waits for a held lock as long as --lock-timeout says, given before or after the stack", async () => {
    const { env, marks } = fakeTerraform(dir);
    const child = deploy(["--lock-timeout", "90s", "verification"], { ...env, FAKE_APPLY_TICKS: "5" });
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(code).toBe(0);
    expect(fs.readFileSync(`${marks}.args`, "utf8").trim()).toBe("apply -lock-timeout=90s");
  });

  it("refuses a lock timeout that is not a duration, and an unknown stack, before Terraform runs", () => {
    const { env, marks } = fakeTerraform(dir);
    const run = (args: string[]) =>
      spawnSync(process.execPath, [TS_RUNNER, path.join(ROOT, "scripts", "deploy.ts"), ...args], {
        cwd: ROOT,
        env,
        encoding: "utf8",
      });
    const badTimeout = run(["verification", "--lock-timeout", "5 minutes"]);
    expect(badTimeout.status).toBe(1);
    expect(badTimeout.stderr.trim()).toBe(
      '--lock-timeout = "5 minutes" is not a duration; write it as Terraform does, such as 30s, 5m or 1h30m',
    );
    const unknown = run(["staging"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(
      /stack "staging" is not among the synthesized stacks \(.*verification.*\) of PROXY_CONFIG=.*; name one of them, or set PROXY_CONFIG to its environment file/,
    );
    expect(fs.existsSync(`${marks}.args`)).toBe(false);
  });
});

describe("npm run deploy applies what the environment file says now", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = (args: string[], env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, [TS_RUNNER, path.join(ROOT, "scripts", "deploy.ts"), ...args], {
      cwd: ROOT,
      env,
      encoding: "utf8",
    });
  const synth = (env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, [TS_RUNNER, path.join(ROOT, "main.ts")], { cwd: ROOT, env, encoding: "utf8" });
  const appliedProxyType = (marks: string) => {
    const stack = JSON.parse(fs.readFileSync(`${marks}.stack.json`, "utf8"));
    return Object.values(stack.resource.aws_instance as Record<string, { instance_type: string; tags?: Record<string, string> }>).find(
      (i) => i.tags?.Name === "verification-proxy",
    )?.instance_type;
  };

  it("refuses a stack left from a synthesis of another file, names that file and the command, and applies nothing", () => {
    const { env, marks } = fakeTerraform(dir);
    const mine = ownEnvironment(path.join(dir, "mine", "my.json"), (raw) => (raw.name = "mine"));
    expect(synth({ ...env, PROXY_CONFIG: mine }).status).toBe(0);
    ownEnvironment(mine, (raw) => {
      raw.name = "mine";
      raw.proxy.instanceType = "m5.large";
    });
    // Without PROXY_CONFIG the deploy synthesizes the user's folder (empty here: the demos), not my.json.
    const r = run(["mine", "-auto-approve"], { ...env, PROXY_CONFIG: "" });
    expect(r.status).toBe(1);
    expect(r.stderr.trim().split("\n").pop()).toBe(
      `stack mine was synthesized from ${mine}, which this deploy does not synthesize; deploy it from that file with PROXY_CONFIG=${mine} npm run deploy -- mine`,
    );
    expect(fs.existsSync(`${marks}.args`)).toBe(false);
  });

  it("synthesizes the user's environment again before applying: an edit after the last synth is what gets applied", () => {
    const { env, marks } = fakeTerraform(dir);
    const envs = path.join(dir, "environments");
    const file = ownEnvironment(path.join(envs, "verification.json"));
    const userEnv = { ...env, PROXY_CONFIG: "", PROXY_ENVIRONMENTS_DIR: envs, FAKE_APPLY_TICKS: "1" };
    expect(synth(userEnv).status).toBe(0);
    ownEnvironment(file, (raw) => (raw.proxy.instanceType = "m5.large"));
    const r = run(["verification", "-auto-approve"], userEnv);
    expect(r.status).toBe(0);
    expect(appliedProxyType(marks)).toBe("m5.large");
    const applied = JSON.parse(fs.readFileSync(`${marks}.stack.json`, "utf8"));
    expect(applied["//"].environmentSources).toEqual([
      { file, sha256: require("crypto").createHash("sha256").update(fs.readFileSync(file)).digest("hex") },
    ]);
  });

  it("refuses the shipped placeholder bucket, for the environment and for its state stack, before anything runs", () => {
    const { env, marks } = fakeTerraform(dir);
    const demo = path.join(ROOT, "demos", "verification.json");
    for (const stack of ["verification", "state-proxy-over-peering-tfstate-example"]) {
      const r = run([stack], { ...env, PROXY_CONFIG: demo });
      expect(r.status).toBe(1);
      expect(r.stderr.trim()).toBe(
        'demos/verification.json: `state.bucket` = "proxy-over-peering-tfstate-example" is a placeholder the demos and examples ship with; S3 bucket names are global, so it is not yours to use. Set `state.bucket` to a name of your own (such as <account id>-proxy-over-peering-tfstate), deploy its state stack (npm run deploy -- state-<bucket>), then this one',
      );
    }
    expect(fs.existsSync(path.join(dir, "out"))).toBe(false);
    expect(fs.existsSync(`${marks}.args`)).toBe(false);
  });

  it("installs the provider from PROXY_PROVIDER_MIRROR when it is set, and refuses a folder that holds no provider", () => {
    const { env, marks } = fakeTerraform(dir);
    const bad = run(["verification"], { ...env, PROXY_PROVIDER_MIRROR: path.join(dir, "nothing") });
    expect(bad.status).toBe(1);
    expect(bad.stderr.trim()).toMatch(
      /^PROXY_PROVIDER_MIRROR = ".*nothing" does not hold registry\.terraform\.io\/hashicorp\/aws 5\.100\.0 for \w+ .*Point it at the folder that holds registry\.terraform\.io, or unset it\.$/,
    );
    expect(fs.existsSync(`${marks}.args`)).toBe(false);
    const mirror = path.join(dir, "mirror");
    const platform = `${process.platform}_${process.arch === "x64" ? "amd64" : process.arch}`;
    const providerDir = path.join(mirror, "registry.terraform.io", "hashicorp", "aws", "5.100.0", platform);
    fs.mkdirSync(providerDir, { recursive: true });
    fs.writeFileSync(path.join(providerDir, "terraform-provider-aws_v5.100.0_x5"), "");
    const good = run(["verification"], { ...env, PROXY_PROVIDER_MIRROR: mirror, FAKE_APPLY_TICKS: "1" });
    expect(good.status).toBe(0);
    // Only where the provider comes from changes: Terraform may still ask before it applies.
    expect(fs.readFileSync(`${marks}.input`, "utf8").trim()).toBe("TF_INPUT=unset");
    expect(fs.readFileSync(`${marks}.cliconfig`, "utf8")).toContain(`filesystem_mirror {\n    path    = ${JSON.stringify(mirror)}`);
  });

  it("answers --help with its usage and does nothing else", () => {
    const { env, marks } = fakeTerraform(dir);
    const r = run(["--help"], env);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^Usage: npm run deploy -- <stack>/);
    expect(r.stdout).toMatch(/Example:\n/);
    expect(fs.existsSync(path.join(dir, "out"))).toBe(false);
    expect(fs.existsSync(`${marks}.args`)).toBe(false);
  });
});

describe("npm run deploy --imports", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = (args: string[], env: NodeJS.ProcessEnv) =>
    spawnSync(process.execPath, [TS_RUNNER, path.join(ROOT, "scripts", "deploy.ts"), ...args], {
      cwd: ROOT,
      env,
      encoding: "utf8",
    });

  it("adds the sweep's import blocks to that apply only, and passes the other options on", () => {
    const { env, marks } = fakeTerraform(dir);
    const blocks = { import: [{ to: "aws_vpc.ProxyVpc_5F460B27", id: "vpc-1" }] };
    const file = path.join(dir, "verification.orphans.tf.json");
    fs.writeFileSync(file, JSON.stringify(blocks));
    const adopt = run(["verification", "--imports", file, "-auto-approve"], { ...env, FAKE_APPLY_TICKS: "1" });
    expect(adopt.status).toBe(0);
    expect(JSON.parse(fs.readFileSync(`${marks}.imports`, "utf8"))).toEqual(blocks);
    expect(fs.readFileSync(`${marks}.args`, "utf8").trim()).toBe("apply -lock-timeout=5m -auto-approve");
    const next = run(["verification"], { ...env, FAKE_APPLY_TICKS: "1" });
    expect(next.status).toBe(0);
    expect(fs.readFileSync(`${marks}.imports`, "utf8").trim()).toBe("none");
  });

  it("refuses a file that is not import blocks before Terraform runs", () => {
    const { env, marks } = fakeTerraform(dir);
    const file = path.join(dir, "notes.json");
    fs.writeFileSync(file, JSON.stringify({ resource: {} }));
    const r = run(["verification", "--imports", file], env);
    expect(r.status).toBe(1);
    expect(r.stderr.trim()).toBe(
      `--imports = "${file}" holds something other than import blocks ({"import": [{"to": ..., "id": ...}]}); give the file npm run orphans wrote`,
    );
    expect(fs.existsSync(`${marks}.args`)).toBe(false);
  });
});

describe("staleSourceProblem", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "stale-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const rerun = (file: string) => `PROXY_CONFIG=${file} npm run deploy -- env`;
  const stackDir = (sources?: EnvironmentSource[]) => {
    const d = path.join(dir, "out", "stacks", "env");
    fs.mkdirSync(d, { recursive: true });
    fs.writeFileSync(path.join(d, "cdk.tf.json"), JSON.stringify({ "//": sources ? { environmentSources: sources } : {}, resource: {} }));
    return d;
  };

  it("accepts a stack whose every file is selected and unchanged, with paths relative to the project", () => {
    const file = path.join(dir, "envs", "env.json");
    fs.mkdirSync(path.dirname(file));
    fs.writeFileSync(file, "{}");
    expect(staleSourceProblem(dir, stackDir([sourceOf(dir, file)]), [file], rerun)).toBeUndefined();
    expect(sourceOf(dir, file).file).toBe("envs/env.json");
  });

  it("refuses a file changed since synthesis, naming it and the command to run", () => {
    const file = path.join(dir, "env.json");
    fs.writeFileSync(file, "{}");
    const d = stackDir([sourceOf(dir, file)]);
    fs.writeFileSync(file, '{"changed": true}');
    expect(staleSourceProblem(dir, d, [file], rerun)).toBe(
      `env.json changed after stack env was synthesized from it; nothing was applied. Run PROXY_CONFIG=env.json npm run deploy -- env again to synthesize and deploy what the file says now`,
    );
  });

  it("refuses a stack that records no file, and one whose file is gone", () => {
    expect(staleSourceProblem(dir, stackDir(), [], rerun)).toMatch(
      /cdk\.tf\.json records no environment file, so it cannot be matched to one; synthesize it again/,
    );
    const file = path.join(dir, "gone.json");
    fs.writeFileSync(file, "{}");
    const d = stackDir([sourceOf(dir, file)]);
    fs.rmSync(file);
    expect(staleSourceProblem(dir, d, [file], rerun)).toBe(
      "stack env was synthesized from gone.json, which no longer exists; restore it, or deploy another stack",
    );
  });
});

describe("lockTimeoutProblem", () => {
  it.each(["0s", "30s", "5m", "1h30m", "1.5h"])("accepts %s", (value) => expect(lockTimeoutProblem(value)).toBeUndefined());
  it.each(["", "5", "5 minutes", "-5m", "5M"])("refuses %p", (value) => expect(lockTimeoutProblem(value)).toMatch(/is not a duration/));
});
