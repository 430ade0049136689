import { spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { lockTimeoutProblem } from "../tools/deploy-options";

const ROOT = path.join(__dirname, "..");

/** A stand-in for terraform on PATH: init succeeds; apply records its arguments, runs for up to 30 s (FAKE_APPLY_TICKS tenths), and on SIGINT saves "state" and exits 1. */
function fakeTerraform(dir: string): { env: NodeJS.ProcessEnv; marks: string } {
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  const marks = path.join(dir, "marks");
  fs.writeFileSync(
    path.join(bin, "terraform"),
    [
      "#!/bin/bash",
      'case "$1" in',
      "  init) exit 0 ;;",
      `  apply) echo "$*" > "${marks}.args"; cat orphan-imports.tf.json > "${marks}.imports" 2>/dev/null || echo none > "${marks}.imports"`,
      `    trap 'echo interrupted >> "${marks}"; sleep 1; echo state-saved >> "${marks}"; exit 1' INT`,
      `    echo started >> "${marks}"`,
      '    for i in $(seq 1 "${FAKE_APPLY_TICKS:-300}"); do sleep 0.1; done',
      `    echo finished >> "${marks}"; exit 0 ;;`,
      "esac",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  return { env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env.PATH}`, CDKTF_OUTDIR: path.join(dir, "out"), PROXY_STATE_DIR: path.join(dir, "state"), PROXY_CONFIG: "", CHECKPOINT_DISABLE: "1", AWS_EC2_METADATA_DISABLED: "true", AWS_CONFIG_FILE: path.join(dir, "none"), AWS_SHARED_CREDENTIALS_FILE: path.join(dir, "none"), AWS_PROFILE: "", AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" }, marks };
}

const deploy = (args: string[], env: NodeJS.ProcessEnv) => spawn(process.execPath, ["--require", "tsx/cjs", path.join(ROOT, "scripts", "deploy.ts"), ...args], { cwd: ROOT, env });

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
    for (let i = 0; i < 150 && !(fs.existsSync(marks) && fs.readFileSync(marks, "utf8").includes("started")); i++) await new Promise((r) => setTimeout(r, 100));
    child.kill("SIGTERM");
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(code).not.toBe(0);
    expect(fs.readFileSync(marks, "utf8").split("\n")).toEqual(["started", "interrupted", "state-saved", ""]);
    expect(stderr).toMatch(/SIGTERM: Terraform is stopping after the resources in progress; waiting for it to save the state and release the lock/);
    expect(stderr).toMatch(/Terraform has stopped \(exit 1\)/);
    // Then the orphan sweep looks for creates that were cut off; here it has no credentials and says so.
    expect(stderr).toMatch(/Looking for resources whose creation was under way when Terraform stopped/);
    expect(stderr).toMatch(/AWS credentials: none found[\s\S]*The sweep could not run; run npm run orphans -- verification before you deploy again\./);
    expect(fs.readFileSync(`${marks}.args`, "utf8").trim()).toBe("apply -lock-timeout=5m -auto-approve");
  });

  it("waits for a held lock as long as --lock-timeout says", async () => {
    const { env, marks } = fakeTerraform(dir);
    const child = deploy(["verification", "--lock-timeout", "90s"], { ...env, FAKE_APPLY_TICKS: "5" });
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(code).toBe(0);
    expect(fs.readFileSync(`${marks}.args`, "utf8").trim()).toBe("apply -lock-timeout=90s");
  });

  it("refuses a lock timeout that is not a duration, and an unknown stack, before Terraform runs", () => {
    const { env, marks } = fakeTerraform(dir);
    const run = (args: string[]) => spawnSync(process.execPath, ["--require", "tsx/cjs", path.join(ROOT, "scripts", "deploy.ts"), ...args], { cwd: ROOT, env, encoding: "utf8" });
    const badTimeout = run(["verification", "--lock-timeout", "5 minutes"]);
    expect(badTimeout.status).toBe(1);
    expect(badTimeout.stderr.trim()).toBe('--lock-timeout = "5 minutes" is not a duration; write it as Terraform does, such as 30s, 5m or 1h30m');
    const unknown = run(["staging"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/stack "staging" is not among the synthesized stacks \(.*verification.*\); name one of them, or set PROXY_CONFIG to its environment file/);
    expect(fs.existsSync(`${marks}.args`)).toBe(false);
  });
});

describe("npm run deploy --imports", () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-"));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));
  const run = (args: string[], env: NodeJS.ProcessEnv) => spawnSync(process.execPath, ["--require", "tsx/cjs", path.join(ROOT, "scripts", "deploy.ts"), ...args], { cwd: ROOT, env, encoding: "utf8" });

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
    expect(r.stderr.trim()).toBe(`--imports = "${file}" holds something other than import blocks ({"import": [{"to": ..., "id": ...}]}); give the file npm run orphans wrote`);
    expect(fs.existsSync(`${marks}.args`)).toBe(false);
  });
});

describe("lockTimeoutProblem", () => {
  it.each(["0s", "30s", "5m", "1h30m", "1.5h"])("accepts %s", (value) => expect(lockTimeoutProblem(value)).toBeUndefined());
  it.each(["", "5", "5 minutes", "-5m", "5M"])("refuses %p", (value) => expect(lockTimeoutProblem(value)).toMatch(/is not a duration/));
});
