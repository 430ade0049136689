import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Account, analyzerVerdict, finishedInvocation, pingStatuses, queryMessages } from "../operations/verify/account";
import { analysisCount, AnalyzerPath, flowPlans } from "../operations/verify/analyzer";
import { analyzeReachability, expectedFlowsOf, flowLabel, surroundingsOf, verdictFor } from "../proof/reachability";
import { appServerScript, parseAppResults, parseStandInSources, standInScript } from "../operations/verify/commands";
import { judge, renderReport } from "../operations/verify/judge";
import { EMULATED_NOTE, verify, VerifyStop } from "../operations/verify/run";
import { parseSquidLine, squidQuery } from "../operations/verify/squid-log";
import { parseState } from "../operations/verify/state";
import { verifyTargets } from "../operations/verify/targets";
import { configFrom, synthEnvironment, verificationConfig } from "./helpers/stack";
import { TS_RUNNER } from "../tools/cli";

/** Recorded answers in the AWS API's shapes (see its "about"): SSM and Logs Insights cannot be emulated here. */
const recorded = require("./fixtures/verify/recorded.json");

/** A Terraform state of the synthesized stack: every resource deployed once, with the recorded instances. */
function stateOf(stack: any, drop: string[] = []): string {
  const names: Record<string, { id: string; privateIp: string }> = {
    "verification-service": recorded.instances.service,
    "verification-app-server": recorded.instances.app,
    "verification-proxy": recorded.instances.proxy,
  };
  const resources = Object.entries(stack.resource as Record<string, Record<string, any>>).flatMap(([type, byName]) =>
    Object.entries(byName)
      .filter(([name]) => !drop.includes(`${type}.${name}`))
      .map(([name, r]) => {
        const known = type === "aws_instance" ? names[r.tags?.Name] : undefined;
        const attributes = known
          ? { id: known.id, private_ip: known.privateIp, tags: r.tags }
          : { id: `${type}-${name}`, tags: r.tags ?? null };
        return {
          mode: "managed",
          type,
          name,
          provider: 'provider["registry.terraform.io/hashicorp/aws"]',
          instances: [{ schema_version: 0, attributes }],
        };
      }),
  );
  const outputs = {
    app_server_app_id: { value: recorded.instances.app.id, type: "string" },
    proxy_url: { value: "http://10.0.0.10:3128", type: "string" },
    proxy_access_log_group: { value: "/proxy-over-peering/verification/squid-access", type: "string" },
  };
  return JSON.stringify({ version: 4, terraform_version: "1.11.4", serial: 7, lineage: "0a1b", outputs, resources });
}

/** The account as the recordings answer it, through the same readers the SDK's answers go through. */
function recordedAccount(state: string | undefined, overrides: Partial<Account> = {}): Account & { scripts: string[] } {
  const scripts: string[] = [];
  return {
    scripts,
    readState: async () => state,
    agentStatus: async () => pingStatuses(recorded.DescribeInstanceInformation),
    run: async (id, _shell, script) => {
      scripts.push(script);
      return finishedInvocation(recorded.GetCommandInvocation[id])!;
    },
    query: async () => queryMessages(recorded.GetQueryResults),
    runningInstances: async () => [],
    analyze: async () => {
      throw new Error("no analysis was asked for");
    },
    deleteAnalysis: async () => undefined,
    ...overrides,
  };
}

describe("npm run verify", () => {
  const { json } = synthEnvironment(verificationConfig(), true);
  const stack = JSON.parse(json);
  const env = verificationConfig();
  const options = (account: Account) => ({
    env,
    stack,
    source: "demos/verification.json",
    account,
    nonce: recorded.nonce,
    logWaitSeconds: 0,
  });

  it("finds the app server, the proxy and the stand-in in the state, and requests each service port by its name or the stand-in's address", () => {
    const targets = verifyTargets(env, parseState(stateOf(stack)));
    expect(targets.apps).toEqual([
      { name: "app", instanceId: recorded.instances.app.id, privateIp: "192.168.0.37", vpcName: "verification-app" },
    ]);
    expect(targets.standIn).toEqual({ instanceId: recorded.instances.service.id, address: "172.16.0.10" });
    expect(targets.requests.map((r) => [r.url, `${r.direct.host}:${r.direct.port}`])).toEqual([
      ["http://172.16.0.10/", "172.16.0.10:80"],
      ["https://172.16.0.10:8443/", "172.16.0.10:8443"],
      ["http://api.service.example:8080/", "172.16.0.10:8080"],
    ]);
    expect(targets.proxyUrl).toBe("http://10.0.0.10:3128");
  });

  it("sends PowerShell that requests through the machine's proxy setting and then tries each port directly, and shell that reads httpd's log", () => {
    const targets = verifyTargets(env, parseState(stateOf(stack)));
    const script = appServerScript(targets.requests, "abc123", { trustAnyCertificate: true, direct: true });
    expect(script).toContain("Probe 'http://172.16.0.10/verify-abc123'");
    expect(script).toContain("Probe 'https://172.16.0.10:8443/verify-abc123'");
    expect(script).toContain("Direct '172.16.0.10' 8443");
    expect(script).toContain("GetSystemWebProxy()");
    expect(script).not.toMatch(/-Proxy\b/);
    expect(appServerScript(targets.requests, "abc123", { trustAnyCertificate: false, direct: false })).not.toMatch(
      /ServerCertificateValidationCallback|Direct '/,
    );
    expect(standInScript("abc123")).toContain("grep -F '/verify-abc123'");
    expect(squidQuery("abc123")).toBe(
      'fields @timestamp, @message | filter @message like "/verify-abc123" or @message like " CONNECT " | sort @timestamp asc | limit 10000',
    );
  });

  it("reads the access log's lines: the native columns, then the app VPC the proxy named (none for - or an older line)", () => {
    const line =
      "1796419801.123     12 192.168.0.37 TCP_MISS/404 421 GET http://172.16.0.10/verify-5f2a9c1e7b30 - HIER_DIRECT/172.16.0.10 text/html";
    const read = { client: "192.168.0.37", result: "TCP_MISS/404", method: "GET", url: "http://172.16.0.10/verify-5f2a9c1e7b30" };
    expect(parseSquidLine(`${line} verification-app`)).toEqual({ ...read, appVpc: "verification-app" });
    expect(parseSquidLine(`${line} -`)).toEqual(read);
    expect(parseSquidLine(line)).toEqual(read);
    expect(parseSquidLine("1796419801.124      0 10.9.9.9 TCP_DENIED/403 3400 CONNECT 172.16.0.10:8443 - HIER_NONE/- text/html -")).toEqual(
      {
        client: "10.9.9.9",
        result: "TCP_DENIED/403",
        method: "CONNECT",
        url: "172.16.0.10:8443",
      },
    );
    expect(parseSquidLine("not a squid line")).toBeUndefined();
    expect(queryMessages(recorded.GetQueryResults).map((m) => parseSquidLine(m)?.appVpc)).toEqual([
      "verification-app",
      "verification-app",
      "verification-app",
    ]);
  });

  it("passes every check on the recorded run: requests through the proxy, no direct path, Squid logs the app server's address, the service sees the proxy's", async () => {
    const account = recordedAccount(stateOf(stack));
    const checks = await verify(options(account));
    expect(checks.filter((c) => !c.pass)).toEqual([]);
    expect(checks).toHaveLength(2 + 3 + 3 + 3 + 1);
    expect(checks.slice(0, 2).map((c) => c.name)).toEqual(["the state is the deployed stack", "the servers' SSM agents are online"]);
    expect(account.scripts).toHaveLength(2);
    const report = renderReport(checks);
    expect(report).toMatch(/^PASS {2}app -> service http:\/\/172\.16\.0\.10\/ +HTTP 404 through http:\/\/10\.0\.0\.10:3128\//m);
    expect(report).toMatch(/PASS {2}Squid's log: app -> 172\.16\.0\.10:8443 +192\.168\.0\.37 TCP_TUNNEL\/200 CONNECT/);
    expect(report).toMatch(/PASS {2}the service saw only the dictated block 10\.0\.0\.0\/24 +sources: 10\.0\.0\.10 \(3\)/);
    expect(report.split("\n").at(-1)).toBe("all 12 checks passed");
  });

  it("reads the sources of this run's requests from httpd's access logs (combined format, TLS log included) with the shell it sends", () => {
    const logs = fs.mkdtempSync(path.join(os.tmpdir(), "httpd-"));
    const line = (source: string, path: string) =>
      `${source} - - [04/Dec/2026:21:30:01 +0000] "GET ${path} HTTP/1.1" 404 196 "-" "Mozilla/5.0"\n`;
    fs.writeFileSync(
      path.join(logs, "access_log"),
      line("10.0.0.10", "/verify-abc123") + line("10.0.0.10", "/") + line("10.0.0.11", "/verify-abc123"),
    );
    fs.writeFileSync(path.join(logs, "ssl_access_log"), line("10.0.0.10", "/verify-abc123") + line("192.168.0.37", "/verify-other"));
    const out = spawnSync("bash", ["-c", standInScript("abc123", logs)], { encoding: "utf8" });
    fs.rmSync(logs, { recursive: true, force: true });
    expect(parseStandInSources(out.stdout)).toEqual({ "10.0.0.10": 2, "10.0.0.11": 1 });
  });

  it("fails with the evidence when a direct path exists, Squid refuses, a line is missing or the service sees another source", () => {
    const targets = verifyTargets(env, parseState(stateOf(stack)));
    const apps = { app: parseAppResults(recorded.GetCommandInvocation[recorded.instances.app.id].StandardOutputContent) };
    const broken = apps.app.map((r) =>
      r.kind === "direct" && r.port === 80
        ? { ...r, connected: true }
        : r.kind === "proxied" && r.url.includes("8080")
          ? { ...r, status: 403, squidError: "ERR_ACCESS_DENIED 0" }
          : r,
    );
    const squid = queryMessages(recorded.GetQueryResults)
      .map(parseSquidLine)
      .filter((l) => l !== undefined && l.method !== "CONNECT") as any[];
    const checks = judge(targets, {
      nonce: recorded.nonce,
      apps: { app: broken },
      squid,
      standInSources: parseStandInSources("  2 10.0.0.10\n  1 192.168.0.37\n"),
    });
    const failed = checks.filter((c) => !c.pass).map((c) => `${c.name}: ${c.evidence}`);
    expect(failed).toEqual([
      "app -> api http://api.service.example:8080/: Squid refused it: HTTP 403 ERR_ACCESS_DENIED 0",
      "app -> 172.16.0.10:80 direct, without the proxy: connected: the service is reachable around the proxy",
      "Squid's log: app -> 172.16.0.10:8443: no line with client 192.168.0.37, app VPC verification-app, and CONNECT 172.16.0.10:8443 in /proxy-over-peering/verification/squid-access",
      "the service saw only the dictated block 10.0.0.0/24: sources outside it: 10.0.0.10 (2), 192.168.0.37 (1)",
    ]);
  });

  it("against the emulator, judges the state, the agents and the commands' status, and says the servers' results are no evidence", async () => {
    const empty = recordedAccount(stateOf(stack), {
      run: async () => ({ status: "Success", stdout: "", stderr: "" }),
      query: async () => [],
    });
    const checks = await verify({ ...options(empty), emulated: true });
    expect(checks.filter((c) => !c.skipped).map((c) => [c.name, c.pass])).toEqual([
      ["the state is the deployed stack", true],
      ["the servers' SSM agents are online", true],
    ]);
    expect(new Set(checks.filter((c) => c.skipped).map((c) => c.evidence))).toEqual(new Set([EMULATED_NOTE]));
    expect(checks.filter((c) => c.skipped)).toHaveLength(3 + 3 + 3 + 1);
    const failing = recordedAccount(stateOf(stack), {
      run: async () => ({ status: "Failed", stdout: "", stderr: "boom" }),
      query: async () => [],
    });
    expect((await verify({ ...options(failing), emulated: true })).filter((c) => !c.pass).map((c) => c.name)).toEqual([
      "the command on app's server",
      "the command on the stand-in service",
    ]);
  });

  it("fails a request the machine's setting sends elsewhere, and a command that did not succeed", async () => {
    const stdout = recorded.GetCommandInvocation[recorded.instances.app.id].StandardOutputContent.replaceAll(
      "http://10.0.0.10:3128/",
      "http://172.16.0.10/verify-x",
    );
    const account = recordedAccount(stateOf(stack), {
      run: async (id) =>
        id === recorded.instances.service.id
          ? { status: "TimedOut", stdout: "", stderr: "no result within 60 s" }
          : { status: "Success", stdout, stderr: "" },
    });
    const failed = (await verify(options(account))).filter((c) => !c.pass).map((c) => `${c.name}: ${c.evidence}`);
    expect(failed[0]).toBe("the command on the stand-in service: ended TimedOut: no result within 60 s");
    expect(failed).toContain(
      "app -> service http://172.16.0.10/: the machine's proxy setting sends it to http://172.16.0.10/verify-x, not http://10.0.0.10:3128",
    );
    expect(failed.at(-1)).toBe("the service saw only the dictated block 10.0.0.0/24: no request of this run in httpd's access log");
  });

  it("stops with one message saying what to do: never deployed, a stale state, an agent not online yet, a service with no host", async () => {
    const stop = (account: Account, more = {}) =>
      verify({ ...options(account), ...more }).then(
        () => "ran",
        (e: unknown) => (e instanceof VerifyStop ? e.message : `crash: ${e}`),
      );
    expect(await stop(recordedAccount(undefined))).toBe(
      "verification was never deployed: no state at s3://proxy-over-peering-tfstate-example/proxy-over-peering/verification/terraform.tfstate. Deploy first: npm run deploy -- verification",
    );
    const instance = Object.keys(stack.resource.aws_instance)[0];
    expect(await stop(recordedAccount(stateOf(stack, [`aws_instance.${instance}`])))).toBe(
      `verification: the deployed state is not demos/verification.json as it stands now: 1 resource(s) not deployed yet (aws_instance.${instance}); deploy first (npm run deploy), then verify.`,
    );
    const offline = recordedAccount(stateOf(stack), { agentStatus: async () => ({ [recorded.instances.service.id]: "Online" }) });
    expect(await stop(offline)).toMatch(
      /^the SSM agent of app VPC app's server \(i-0a1b2c3d4e5f60718\) is not online yet \(not registered\)\. A new server registers within a few minutes: wait and run again\./,
    );
    const raw = require("../examples/production.json");
    const production = configFrom({ ...raw, services: [{ ...raw.services[0], domains: [".provider.example"] }] });
    const { json: productionJson } = synthEnvironment(production, true);
    const productionStack = JSON.parse(productionJson);
    const productionOptions = { ...options(recordedAccount(stateOf(productionStack))), env: production, stack: productionStack };
    expect(await verify(productionOptions).catch((e: Error) => e.message)).toBe(
      "no host to request for service(s) dx-service: they list no exact name in services[].domains; give one with --host <service>=<host>",
    );
    const targets = verifyTargets(production, parseState(stateOf(productionStack)), { "dx-service": "api.provider.example" });
    expect(targets.requests.map((r) => r.url)).toEqual(["https://api.provider.example/"]);
    expect(targets.standIn).toBeUndefined();
  });

  it("answers --help and does nothing else, and says plainly when there are no credentials", () => {
    const run = (args: string[], env: NodeJS.ProcessEnv = {}) =>
      spawnSync(process.execPath, [TS_RUNNER, path.join(__dirname, "..", "scripts", "verify.ts"), ...args], {
        encoding: "utf8",
        env: {
          PATH: process.env.PATH,
          HOME: "/nonexistent",
          PROXY_ENVIRONMENTS_DIR: process.env.PROXY_ENVIRONMENTS_DIR,
          AWS_EC2_METADATA_DISABLED: "true",
          ...env,
        },
        timeout: 90000,
      });
    const help = run(["--help"]);
    expect([help.status, help.stdout.split("\n")[0]]).toEqual([
      0,
      "Usage: npm run verify -- <environment> [--host <service>=<host>] [--log-wait <seconds>] [--json <file>]",
    ]);
    const noCredentials = run(["verification"]);
    expect(noCredentials.status).toBe(1);
    expect(noCredentials.stderr.trim().split("\n").at(-1)).toBe(
      "no AWS credentials: log in (aws sso login, or set AWS_PROFILE) and run again",
    );
    expect(noCredentials.stderr).not.toMatch(/\n\s+at /);
    const bad = run(["verification", "--log-wait", "soon"]);
    expect([bad.status, bad.stderr.trim()]).toEqual([
      1,
      '--log-wait = "soon" is not a whole number of seconds from 0 to 1800; write it such as --log-wait 120',
    ]);
  });

  describe("--analyzer", () => {
    const label = (f: (typeof env.expectedFlows)[number]) => flowLabel(expectedFlowsOf(env)[env.expectedFlows.indexOf(f)]);
    const report = analyzeReachability(stack, surroundingsOf(env));
    const offline = Object.fromEntries(expectedFlowsOf(env).map((f) => [flowLabel(f), verdictFor(report, f)]));
    const ids = recorded.instances;
    /** AWS answers as the recording says: reachable where the offline analysis allows, unless `differ` names the path. */
    const analyzing = (differ?: (p: AnalyzerPath) => boolean) => {
      const asked: AnalyzerPath[] = [];
      const deleted: string[] = [];
      const allowedHop = (p: AnalyzerPath) =>
        (p.source === ids.app.id && p.destination === ids.proxy.id && p.port === 3128) ||
        (p.source === ids.proxy.id && p.destination === ids.service.id && [80, 8443, 8080].includes(p.port) && p.protocol === "tcp");
      const overrides: Partial<Account> = {
        analyze: async (p) => {
          asked.push(p);
          const found = allowedHop(p) !== (differ?.(p) ?? false);
          const verdict = analyzerVerdict(
            recorded.DescribeNetworkInsightsAnalyses[found ? "found" : "notFound"].NetworkInsightsAnalyses[0],
          )!;
          return { pathId: `nip-${asked.length}`, analysisId: `nia-${asked.length}`, verdict };
        },
        deleteAnalysis: async (pathId, analysisId) => void deleted.push(pathId, analysisId),
      };
      return { asked, deleted, overrides };
    };
    const withAnalyzer = (account: Account, more: Partial<{ keep: boolean; confirm: () => Promise<boolean> }> = {}) => ({
      ...options(account),
      analyzer: { offline, label, confirm: async () => true, keep: false, log: () => undefined, ...more },
    });

    it("plans a path per flow (two through the proxy), from the state's instances, and says which flows it cannot analyse", () => {
      const plans = flowPlans(env, parseState(stateOf(stack)), [ids.proxy.id], label);
      expect(plans.filter((p) => p.skipped).map((p) => [p.label, p.skipped])).toEqual([
        [
          "verification-proxy-resolver -> verification-service:53/udp",
          "Reachability Analyzer starts at a resource, and the resolver endpoint's interfaces are not in the state",
        ],
        [
          "verification-proxy-resolver -> verification-service:53",
          "Reachability Analyzer starts at a resource, and the resolver endpoint's interfaces are not in the state",
        ],
      ]);
      expect(plans[0].hops).toEqual([
        { source: ids.app.id, destination: ids.proxy.id, destinationIp: undefined, protocol: "tcp", port: 3128 },
      ]);
      expect(analysisCount(plans)).toBe(11);
    });

    it("passes when AWS, the offline analysis and the expectation agree, and deletes every path and analysis it made", async () => {
      const { asked, deleted, overrides } = analyzing();
      const checks = await verify(withAnalyzer(recordedAccount(stateOf(stack), overrides)));
      const analyzer = checks.filter((c) => c.name.startsWith("analyzer: "));
      expect(analyzer.filter((c) => !c.pass)).toEqual([]);
      expect(analyzer.filter((c) => c.skipped)).toHaveLength(2);
      expect(asked).toHaveLength(11);
      expect(deleted).toHaveLength(22);
      expect(renderReport(checks).split("\n").at(-1)).toBe("all 23 checks passed (2 not checked, said above)");
    });

    it("fails a flow where AWS disagrees, with both explanations, and keeps what it made when asked", async () => {
      const { deleted, overrides } = analyzing((p) => p.source === ids.proxy.id && p.port === 8443);
      const logged: string[] = [];
      const checks = await verify({
        ...withAnalyzer(recordedAccount(stateOf(stack), overrides), { keep: true }),
        analyzer: { ...withAnalyzer(recordedAccount(undefined)).analyzer, keep: true, log: (l: string) => void logged.push(l) },
      });
      const failed = checks.filter((c) => !c.pass);
      expect(failed.map((c) => c.name)).toEqual(["analyzer: verification-proxy -> verification-service:8443"]);
      expect(failed[0].evidence).toMatch(
        /^AWS: not reachable \(ENI_SG_RULES_MISMATCH at sg-0a1b2c3d4e5f60718\); offline: allowed; expected allowed$/,
      );
      expect(deleted).toEqual([]);
      expect(logged).toEqual([`kept 11 path(s) and analyses, tagged Name=verify-verification-${recorded.nonce}`]);
    });

    it("creates nothing when the price is refused", async () => {
      const { asked, overrides } = analyzing();
      const refused = verify(withAnalyzer(recordedAccount(stateOf(stack), overrides), { confirm: async () => false }));
      await expect(refused).rejects.toThrow("stopped before any analysis was created, as asked");
      expect(asked).toEqual([]);
    });
  });
});

describe("what the README and docs/operations.md show of npm run verify", () => {
  const { json } = synthEnvironment(verificationConfig(), true);
  const stack = JSON.parse(json);
  const base = { env: verificationConfig(), stack, source: "demos/verification.json", nonce: recorded.nonce, logWaitSeconds: 0 };
  const block = (file: string, after: string) => {
    const text = fs.readFileSync(path.join(__dirname, "..", file), "utf8");
    const at = text.indexOf(after);
    const start = text.indexOf("```\n", at) + 4;
    return text.slice(start, text.indexOf("```", start)).trimEnd();
  };

  it("docs/operations.md shows the report of the recorded run, as verify prints it", async () => {
    const report = renderReport(await verify({ ...base, account: recordedAccount(stateOf(stack)) }));
    if (process.env.PRINT_VERIFY_REPORTS) console.log(report);
    expect(block("docs/operations.md", "is what such a run prints")).toBe(report);
  });

  it("the README shows an emulator run with the rows verify prints there, ids and run apart", async () => {
    const empty = recordedAccount(stateOf(stack), {
      run: async () => ({ status: "Success", stdout: "", stderr: "" }),
      query: async () => [],
    });
    const report = renderReport(await verify({ ...base, account: empty, emulated: true }));
    if (process.env.PRINT_VERIFY_REPORTS) console.log(report);
    const shape = (text: string) =>
      text
        .split("\n")
        .filter((l) => /^(PASS|FAIL|SKIP) /.test(l))
        .map((l) =>
          l
            .replace(/verify-[0-9a-f]{12}/g, "verify-RUN")
            .replace(/\bi-[0-9a-f]+/g, "i-ID")
            .replace(/ {2,}/g, "  ")
            .replace(/(deployed stack {2}).*/, "$1STATE"),
        );
    expect(shape(block("README.md", "(real output)"))).toEqual(shape(report));
  });
});
