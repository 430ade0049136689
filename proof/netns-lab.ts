/**
 * The original experiment on one machine: a network namespace per host (app, proxy, service and
 * an outsider), veth links for the peerings with routes to the peer's block only, real Squid with
 * the proxy's squid.conf, and Debian's apache2 as the service. Needs root.
 *
 * Everything started here is stopped by its PID, and the namespaces and Squid's shared memory are
 * removed, by `stop()`, which the callers run in `finally` and on signals.
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
import { SquidHostSettings, withHostSettings } from "../lib/squid";

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
  if (process.getuid?.() !== 0) missing.push("it needs root: network namespaces and veth links can only be made by root (run it as root, or in CI)");
  for (const [tool, hint] of [
    ["ip", "apt-get install iproute2"],
    ["squid", "apt-get install squid"],
    ["apache2", "apt-get install apache2"],
    ["curl", "apt-get install curl"],
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
  /** The squid.conf Squid runs here: the same, with this machine's host settings. */
  readonly squidConf: string;
  readonly squidConfFile: string;
  readonly squidAccessLog: string;
  readonly serviceAccessLog: string;
  readonly runDir: string;
  /** Runs a command in a host's namespace. */
  inHost(role: Role, args: readonly string[], timeoutMs?: number): Ran;
  /** The interface of `role` on its link to `peer`. */
  linkDevice(role: Role, peer: Role): string;
  /** Stops every process by its PID and removes every namespace; safe to call twice. */
  stop(): Promise<void>;
}

/** Builds the environment's stack in memory and returns the proxy's squid.conf. */
export function proxySquidConf(env: EnvironmentConfig): string {
  const app = new App({ outdir: fs.mkdtempSync(path.join(os.tmpdir(), "e2e-synth-")) });
  const stack = new EnvironmentStack(app, env.name, { config: env, stateBackend: (s) => void new LocalBackend(s, {}) });
  return stack.proxy.squidConf;
}

/** Waits (bounded) until `check` returns true; gives up at once if `process` has exited. */
async function waitFor(what: string, process: ChildProcess, check: () => boolean, attempts = 50, intervalMs = 200): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (check()) return;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    if (process.exitCode !== null || process.signalCode !== null) throw new Error(`${what}: the process exited (${process.exitCode ?? process.signalCode})`);
  }
  throw new Error(`${what} did not happen within ${(attempts * intervalMs) / 1000} s`);
}

/** Starts the lab for an environment. */
export async function startLab(env: EnvironmentConfig): Promise<Lab> {
  const topology = e2eTopology(env);
  const id = randomBytes(3).toString("hex");
  const ns = (role: Role) => `pxl-${id}-${role}`;
  const roles: Role[] = ["app", "proxy", "service", "outsider"];
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), `proxy-lab-${id}-`));
  fs.chmodSync(runDir, 0o755);
  const children: ChildProcess[] = [];
  const created: string[] = [];
  const squidName = `pxl${id}`;
  let stopped = false;

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const child of children.reverse()) {
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
    for (const name of created) sh(["ip", "netns", "del", name]);
    for (const f of fs.readdirSync("/dev/shm").filter((f) => f.includes(squidName))) fs.rmSync(path.join("/dev/shm", f), { force: true });
  };

  const inHost = (role: Role, args: readonly string[], timeoutMs?: number) => sh(["ip", "netns", "exec", ns(role), ...args], timeoutMs);
  const device = (role: Role, peer: Role) => `${id}${role[0]}${peer[0]}`;

  try {
    for (const role of roles) {
      must(["ip", "netns", "add", ns(role)]);
      created.push(ns(role));
      must(["ip", "-n", ns(role), "link", "set", "lo", "up"]);
    }
    // Peering is not transitive: the proxy host forwards nothing, whatever the host's setting.
    must(["ip", "netns", "exec", ns("proxy"), "sysctl", "-qw", "net.ipv4.ip_forward=0"]);
    for (const link of topology.links) {
      const [da, db] = [device(link.a, link.b), device(link.b, link.a)];
      must(["ip", "link", "add", da, "netns", ns(link.a), "type", "veth", "peer", "name", db, "netns", ns(link.b)]);
      for (const [role, dev, routes] of [
        [link.a, da, link.aRoutes],
        [link.b, db, link.bRoutes],
      ] as const) {
        must(["ip", "-n", ns(role), "addr", "add", `${topology.hosts[role]}/32`, "dev", dev]);
        must(["ip", "-n", ns(role), "link", "set", dev, "up"]);
        for (const route of routes) must(["ip", "-n", ns(role), "route", "add", route, "dev", dev]);
      }
    }

    // The service: apache2 with a small configuration of its own.
    const www = path.join(runDir, "www");
    fs.mkdirSync(www);
    fs.writeFileSync(path.join(www, "index.html"), `<h1>service of environment ${env.name}</h1>\n`);
    const serviceAccessLog = path.join(runDir, "service-access.log");
    const modules = "/usr/lib/apache2/modules";
    // A TLS port of the service gets a virtual host with a certificate made for this run.
    const tls = topology.tlsPort;
    if (tls !== undefined) {
      must(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=service.lab", "-keyout", path.join(runDir, "service.key"), "-out", path.join(runDir, "service.crt")]);
      fs.chmodSync(path.join(runDir, "service.key"), 0o644);
    }
    const apacheConf = path.join(runDir, "apache2.conf");
    fs.writeFileSync(
      apacheConf,
      [
        `ServerRoot ${runDir}`,
        `DefaultRuntimeDir ${runDir}`,
        `PidFile ${runDir}/apache2.pid`,
        `Listen ${topology.hosts.service}:${topology.servicePort}`,
        ...["mpm_event", "authz_core", "dir", ...(tls !== undefined ? ["ssl"] : [])].map((m) => `LoadModule ${m}_module ${modules}/mod_${m}.so`),
        "User www-data",
        "Group www-data",
        "ServerName service.lab",
        `ErrorLog ${runDir}/apache2-error.log`,
        'LogFormat "%a \\"%r\\" %>s" lab',
        `CustomLog ${serviceAccessLog} lab`,
        `DocumentRoot ${www}`,
        `<Directory ${www}>`,
        "  Require all granted",
        "</Directory>",
        ...(tls !== undefined
          ? [
              `Listen ${topology.hosts.service}:${tls} https`,
              `<VirtualHost ${topology.hosts.service}:${tls}>`,
              "  SSLEngine on",
              `  SSLCertificateFile ${runDir}/service.crt`,
              `  SSLCertificateKeyFile ${runDir}/service.key`,
              "</VirtualHost>",
            ]
          : []),
        "",
      ].join("\n"),
    );
    const apacheLog = fs.openSync(path.join(runDir, "apache2.out"), "w");
    const apache = spawn("ip", ["netns", "exec", ns("service"), "apache2", "-f", apacheConf, "-DFOREGROUND"], { stdio: ["ignore", apacheLog, apacheLog] });
    children.push(apache);
    const serviceUrl = `http://${topology.hosts.service}:${topology.servicePort}/`;
    await waitFor("apache2 answering", apache, () => inHost("service", ["curl", "-s", "-o", "/dev/null", "--max-time", "1", serviceUrl]).code === 0);
    fs.truncateSync(serviceAccessLog, 0);

    // The proxy: Squid with the user data's squid.conf, host settings for this machine.
    const squidDir = path.join(runDir, "squid");
    fs.mkdirSync(squidDir);
    must(["chown", "proxy:proxy", squidDir]);
    const host: SquidHostSettings = {
      accessLog: path.join(squidDir, "access.log"),
      cacheLog: path.join(squidDir, "cache.log"),
      pidFile: path.join(squidDir, "squid.pid"),
      coredumpDir: squidDir,
      dnsNameservers: ["127.0.0.1"],
      visibleHostname: "proxy.lab",
      shutdownLifetimeSeconds: 1,
    };
    const userDataSquidConf = proxySquidConf(env);
    const squidConf = withHostSettings(userDataSquidConf, host);
    const squidConfFile = path.join(runDir, "squid.conf");
    fs.writeFileSync(squidConfFile, squidConf);
    const squidLog = fs.openSync(path.join(runDir, "squid.out"), "w");
    const squid = spawn("ip", ["netns", "exec", ns("proxy"), "squid", "-N", "-f", squidConfFile, "-n", squidName], { stdio: ["ignore", squidLog, squidLog] });
    children.push(squid);
    const proxyUrl = `http://${topology.hosts.proxy}:${env.proxy.port}`;
    await waitFor("Squid answering", squid, () => inHost("app", ["curl", "-s", "-o", "/dev/null", "--max-time", "1", proxyUrl]).code === 0, 100);

    return {
      topology,
      userDataSquidConf,
      squidConf,
      squidConfFile,
      squidAccessLog: host.accessLog,
      serviceAccessLog,
      runDir,
      inHost,
      linkDevice: device,
      stop,
    };
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message} (logs in ${runDir})`);
  }
}
