/**
 * What synthesis leaves in the output folder (cdktf.out): after a failed synthesis no stack of an
 * earlier run stays behind for later commands (reachability, deploy) to read, and state files are
 * never touched.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

/** The file cdktf writes per stack, and the manifest that lists the stacks. */
const STACK_FILE = "cdk.tf.json";
const MANIFEST = "manifest.json";

/**
 * Removes every synthesized stack file and the manifest from `outdir`, keeping everything else
 * (Terraform's working files, plans and any state). Returns the files removed.
 */
export function clearSynthesizedStacks(outdir: string): string[] {
  const removed: string[] = [];
  const stacks = path.join(outdir, "stacks");
  const candidates = [
    path.join(outdir, MANIFEST),
    ...(fs.existsSync(stacks) ? fs.readdirSync(stacks).map((s) => path.join(stacks, s, STACK_FILE)) : []),
  ];
  for (const file of candidates) {
    if (fs.existsSync(file)) {
      fs.rmSync(file);
      removed.push(file);
    }
  }
  return removed;
}

/**
 * Earlier versions kept a bootstrap stack's local state inside its stack folder
 * (`<outdir>/stacks/<stack>/terraform.<stack>.tfstate`), where a synthesis of other environments
 * deletes it. Copies such a file to `target` when nothing is there yet, and says what it did; the
 * original stays where it is.
 */
export function rescueLegacyState(outdir: string, stack: string, target: string): string | undefined {
  const legacy = path.join(outdir, "stacks", stack, `terraform.${stack}.tfstate`);
  if (!fs.existsSync(legacy)) return undefined;
  if (fs.existsSync(target)) {
    return fs.readFileSync(legacy, "utf8") === fs.readFileSync(target, "utf8")
      ? undefined
      : `${legacy} differs from ${target}, which the stack now uses; compare them and keep the newer (terraform state list), then delete the other`;
  }
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(legacy, target);
  return `copied the state of ${stack} from ${legacy} to ${target}, where synthesis never deletes it`;
}

/** The key, inside a synthesized stack's "//" comment block, of the environment files it came from. */
export const SOURCES_KEY = "environmentSources";

/** An environment file as a synthesis read it: its path (relative to the project when inside it) and the SHA-256 of its content. */
export interface EnvironmentSource {
  readonly file: string;
  readonly sha256: string;
}

/** The SHA-256 of a file's content, hex. */
export function contentHash(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** A file's source record: the path relative to `root` when it lies inside, else absolute. */
export function sourceOf(root: string, file: string): EnvironmentSource {
  const relative = path.relative(root, file);
  const shown =
    relative && !relative.startsWith("..") && !path.isAbsolute(relative) ? relative.split(path.sep).join("/") : path.resolve(file);
  return { file: shown, sha256: contentHash(file) };
}

/**
 * Records in a synthesized stack which environment files (and which content of them) it came from,
 * inside the "//" block that Terraform ignores, so that deploy can refuse a stack whose file has
 * changed since. Does nothing for a stack that was not synthesized.
 */
export function recordSources(outdir: string, stack: string, sources: readonly EnvironmentSource[]): void {
  const file = path.join(outdir, "stacks", stack, STACK_FILE);
  if (!fs.existsSync(file)) return;
  const json = JSON.parse(fs.readFileSync(file, "utf8"));
  json["//"] = { ...(json["//"] ?? {}), [SOURCES_KEY]: sources };
  fs.writeFileSync(file, JSON.stringify(json, null, 2));
}

/** The sources a synthesized stack records, or undefined when it records none (synthesized by an older version). */
export function recordedSources(stackDir: string): EnvironmentSource[] | undefined {
  const file = path.join(stackDir, STACK_FILE);
  if (!fs.existsSync(file)) return undefined;
  const sources = JSON.parse(fs.readFileSync(file, "utf8"))["//"]?.[SOURCES_KEY];
  return Array.isArray(sources) ? sources : undefined;
}

/** The first file a synthesized stack records whose content has changed since (a file that is gone is not "changed"), or undefined. */
export function changedSource(root: string, stackDir: string): EnvironmentSource | undefined {
  return (recordedSources(stackDir) ?? []).find((s) => isChanged(root, s));
}

function isChanged(root: string, source: EnvironmentSource): boolean {
  const file = path.resolve(root, source.file);
  return fs.existsSync(file) && contentHash(file) !== source.sha256;
}

/**
 * Why a synthesized stack may not be deployed as it is, or undefined when every file it came from
 * is one of `selected` (the files this run synthesized) and still has the content it was
 * synthesized from. `root` resolves recorded relative paths; `rerun` is the command to suggest.
 */
export function staleSourceProblem(
  root: string,
  stackDir: string,
  selected: readonly string[],
  rerun: (file: string) => string,
): string | undefined {
  const stack = path.basename(stackDir);
  const sources = recordedSources(stackDir);
  if (!sources || sources.length === 0) {
    return `${stackDir}/${STACK_FILE} records no environment file, so it cannot be matched to one; synthesize it again (npx cdktf synth, or PROXY_CONFIG=<file> for a file elsewhere) and deploy`;
  }
  const chosen = new Set(selected.map((f) => path.resolve(f)));
  for (const source of sources) {
    const file = path.resolve(root, source.file);
    if (!chosen.has(file)) {
      return `stack ${stack} was synthesized from ${source.file}, which this deploy does not synthesize; deploy it from that file with ${rerun(source.file)}`;
    }
    if (!fs.existsSync(file))
      return `stack ${stack} was synthesized from ${source.file}, which no longer exists; restore it, or deploy another stack`;
    if (isChanged(root, source)) {
      return `${source.file} changed after stack ${stack} was synthesized from it; nothing was applied. Run ${rerun(source.file)} again to synthesize and deploy what the file says now`;
    }
  }
  return undefined;
}
