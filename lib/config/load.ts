/**
 * Loading environment files: read, parse, validate, and explain every problem in terms of the
 * setting, its value and the fix. Nothing here synthesizes anything.
 */
import * as fs from "fs";
import * as path from "path";
import { distance as editDistance } from "fastest-levenshtein";
import { z } from "zod";
import { crossFieldIssues } from "./checks";
import { pathText } from "./path-text";
import { EnvironmentConfig, environmentShape } from "./schema";

/** Thrown for any problem with environment files; the message lists every problem found. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

/** ":line:column" of a JSON.parse error that gives a character position, or "" when it gives none. */
export function jsonErrorPlace(text: string, message: string): string {
  const position = /at position (\d+)/.exec(message);
  if (!position)
    return /Unexpected end of JSON input/.test(message) ? `:${text.split("\n").length}:${(text.split("\n").pop() ?? "").length + 1}` : "";
  const before = text.slice(0, Number(position[1])).split("\n");
  return `:${before.length}:${before[before.length - 1].length + 1}`;
}

/** The file name of the JSON Schema inside the config folder; it is not an environment. */
export const SCHEMA_FILE_NAME = "schema.json";

/** Validates already parsed JSON; `source` names it in messages. */
export function parseEnvironment(raw: unknown, source: string): EnvironmentConfig {
  // Settings one by one first; the checks across settings only run on values that passed those.
  const result = environmentShape.safeParse(raw);
  const lines = result.success
    ? crossFieldIssues(result.data).map((issue) => `  - ${describeIssue({ code: "custom", input: undefined, ...issue }, raw)}`)
    : result.error.issues.map((issue) => `  - ${describeIssue(issue, raw)}`);
  if (result.success && lines.length === 0) return result.data;
  throw new ConfigError(`${source} has ${lines.length === 1 ? "a problem" : `${lines.length} problems`}:\n${lines.join("\n")}`);
}

/** Reads and validates one environment file. */
export function loadEnvironmentFile(file: string): EnvironmentConfig {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new ConfigError(
      `Cannot read the environment file ${file}: ${(e as Error).message}. Check the path (PROXY_CONFIG or the environments folder).`,
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(
      `${file}${jsonErrorPlace(text, (e as Error).message)} is not valid JSON: ${(e as Error).message.replace(/ in JSON at position \d+.*$/, "")}. Fix the syntax there.`,
    );
  }
  return parseEnvironment(raw, file);
}

/** The `*.json` files of a folder but the schema, sorted by name; none when the folder is missing. */
export function jsonFilesOf(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".json") && f !== SCHEMA_FILE_NAME)
    .sort()
    .map((f) => path.join(dir, f));
}

/** The environment files of a folder: every `*.json` but the schema, sorted by name; throws when there is none. */
export function environmentFiles(dir: string): string[] {
  const files = jsonFilesOf(dir);
  if (files.length === 0) {
    throw new ConfigError(`${dir} holds no environment files (*.json); add one, for example a copy of demos/verification.json.`);
  }
  return files;
}

/**
 * Loads several environment files and checks them together: every file is validated before any
 * is returned, and environment names (which become stack names) must be unique.
 */
export function loadEnvironments(files: readonly string[]): EnvironmentConfig[] {
  const problems: string[] = [];
  const envs: EnvironmentConfig[] = [];
  const seen = new Map<string, string>();
  for (const file of files) {
    try {
      const env = loadEnvironmentFile(file);
      const other = seen.get(env.name);
      if (other) {
        problems.push(
          `${file}: \`name\` = "${env.name}" is also the name of ${other}; each environment needs its own name (it becomes the stack name)`,
        );
      }
      seen.set(env.name, file);
      envs.push(env);
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(e.message);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems.join("\n"));
  return envs;
}

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const at = pathText(issue.path);
  const value = valueAt(raw, issue.path);
  if (issue.code === "unrecognized_keys") {
    const where = at ? `\`${at}\`` : "the top level";
    return issue.keys
      .map((key) => {
        const hint = closestKey(key, issue.path);
        return `${where} has the unknown setting "${key}"${hint ? `; did you mean "${hint}"?` : "."} Remove or rename it (environments/schema.json lists the settings)`;
      })
      .join("\n  - ");
  }
  if (value.found === false && issue.code === "custom") return `\`${at}\` ${issue.message}`;
  if (value.found === false) {
    return `\`${at}\` is missing; add it (${issue.message.replace(/^Invalid input: /, "").replace(/, received undefined$/, "")})`;
  }
  const shown = JSON.stringify(value.value);
  if (issue.code === "invalid_key") {
    return `\`${at}\` has a key that ${issue.issues[0]?.message ?? "is not allowed"}; rename or remove it`;
  }
  if (issue.code === "invalid_type") {
    return `\`${at}\` = ${shown}: ${issue.message.replace(/^Invalid input: /, "")}; correct the value`;
  }
  return `\`${at || "(file)"}\` = ${abbreviate(shown)}: ${issue.message}`;
}

function valueAt(raw: unknown, keys: readonly PropertyKey[]): { found: true; value: unknown } | { found: false } {
  let current: unknown = raw;
  for (const key of keys) {
    if (current === null || typeof current !== "object" || !(key in (current as object))) return { found: false };
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return { found: true, value: current };
}

function abbreviate(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

let jsonSchema: JsonSchema | undefined;

/** A node of the environment's JSON Schema, as far as the key suggestions read it. */
type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema | JsonSchema[];
  additionalProperties?: JsonSchema | boolean;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  definitions?: Record<string, JsonSchema>;
};

/** The schema nodes that a path leads to in the environment's JSON Schema (several where a union has several forms). */
function schemasAt(path: readonly PropertyKey[]): JsonSchema[] {
  const root = (jsonSchema ??= z.toJSONSchema(environmentShape, { io: "input", unrepresentable: "any" }) as JsonSchema);
  const resolve = (node: JsonSchema, seen = new Set<JsonSchema>()): JsonSchema[] => {
    if (seen.has(node)) return [];
    seen.add(node);
    if (node.$ref) {
      const target = node.$ref
        .replace(/^#\//, "")
        .split("/")
        .reduce<unknown>((at, part) => (at as Record<string, unknown> | undefined)?.[part], root) as JsonSchema | undefined;
      return target ? resolve(target, seen) : [];
    }
    const forms = [...(node.anyOf ?? []), ...(node.oneOf ?? []), ...(node.allOf ?? [])];
    return [node, ...forms.flatMap((form) => resolve(form, seen))];
  };
  let nodes = resolve(root);
  for (const key of path) {
    nodes = nodes.flatMap((node) => {
      const next =
        typeof key === "number"
          ? Array.isArray(node.items)
            ? node.items[key]
            : node.items
          : (node.properties?.[String(key)] ?? (typeof node.additionalProperties === "object" ? node.additionalProperties : undefined));
      return next ? resolve(next) : [];
    });
  }
  return nodes;
}

/** The setting valid at `path` closest to a misspelt one, if it is a plausible typo; never the key itself. */
function closestKey(key: string, path: readonly PropertyKey[]): string | undefined {
  const candidates = new Set(schemasAt(path).flatMap((node) => Object.keys(node.properties ?? {})));
  candidates.delete(key);
  let best: { key: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { key: candidate, distance };
  }
  return best && best.distance <= Math.max(2, Math.floor(key.length / 4)) ? best.key : undefined;
}

/** A state bucket that the bootstrap stacks create, and the environments that use it. */
export interface StateBucketPlan {
  readonly bucket: string;
  readonly region: string;
  readonly noncurrentVersionExpirationDays: number;
  readonly project: string;
  readonly environments: readonly string[];
}

/**
 * The distinct state buckets of some environments. Environments that share a bucket must agree on
 * its region and retention; otherwise this throws, naming both.
 */
export function stateBuckets(envs: readonly EnvironmentConfig[]): StateBucketPlan[] {
  const plans = new Map<string, StateBucketPlan>();
  const problems: string[] = [];
  for (const env of envs) {
    const wanted = { region: env.state.region ?? env.region, noncurrentVersionExpirationDays: env.state.noncurrentVersionExpirationDays };
    const known = plans.get(env.state.bucket);
    if (!known) {
      plans.set(env.state.bucket, { bucket: env.state.bucket, ...wanted, project: env.project, environments: [env.name] });
      continue;
    }
    for (const [setting, value] of Object.entries(wanted) as [keyof typeof wanted, string | number][]) {
      if (known[setting] !== value) {
        const name = setting === "region" ? "state.region" : `state.${setting}`;
        problems.push(
          `environment ${env.name}: \`${name}\` = ${JSON.stringify(value)} differs from ${JSON.stringify(known[setting])} of environment ${known.environments[0]}, which uses the same bucket ${env.state.bucket}; make them equal or use another bucket`,
        );
      }
    }
    plans.set(env.state.bucket, { ...known, environments: [...known.environments, env.name] });
  }
  if (problems.length > 0) throw new ConfigError(problems.join("\n"));
  return [...plans.values()];
}
