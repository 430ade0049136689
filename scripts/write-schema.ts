/** Writes config/schema.json from the zod schema: `npm run schema`. */
import * as fs from "fs";
import * as path from "path";
import { environmentJsonSchema } from "../tools/json-schema";

const target = path.join(__dirname, "..", "config", "schema.json");
fs.writeFileSync(target, environmentJsonSchema());
console.log(`wrote ${path.relative(process.cwd(), target)}`);
