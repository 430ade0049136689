/** The JSON Schema of environment files, for editors; generated from the zod schema. */
import { z } from "zod";
import { environmentShape } from "../lib/config";

/** The JSON Schema text written to environments/schema.json (what a user writes: defaults optional). */
export function environmentJsonSchema(): string {
  const schema = z.toJSONSchema(environmentShape, { io: "input", unrepresentable: "any", target: "draft-7" });
  return `${JSON.stringify({ title: "Proxy-over-peering environment", ...schema }, null, 2)}\n`;
}
