import * as fs from "fs";
import * as path from "path";
import type { EnvironmentConfig } from "../lib/config";
import { bootstrapStackName, PLACEHOLDER_STATE_BUCKETS } from "../lib/naming";

/** Settings of `npm run deploy`, checked before anything runs. */

/** Why `value` is not a duration Terraform's -lock-timeout takes (Go's format: 30s, 5m, 1h30m), or undefined when it is. */
export function lockTimeoutProblem(value: string): string | undefined {
  return /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(value)
    ? undefined
    : "is not a duration; write it as Terraform does, such as 30s, 5m or 1h30m";
}

/** Why `file` cannot be given to --imports (it must be import blocks in Terraform's JSON syntax, as npm run orphans writes), or undefined. */
export function importsFileProblem(file: string): string | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    return `cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); give the file npm run orphans wrote, such as state/<environment>.orphans.tf.json`;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return "is not JSON; give the file npm run orphans wrote, such as state/<environment>.orphans.tf.json";
  }
  const blocks = (parsed as { import?: unknown })?.import;
  const valid = Array.isArray(blocks) && blocks.every((b) => typeof b?.to === "string" && typeof b?.id === "string");
  return valid && Object.keys(parsed as object).length === 1
    ? undefined
    : 'holds something other than import blocks ({"import": [{"to": ..., "id": ...}]}); give the file npm run orphans wrote';
}

/** Why `stack` may not be deployed with the state bucket its environment names (one of the shipped placeholders), or undefined; `cwd` shortens the file name shown. */
export function placeholderProblem(
  stack: string,
  environments: readonly EnvironmentConfig[],
  files: readonly string[],
  cwd: string,
): string | undefined {
  const at = environments.findIndex(
    (e) => PLACEHOLDER_STATE_BUCKETS.includes(e.state.bucket) && (e.name === stack || bootstrapStackName(e.state.bucket) === stack),
  );
  if (at < 0) return undefined;
  return `${path.relative(cwd, files[at]) || files[at]}: \`state.bucket\` = "${environments[at].state.bucket}" is a placeholder the demos and examples ship with; S3 bucket names are global, so it is not yours to use. Set \`state.bucket\` to a name of your own (such as <account id>-proxy-over-peering-tfstate), deploy its state stack (npm run deploy -- state-<bucket>), then this one`;
}
