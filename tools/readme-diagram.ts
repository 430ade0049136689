/** The picture of the verification stack in docs/proof.md, synthesized in memory from demos/verification.json. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App } from "cdktf";
import { EnvironmentStack } from "../constructs/environment-stack";
import { loadEnvironmentFile } from "../lib/config";
import { expectedFlowsOf } from "../proof/reachability";
import { picture, toDot, toSvg } from "./diagram";

const ROOT = path.join(__dirname, "..");

/** Where the picture that docs/proof.md shows lives. */
export const README_DIAGRAM = path.join(ROOT, "docs", "verification.svg");

/** The SVG of the verification stack, as `npm run diagram` draws it. */
export async function verificationDiagram(): Promise<string> {
  const env = loadEnvironmentFile(path.join(ROOT, "demos", "verification.json"));
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "diagram-"));
  try {
    const stack = new EnvironmentStack(new App({ outdir }), env.name, { config: env });
    const expected = expectedFlowsOf(env);
    return await toSvg(toDot(env.name, picture(stack.toTerraform(), expected)));
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}
