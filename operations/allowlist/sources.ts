/** Where the old allowlist's environment file comes from: a file given, or the environment file as committed at git HEAD. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

/** The text of `file` as committed at git HEAD; throws a message saying how to give the old version instead. */
export function committedText(file: string): { text: string; source: string } {
  const dir = path.dirname(path.resolve(file));
  const git = (args: readonly string[]) => spawnSync("git", ["-C", dir, ...args], { encoding: "utf8" });
  const top = git(["rev-parse", "--show-toplevel"]);
  const fix = "give the old version with --before <environment file>";
  if (top.status !== 0) throw new Error(`${file} is not in a git checkout, so there is no committed version to compare with; ${fix}`);
  const relative = path
    .relative(fs.realpathSync(top.stdout.trim()), fs.realpathSync(path.resolve(file)))
    .split(path.sep)
    .join("/");
  const shown = git(["show", `HEAD:${relative}`]);
  if (shown.status !== 0) throw new Error(`${file} is not committed at git HEAD (git show HEAD:${relative} found nothing); ${fix}`);
  return { text: shown.stdout, source: `${file} as committed at git HEAD` };
}
