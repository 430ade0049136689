/** `npm run docs`: writes environments/schema.json, docs/settings.md, the README's generated sections (outputs, costs, sizing) and its picture. */
import * as fs from "fs";
import * as path from "path";
import { environmentJsonSchema } from "../tools/json-schema";
import { withConnectivitySection, withCostSection } from "../tools/costs";
import { COST_PAGE, projectConnectivitySection, projectCostPage, projectCostSection } from "../tools/readme-costs";
import { README_DIAGRAM, verificationDiagram } from "../tools/readme-diagram";
import { projectOutputsTable, withOutputsTable } from "../tools/outputs-table";
import { SETTINGS_PAGE, withSettingsTable } from "../tools/settings-table";
import { answerHelp } from "../tools/cli";
import { CAPACITY_FILE, sizingSection, withSizingSection } from "../tools/sizing";

const USAGE = `
Usage: npm run docs

Regenerates what is generated from the code: environments/schema.json (the JSON Schema of
environment files), docs/settings.md, the README's outputs table, cost summary, comparison of
the ways of connecting and sizing section (from docs/capacity.json, which
npm run bench -- capacity --write measures), docs/costs.md (from the demos
and examples only: nothing of environments/ is written), and docs/verification.svg.

Options:
  --help  print this and do nothing else

Example:
  npm run docs && git diff --stat
`;
answerHelp(USAGE);

const ROOT = path.join(__dirname, "..");
const schemaFile = path.join(ROOT, "environments", "schema.json");
fs.writeFileSync(schemaFile, environmentJsonSchema());
console.log(`wrote ${path.relative(process.cwd(), schemaFile)}`);
const settingsPage = path.join(ROOT, SETTINGS_PAGE);
fs.writeFileSync(settingsPage, withSettingsTable(fs.readFileSync(settingsPage, "utf8")));
console.log(`wrote ${SETTINGS_PAGE}`);
const readme = path.join(ROOT, "README.md");
const text = fs.readFileSync(readme, "utf8");
const capacity = JSON.parse(fs.readFileSync(path.join(ROOT, CAPACITY_FILE), "utf8"));
fs.writeFileSync(
  readme,
  withConnectivitySection(
    withSizingSection(withCostSection(withOutputsTable(text, projectOutputsTable()), projectCostSection()), sizingSection(capacity)),
    projectConnectivitySection(),
  ),
);
console.log(`wrote the outputs table, the cost summary, the comparison and the sizing section in ${path.relative(process.cwd(), readme)}`);
fs.writeFileSync(path.join(ROOT, COST_PAGE), projectCostPage());
console.log(`wrote ${COST_PAGE}`);

void verificationDiagram().then((svg) => {
  fs.mkdirSync(path.dirname(README_DIAGRAM), { recursive: true });
  fs.writeFileSync(README_DIAGRAM, svg);
  console.log(`wrote ${path.relative(process.cwd(), README_DIAGRAM)}`);
});
