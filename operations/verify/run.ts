/** One verify run: read the deployed state, run the experiment on the servers, read the logs, judge. */
import { EnvironmentConfig } from "../../lib/config";
import { serverNames } from "../../lib/naming";
import { Account, Invocation } from "./account";
import { analysisCount, AnalyzerVerdict, compareVerdicts, flowPlans, OfflineVerdicts, PRICE_PER_ANALYSIS_USD } from "./analyzer";
import { appServerScript, AppResult, parseAppResults, parseStandInSources, standInScript, throughProxy } from "./commands";
import { Check, Evidence, judge } from "./judge";
import { loggedUrl, parseSquidLine, squidQuery, SquidLine } from "./squid-log";
import { DeployedState, parseState, staleStateProblem } from "./state";
import { verifyTargets, VerifyTargets } from "./targets";

/** A reason verify cannot start, said once to the user with what to do; no stack trace. */
export class VerifyStop extends Error {}

/** A synthesized stack, as far as verify reads it. */
export interface SynthesizedStack {
  terraform?: { backend?: { s3?: { bucket?: string; key?: string } } };
  resource?: Record<string, Record<string, unknown>>;
}

export interface VerifyOptions {
  readonly env: EnvironmentConfig;
  readonly stack: SynthesizedStack;
  /** The environment file, named in messages. */
  readonly source: string;
  readonly account: Account;
  readonly nonce: string;
  /** A host to request per service name, for services with no exact name and no stand-in. */
  readonly hosts?: Readonly<Record<string, string>>;
  /** How long to wait for this run's lines to reach Squid's log group (the agent ships every few seconds). */
  readonly logWaitSeconds?: number;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  /** The account is the emulator: its Run Command runs nothing, so the servers' results are not evidence. */
  readonly emulated?: boolean;
  /** With --analyzer: Reachability Analyzer on every expected flow, against these offline verdicts. */
  readonly analyzer?: AnalyzerOptions;
}

export interface AnalyzerOptions {
  /** The offline analysis's verdict per flow label. */
  readonly offline: OfflineVerdicts;
  /** A flow's label, as the offline analysis names it. */
  readonly label: (flow: EnvironmentConfig["expectedFlows"][number]) => string;
  /** Asked once with the number of analyses and their price; false stops before anything is created. */
  readonly confirm: (analyses: number, priceUsd: number) => Promise<boolean>;
  /** Keep the paths and analyses (else they are deleted at the end). */
  readonly keep: boolean;
  readonly log: (line: string) => void;
}

/** Why the emulator's answers to the servers' checks are no evidence: said once before the report. */
export const EMULATOR_RUNS_NOTHING =
  "moto's Run Command reports success without running anything, so what the servers would print is not judged";

/** The evidence of each check the emulator cannot answer. */
export const EMULATED_NOTE = "not judged in the emulator";

async function deployedTargets(o: VerifyOptions): Promise<{ targets: VerifyTargets; state: DeployedState; preflight: Check }> {
  const backend = o.stack.terraform?.backend?.s3;
  if (!backend?.bucket || !backend.key)
    throw new VerifyStop(`the stack of ${o.source} has no S3 backend; verify reads the outputs from its state`);
  const text = await o.account.readState(backend.bucket, backend.key);
  if (text === undefined)
    throw new VerifyStop(
      `${o.env.name} was never deployed: no state at s3://${backend.bucket}/${backend.key}. Deploy first: npm run deploy -- ${o.env.name}`,
    );
  const state = parseState(text);
  const stale = staleStateProblem(state, o.stack, o.source);
  if (stale) throw new VerifyStop(`${o.env.name}: ${stale}`);
  const targets = verifyTargets(o.env, state, o.hosts);
  if (targets.apps.length === 0)
    throw new VerifyStop(
      `${o.env.name} has no app server in its outputs; verify requests from app servers (give an app VPC a server: appVpcs[].server)`,
    );
  if (targets.unknownHosts.length)
    throw new VerifyStop(
      `no host to request for service(s) ${targets.unknownHosts.join(", ")}: they list no exact name in services[].domains; give one with --host <service>=<host>`,
    );
  const preflight = {
    name: "the state is the deployed stack",
    pass: true,
    evidence: `serial ${state.serial}: ${state.addresses.length} resources, as ${o.source} makes them`,
  };
  return { targets, state, preflight };
}

async function agentsOnline(o: VerifyOptions, targets: VerifyTargets): Promise<Check> {
  const servers = [
    ...targets.apps.map((a) => ({ what: `app VPC ${a.name}'s server`, id: a.instanceId })),
    ...(targets.standIn ? [{ what: "the stand-in service", id: targets.standIn.instanceId }] : []),
  ];
  const status = await o.account.agentStatus(servers.map((s) => s.id));
  const offline = servers.filter((s) => status[s.id] !== "Online");
  if (offline.length)
    throw new VerifyStop(
      offline.map((s) => `the SSM agent of ${s.what} (${s.id}) is not online yet (${status[s.id] ?? "not registered"})`).join("; ") +
        ". A new server registers within a few minutes: wait and run again. If it stays so, check that it reaches SSM (sessionManagerEndpoints) and its role allows it.",
    );
  return { name: "the servers' SSM agents are online", pass: true, evidence: servers.map((s) => `${s.what} ${s.id}`).join(", ") };
}

function invocationCheck(what: string, inv: Invocation): Check[] {
  return inv.status === "Success"
    ? []
    : [{ name: `the command on ${what}`, pass: false, evidence: `ended ${inv.status}: ${inv.stderr.trim().split("\n")[0] ?? ""}` }];
}

async function squidLines(
  o: VerifyOptions,
  targets: VerifyTargets,
  start: number,
  results: Record<string, AppResult[]>,
): Promise<SquidLine[]> {
  const now = o.now ?? (() => Date.now());
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const wanted = targets.apps.filter((a) => results[a.name]?.length).length * targets.requests.length;
  const deadline = now() + (o.logWaitSeconds ?? 120) * 1000;
  for (;;) {
    const messages = await o.account.query(
      targets.proxyLogGroup!,
      squidQuery(o.nonce),
      Math.floor(start / 1000) - 60,
      Math.ceil(now() / 1000) + 60,
    );
    const lines = messages.map(parseSquidLine).filter((l): l is SquidLine => l !== undefined);
    const found = targets.apps.flatMap((a) =>
      targets.requests.filter((r) => lines.some((l) => l.client === a.privateIp && l.url === loggedUrl(r.url, o.nonce).url)),
    );
    if (found.length >= wanted || now() > deadline) return lines;
    await sleep(10000);
  }
}

/** Runs the commands on the servers and reads the logs: what judge() needs, and the commands that did not succeed. */
async function experiment(o: VerifyOptions, targets: VerifyTargets): Promise<{ evidence: Evidence; failures: Check[] }> {
  const start = (o.now ?? (() => Date.now()))();
  const options = { trustAnyCertificate: targets.standIn !== undefined, direct: throughProxy(targets) };
  const script = appServerScript(targets.requests, o.nonce, options);
  const invocations = await Promise.all(targets.apps.map((a) => o.account.run(a.instanceId, "powershell", script, 180)));
  const apps = Object.fromEntries(targets.apps.map((a, i) => [a.name, parseAppResults(invocations[i].stdout)]));
  const failures = targets.apps.flatMap((a, i) => invocationCheck(`${a.name}'s server`, invocations[i]));
  let standInSources: Record<string, number> | undefined;
  if (targets.standIn) {
    const inv = await o.account.run(targets.standIn.instanceId, "shell", standInScript(o.nonce), 60);
    failures.push(...invocationCheck("the stand-in service", inv));
    standInSources = parseStandInSources(inv.stdout);
  }
  const wait = o.emulated ? { ...o, logWaitSeconds: 0 } : o;
  const squid = targets.proxyLogGroup ? await squidLines(wait, targets, start, apps) : undefined;
  return { evidence: { nonce: o.nonce, apps, squid, standInSources }, failures };
}

/** Runs the experiment and returns every check; throws VerifyStop when it cannot start. */
export async function verify(o: VerifyOptions): Promise<Check[]> {
  const { targets, state, preflight } = await deployedTargets(o);
  const plans = o.analyzer ? await analyzerPlans(o, o.analyzer, state) : undefined;
  const agents = await agentsOnline(o, targets);
  const { evidence, failures } = await experiment(o, targets);
  const judged = judge(targets, evidence).map((c) => (o.emulated ? { ...c, pass: true, skipped: true, evidence: EMULATED_NOTE } : c));
  const checks = [preflight, agents, ...failures, ...judged];
  return plans ? [...checks, ...(await analyzerChecks(o, o.analyzer!, plans))] : checks;
}

/** The analyzer's plans, after the user agreed to their price (asked before anything runs). */
async function analyzerPlans(o: VerifyOptions, a: AnalyzerOptions, state: DeployedState) {
  const proxyName = serverNames.proxy(o.env.name);
  const proxies = state.instancesByName[proxyName] ? [state.instancesByName[proxyName].id] : await o.account.runningInstances(proxyName);
  const plans = flowPlans(o.env, state, proxies, a.label);
  const count = analysisCount(plans);
  if (!(await a.confirm(count, count * PRICE_PER_ANALYSIS_USD))) throw new VerifyStop("stopped before any analysis was created, as asked");
  return plans;
}

/** Runs one analysis per hop, one at a time, then deletes what it created unless asked to keep it. */
async function analyzerChecks(o: VerifyOptions, a: AnalyzerOptions, plans: ReturnType<typeof flowPlans>): Promise<Check[]> {
  const created: { pathId: string; analysisId: string }[] = [];
  const verdicts: AnalyzerVerdict[][] = [];
  try {
    for (const plan of plans) {
      const flow: AnalyzerVerdict[] = [];
      for (const hop of plan.hops) {
        const r = await o.account.analyze(hop, `verify-${o.env.name}-${o.nonce}`);
        created.push(r);
        flow.push(r.verdict);
      }
      verdicts.push(flow);
    }
  } finally {
    if (a.keep) a.log(`kept ${created.length} path(s) and analyses, tagged Name=verify-${o.env.name}-${o.nonce}`);
    else for (const c of created) await o.account.deleteAnalysis(c.pathId, c.analysisId);
  }
  return compareVerdicts(plans, verdicts, a.offline);
}
