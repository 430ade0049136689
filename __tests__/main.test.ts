import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { verificationRaw } from "./helpers/stack";

const ROOT = path.join(__dirname, "..");

/** Runs main.ts as `cdktf synth` does, with the given environment, into a fresh output folder. */
function runMain(env: Record<string, string>) {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "synth-"));
  const result = spawnSync(process.execPath, ["scripts/app.js", "main.ts"], {
    cwd: ROOT,
    env: { ...process.env, CDKTF_OUTDIR: outdir, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  const stacks = fs.existsSync(path.join(outdir, "stacks")) ? fs.readdirSync(path.join(outdir, "stacks")) : [];
  fs.rmSync(outdir, { recursive: true, force: true });
  return { status: result.status, stderr: result.stderr, stacks };
}

describe("main.ts", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "main-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it("synthesizes one stack per environment file of config/, and one bootstrap stack per state bucket", () => {
    const files = fs.readdirSync(path.join(ROOT, "config")).filter((f) => f.endsWith(".json") && f !== "schema.json");
    const names = files.map((f) => JSON.parse(fs.readFileSync(path.join(ROOT, "config", f), "utf8")).name);
    const buckets = new Set(files.map((f) => JSON.parse(fs.readFileSync(path.join(ROOT, "config", f), "utf8")).state.bucket));
    const { status, stacks } = runMain({ PROXY_CONFIG: "" });
    expect(status).toBe(0);
    expect(stacks.sort()).toEqual([...names, ...[...buckets].map((b) => `state-${b.replace(/\./g, "-")}`)].sort());
  });

  it("fails on a policy violation, naming the rule, and writes no stack", () => {
    const file = path.join(dir, "unmonitored.json");
    const raw = verificationRaw();
    raw.proxy.detailedMonitoring = false;
    fs.writeFileSync(file, JSON.stringify(raw));
    const { status, stderr, stacks } = runMain({ PROXY_CONFIG: file });
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/PX-EC2-DETAILED-MONITORING verification\/Proxy\/Server\/Resource \(aws_instance\): monitoring is not true/);
    expect(stacks).toEqual([]);
  });

  it("synthesizes only the file PROXY_CONFIG names, wherever it is", () => {
    const file = path.join(dir, "elsewhere.json");
    fs.writeFileSync(file, JSON.stringify({ ...verificationRaw(), name: "elsewhere" }));
    const { status, stacks } = runMain({ PROXY_CONFIG: file });
    expect(status).toBe(0);
    expect(stacks.sort()).toEqual(["elsewhere", "state-proxy-over-peering-tfstate-example"]);
  });

  it("fails on bad input with the setting, the value and the fix, and writes no stack", () => {
    const file = path.join(dir, "bad.json");
    const raw = verificationRaw();
    raw.appVpcs[0].cidr = "10.0.0.0/24";
    raw.appVpcs[0].subnets[0].cidr = "10.0.0.0/25";
    fs.writeFileSync(file, JSON.stringify(raw));
    const { status, stderr, stacks } = runMain({ PROXY_CONFIG: file });
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/`appVpcs\[0\].cidr` = "10.0.0.0\/24": overlaps `proxyVpc.cidr` 10\.0\.0\.0\/24/);
    expect(stacks).toEqual([]);
  });

  it("refuses an emulator endpoint off loopback and writes no stack", () => {
    const { status, stderr, stacks } = runMain({ PROXY_CONFIG: "", PROXY_EMULATOR_ENDPOINT: "http://203.0.113.10:5000" });
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/PROXY_EMULATOR_ENDPOINT = "http:\/\/203\.0\.113\.10:5000" points at 203\.0\.113\.10; an emulator endpoint must be on loopback/);
    expect(stacks).toEqual([]);
  });
});
