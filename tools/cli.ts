/** What every command of the project does alike: `--help` prints its usage and does nothing else. */

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
