/** `npm run docs`: writes config/schema.json and the README's settings table from the zod schema. */
import * as fs from "fs";
import * as path from "path";
import { environmentJsonSchema } from "../tools/json-schema";
import { withSettingsTable } from "../tools/settings-table";

const ROOT = path.join(__dirname, "..");
const schemaFile = path.join(ROOT, "config", "schema.json");
fs.writeFileSync(schemaFile, environmentJsonSchema());
console.log(`wrote ${path.relative(process.cwd(), schemaFile)}`);
const readme = path.join(ROOT, "README.md");
fs.writeFileSync(readme, withSettingsTable(fs.readFileSync(readme, "utf8")));
console.log(`wrote the settings table in ${path.relative(process.cwd(), readme)}`);
