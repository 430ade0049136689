/**
 * The allowlist evaluator against real Squid, on loopback and without root: Squid runs the allowlist rendered from
 * demos/verification.json (app2 added, a service only app may use) with the app VPCs' blocks and the services' block
 * moved to 127.0.0.0/8, and each request's answer (the response and the access log) must be the evaluator's verdict.
 */
import { ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { decide, describeDecision, parseAllowlist } from "../lib/allowlist-policy";
import { parseEnvironment } from "../lib/config";
import { squidPolicyOf } from "../lib/allowlist-sync";
import { renderAllowlist, renderSquidConf, SquidPolicy } from "../lib/squid";
import { parseSquidLine } from "../operations/verify/squid-log";
const { proxyV2Header } = require("../proof/endpoint-stand-in.js");

const ROOT = path.join(__dirname, "..");

/** Where Squid is, or a failure that says how to install it: this test never skips. */
function squidBinary(): string {
  const dirs = [...(process.env.PATH ?? "").split(path.delimiter), "/usr/sbin", "/usr/local/sbin"];
  const found = dirs.map((d) => path.join(d, "squid")).find((f) => fs.existsSync(f));
  if (!found)
    throw new Error(
      "squid is not installed, and this test runs real Squid: install it (sudo apt-get install squid, or sudo bash .ci/install-daemons, which CI runs before npm test)",
    );
  return found;
}

/** The app VPCs' clients and the services' listener, all on loopback. */
const APP = "127.0.1.10";
const APP2 = "127.0.2.10";
const OUTSIDER = "127.0.3.10";
const SERVICE = "127.0.10.10";
const ELSEWHERE = "127.0.20.10";
/** Squid's hosts file: what each name resolves to. */
const HOSTS: Record<string, string> = {
  "api.service.example": SERVICE,
  "x.internal.service.example": SERVICE,
  "internal.service.example": SERVICE,
  "outside.internal.service.example": ELSEWHERE,
  "other.service.example": SERVICE,
  "svc.example": SERVICE,
};

/** demos/verification.json with app2, api only for app, as the renderer takes it, moved to loopback with the listeners' ports. */
function loopbackPolicy(squidPort: number, ports: Record<number, number>): SquidPolicy {
  const raw = JSON.parse(fs.readFileSync(path.join(ROOT, "demos", "verification.json"), "utf8"));
  raw.appVpcs.push({ name: "app2", cidr: "192.168.1.0/24", subnets: [{ availabilityZone: "ap-northeast-1a", cidr: "192.168.1.0/25" }] });
  raw.services.find((s: { name: string }) => s.name === "api").from = ["app"];
  const policy = squidPolicyOf(parseEnvironment(raw, "verification with app2"));
  const blocks: Record<string, string> = {
    "192.168.0.0/24": "127.0.1.0/24",
    "192.168.1.0/24": "127.0.2.0/24",
    "172.16.0.0/24": "127.0.10.0/24",
  };
  return {
    ...policy,
    port: squidPort,
    clients: policy.clients.map((c) => ({ ...c, cidr: blocks[c.cidr] })),
    destinations: policy.destinations.map((d) => ({
      ...d,
      cidr: blocks[d.cidr],
      ports: d.ports.map((p) => ({ ...p, port: ports[p.port] })),
    })),
  };
}

/** The endpoint id of each app VPC behind PrivateLink, by client name; OUTSIDER's endpoint is in no allowlist. */
const ENDPOINTS: Record<string, string> = { "verification-app": "vpce-0aaa1", "verification-app2": "vpce-0bbb2" };
const FOREIGN_ENDPOINT = "vpce-0ccc3";

/** The same policy behind PrivateLink: both app VPCs in one block, told apart by endpoint; the load balancer is 127.0.0.1. */
function privateLinkPolicy(policy: SquidPolicy): SquidPolicy {
  return {
    ...policy,
    proxyProtocol: { trustedSources: ["127.0.0.1"] },
    clients: policy.clients.map((c) => ({ ...c, cidr: "127.0.1.0/24", endpointId: ENDPOINTS[c.name] })),
  };
}

/** A port free on `address` now. */
function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().once("error", reject);
    s.listen(0, address, () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function listen(server: net.Server, address: string, port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => server.once("error", reject).listen(port, address, () => resolve(server)));
}

/** Sends one request through the proxy from `client` and returns the status code of Squid's answer (10 s at most). */
function ask(proxyPort: number, client: string, method: string, target: string, header?: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    // With a PROXY header the connection comes from the load balancer's address (127.0.0.1), the header names the client.
    const socket = net.connect({ host: "127.0.0.1", port: proxyPort, localAddress: header ? "127.0.0.1" : client });
    const uri = method === "CONNECT" ? target : `http://${target}/agreement`;
    let answer = "";
    const done = (e?: Error) => {
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(answer);
      if (m) resolve(Number(m[1]));
      else
        reject(e ?? new Error(`no HTTP status from Squid for ${method} ${target} from ${client}: ${JSON.stringify(answer.slice(0, 200))}`));
    };
    socket.setTimeout(10_000, () => done(new Error(`Squid did not answer ${method} ${target} within 10 s`)));
    socket.on("connect", () => {
      if (header) socket.write(header);
      socket.write(`${method} ${uri} HTTP/1.1\r\nHost: ${target}\r\nConnection: close\r\n\r\n`);
    });
    socket.on("data", (chunk) => {
      answer += chunk.toString("latin1");
      if (answer.includes("\r\n")) done();
    });
    socket.on("error", (e) => done(e));
    socket.on("end", () => done());
  });
}

/** Waits (at most `attempts` times 200 ms) until `check` holds; fails at once if Squid exits. */
async function waitFor(what: string, squid: ChildProcess, check: () => boolean | Promise<boolean>, attempts = 100): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return;
    if (squid.exitCode !== null) throw new Error(`${what}: Squid exited with ${squid.exitCode}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${what} did not happen within ${attempts / 5} s`);
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port }, () => resolve(s.destroy() === s));
    s.on("error", () => resolve(false));
  });

/** What the lab started, filled in as it starts, so that a failed start stops what it had started. */
interface Lab {
  readonly dir: string;
  readonly servers: net.Server[];
  allowlist: string;
  proxyPort: number;
  ports: Record<number, number>;
  squid?: ChildProcess;
  /** Behind PrivateLink: Squid requires the PROXY header from 127.0.0.1 and tells the app VPCs (one block) apart by endpoint. */
  privateLink?: boolean;
}

const accessLogOf = (lab: Lab) => path.join(lab.dir, "access.log");

/** Starts the service's listeners (plain HTTP on the http ports, bare TCP on the TLS port) and Squid with the loopback allowlist. */
async function startLab(privateLink = false): Promise<Lab> {
  const binary = squidBinary();
  const lab: Lab = {
    dir: fs.mkdtempSync(path.join(os.tmpdir(), "squid-agreement-")),
    servers: [],
    allowlist: "",
    proxyPort: 0,
    ports: {},
    privateLink,
  };
  try {
    await startListeners(lab);
    lab.proxyPort = await freePort("127.0.0.1");
    writeSquidConf(lab);
    const out = fs.openSync(path.join(lab.dir, "squid.out"), "w");
    lab.squid = spawn(binary, ["-N", "-f", path.join(lab.dir, "squid.conf"), "-n", `agree${process.pid}`], { stdio: ["ignore", out, out] });
    await waitFor("Squid accepting connections", lab.squid, () => accepts(lab.proxyPort));
    // A probe without the PROXY header is closed before Squid logs a request; wait until it has taken one.
    if (privateLink) await new Promise((r) => setTimeout(r, 200));
    return lab;
  } catch (e) {
    const logs = `${readOr(path.join(lab.dir, "squid.out"))}${readOr(path.join(lab.dir, "cache.log"))}`;
    await stopLab(lab);
    throw new Error(`${(e as Error).message}\n${logs}`, { cause: e });
  }
}

async function startListeners(lab: Lab): Promise<void> {
  lab.ports = { 80: await freePort(SERVICE), 8443: await freePort(SERVICE), 8080: await freePort(SERVICE) };
  const plain = () => http.createServer((_, res) => res.end("service\n"));
  const bare = () => net.createServer((s) => s.on("error", () => undefined).end());
  for (const [server, address, port] of [
    [plain(), SERVICE, lab.ports[80]],
    [plain(), SERVICE, lab.ports[8080]],
    [bare(), SERVICE, lab.ports[8443]],
    [plain(), ELSEWHERE, lab.ports[8080]],
  ] as const) {
    lab.servers.push(await listen(server, address, port));
  }
}

/** squid.conf: the rendered one with the lab's host settings, listening on loopback only, names from a hosts file. */
function writeSquidConf(lab: Lab): void {
  const { dir, proxyPort } = lab;
  fs.chmodSync(dir, 0o755);
  // As root, Squid switches to its effective user (proxy), which must write the logs.
  if (process.getuid?.() === 0) fs.chownSync(dir, proxyId("-u"), proxyId("-g"));
  const policy = lab.privateLink ? privateLinkPolicy(loopbackPolicy(proxyPort, lab.ports)) : loopbackPolicy(proxyPort, lab.ports);
  lab.allowlist = renderAllowlist(policy);
  const conf = renderSquidConf(policy, {
    accessLog: accessLogOf(lab),
    cacheLog: path.join(dir, "cache.log"),
    pidFile: path.join(dir, "squid.pid"),
    coredumpDir: dir,
    dnsNameservers: ["127.0.0.1"],
    visibleHostname: "agreement.lab",
    shutdownLifetimeSeconds: 1,
  });
  const hostsFile = path.join(dir, "hosts");
  fs.writeFileSync(
    hostsFile,
    Object.entries(HOSTS)
      .map(([name, address]) => `${address} ${name}\n`)
      .join(""),
  );
  // Loopback only, and names from the hosts file: no traffic leaves the machine.
  const option = lab.privateLink ? " require-proxy-header" : "";
  const local = conf.replace(`\nhttp_port ${proxyPort}${option}\n`, `\nhttp_port 127.0.0.1:${proxyPort}${option}\n`);
  if (local === conf) throw new Error(`the rendered squid.conf has no line "http_port ${proxyPort}${option}"`);
  fs.writeFileSync(path.join(dir, "squid.conf"), `${local}hosts_file ${hostsFile}\n`);
}

const proxyId = (flag: "-u" | "-g") => Number(execFileSync("id", [flag, "proxy"], { encoding: "utf8" }).trim());

const readOr = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "");

/** Stops Squid by its PID (SIGINT; SIGKILL after 10 s), closes the listeners and removes the folder. */
async function stopLab(lab: Lab): Promise<void> {
  const { squid } = lab;
  if (squid && squid.exitCode === null && squid.signalCode === null && squid.pid) {
    const exited = new Promise<void>((resolve) => squid.once("exit", () => resolve()));
    squid.kill("SIGINT");
    const late = await Promise.race([exited.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), 10_000).unref())]);
    if (late) {
      squid.kill("SIGKILL");
      await exited;
    }
  }
  for (const server of lab.servers) (server as http.Server).closeAllConnections?.();
  await Promise.all(lab.servers.map((server) => new Promise((r) => server.close(r))));
  fs.rmSync(lab.dir, { recursive: true, force: true });
}

/** The requests: from each app VPC and an outsider, CONNECT and plain, by address and by name, allowed and refused. */
function requests(ports: Record<number, number>): { client: string; method: string; host: string; port: number }[] {
  const [plain, tls, api] = [ports[80], ports[8443], ports[8080]];
  return [
    { client: APP, method: "GET", host: SERVICE, port: plain },
    { client: APP, method: "CONNECT", host: SERVICE, port: tls },
    { client: APP2, method: "CONNECT", host: SERVICE, port: tls },
    { client: APP, method: "CONNECT", host: SERVICE, port: plain },
    { client: APP, method: "GET", host: SERVICE, port: 22 },
    { client: OUTSIDER, method: "GET", host: SERVICE, port: plain },
    { client: APP, method: "GET", host: "169.254.169.254", port: 80 },
    { client: APP, method: "GET", host: "api.service.example", port: api },
    { client: APP2, method: "GET", host: "api.service.example", port: api },
    { client: APP, method: "GET", host: "x.internal.service.example", port: api },
    { client: APP, method: "GET", host: "internal.service.example", port: api },
    { client: APP, method: "GET", host: SERVICE, port: api },
    { client: APP, method: "GET", host: "outside.internal.service.example", port: api },
    { client: APP, method: "GET", host: "other.service.example", port: api },
    { client: APP, method: "CONNECT", host: "api.service.example", port: api },
    { client: APP, method: "GET", host: "svc.example", port: plain },
    { client: APP2, method: "CONNECT", host: "svc.example", port: tls },
  ];
}

describe("the allowlist evaluator agrees with Squid 5", () => {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await startLab();
  }, 60_000);
  afterAll(async () => {
    if (lab) await stopLab(lab);
  });

  it("gives Squid's answer (its response and its access log) for every request, naming the deciding line", async () => {
    const { proxyPort, ports, allowlist } = lab!;
    const accessLog = accessLogOf(lab!);
    const rules = parseAllowlist(allowlist);
    const asked = requests(ports);
    const results: string[] = [];
    for (const r of asked) {
      const status = await ask(proxyPort, r.client, r.method, `${r.host}:${r.port}`);
      const decision = decide(rules, { ...r, resolved: HOSTS[r.host] ? [HOSTS[r.host]] : undefined });
      const squid = status === 200 ? "allowed" : status === 403 ? "denied" : `answered ${status}`;
      results.push(`${r.method} ${r.host}:${r.port} from ${r.client}: Squid ${squid}, evaluator ${describeDecision(rules, decision)}`);
    }
    const disagreements = results.filter((line) => !/Squid (\w+), evaluator \1 /.test(line));
    expect(disagreements).toEqual([]);
    // The readiness probe's connection, closed before any request, is logged with method "-".
    const lines = () =>
      readOr(accessLog)
        .split("\n")
        .filter((l) => l && parseSquidLine(l)?.method !== "-");
    await waitFor("every request in the access log", lab!.squid!, () => lines().length >= asked.length);
    const logged = lines().map((l) => parseSquidLine(l)!);
    expect(logged.map((l) => `${l.client} ${l.method} ${l.result.startsWith("TCP_DENIED") ? "denied" : "allowed"}`)).toEqual(
      results.map((line, i) => `${asked[i].client} ${asked[i].method} ${/Squid (\w+)/.exec(line)![1]}`),
    );
    // The app VPC column, which the preview's grouping falls back on, names the client's app VPC.
    const appOf: Record<string, string | undefined> = { [APP]: "verification-app", [APP2]: "verification-app2", [OUTSIDER]: undefined };
    expect(logged.map((l) => l.appVpc)).toEqual(asked.map((r) => appOf[r.client]));
    // The set is worth comparing: both verdicts for CONNECT and plain requests, and every http_access line decides one of them.
    const verdicts = new Set(
      results.map((line, i) => `${asked[i].method === "CONNECT" ? "CONNECT" : "plain"} ${/Squid (\w+)/.exec(line)![1]}`),
    );
    expect([...verdicts].sort()).toEqual(["CONNECT allowed", "CONNECT denied", "plain allowed", "plain denied"]);
    const deciding = new Set(asked.map((r) => decide(rules, { ...r, resolved: HOSTS[r.host] ? [HOSTS[r.host]] : undefined }).line.text));
    expect(rules.rules.filter((rule) => !deciding.has(rule.line.text)).map((rule) => rule.line.text)).toEqual([]);
  });
});

describe("the allowlist evaluator agrees with Squid 5 behind PrivateLink (PROXY protocol v2)", () => {
  let lab: Lab | undefined;
  beforeAll(async () => {
    lab = await startLab(true);
  }, 60_000);
  afterAll(async () => {
    if (lab) await stopLab(lab);
  });

  /** One app server address behind three endpoints (app's, app2's, one no allowlist knows) and behind none. */
  const through = [ENDPOINTS["verification-app"], ENDPOINTS["verification-app2"], FOREIGN_ENDPOINT, undefined];

  it("tells two clients of one address apart by endpoint id, as the evaluator does, and logs each one's app VPC", async () => {
    const { proxyPort, ports, allowlist } = lab!;
    const rules = parseAllowlist(allowlist);
    const asked = requests(ports)
      .filter((r) => r.client === APP)
      .flatMap((r) => through.map((endpointId) => ({ ...r, endpointId })));
    const results: string[] = [];
    for (const r of asked) {
      const header = proxyV2Header({
        source: APP,
        sourcePort: 40000,
        destination: "127.0.0.1",
        destinationPort: proxyPort,
        endpointId: r.endpointId,
      });
      const status = await ask(proxyPort, APP, r.method, `${r.host}:${r.port}`, header);
      const decision = decide(rules, { ...r, resolved: HOSTS[r.host] ? [HOSTS[r.host]] : undefined });
      const squid = status === 200 ? "allowed" : status === 403 ? "denied" : `answered ${status}`;
      results.push(`${r.method} ${r.host}:${r.port} via ${r.endpointId}: Squid ${squid}, evaluator ${describeDecision(rules, decision)}`);
    }
    expect(results.filter((line) => !/Squid (\w+), evaluator \1 /.test(line))).toEqual([]);
    // One address, two verdicts: api only for app, by endpoint.
    const api = results.filter((l) => l.startsWith("GET api.service.example"));
    expect(api.map((l) => /Squid (\w+)/.exec(l)![1])).toEqual(["allowed", "denied", "denied", "denied"]);
    const lines = () =>
      readOr(accessLogOf(lab!))
        .split("\n")
        .filter((l) => l && parseSquidLine(l)?.method !== "-");
    await waitFor("every request in the access log", lab!.squid!, () => lines().length >= asked.length);
    const logged = lines().map((l) => parseSquidLine(l)!);
    expect(new Set(logged.map((l) => l.client))).toEqual(new Set([APP]));
    const appOf: Record<string, string> = { "vpce-0aaa1": "verification-app", "vpce-0bbb2": "verification-app2" };
    expect(logged.map((l) => l.appVpc)).toEqual(asked.map((r) => (r.endpointId ? appOf[r.endpointId] : undefined)));
  });

  it("closes a connection without the header, and one whose header comes from another address than the load balancer's", async () => {
    const { proxyPort } = lab!;
    await expect(ask(proxyPort, APP, "GET", `${SERVICE}:${lab!.ports[80]}`)).rejects.toThrow(/no HTTP status from Squid/);
    const forged = proxyV2Header({
      source: APP,
      sourcePort: 1,
      destination: "127.0.0.1",
      destinationPort: proxyPort,
      endpointId: "vpce-0aaa1",
    });
    const fromApp = new Promise<number>((resolve, reject) => {
      const socket = net.connect({ host: "127.0.0.1", port: proxyPort, localAddress: OUTSIDER }, () =>
        socket.write(Buffer.concat([forged, Buffer.from(`GET http://${SERVICE}:${lab!.ports[80]}/ HTTP/1.1\r\nHost: x\r\n\r\n`)])),
      );
      let answer = "";
      socket.on("data", (d) => (answer += d));
      socket.on("error", () => resolve(0));
      socket.on("close", () => (answer ? reject(new Error(`Squid answered: ${answer.slice(0, 80)}`)) : resolve(0)));
    });
    await expect(fromApp).resolves.toBe(0);
  });
});
