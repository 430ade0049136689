/**
 * What synthesis leaves in the output folder (cdktf.out): after a failed synthesis no stack of an
 * earlier run stays behind for later commands (reachability, deploy) to read, and state files are
 * never touched.
 */
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
  const candidates = [path.join(outdir, MANIFEST), ...(fs.existsSync(stacks) ? fs.readdirSync(stacks).map((s) => path.join(stacks, s, STACK_FILE)) : [])];
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
