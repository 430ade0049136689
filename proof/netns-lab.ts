/**
 * The original experiment on one machine (needs root): a network namespace per host, veth links for the peerings,
 * real Squid with the proxy's squid.conf and apache2 as the service; `stop()` ends and removes all of it.
 */
import { ChildProcess, spawn, spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, LocalBackend } from "cdktf";
import { EnvironmentStack } from "../constructs/environment-stack";
import { EnvironmentConfig } from "../lib/config";
import { E2eHost, e2eTopology, E2eTopology } from "./e2e-topology";
import { includeAllowlistFrom, SquidHostSettings, splitSquidConf, withHostSettings } from "../lib/squid";
import { standInDnsConf } from "../lib/user-data";

type Role = E2eHost["role"];

/** The result of a command. */
export interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const COMMAND_TIMEOUT_MS = 30_000;

/** Runs a command to its end, bounded in time. */
export function sh(args: readonly string[], timeoutMs = COMMAND_TIMEOUT_MS): Ran {
  const r = spawnSync(args[0], args.slice(1), { encoding: "utf8", timeout: timeoutMs });
  return { code: r.status, stdout: r.stdout ?? "", stderr: (r.stderr ?? "") + (r.error ? String(r.error) : "") };
}

/** Runs a command and throws with its output when it fails. */
export function must(args: readonly string[]): string {
  const r = sh(args);
  if (r.code !== 0) throw new Error(`${args.join(" ")} failed (${r.code}): ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** What is missing for the lab on this machine, as sentences; empty when it can run. */
export function labPrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0)
    missing.push("it needs root: network namespaces and veth links can only be made by root (run it as root, or in CI)");
  for (const [tool, hint] of [
    ["ip", "apt-get install iproute2"],
    ["squid", "apt-get install squid"],
    ["apache2", "apt-get install apache2"],
    ["curl", "apt-get install curl"],
    ["nft", "apt-get install nftables"],
    ["dnsmasq", "apt-get install dnsmasq-base"],
  ]) {
    if (sh(["sh", "-c", `command -v ${tool}`]).code !== 0) missing.push(`${tool} is not installed (${hint})`);
  }
  return missing;
}

/** A running lab. */
export interface Lab {
  readonly topology: E2eTopology;
  /** The squid.conf that the proxy's user data installs, as synthesized. */
  readonly userDataSquidConf: string;
  /** The squid.conf Squid runs here: the same, with this machine's host settings (the allowlist in place of its include). */
  readonly squidConf: string;
  /** The base squid.conf Squid reads here; it includes {@link allowlistFile}. */
  readonly squidConfFile: string;
  /** The allowlist file beside it, as the proxies keep it. */
  readonly allowlistFile: string;
  readonly squidAccessLog: string;
  readonly serviceAccessLog: string;
  /** The stand-in DNS server's query log, when the environment forwards names to it. */
  readonly dnsLog?: string;
  readonly runDir: string;
  /** Squid's `-n` name, which its `-k` commands need. */
  readonly squidName: string;
  /** Runs a command in a host's namespace. */
  inHost(role: Role, args: readonly string[], timeoutMs?: number): Ran;
  /** The network namespace of a host. */
  namespace(role: Role): string;
  /** Hands a started process to the lab, which stops it by its PID when it stops. */
  adopt(child: ChildProcess): void;
  /** The interface of `role` on its link to `peer`. */
  linkDevice(role: Role, peer: Role): string;
  /** Stops every process by its PID and removes every namespace; safe to call twice. */
  stop(): Promise<void>;
}

/** Builds the environment's stack in memory and returns the proxy's effective squid.conf (base and allowlist in one text). */
export function proxySquidConf(env: EnvironmentConfig): string {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), "e2e-synth-")) });
  const stack = new EnvironmentStack(app, env.name, { config: env, stateBackend: (s) => void new LocalBackend(s, {}) });
  if (!stack.proxy) throw new Error(`${env.name} runs no Squid proxy (connectivity.egress is privateNat); the Squid lab needs one`);
  return stack.proxy.squidConf;
}

/** Starts a process in a namespace with its output in `out`; the caller keeps the child to stop it by PID. */
export type Launcher = (args: readonly string[], out: number) => ChildProcess;

/**
 * The stand-in service: Debian's apache2 with a small configuration of its own, plain HTTP on
 * `httpPort` and, with `tlsPort`, TLS with a certificate made for the run. Its access log shows
 * the address of whoever connected.
 */
export function startService(
  runDir: string,
  environment: string,
  address: string,
  httpPort: number,
  tlsPort: number | undefined,
  launch: Launcher,
  moreHttpPorts: readonly number[] = [],
): { process: ChildProcess; accessLog: string } {
  const www = path.join(runDir, "www");
  fs.mkdirSync(www, { recursive: true });
  fs.writeFileSync(path.join(www, "index.html"), `<h1>service of environment ${environment}</h1>\n`);
  const accessLog = path.join(runDir, "service-access.log");
  const modules = "/usr/lib/apache2/modules";
  if (tlsPort !== undefined) {
    must([
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-subj",
      "/CN=service.lab",
      "-keyout",
      path.join(runDir, "service.key"),
      "-out",
      path.join(runDir, "service.crt"),
    ]);
    fs.chmodSync(path.join(runDir, "service.key"), 0o644);
  }
  const conf = path.join(runDir, "apache2.conf");
  fs.writeFileSync(
    conf,
    [
      `ServerRoot ${runDir}`,
      `DefaultRuntimeDir ${runDir}`,
      `PidFile ${runDir}/apache2.pid`,
      ...[...new Set([httpPort, ...moreHttpPorts])].map((p) => `Listen ${address}:${p}`),
      ...["mpm_event", "authz_core", "dir", ...(tlsPort !== undefined ? ["ssl"] : [])].map(
        (m) => `LoadModule ${m}_module ${modules}/mod_${m}.so`,
      ),
      "User www-data",
      "Group www-data",
      "ServerName service.lab",
      `ErrorLog ${runDir}/apache2-error.log`,
      'LogFormat "%a \\"%r\\" %>s" lab',
      `CustomLog ${accessLog} lab`,
      `DocumentRoot ${www}`,
      `<Directory ${www}>`,
      "  Require all granted",
      "</Directory>",
      ...(tlsPort !== undefined
        ? [
            `Listen ${address}:${tlsPort} https`,
            `<VirtualHost ${address}:${tlsPort}>`,
            "  SSLEngine on",
            `  SSLCertificateFile ${runDir}/service.crt`,
            `  SSLCertificateKeyFile ${runDir}/service.key`,
            "</VirtualHost>",
          ]
        : []),
      "",
    ].join("\n"),
  );
  const out = fs.openSync(path.join(runDir, "apache2.out"), "w");
  return { process: launch(["apache2", "-f", conf, "-DFOREGROUND"], out), accessLog };
}

/**
 * Squid in a namespace with `userDataConf`, the proxy's effective squid.conf, its host settings swapped for a folder
 * of its own under `runDir`, written as the proxies keep it: the base, and the allowlist in a file beside it that the
 * base includes. `squidName` keeps its shared memory apart from other Squids on the machine.
 */
export function startSquid(
  runDir: string,
  label: string,
  squidName: string,
  userDataConf: string,
  launch: Launcher,
  dnsNameservers: readonly string[] = ["127.0.0.1"],
): { process: ChildProcess; host: SquidHostSettings; conf: string; confFile: string; allowlistFile: string } {
  const dir = path.join(runDir, `squid-${label}`);
  fs.mkdirSync(dir);
  must(["chown", "proxy:proxy", dir]);
  const host: SquidHostSettings = {
    accessLog: path.join(dir, "access.log"),
    cacheLog: path.join(dir, "cache.log"),
    pidFile: path.join(dir, "squid.pid"),
    coredumpDir: dir,
    dnsNameservers,
    visibleHostname: `${label}.lab`,
    shutdownLifetimeSeconds: 1,
  };
  const conf = withHostSettings(userDataConf, host);
  const { base, allowlist } = splitSquidConf(conf);
  const confFile = path.join(runDir, `squid-${label}.conf`);
  const allowlistFile = path.join(runDir, `squid-${label}-allowlist.conf`);
  fs.writeFileSync(allowlistFile, allowlist);
  fs.writeFileSync(confFile, includeAllowlistFrom(base, allowlistFile));
  const out = fs.openSync(path.join(runDir, `squid-${label}.out`), "w");
  return { process: launch(["squid", "-N", "-f", confFile, "-n", squidName], out), host, conf, confFile, allowlistFile };
}

/**
 * The stand-in for the provider's DNS servers: dnsmasq in the foreground (so the PID held is its
 * own) with the lines the stand-in service's user data installs, then `extraLines`; it logs every
 * query to `log`.
 */
export function startStandInDns(
  runDir: string,
  domains: readonly string[],
  address: string,
  extraLines: readonly string[],
  launch: Launcher,
): { process: ChildProcess; log: string } {
  const conf = path.join(runDir, "dnsmasq.conf");
  fs.writeFileSync(conf, `${standInDnsConf(domains, address)}${extraLines.map((l) => `${l}\n`).join("")}log-queries\n`);
  const log = path.join(runDir, "dnsmasq.log");
  const out = fs.openSync(log, "w");
  const child = launch(
    [
      "dnsmasq",
      "--keep-in-foreground",
      "--log-facility=-",
      `--conf-file=${conf}`,
      `--pid-file=${path.join(runDir, "dnsmasq.pid")}`,
      "--user=root",
    ],
    out,
  );
  return { process: child, log };
}

/** Waits (bounded) until `check` returns true; gives up at once if `process` has exited. */
export async function waitFor(what: string, process: ChildProcess, check: () => boolean, attempts = 50, intervalMs = 200): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    if (process.exitCode !== null || process.signalCode !== null)
      throw new Error(`${what}: the process exited (${process.exitCode ?? process.signalCode})`);
  }
  throw new Error(`${what} did not happen within ${(attempts * intervalMs) / 1000} s`);
}

/** What a lab serves besides the environment's own: more plain HTTP ports on the service, names its DNS answers. */
export interface LabExtras {
  readonly listenPorts?: readonly number[];
  /** Names the lab's DNS answers with the service's address (a DNS stand-in starts for them if none would). */
  readonly names?: readonly string[];
}

/** A lab being built: its id, folder and topology, and what to stop and remove. */
interface LabState {
  readonly env: EnvironmentConfig;
  readonly extras: LabExtras;
  readonly topology: E2eTopology;
  readonly id: string;
  readonly runDir: string;
  readonly squidName: string;
  readonly children: ChildProcess[];
  readonly created: string[];
  stopped: boolean;
}

const nsOf = (s: LabState, role: Role) => `pxl-${s.id}-${role}`;
const inHostOf = (s: LabState) => (role: Role, args: readonly string[], timeoutMs?: number) =>
  sh(["ip", "netns", "exec", nsOf(s, role), ...args], timeoutMs);
const SHORT: Record<Role, string> = { app: "a", app2: "b", proxy: "p", service: "s", outsider: "o" };
const deviceOf = (s: LabState) => (role: Role, peer: Role) => `${s.id}${SHORT[role]}${SHORT[peer]}`;
const launcherIn =
  (s: LabState, role: Role): Launcher =>
  (args, out) =>
    spawn("ip", ["netns", "exec", nsOf(s, role), ...args], { stdio: ["ignore", out, out] });

/** Stops every process by its PID (SIGKILL after 10 s), then removes the namespaces and Squid's shared memory; safe to call twice. */
async function stopLab(s: LabState): Promise<void> {
  if (s.stopped) return;
  s.stopped = true;
  for (const child of s.children.reverse()) {
    if (child.exitCode !== null || child.signalCode !== null || !child.pid) continue;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    // Squid stops fast on SIGINT with shutdown_lifetime 1; apache2 on SIGTERM.
    child.kill(child.spawnargs.includes("squid") ? "SIGINT" : "SIGTERM");
    const timer = new Promise<"late">((resolve) => setTimeout(() => resolve("late"), 10_000).unref());
    if ((await Promise.race([exited, timer])) === "late") {
      child.kill("SIGKILL");
      await exited;
    }
  }
  for (const name of s.created) sh(["ip", "netns", "del", name]);
  for (const f of fs.readdirSync("/dev/shm").filter((f) => f.includes(s.squidName))) fs.rmSync(path.join("/dev/shm", f), { force: true });
}

/** A namespace per host, and a veth link per peering with routes to the peer's block only. */
function createNetwork(s: LabState): void {
  const ns = (role: Role) => nsOf(s, role);
  const device = deviceOf(s);
  for (const role of ["app", "proxy", "service", "outsider", ...(s.topology.hosts.app2 ? ["app2"] : [])] as Role[]) {
    must(["ip", "netns", "add", ns(role)]);
    s.created.push(ns(role));
    must(["ip", "-n", ns(role), "link", "set", "lo", "up"]);
  }
  // Peering is not transitive: the proxy host forwards nothing, whatever the host's setting.
  must(["ip", "netns", "exec", ns("proxy"), "sysctl", "-qw", "net.ipv4.ip_forward=0"]);
  for (const link of s.topology.links) {
    const [da, db] = [device(link.a, link.b), device(link.b, link.a)];
    must(["ip", "link", "add", da, "netns", ns(link.a), "type", "veth", "peer", "name", db, "netns", ns(link.b)]);
    for (const [role, dev, routes] of [
      [link.a, da, link.aRoutes],
      [link.b, db, link.bRoutes],
    ] as const) {
      must(["ip", "-n", ns(role), "addr", "add", `${s.topology.hosts[role]!}/32`, "dev", dev]);
      must(["ip", "-n", ns(role), "link", "set", dev, "up"]);
      for (const route of routes) must(["ip", "-n", ns(role), "route", "add", route, "dev", dev]);
    }
  }
}

/** The service: apache2 with a small configuration of its own; returns its access log, emptied of the wait's requests. */
async function startServiceHost(s: LabState): Promise<string> {
  const { topology } = s;
  const names = topology.names;
  const { process: apache, accessLog: serviceAccessLog } = startService(
    s.runDir,
    s.env.name,
    topology.hosts.service,
    topology.servicePort,
    topology.tlsPort,
    launcherIn(s, "service"),
    [...(names ? [names.port] : []), ...(s.extras.listenPorts ?? [])],
  );
  s.children.push(apache);
  const serviceUrl = `http://${topology.hosts.service}:${topology.servicePort}/`;
  await waitFor(
    "apache2 answering",
    apache,
    () => inHostOf(s)("service", ["curl", "-s", "-o", "/dev/null", "--max-time", "1", serviceUrl]).code === 0,
  );
  fs.truncateSync(serviceAccessLog, 0);
  return serviceAccessLog;
}

/** The DNS server Squid asks: the provider's stand-in where the environment forwards names, else the service host for the extras' names. */
const dnsServerOf = (s: LabState): string | undefined =>
  s.topology.names?.dnsServer ?? (s.extras.names?.length ? s.topology.hosts.service : undefined);

/**
 * The provider's DNS, when the environment has names: dnsmasq with the stand-in's own lines, and one
 * name that answers with the outsider's address (an allowed name that resolves outside the block). Returns its log.
 */
async function startDns(s: LabState): Promise<string | undefined> {
  const names = s.topology.names;
  const server = dnsServerOf(s);
  if (!server) return undefined;
  const extra = s.extras.names ?? [];
  const dns = startStandInDns(
    s.runDir,
    names?.domains ?? extra,
    server,
    [
      ...(names ? [`address=/${names.outside}/${s.topology.hosts.outsider}`] : []),
      ...extra.map((n) => `address=/${n}/${s.topology.hosts.service}`),
    ],
    launcherIn(s, "service"),
  );
  s.children.push(dns.process);
  await waitFor("dnsmasq started", dns.process, () => fs.readFileSync(dns.log, "utf8").includes("started"));
  return dns.log;
}

/** The proxy: Squid with the user data's squid.conf and this machine's host settings, answering the app. */
async function startProxy(
  s: LabState,
): Promise<Pick<Lab, "userDataSquidConf" | "squidConf" | "squidConfFile" | "allowlistFile" | "squidAccessLog">> {
  const dnsServer = dnsServerOf(s);
  const userDataSquidConf = proxySquidConf(s.env);
  // With names, Squid asks the provider's DNS stand-in; in AWS it asks the VPC's resolver, which
  // forwards the domain through the resolver endpoint to the same server.
  const {
    process: squid,
    host,
    conf: squidConf,
    confFile: squidConfFile,
    allowlistFile,
  } = startSquid(s.runDir, "proxy", s.squidName, userDataSquidConf, launcherIn(s, "proxy"), dnsServer ? [dnsServer] : undefined);
  s.children.push(squid);
  const proxyUrl = `http://${s.topology.hosts.proxy}:${s.env.proxy.port}`;
  await waitFor(
    "Squid answering",
    squid,
    () => inHostOf(s)("app", ["curl", "-s", "-o", "/dev/null", "--max-time", "1", proxyUrl]).code === 0,
    100,
  );
  return { userDataSquidConf, squidConf, squidConfFile, allowlistFile, squidAccessLog: host.accessLog };
}

/** Starts the lab for an environment, serving `extras` too. */
export async function startLab(env: EnvironmentConfig, extras: LabExtras = {}): Promise<Lab> {
  const topology = e2eTopology(env);
  const id = randomBytes(3).toString("hex");
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `proxy-lab-${id}-`));
  fs.chmodSync(runDir, 0o755);
  const s: LabState = { env, extras, topology, id, runDir, squidName: `pxl${id}`, children: [], created: [], stopped: false };
  try {
    createNetwork(s);
    const serviceAccessLog = await startServiceHost(s);
    const dnsLog = await startDns(s);
    const proxy = await startProxy(s);
    return {
      topology,
      ...proxy,
      serviceAccessLog,
      dnsLog,
      runDir,
      squidName: s.squidName,
      inHost: inHostOf(s),
      namespace: (role) => nsOf(s, role),
      adopt: (child) => void s.children.push(child),
      linkDevice: deviceOf(s),
      stop: () => stopLab(s),
    };
  } catch (e) {
    await stopLab(s);
    throw new Error(`${(e as Error).message} (logs in ${runDir})`, { cause: e });
  }
}
