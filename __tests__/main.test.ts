import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { verificationRaw } from "./helpers/stack";

const ROOT = path.join(__dirname, "..");

/** The stacks with a synthesized cdk.tf.json in an output folder. */
function stacksIn(outdir: string): string[] {
  const dir = path.join(outdir, "stacks");
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((s) => fs.existsSync(path.join(dir, s, "cdk.tf.json"))) : [];
}

/** An empty folder of user environments, so that a developer's own files in environments/ do not change what these tests see. */
const NO_ENVIRONMENTS = fs.mkdtempSync(path.join(os.tmpdir(), "no-environments-"));
afterAll(() => fs.rmSync(NO_ENVIRONMENTS, { recursive: true, force: true }));

/** Runs main.ts as `cdktf synth` does, with the given environment, into a fresh (or the given) output folder. */
function runMain(env: Record<string, string>, outdir = fs.mkdtempSync(path.join(os.tmpdir(), "synth-")), keep = false) {
  const result = spawnSync(process.execPath, ["scripts/app.js", "main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      CDKTF_OUTDIR: outdir,
      PROXY_STATE_DIR: path.join(outdir, "..", "state-of-test"),
      PROXY_ENVIRONMENTS_DIR: NO_ENVIRONMENTS,
      ...env,
    },
    encoding: "utf8",
    timeout: 60_000,
  });
  const stacks = stacksIn(outdir);
  if (!keep) fs.rmSync(outdir, { recursive: true, force: true });
  return { status: result.status, stderr: result.stderr, stdout: result.stdout, stacks };
}

/** A JavaScript stack trace line, or Node's version footer under an uncaught exception. */
const TRACE = /^\s+at .+:\d+:\d+\)?$|^Node\.js v\d+/m;

describe("main.ts", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "main-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A synthesis of the demos kept in its folder, then a run with a missing file into that folder: made once, checked by three tests. */
  let demosThenAbsent: { demos: ReturnType<typeof runMain>; absent: ReturnType<typeof runMain> } | undefined;
  const synthDemosThenAbsent = () => {
    if (!demosThenAbsent) {
      const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "stale-"));
      const demos = runMain({ PROXY_CONFIG: "" }, outdir, true);
      demosThenAbsent = { demos, absent: runMain({ PROXY_CONFIG: path.join(dir, "absent.json") }, outdir) };
    }
    return demosThenAbsent;
  };

  /** One bad environment file per refusal below, in one folder: one run of main.ts reports every file's problem (loadEnvironments). */
  const refusalFiles = new Map<string, (raw: any) => void>();
  let refusals: { run: ReturnType<typeof runMain>; folder: string } | undefined;
  /** The run over every bad file, with `stderr` cut to what it says about `key`'s file (its heading says it has one problem). */
  const refuse = (key: string) => {
    if (!refusals) {
      const folder = fs.mkdtempSync(path.join(dir, "refusals-"));
      [...refusalFiles].forEach(([name, edit], i) => {
        const raw = { ...verificationRaw(), name: `bad-${i}` };
        edit(raw);
        fs.writeFileSync(path.join(folder, `${name}.json`), JSON.stringify(raw));
      });
      refusals = { run: runMain({ PROXY_CONFIG: "", PROXY_ENVIRONMENTS_DIR: folder }), folder };
    }
    const { run, folder } = refusals;
    const heading = `${path.join(folder, `${key}.json`)} has a problem:\n`;
    const at = run.stderr.indexOf(heading);
    const section = at < 0 ? "" : run.stderr.slice(at + heading.length).split(/\n(?=\S+ has (?:a problem|\d+ problems):$)/m)[0];
    return { ...run, stderr: section, wholeStderr: run.stderr };
  };

  it("synthesizes the user's environments alone when their folder holds any: no demo, and each stack records its file and content", () => {
    const users = path.join(dir, "users");
    fs.mkdirSync(users);
    const file = path.join(users, "team.json");
    fs.writeFileSync(file, JSON.stringify({ ...verificationRaw(), name: "team", state: { bucket: "team-own-state-bucket" } }));
    fs.writeFileSync(path.join(users, "schema.json"), "{}");
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "synth-"));
    const { status, stacks } = runMain({ PROXY_CONFIG: "", PROXY_ENVIRONMENTS_DIR: users }, outdir, true);
    expect(status).toBe(0);
    expect(stacks.sort()).toEqual(["state-team-own-state-bucket", "team"]);
    const sha256 = require("crypto").createHash("sha256").update(fs.readFileSync(file)).digest("hex");
    for (const stack of stacks) {
      const json = JSON.parse(fs.readFileSync(path.join(outdir, "stacks", stack, "cdk.tf.json"), "utf8"));
      expect(json["//"].environmentSources).toEqual([{ file, sha256 }]);
    }
    fs.rmSync(outdir, { recursive: true, force: true });
  });

  it("prints quota warnings on standard output, where the cdktf CLI does not show them as errors", () => {
    const file = path.join(dir, "many-targets.json");
    const raw = JSON.parse(fs.readFileSync(path.join(ROOT, "examples", "production.json"), "utf8"));
    raw.dns.forward[0].servers = Array.from({ length: 7 }, (_, i) => `172.31.100.${10 + i}`);
    fs.writeFileSync(file, JSON.stringify(raw));
    const { status, stdout, stderr } = runMain({ PROXY_CONFIG: file });
    expect(status).toBe(0);
    expect(stdout).toMatch(
      /^warning: environment production: 7 target addresses of the rule for provider\.example, over the default quota of 6/m,
    );
    expect(stderr).not.toMatch(/warning/);
  });

  it("synthesizes the demos, one stack per file of demos/ and one bootstrap stack per state bucket, when the user's folder holds no environment", () => {
    const files = fs.readdirSync(path.join(ROOT, "demos")).filter((f) => f.endsWith(".json") && f !== "schema.json");
    const names = files.map((f) => JSON.parse(fs.readFileSync(path.join(ROOT, "demos", f), "utf8")).name);
    const buckets = new Set(files.map((f) => JSON.parse(fs.readFileSync(path.join(ROOT, "demos", f), "utf8")).state.bucket));
    const { status, stacks } = synthDemosThenAbsent().demos;
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

  refusalFiles.set("overlap", (raw) => {
    raw.appVpcs[0].cidr = "10.0.0.0/24";
    raw.appVpcs[0].subnets[0].cidr = "10.0.0.0/25";
  });
  it("fails on bad input with the setting, the value and the fix, and writes no stack", () => {
    const { status, stderr, stacks } = refuse("overlap");
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/`appVpcs\[0\].cidr` = "10.0.0.0\/24": overlaps `proxyVpc.cidr` 10\.0\.0\.0\/24/);
    expect(stacks).toEqual([]);
  });

  const refusalCases: [string, (raw: any) => void, RegExp][] = [
    [
      "an invalid domain",
      (r) => (r.services[1].domains = ["api_v2.service.example"]),
      /`services\[1\].domains\[0\]` = "api_v2.service.example": is not a valid DNS name/,
    ],
    [
      "a wildcard Squid would read differently",
      (r) => (r.services[1].domains = ["*.service.example"]),
      /`services\[1\].domains\[0\]` = "\*.service.example": uses '\*', which Squid does not read as a wildcard.*Write ".service.example"/,
    ],
    [
      "a DNS server outside every service block",
      (r) => (r.dns.forward[0].servers = ["10.9.0.2"]),
      /`dns.forward\[0\].servers\[0\]` = "10.9.0.2": is outside every service block/,
    ],
    [
      "duplicate forwarding rules",
      (r) => r.dns.forward.push({ domain: "service.example", servers: ["172.16.0.10"] }),
      /`dns.forward\[1\].domain` = "service.example": is forwarded by dns.forward\[0\] already/,
    ],
    [
      "a resolver endpoint in one zone",
      (r) => (r.dns.endpointSubnets[1].availabilityZone = "ap-northeast-1a"),
      /`dns.endpointSubnets` = .*: has all its subnets in ap-northeast-1a; a Route 53 Resolver endpoint needs subnets in at least two zones/,
    ],
    [
      "a misspelt instance type",
      (r) => (r.proxy.instanceType = "t3.mirco"),
      /`proxy.instanceType` = "t3.mirco": is not an EC2 instance type; did you mean "t3.micro"\?/,
    ],
    [
      "a Windows app server under 1 GiB",
      (r) => (r.appVpcs[0].appServer.instanceType = "t3.nano"),
      /`appVpcs\[0\].appServer.instanceType` = "t3.nano": has 0.5 GiB of memory, and Windows Server needs at least 1 GiB/,
    ],
  ];
  refusalCases.forEach(([, edit], i) => refusalFiles.set(`case-${i}`, edit));
  it.each(refusalCases.map(([what, , message], i) => [what, `case-${i}`, message] as const))(
    "refuses %s with the setting, the value and the fix, and writes no stack",
    (_what, key, message) => {
      const { status, stderr, wholeStderr, stacks } = refuse(key);
      expect(status).toBe(1);
      expect(stderr).toMatch(message);
      expect(wholeStderr).not.toMatch(/\n\s+at /);
      expect(stacks).toEqual([]);
    },
  );

  it("refuses an emulator endpoint off loopback and writes no stack", () => {
    const { status, stderr, stacks } = runMain({ PROXY_CONFIG: "", PROXY_EMULATOR_ENDPOINT: "http://203.0.113.10:5000" });
    expect(status).not.toBe(0);
    expect(stderr).toMatch(
      /PROXY_EMULATOR_ENDPOINT = "http:\/\/203\.0\.113\.10:5000" points at 203\.0\.113\.10; an emulator endpoint must be on loopback/,
    );
    expect(stacks).toEqual([]);
  });

  it("prints a failure as its message alone, one line, and exits 1", () => {
    // The run that follows a synthesis into the same folder: what it prints does not depend on that.
    const { status, stderr, stdout } = synthDemosThenAbsent().absent;
    expect(status).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      `Cannot read the environment file ${path.join(dir, "absent.json")}: ENOENT: no such file or directory, open '${path.join(dir, "absent.json")}'. Check the path (PROXY_CONFIG or the environments folder).\n`,
    );
    expect(stderr).not.toMatch(TRACE);
  });

  it("shows no stack trace under npx cdktf synth either", () => {
    const file = path.join(dir, "typo.json");
    fs.writeFileSync(file, JSON.stringify({ ...verificationRaw(), region: "ap-northest-1" }));
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "cli-"));
    const r = spawnSync(path.join(ROOT, "node_modules", ".bin", "cdktf"), ["synth", "--output", outdir], {
      cwd: ROOT,
      env: { ...process.env, PROXY_CONFIG: file, CHECKPOINT_DISABLE: "1", PROXY_STATE_DIR: path.join(outdir, "state") },
      encoding: "utf8",
      timeout: 120_000,
    });
    fs.rmSync(outdir, { recursive: true, force: true });
    expect(r.status).toBe(1);
    expect(r.stdout + r.stderr).toContain('`region` = "ap-northest-1": is not an AWS region; did you mean "ap-northeast-1"?');
    expect(r.stdout + r.stderr).not.toMatch(TRACE);
  });

  it("leaves no stack of an earlier run behind when a synthesis fails", () => {
    const { demos, absent } = synthDemosThenAbsent();
    expect(demos.stacks).toContain("verification");
    expect(absent.status).toBe(1);
    expect(absent.stacks).toEqual([]);
  });

  it("keeps the bootstrap stack's state where a synthesis of other environments cannot delete it", () => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), "state-"));
    const outdir = path.join(work, "cdktf.out");
    const cdktf = (env: Record<string, string>) =>
      spawnSync(path.join(ROOT, "node_modules", ".bin", "cdktf"), ["synth", "--output", outdir], {
        cwd: ROOT,
        env: { ...process.env, CHECKPOINT_DISABLE: "1", PROXY_STATE_DIR: path.join(work, "state"), ...env },
        encoding: "utf8",
        timeout: 120_000,
      });
    // The first synthesis runs the app as cdktf.json says (the CLI costs seconds); the second, the one that removes folders, is the CLI's.
    fs.mkdirSync(outdir);
    expect(runMain({ PROXY_CONFIG: "", PROXY_STATE_DIR: path.join(work, "state") }, outdir, true).status).toBe(0);
    const bootstrap = "state-proxy-over-peering-tfstate-example";
    const backend = JSON.parse(fs.readFileSync(path.join(outdir, "stacks", bootstrap, "cdk.tf.json"), "utf8")).terraform.backend.local.path;
    expect(path.isAbsolute(backend)).toBe(true);
    expect(backend.startsWith(outdir)).toBe(false);
    fs.mkdirSync(path.dirname(backend), { recursive: true });
    fs.writeFileSync(backend, '{"version": 4, "serial": 7}');
    // Another set of environments, with another bucket: cdktf removes the bootstrap stack's folder.
    const other = path.join(work, "other.json");
    fs.writeFileSync(other, JSON.stringify({ ...verificationRaw(), name: "other", state: { bucket: "another-state-bucket" } }));
    expect(cdktf({ PROXY_CONFIG: other }).status).toBe(0);
    expect(fs.existsSync(path.join(outdir, "stacks", bootstrap))).toBe(false);
    expect(fs.readFileSync(backend, "utf8")).toBe('{"version": 4, "serial": 7}');
    fs.rmSync(work, { recursive: true, force: true });
  });
});
