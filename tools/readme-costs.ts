/** The README's cost section: every demo of demos/ and template of examples/ (never the user's environments/), synthesized in memory. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App } from "cdktf";
import { EnvironmentStack } from "../constructs/environment-stack";
import { environmentFiles, loadEnvironmentFile } from "../lib/config";
import { costSection, EstimatedStack } from "./costs";

const ROOT = path.join(__dirname, "..");

/** The cost section for the project's environment files and examples. */
export function projectCostSection(): string {
  const files = [...environmentFiles(path.join(ROOT, "demos")), ...environmentFiles(path.join(ROOT, "examples"))];
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "costs-"));
  try {
    const app = new App({ outdir });
    const stacks: EstimatedStack[] = files.map((file) => {
      const config = loadEnvironmentFile(file);
      const stack = new EnvironmentStack(app, config.name, { config });
      return { name: config.name, source: path.relative(ROOT, file), json: stack.toTerraform() };
    });
    return costSection(stacks);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
