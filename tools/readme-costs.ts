/** The README's cost section: every demo of demos/ and template of examples/ (never the user's environments/), synthesized in memory. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App } from "cdktf";
import { EnvironmentStack } from "../constructs/environment-stack";
import { environmentFiles, loadEnvironmentFile } from "../lib/config";
import { connectivityComparison, costPage, costSummary, EstimatedStack } from "./costs";

const ROOT = path.join(__dirname, "..");

/** Where the full estimates of the demos and examples are written, relative to the README. */
export const COST_PAGE = "docs/costs.md";

/** The README's short cost section for the project's demos and examples. */
export function projectCostSection(): string {
  return costSummary(projectCostStacks(), COST_PAGE);
}

/** The full page of estimates (docs/costs.md) for the project's demos and examples. */
export function projectCostPage(): string {
  return costPage(projectCostStacks());
}

/** The demos and examples, synthesized in memory, for the estimates. */
function projectCostStacks(): EstimatedStack[] {
  const files = [...environmentFiles(path.join(ROOT, "demos")), ...environmentFiles(path.join(ROOT, "examples"))];
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "costs-"));
  try {
    const app = new App({ outdir });
    const stacks: EstimatedStack[] = files.map((file) => {
      const config = loadEnvironmentFile(file);
      const stack = new EnvironmentStack(app, config.name, { config });
      return { name: config.name, source: path.relative(ROOT, file), json: stack.toTerraform() };
    });
    return stacks;
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

/** The demo whose region and zones the README's comparison of the ways of connecting is priced for: PrivateLink's, else the fleet's. */
const COMPARED_DEMOS = ["privatelink.json", "verification-fleet.json"];

/** The README's comparison of peering, a Transit Gateway and PrivateLink, priced for a demo's region and its proxy VPC's zones. */
export function projectConnectivitySection(): string {
  const file = COMPARED_DEMOS.map((f) => path.join(ROOT, "demos", f)).find((f) => fs.existsSync(f));
  if (!file) throw new Error(`projectConnectivitySection: none of demos/${COMPARED_DEMOS.join(", demos/")} exists`);
  const config = loadEnvironmentFile(file);
  const zones = new Set(config.proxyVpc.subnets.map((s) => s.availabilityZone)).size;
  return connectivityComparison(config.region, zones);
}
