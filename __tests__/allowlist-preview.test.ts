import { CloudWatchLogsClient, CreateLogGroupCommand, CreateLogStreamCommand, PutLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseAllowlist } from "../lib/allowlist-policy";
import { loadEnvironmentFile } from "../lib/config";
import { accessLogGroupName, allowlistParameterName } from "../lib/naming";
import { hostAndPort, readAccessLog } from "../operations/allowlist/log";
import { appVpcOf, Preview, previewChange, renderPreview } from "../operations/allowlist/preview";
import { appBlocks, renderedAllowlist } from "../operations/allowlist/render";
import { SuiteMoto, suiteMoto } from "./helpers/moto";
import { TS_RUNNER } from "../tools/cli";

const ROOT = path.join(__dirname, "..");
const FIXTURES = path.join(__dirname, "fixtures", "allowlist");
const BEFORE = path.join(FIXTURES, "before.json");
const AFTER = path.join(FIXTURES, "after.json");
const LOG = path.join(FIXTURES, "access.log");
const ENVIRONMENT = "allowlist-preview";

/** npm run allowlist with `args`, without AWS credentials unless `env` gives them. */
function run(args: readonly string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [TS_RUNNER, path.join(ROOT, "scripts", "allowlist.ts"), ...args], {
    cwd: ROOT,
    encoding: "utf8",
    env: {
      PATH: process.env.PATH,
      HOME: "/nonexistent",
      TMPDIR: os.tmpdir(),
      PROXY_ENVIRONMENTS_DIR: process.env.PROXY_ENVIRONMENTS_DIR,
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      PROXY_CONFIG: AFTER,
      ...env,
    },
    timeout: 90_000,
  });
}

/** The groups of a preview as one line each: change, app VPC, destination, count, deciding lines. */
const summary = (p: Pick<Preview, "groups">) =>
  p.groups.map((g) => `${g.change} ${g.appVpc} ${g.destination} x${g.count} ${g.beforeLine}->${g.afterLine}`);

/** Line numbers of the after allowlist, found by text. */
function afterLine(text: string): number {
  const at = renderedAllowlist(loadEnvironmentFile(AFTER)).split("\n").indexOf(text);
  if (at < 0) throw new Error(`no line ${text}`);
  return at + 1;
}
function beforeLine(text: string): number {
  const at = renderedAllowlist(loadEnvironmentFile(BEFORE)).split("\n").indexOf(text);
  if (at < 0) throw new Error(`no line ${text}`);
  return at + 1;
}

/** What the fixtures must give: app2 loses api (from: app), app2 gains reports by address, a name for reports may change. */
const EXPECTED = [
  `newly denied app2 api.service.example:8080 x3 ${beforeLine("http_access allow !CONNECT api_names api_dst api_http")}->${afterLine("http_access deny all")}`,
  `newly denied app2 x.internal.service.example:8080 x1 ${beforeLine("http_access allow !CONNECT api_names api_dst api_http")}->${afterLine("http_access deny all")}`,
  `newly allowed app2 172.16.0.10:9090 x2 ${beforeLine("http_access deny !Safe_ports")}->${afterLine("http_access allow !CONNECT reports_dst reports_http")}`,
  `may change app reports.service.example:9090 x1 ${beforeLine("http_access deny !Safe_ports")}->0`,
];

describe("readAccessLog", () => {
  it("reads Squid's native lines with the app VPC column, and skips what is not one", () => {
    const log = readAccessLog(fs.readFileSync(LOG, "utf8"));
    expect(log.skipped).toEqual([14]);
    expect(log.requests).toHaveLength(13);
    expect(log.requests[2]).toEqual({
      request: { client: "192.168.1.20", method: "GET", host: "api.service.example", port: 8080, resolved: ["172.16.0.10"] },
      logged: "allowed",
      appVpc: "allowlist-preview-app2",
      lineNumber: 3,
    });
    // A denied named request logs no address; none was seen for that name elsewhere either.
    expect(log.requests[10]).toMatchObject({ request: { host: "reports.service.example", port: 9090 }, logged: "denied" });
    expect(log.requests[10].request.resolved).toBeUndefined();
    expect(log.requests[12]).toMatchObject({ request: { client: "10.9.9.9", method: "CONNECT", host: "172.16.0.10", port: 8443 } });
    expect(log.requests[12].appVpc).toBeUndefined();
  });

  it("reads CloudWatch Logs' export to S3 and filter-log-events JSON alike", () => {
    const lines = fs.readFileSync(LOG, "utf8").split("\n").filter(Boolean).slice(0, 3);
    const exported = lines.map((l) => `2026-01-01T00:00:00.000Z ${l}`).join("\n");
    const json = JSON.stringify({ events: lines.map((message) => ({ message, timestamp: 0 })) });
    expect(readAccessLog(exported).requests).toEqual(readAccessLog(lines.join("\n")).requests);
    expect(readAccessLog(json).requests).toEqual(readAccessLog(lines.join("\n")).requests);
    expect(() => readAccessLog('{"logs": []}')).toThrow(/is JSON without an "events" list/);
  });

  it("takes host and port from CONNECT targets and absolute URLs", () => {
    expect(hostAndPort("CONNECT", "api.example:8443")).toEqual({ host: "api.example", port: 8443 });
    expect(hostAndPort("CONNECT", "[fd00::1]:443")).toEqual({ host: "fd00::1", port: 443 });
    expect(hostAndPort("GET", "http://api.example/x")).toEqual({ host: "api.example", port: 80 });
    expect(hostAndPort("GET", "https://api.example/x")).toEqual({ host: "api.example", port: 443 });
    expect(hostAndPort("GET", "error:invalid-request")).toBeUndefined();
    expect(hostAndPort("CONNECT", "api.example")).toBeUndefined();
  });
});

describe("previewChange", () => {
  const before = parseAllowlist(renderedAllowlist(loadEnvironmentFile(BEFORE)));
  const afterEnv = loadEnvironmentFile(AFTER);
  const after = parseAllowlist(renderedAllowlist(afterEnv));
  const { requests } = readAccessLog(fs.readFileSync(LOG, "utf8"));

  it("groups the requests whose verdict changes by app VPC and destination, with counts and deciding lines", () => {
    const preview = previewChange(before, after, requests, appBlocks(afterEnv));
    expect(summary(preview)).toEqual(EXPECTED);
    expect(preview.unchanged).toEqual({ allowed: 4, denied: 2 });
    expect(preview.disagreements).toEqual([]);
    expect(preview.groups[0].methods).toEqual(["GET", "POST"]);
    expect(preview.groups[0].after).toMatch(/; the nearest allow line, line \d+: .* api_from, lacks api_from \(src 192\.168\.0\.0\/24\)$/);
  });

  it("finds nothing to report when the allowlist does not change, and says where Squid's log disagrees with the old allowlist", () => {
    const same = previewChange(before, before, requests, appBlocks(afterEnv));
    expect([same.groups, same.unchanged]).toEqual([[], { allowed: 8, denied: 5 }]);
    // Squid logged app2's api requests as allowed; with the new allowlist as the old one they disagree.
    const disagree = previewChange(after, after, requests, appBlocks(afterEnv));
    expect(disagree.disagreements.map((d) => d.lineNumber)).toEqual([3, 4, 5, 6, 9, 10]);
    expect(renderPreview(disagree)).toMatch(/^Note: 6 logged requests got another verdict from Squid than the old allowlist gives/m);
  });

  it("names the app VPC by the client's block, else by the logged column", () => {
    const apps = appBlocks(afterEnv);
    const logged = (client: string, appVpc?: string) => ({ ...requests[0], request: { ...requests[0].request, client }, appVpc });
    expect(appVpcOf(logged("192.168.1.7", "elsewhere"), apps)).toBe("app2");
    expect(appVpcOf(logged("10.1.1.1", "old-app"), apps)).toBe("old-app");
    expect(appVpcOf(logged("10.1.1.1"), apps)).toBe("outside the app VPCs");
    expect(appVpcOf(logged("fd00::1"), apps)).toBe("outside the app VPCs");
  });

  it("renders each change with its requests, or none", () => {
    const text = renderPreview(previewChange(before, after, requests, appBlocks(afterEnv)));
    expect(text.split("\n").filter((l) => !l.startsWith("      "))).toEqual([
      "Newly denied: 4 requests",
      "  app2",
      "    api.service.example:8080  3 requests (GET, POST)",
      "    x.internal.service.example:8080  1 request (GET)",
      "Newly allowed: 2 requests",
      "  app2",
      "    172.16.0.10:9090  2 requests (GET)",
      "May change: 1 request",
      "  app",
      "    reports.service.example:9090  1 request (GET)",
      "Unchanged: 6 requests (4 allowed, 2 denied)",
    ]);
    expect(text).toContain(`      before: allowed by line ${beforeLine("http_access allow !CONNECT api_names api_dst api_http")}:`);
    expect(renderPreview(previewChange(before, before, [], []))).toBe(
      "Newly denied: none\nNewly allowed: none\nMay change: none\nUnchanged: 0 requests (0 allowed, 0 denied)",
    );
  });
});

describe("npm run allowlist -- preview", () => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "allowlist-preview-"));
  afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
  const jsonOf = (file: string) => JSON.parse(fs.readFileSync(file, "utf8"));

  it("compares with --before's file: prints the groups, writes --json, exits 0", () => {
    const json = path.join(work, "before.json");
    const r = run(["preview", ENVIRONMENT, LOG, "--before", BEFORE, "--json", json]);
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toMatch(
      /^allowlist preview of allowlist-preview\n {2}before: .*before\.json\n {2}after: {2}.*after\.json as it is now\n/,
    );
    expect(r.stdout).toMatch(/log: {4}.*access\.log: 13 requests; 1 other line skipped \(first: line 14\)/);
    expect(r.stdout).toContain("Newly denied: 4 requests\n  app2\n    api.service.example:8080  3 requests (GET, POST)\n");
    expect(summary(jsonOf(json))).toEqual(EXPECTED);
    expect(jsonOf(json)).toMatchObject({ environment: ENVIRONMENT, requests: 13, skipped: [14], unchanged: { allowed: 4, denied: 2 } });
  });

  it("prints for the fixtures what docs/operations.md shows", () => {
    const relative = (file: string) => path.relative(ROOT, file);
    const r = run(["preview", ENVIRONMENT, relative(LOG), "--before", relative(BEFORE)], { PROXY_CONFIG: relative(AFTER) });
    const doc = fs.readFileSync(path.join(ROOT, "docs", "operations.md"), "utf8");
    const block = /this is what it prints:\n\n```\n([\s\S]*?)```\n/.exec(doc)?.[1];
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(block).toBe(r.stdout);
  });

  it("compares with the environment file as committed at git HEAD by default", () => {
    const repo = path.join(work, "repo");
    fs.mkdirSync(repo);
    const git = (...args: string[]) =>
      execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@t", ...args], { stdio: "ignore" });
    git("init", "-q");
    const file = path.join(repo, "env.json");
    fs.copyFileSync(BEFORE, file);
    git("add", "env.json");
    git("commit", "-q", "-m", "before");
    fs.copyFileSync(AFTER, file);
    const json = path.join(work, "head.json");
    const r = run(["preview", ENVIRONMENT, LOG, "--json", json], { PROXY_CONFIG: file });
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toMatch(/before: .*env\.json as committed at git HEAD/);
    expect(summary(jsonOf(json))).toEqual(EXPECTED);
    fs.writeFileSync(path.join(repo, "new.json"), fs.readFileSync(AFTER));
    const uncommitted = run(["preview", ENVIRONMENT, LOG], { PROXY_CONFIG: path.join(repo, "new.json") });
    expect([uncommitted.status, uncommitted.stdout]).toEqual([1, ""]);
    expect(uncommitted.stderr.trim()).toMatch(
      /^.*new\.json is not committed at git HEAD \(git show HEAD:new\.json found nothing\); give the old version with --before <environment file>$/,
    );
  });

  it("answers bad input with one message and exit 1", () => {
    const message = (args: string[], env: NodeJS.ProcessEnv = {}) => {
      const r = run(args, env);
      return [r.status, r.stdout, r.stderr.trim()];
    };
    expect(message(["preview", "nowhere", LOG])).toEqual([
      1,
      "",
      `no environment named "nowhere" in PROXY_CONFIG=${AFTER} (there: allowlist-preview); name one of them, or set PROXY_CONFIG to its file`,
    ]);
    expect(message(["preview", ENVIRONMENT, path.join(work, "missing.log"), "--before", BEFORE])).toEqual([
      1,
      "",
      `cannot read the access-log file ${path.join(work, "missing.log")} (ENOENT); check the path`,
    ]);
    expect(message(["preview", ENVIRONMENT, "--before", BEFORE])[2]).toBe(
      `no AWS credentials to read log group ${accessLogGroupName(ENVIRONMENT)}: log in (aws sso login, or set AWS_PROFILE) and run again, or give what it needs as files`,
    );
    expect(message(["preview", ENVIRONMENT, LOG, "--deployed"])[2]).toBe(
      `no AWS credentials to read SSM parameter ${allowlistParameterName(ENVIRONMENT)}: log in (aws sso login, or set AWS_PROFILE) and run again, or give what it needs as files`,
    );
    expect(message(["preview", ENVIRONMENT, LOG, "--before", BEFORE, "--deployed"])[2]).toBe(
      "--before and --deployed both name the old allowlist; give one of them",
    );
    expect(message(["show", ENVIRONMENT])[2]).toBe(
      'npm run allowlist needs a command: preview (got "show"); see npm run allowlist -- --help',
    );
    expect(message(["preview", ENVIRONMENT, LOG, "--before"])[2]).toBe("--before needs a file, such as --before old-env.json");
    const privateNat = path.join(work, "nat.json");
    fs.copyFileSync(path.join(ROOT, "demos", "transit-gateway.json"), privateNat);
    const nat = message(["preview", "transit-gateway", LOG, "--before", privateNat], { PROXY_CONFIG: privateNat });
    expect(nat[0]).toBe(1);
    expect(nat[2]).toMatch(
      /nat\.json: environment transit-gateway sends its traffic through private NAT gateways \(connectivity\.egress\), which have no allowlist$/,
    );
  });

  describe("with AWS (the emulator)", () => {
    let moto: SuiteMoto;
    beforeAll(async () => {
      moto = await suiteMoto();
    });
    afterAll(async () => moto?.release());

    it("reads the deployed allowlist and the last hour of the access log group", async () => {
      const region = loadEnvironmentFile(AFTER).region;
      const credentials = { accessKeyId: "test", secretAccessKey: "test" };
      const ssm = new SSMClient({ region, endpoint: moto.endpoint, credentials });
      const before = renderedAllowlist(loadEnvironmentFile(BEFORE));
      await ssm.send(
        new PutParameterCommand({ Name: allowlistParameterName(ENVIRONMENT), Value: before, Type: "String", Overwrite: true }),
      );
      const logs = new CloudWatchLogsClient({ region, endpoint: moto.endpoint, credentials });
      const group = accessLogGroupName(ENVIRONMENT);
      await logs.send(new CreateLogGroupCommand({ logGroupName: group })).catch((e: Error) => {
        if (e.name !== "ResourceAlreadyExistsException") throw e;
      });
      const stream = `i-${Date.now()}`;
      await logs.send(new CreateLogStreamCommand({ logGroupName: group, logStreamName: stream }));
      const now = Date.now();
      const lines = fs.readFileSync(LOG, "utf8").split("\n").filter(Boolean);
      await logs.send(
        new PutLogEventsCommand({
          logGroupName: group,
          logStreamName: stream,
          logEvents: lines.map((message, i) => ({ message, timestamp: now - 60_000 + i })),
        }),
      );
      const json = path.join(work, "aws.json");
      const r = run(["preview", ENVIRONMENT, "--deployed", "--json", json], {
        PROXY_EMULATOR_ENDPOINT: moto.endpoint,
        AWS_ACCESS_KEY_ID: "test",
        AWS_SECRET_ACCESS_KEY: "test",
      });
      expect([r.status, r.stderr]).toEqual([0, ""]);
      expect(r.stdout).toContain(`before: the deployed SSM parameter ${allowlistParameterName(ENVIRONMENT)}\n`);
      expect(r.stdout).toMatch(new RegExp(`log: {4}the last hour of ${group} \\(\\d+ events\\): \\d+ requests`));
      expect(summary(jsonOf(json))).toEqual(EXPECTED);
    });
  });
});
