/** What the project's commands do alike: `--help` prints the usage and does nothing else; stacks are found in one way. */
import * as fs from "fs";
import * as path from "path";

/** scripts/app.js, which runs main.ts or any of the project's scripts as one cached bundle: how npm and cdktf run them. */
export const TS_RUNNER = path.join(__dirname, "..", "scripts", "app.js");

/** The usage lines of a command that works on the selected environment files. */
export const SELECTION_HELP = `Settings (environment): the environment files as for npx cdktf synth (environments/, the demos
when it holds none, PROXY_CONFIG=<file>, PROXY_ENVIRONMENTS_DIR=<folder>).`;

/** True when the arguments ask for help (`--help` or `-h`, before any `--`). */
export function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf("--");
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

/**
 * When the command line asks for help, prints `usage` (trimmed, with a final newline) to standard
 * output and exits 0 before the command does anything; otherwise returns.
 */
export function answerHelp(usage: string, args: readonly string[] = process.argv.slice(2)): void {
  if (!wantsHelp(args)) return;
  process.stdout.write(`${usage.trim()}\n`);
  process.exit(0);
}

/**
 * The synthesized stacks a command works on: the cdk.tf.json of each folder or file named in
 * `args`, or, without arguments, every stack in `outdir`'s stacks folder. Throws a message saying
 * what to run when there is none.
 */
export function synthesizedStackFiles(args: readonly string[], outdir: string): string[] {
  if (args.length > 0) {
    return args.map((a) => {
      const file = fs.existsSync(a) && fs.statSync(a).isDirectory() ? path.join(a, "cdk.tf.json") : a;
      if (!fs.existsSync(file))
        throw new Error(`${a}: no such stack; name a folder of cdktf.out/stacks or its cdk.tf.json (npx cdktf synth writes them)`);
      return file;
    });
  }
  const stacks = path.join(outdir, "stacks");
  const files = fs.existsSync(stacks)
    ? fs
        .readdirSync(stacks)
        .map((s) => path.join(stacks, s, "cdk.tf.json"))
        .filter((f) => fs.existsSync(f))
    : [];
  if (files.length === 0)
    throw new Error(
      `${path.relative(process.cwd(), stacks) || stacks} holds no synthesized stack; run npx cdktf synth first (with the same PROXY_CONFIG), or name a stack`,
    );
  return files;
}
