/** `npm run docs`: writes environments/schema.json, the README's generated sections (settings, costs) and its picture. */
import * as fs from "fs";
import * as path from "path";
import { environmentJsonSchema } from "../tools/json-schema";
import { withCostSection } from "../tools/costs";
import { projectCostSection } from "../tools/readme-costs";
import { README_DIAGRAM, verificationDiagram } from "../tools/readme-diagram";
import { withSettingsTable } from "../tools/settings-table";

const ROOT = path.join(__dirname, "..");
const schemaFile = path.join(ROOT, "demos", "schema.json");
fs.writeFileSync(schemaFile, environmentJsonSchema());
console.log(`wrote ${path.relative(process.cwd(), schemaFile)}`);
const readme = path.join(ROOT, "README.md");
fs.writeFileSync(readme, withCostSection(withSettingsTable(fs.readFileSync(readme, "utf8")), projectCostSection()));
console.log(`wrote the settings table and the cost estimates in ${path.relative(process.cwd(), readme)}`);

void verificationDiagram().then((svg) => {
  fs.mkdirSync(path.dirname(README_DIAGRAM), { recursive: true });
  fs.writeFileSync(README_DIAGRAM, svg);
  console.log(`wrote ${path.relative(process.cwd(), README_DIAGRAM)}`);
});
