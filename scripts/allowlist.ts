/** `npm run allowlist -- preview <environment> [access-log file]`: which logged requests a changed allowlist would newly deny or allow. */
import * as fs from "fs";
import * as path from "path";
import { parseAllowlist } from "../lib/allowlist-policy";
import {
  ConfigError,
  EnvironmentConfig,
  loadEnvironmentFile,
  parseEnvironment,
  selectEnvironmentFiles,
  selectionSettings,
} from "../lib/config";
import { emulatorEndpointProblem } from "../lib/emulator";
import { accessLogGroupName, allowlistParameterName } from "../lib/naming";
import { endpointIdsIn } from "../lib/squid";
import { awsProblem, deployedAllowlist, MAX_LOG_PAGES, recentAccessLog } from "../operations/allowlist/aws";
import { readAccessLog } from "../operations/allowlist/log";
import { previewChange, renderPreview, withEndpointIds } from "../operations/allowlist/preview";
import { appBlocks, byEndpoint, renderedAllowlist } from "../operations/allowlist/render";
import { committedText } from "../operations/allowlist/sources";
import { answerHelp, SELECTION_HELP } from "../tools/cli";

const USAGE = `
Usage: npm run allowlist -- preview <environment> [access-log file] [--before <environment file> | --deployed]
                            [--json <file>]

Before a deploy: decides each request of Squid's access log with the old allowlist and with the new
one (the ACLs and http_access lines rendered from the environment file as it is now), the way Squid
decides them, and prints the requests that the new one would newly deny or newly allow, grouped by
app VPC (from the client's address) and destination (host:port), with counts and the line that
decides each verdict. Requests whose verdict needs a DNS answer the log does not show are listed as
"may change". Changes nothing; exits 0 whatever it finds.

The old allowlist: the environment file as committed at git HEAD, or --before's file, or with
--deployed the allowlist the proxies read now (SSM parameter ${allowlistParameterName("<environment>")}).
The log: the file given (Squid's native lines, optionally with the app VPC column appended; a
CloudWatch Logs export to S3; or aws logs filter-log-events JSON), else the last hour of
${accessLogGroupName("<environment>")} (at most ${MAX_LOG_PAGES} pages of FilterLogEvents).

Options:
  --before <file>  the old environment file, in place of the one committed at git HEAD
  --deployed       the old allowlist is the deployed one (needs AWS credentials)
  --json <file>    also write the preview as JSON
  --help           print this and do nothing else

${SELECTION_HELP}
Credentials: the AWS SDK's usual ones (AWS_PROFILE, aws sso login, ...), for --deployed and for a
preview without a log file; docs/permissions.md lists the reads.

Example:
  npm run allowlist -- preview my-env squid-access.log
  npm run allowlist -- preview my-env --deployed
`;

const ROOT = path.join(__dirname, "..");

/** A file as messages show it: relative to the working folder when inside it. */
const shown = (file: string) => (path.relative(process.cwd(), file).startsWith("..") ? file : path.relative(process.cwd(), file));

interface Args {
  readonly environment: string;
  readonly logFile?: string;
  readonly before?: string;
  readonly deployed: boolean;
  readonly json?: string;
}

/** A problem with the command line or its inputs: printed alone, exit 1. */
class Stop extends Error {}

function valueOf(args: readonly string[], i: number, flag: string, example: string): string {
  const value = args[i];
  if (!value || value.startsWith("-")) throw new Stop(`${flag} needs a file, such as ${flag} ${example}`);
  return value;
}

function parseArgs(args: readonly string[]): Args {
  const rest: string[] = [];
  let before: string | undefined;
  let json: string | undefined;
  let deployed = false;
  for (let i = 0; i < args.length; i++) {
    if (args[i] === "--before") before = valueOf(args, ++i, "--before", "old-env.json");
    else if (args[i] === "--json") json = valueOf(args, ++i, "--json", "preview.json");
    else if (args[i] === "--deployed") deployed = true;
    else if (args[i].startsWith("-")) throw new Stop(`${args[i]} is not an option of npm run allowlist; see npm run allowlist -- --help`);
    else rest.push(args[i]);
  }
  const [command, environment, logFile, ...extra] = rest;
  if (command !== "preview")
    throw new Stop(
      `npm run allowlist needs a command: preview (got ${command ? `"${command}"` : "none"}); see npm run allowlist -- --help`,
    );
  if (!environment) throw new Stop("npm run allowlist -- preview needs an environment, such as npm run allowlist -- preview verification");
  if (extra.length > 0) throw new Stop(`"${extra.join(" ")}": preview takes one environment and at most one access-log file`);
  if (before && deployed) throw new Stop("--before and --deployed both name the old allowlist; give one of them");
  return { environment, logFile, before, deployed, json };
}

/** The environment of that name among the selected files, and its file. */
function findEnvironment(name: string): { env: EnvironmentConfig; file: string } {
  const selection = selectEnvironmentFiles(ROOT, selectionSettings(process.env));
  const found = selection.files.map((file) => ({ env: loadEnvironmentFile(file), file }));
  const match = found.find((f) => f.env.name === name);
  if (!match)
    throw new Stop(
      `no environment named "${name}" in ${selection.description} (there: ${found.map((f) => f.env.name).join(", ") || "none"}); name one of them, or set PROXY_CONFIG to its file`,
    );
  return match;
}

/** The old allowlist's text and where it came from. */
async function oldAllowlist(
  args: Args,
  env: EnvironmentConfig,
  file: string,
  endpoint?: string,
): Promise<{ text: string; source: string }> {
  if (args.before) return { text: stopOn(() => renderedAllowlist(loadEnvironmentFile(args.before!)), args.before), source: args.before };
  if (args.deployed) {
    const what = `SSM parameter ${allowlistParameterName(env.name)}`;
    return { text: await withAws(what, () => deployedAllowlist(env.name, env.region, endpoint)), source: `the deployed ${what}` };
  }
  let committed: { text: string; source: string };
  try {
    committed = committedText(shown(file));
  } catch (e) {
    throw new Stop((e as Error).message);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(committed.text);
  } catch (e) {
    throw new Stop(
      `${committed.source} is not valid JSON (${(e as Error).message}); give the old version with --before <environment file>`,
    );
  }
  const old = parseEnvironment(raw, committed.source);
  return { text: stopOn(() => renderedAllowlist(old), committed.source), source: committed.source };
}

/** `make()`, with its error turned into one message about `source`. */
function stopOn<T>(make: () => T, source: string): T {
  try {
    return make();
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    throw new Stop(`${source}: ${(e as Error).message}`);
  }
}

async function withAws<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    const problem = awsProblem(e, what);
    if (problem) throw new Stop(problem);
    throw e;
  }
}

/** The log's text and where it came from. */
async function logText(args: Args, env: EnvironmentConfig, endpoint?: string): Promise<{ text: string; source: string }> {
  if (args.logFile) {
    try {
      return { text: fs.readFileSync(args.logFile, "utf8"), source: args.logFile };
    } catch (e) {
      throw new Stop(
        `cannot read the access-log file ${args.logFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path`,
      );
    }
  }
  const group = accessLogGroupName(env.name);
  const since = Date.now() - 3600_000;
  const { messages, truncated } = await withAws(`log group ${group}`, () => recentAccessLog(env.name, env.region, since, endpoint));
  const more = truncated ? `, the first ${MAX_LOG_PAGES} pages only` : "";
  return { text: messages.join("\n"), source: `the last hour of ${group} (${messages.length} events${more})` };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const { env, file } = findEnvironment(args.environment);
  const endpoint = process.env.PROXY_EMULATOR_ENDPOINT || undefined;
  const endpointProblem = endpoint ? emulatorEndpointProblem(endpoint) : undefined;
  if (endpointProblem) throw new Stop(`PROXY_EMULATOR_ENDPOINT = "${endpoint}" ${endpointProblem}`);
  // Checked before any AWS read; behind PrivateLink rendered again below with the old allowlist's endpoint ids.
  const rendered = stopOn(() => parseAllowlist(renderedAllowlist(env)), file);
  const before = await oldAllowlist(args, env, file, endpoint);
  const beforeRules = stopOn(() => parseAllowlist(before.text), before.source);
  // Behind PrivateLink both allowlists name each app VPC by the old one's endpoint ids (the deployed ones with --deployed).
  const perEndpoint = byEndpoint(env);
  const endpointIds = endpointIdsIn(before.text);
  const after = perEndpoint ? stopOn(() => parseAllowlist(renderedAllowlist(env, endpointIds)), file) : rendered;
  const log = await logText(args, env, endpoint);
  let read: ReturnType<typeof readAccessLog>;
  try {
    read = readAccessLog(log.text);
  } catch (e) {
    throw new Stop(`${log.source} ${(e as Error).message}`);
  }
  const requests = perEndpoint ? withEndpointIds(read.requests, endpointIds) : read.requests;
  const preview = previewChange(beforeRules, after, requests, appBlocks(env), perEndpoint);
  const skipped =
    read.skipped.length > 0
      ? `; ${read.skipped.length} other line${read.skipped.length === 1 ? "" : "s"} skipped (first: line ${read.skipped[0]})`
      : "";
  console.log(`allowlist preview of ${env.name}`);
  console.log(`  before: ${before.source}\n  after:  ${shown(file)} as it is now`);
  console.log(`  log:    ${log.source}: ${read.requests.length} requests${skipped}\n`);
  console.log(renderPreview(preview));
  if (args.json) {
    const record = { environment: env.name, before: before.source, after: file, log: log.source, skipped: read.skipped, ...preview };
    fs.writeFileSync(args.json, `${JSON.stringify(record, null, 2)}\n`);
    console.log(`wrote ${args.json}`);
  }
}

answerHelp(USAGE);
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
main().then(
  () => process.exit(0),
  (e: unknown) => {
    if (e instanceof Stop || e instanceof ConfigError) {
      console.error(e.message);
      process.exit(1);
    }
    throw e;
  },
);
