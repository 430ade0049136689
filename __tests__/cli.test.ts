import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { wantsHelp } from "../tools/cli";

const ROOT = path.join(__dirname, "..");
const scripts: Record<string, string> = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).scripts;
/** The npm scripts that run a script of our own (the others are cdktf, tsc, jest and stryker, which answer --help themselves). */
const ours = Object.entries(scripts).flatMap(([name, command]) => {
  const m = /^node --require tsx\/cjs (scripts\/[\w-]+\.ts)$/.exec(command);
  return m ? [[name, m[1]] as const] : [];
});

describe("every npm script of ours answers --help", () => {
  it("covers the project's own scripts", () => {
    expect(ours.map(([name]) => name).sort()).toEqual(["bench", "deploy", "diagram", "docs", "e2e", "orphans", "reachability", "rehearse"]);
  });

  it.each(ours)("npm run %s -- --help prints its usage, options and an example, exits 0 and writes nothing", (name, file) => {
    const readme = fs.statSync(path.join(ROOT, "README.md")).mtimeMs;
    const r = spawnSync(process.execPath, ["--require", "tsx/cjs", path.join(ROOT, file), "--help"], { cwd: ROOT, encoding: "utf8", env: { ...process.env, CDKTF_OUTDIR: path.join(ROOT, ".tmp", "help-out") } });
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(new RegExp(`^Usage: npm run ${name}\\b`));
    expect(r.stdout).toMatch(/\nOptions:\n[\s\S]*--help {2}/);
    expect(r.stdout).toMatch(/\nExample:\n {2}\S/);
    expect(fs.statSync(path.join(ROOT, "README.md")).mtimeMs).toBe(readme);
    expect(fs.existsSync(path.join(ROOT, ".tmp", "help-out"))).toBe(false);
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
