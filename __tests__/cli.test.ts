import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { TS_RUNNER, wantsHelp } from "../tools/cli";

const ROOT = path.join(__dirname, "..");
const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts;
/** The npm scripts that run a script of our own (the others are cdktf, tsc, jest and stryker, which answer --help themselves). */
const ours = Object.entries(scripts).flatMap(([name, command]) => {
  const m = /^node scripts\/app\.js (scripts\/[\w-]+\.ts)$/.exec(command);
  return m ? [[name, m[1]] as const] : [];
});

describe("every npm script of ours answers --help", () => {
  it("covers the project's own scripts", () => {
    expect(ours.map(([name]) => name).sort()).toEqual([
      "allowlist",
      "bench",
      "costs",
      "deploy",
      "diagram",
      "docs",
      "e2e",
      "orphans",
      "reachability",
      "rehearse",
      "verify",
    ]);
  });

  it.each(ours)("npm run %s -- --help prints its usage, options and an example, exits 0 and writes nothing", (name, file) => {
    const readme = fs.statSync(path.join(ROOT, "README.md")).mtimeMs;
    const r = spawnSync(process.execPath, [TS_RUNNER, path.join(ROOT, file), "--help"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, CDKTF_OUTDIR: path.join(ROOT, ".tmp", "help-out") },
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(new RegExp(`^Usage: npm run ${name}\\b`));
    expect(r.stdout).toMatch(/\nOptions:\n[\s\S]*--help {2}/);
    expect(r.stdout).toMatch(/\nExample:\n {2}\S/);
    expect(fs.statSync(path.join(ROOT, "README.md")).mtimeMs).toBe(readme);
    expect(fs.existsSync(path.join(ROOT, ".tmp", "help-out"))).toBe(false);
  });
});

describe("scripts/app.js, which runs main.ts and every npm script as one bundle", () => {
  it("gives each bundled file its own __dirname, as Node would", () => {
    const fixture = path.join(ROOT, "__tests__", "fixtures", "bundle");
    const r = spawnSync(process.execPath, [TS_RUNNER, path.join(fixture, "entry.ts")], { encoding: "utf8" });
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(JSON.parse(r.stdout)).toEqual({ entry: fixture, inner: path.join(fixture, "inner") });
  });
});

describe("npm test -- --help", () => {
  it("prints its usage, options and an example, exits 0 and runs neither the checks nor Jest", () => {
    const r = spawnSync(process.execPath, [path.join(ROOT, "scripts", "test.js"), "--help"], { cwd: ROOT, encoding: "utf8" });
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toMatch(/^Usage: npm test\b/);
    expect(r.stdout).toMatch(/\nOptions:\n[\s\S]*--help {2}/);
    expect(r.stdout).toMatch(/\nExample:\n {2}\S/);
    expect(r.stdout).not.toMatch(/npm test: typecheck/);
  });
});

describe("npm run costs", () => {
  it("estimates a synthesized stack for its own region, and says when the region's prices are not known", () => {
    const work = fs.mkdtempSync(path.join(require("os").tmpdir(), "costs-"));
    try {
      const estimate = (region: string) => {
        const file = path.join(work, `${region}.json`);
        const text = fs.readFileSync(path.join(ROOT, "demos", "verification.json"), "utf8");
        fs.writeFileSync(file, text.replace(/ap-northeast-1/g, region));
        const out = path.join(work, `out-${region}`);
        const synth = spawnSync(process.execPath, [TS_RUNNER, path.join(ROOT, "main.ts")], {
          cwd: ROOT,
          encoding: "utf8",
          env: { ...process.env, PROXY_CONFIG: file, CDKTF_OUTDIR: out, PROXY_STATE_DIR: path.join(work, "state") },
        });
        expect(synth.stderr).toBe("");
        return spawnSync(process.execPath, [TS_RUNNER, path.join(ROOT, "scripts", "costs.ts")], {
          cwd: ROOT,
          encoding: "utf8",
          env: { ...process.env, CDKTF_OUTDIR: out },
        });
      };
      const virginia = estimate("us-east-1");
      expect(virginia.status).toBe(0);
      expect(virginia.stdout).toMatch(/^## verification \(us-east-1\)\n/);
      expect(virginia.stdout).toMatch(/\| EC2 t3\.micro \(Linux\) \| 2 \| \$0\.0104\/h \| \$15\.18 \|/);
      const stockholm = estimate("eu-north-1");
      expect(stockholm.status).toBe(0);
      expect(stockholm.stdout).toMatch(/Prices for eu-north-1 are not known to this project/);
      expect(stockholm.stdout).not.toMatch(/\$\d/);
    } finally {
      fs.rmSync(work, { recursive: true, force: true });
    }
  });
});

describe("wantsHelp", () => {
  it("sees --help and -h anywhere before --, and nothing else", () => {
    expect(wantsHelp(["stack", "--help"])).toBe(true);
    expect(wantsHelp(["-h"])).toBe(true);
    expect(wantsHelp(["stack", "--", "--help"])).toBe(false);
    expect(wantsHelp(["--helpful", "stack"])).toBe(false);
    expect(wantsHelp([])).toBe(false);
  });
});
