/**
 * `npm run e2e`: the original experiment with real daemons in network namespaces (proof/netns-lab.ts and the other labs).
 * Each check prints PASS or FAIL; the last line counts them. Needs root.
 */
import * as fs from "fs";
import * as path from "path";
import { loadEnvironmentFile, parseEnvironment } from "../lib/config";
import { allowlistChecks, singleProxyTarget } from "../proof/allowlist-checks";
import { allowlistLabPlan, APP2, LAB_POLL_SECONDS } from "../proof/allowlist-lab";
import { fleetChecks } from "../proof/fleet-checks";
import { startFleetLab } from "../proof/fleet-lab";
import { HOST_SETTINGS_MARKER } from "../lib/squid";
import { Lab, labPrerequisites, sh, startLab } from "../proof/netns-lab";
import { privateLinkChecks, privateLinkLabEnv, startPrivateLinkLab } from "../proof/privatelink-lab";
import { startTransitGatewayLab, transitGatewayChecks } from "../proof/tgw-lab";
import { parseSquidLine } from "../operations/verify/squid-log";
import { answerHelp } from "../tools/cli";

const USAGE = `
Usage: npm run e2e

The original experiment with real daemons (Squid, apache2, dnsmasq, nftables) in network
namespaces built from the environment's settings: through the proxy works and the service logs the
proxy's address, direct fails, outsiders are refused. With Squid, the lab's copy of the environment
adds an app VPC app2 and polls the allowlist every 10 s; versions of the allowlist written live
(a port, a service by name, a removal, one Squid refuses, from) are timed on every proxy while a
steady client runs. Each check prints PASS or FAIL; the last line counts them. Needs root and the
Debian packages of .ci/install-daemons.

Options:
  --help  print this and do nothing else

Settings (environment):
  PROXY_CONFIG=<file>  the environment (default demos/verification.json; a fleet, a Transit
                       Gateway with private NAT or PrivateLink runs its own lab)

Example:
  sudo npm run e2e
`;
answerHelp(USAGE);

const ROOT = path.join(__dirname, "..");
const REQUEST_SECONDS = "4";
/** The port of the PrivateLink lab's service that only the first app VPC may use. */
const PRIVATELINK_FROM_PORT = 8080;

interface Check {
  readonly name: string;
  readonly run: () => string | undefined; // a failure's explanation, or undefined
}

/** One HTTP request from a host, with curl: status, Squid's error header and curl's exit code. */
function request(lab: Lab, from: "app" | "outsider", url: string, options: { proxy?: boolean; tunnel?: boolean } = {}) {
  const proxy = `http://${lab.topology.hosts.proxy}:${lab.topology.proxyPort}`;
  // -k: the lab's service presents a certificate made for the run.
  const args = [
    "curl",
    "-s",
    "-k",
    "-o",
    "/dev/null",
    "-D",
    "-",
    "--max-time",
    REQUEST_SECONDS,
    "-w",
    "\ncode=%{http_code} connect=%{http_connect}",
  ];
  if (options.proxy) args.push("-x", proxy);
  if (options.tunnel) args.push("-p");
  const r = lab.inHost(from, [...args, url], 10_000);
  return {
    curlExit: r.code,
    status: Number(/code=(\d+)/.exec(r.stdout)?.[1] ?? 0),
    connectStatus: Number(/connect=(\d+)/.exec(r.stdout)?.[1] ?? 0),
    squidError: /^X-Squid-Error: (\S+)/im.exec(r.stdout)?.[1],
  };
}

/** A failure's explanation unless Squid refused the request (or its CONNECT) with 403 ERR_ACCESS_DENIED. */
function refused(r: ReturnType<typeof request>, status = "status"): string | undefined {
  return (status === "connect" ? r.connectStatus : r.status) === 403 && (status === "connect" || r.squidError === "ERR_ACCESS_DENIED")
    ? undefined
    : `expected 403 ERR_ACCESS_DENIED from Squid, got ${JSON.stringify(r)}`;
}

const serviceUrl = (lab: Lab) => `http://${lab.topology.hosts.service}:${lab.topology.servicePort}/`;

function checks(lab: Lab): Check[] {
  return [...configurationChecks(lab), ...pathChecks(lab), ...refusalChecks(lab), ...nameChecks(lab), squidLogCheck(lab)];
}

/** The lab's squid.conf is the stack's, and Squid accepts it. */
function configurationChecks(lab: Lab): Check[] {
  return [
    {
      name: "squid.conf is the one the proxy's user data installs (host settings aside)",
      run: () => {
        const policy = (conf: string) => conf.slice(0, conf.lastIndexOf(HOST_SETTINGS_MARKER));
        return policy(lab.squidConf) === policy(lab.userDataSquidConf) ? undefined : "the access policy differs";
      },
    },
    {
      name: "squid -k parse accepts the configuration",
      run: () => {
        const r = sh(["squid", "-k", "parse", "-f", lab.squidConfFile]);
        return r.code === 0
          ? undefined
          : `exit ${r.code}: ${r.stderr
              .split("\n")
              .filter((l) => /ERROR|FATAL|WARNING/.test(l))
              .join(" | ")}`;
      },
    },
  ];
}

/** Through the proxy works and the service sees the proxy's address; directly fails, even with a route. */
function pathChecks(lab: Lab): Check[] {
  const { hosts } = lab.topology;
  return [
    {
      name: `app ${hosts.app} -> proxy ${hosts.proxy} -> service ${hosts.service}: 200`,
      run: () => {
        const r = request(lab, "app", serviceUrl(lab), { proxy: true });
        return r.status === 200 ? undefined : `got ${JSON.stringify(r)}`;
      },
    },
    {
      name: `the service's access log shows the proxy's address ${hosts.proxy}, never the app's`,
      run: () => {
        const lines = fs.readFileSync(lab.serviceAccessLog, "utf8").trim().split("\n").filter(Boolean);
        if (lines.length === 0) return "the service logged no request";
        const clients = [...new Set(lines.map((l) => l.split(" ")[0]))];
        return clients.length === 1 && clients[0] === hosts.proxy ? undefined : `clients in the log: ${clients.join(", ")}`;
      },
    },
    {
      name: "app -> service directly fails: the app VPC has no route to the service side",
      run: () => {
        const r = request(lab, "app", serviceUrl(lab));
        return r.status === 0 && r.curlExit !== 0 ? undefined : `the request went through: ${JSON.stringify(r)}`;
      },
    },
    {
      name: "app -> service directly still fails with a route through the peering: the proxy host forwards nothing",
      run: () => {
        const forward = lab.inHost("proxy", ["cat", "/proc/sys/net/ipv4/ip_forward"]).stdout.trim();
        if (forward !== "0") return `ip_forward in the proxy namespace is ${forward}`;
        const device = lab.linkDevice("app", "proxy");
        const added = lab.inHost("app", ["ip", "route", "add", lab.topology.links[1].aRoutes[0], "dev", device]);
        if (added.code !== 0) return `could not add the route: ${added.stderr}`;
        const r = request(lab, "app", serviceUrl(lab));
        lab.inHost("app", ["ip", "route", "del", lab.topology.links[1].aRoutes[0], "dev", device]);
        return r.status === 0 && r.curlExit !== 0 ? undefined : `the request went through: ${JSON.stringify(r)}`;
      },
    },
  ];
}

/** What Squid must refuse: outsiders, unlisted destinations, CONNECT to plain HTTP, odd ports, the metadata address; HTTPS through CONNECT where the service has TLS. */
function refusalChecks(lab: Lab): Check[] {
  const { hosts } = lab.topology;
  return [
    {
      name: `a client outside the app CIDRs (${hosts.outsider}) is refused: 403`,
      run: () => refused(request(lab, "outsider", serviceUrl(lab), { proxy: true })),
    },
    {
      name: "a destination outside the allowlist is refused: 403",
      run: () => refused(request(lab, "app", `http://${hosts.outsider}/`, { proxy: true })),
    },
    {
      name: `CONNECT to the plain HTTP port ${lab.topology.servicePort} is refused: 403`,
      run: () => refused(request(lab, "app", serviceUrl(lab), { proxy: true, tunnel: true }), "connect"),
    },
    ...(lab.topology.tlsPort === undefined
      ? []
      : [
          {
            name: `HTTPS through CONNECT to the service's TLS port ${lab.topology.tlsPort}: 200 over the tunnel`,
            run: () => {
              const r = request(lab, "app", `https://${hosts.service}:${lab.topology.tlsPort}/`, { proxy: true });
              return r.connectStatus === 200 && r.status === 200 ? undefined : `got ${JSON.stringify(r)}`;
            },
          },
          {
            name: `a plain HTTP request to the TLS port ${lab.topology.tlsPort} is refused: 403`,
            run: () => refused(request(lab, "app", `http://${hosts.service}:${lab.topology.tlsPort}/`, { proxy: true })),
          },
        ]),
    {
      name: "a port outside Safe_ports is refused: 403",
      run: () => refused(request(lab, "app", `http://${hosts.service}:8081/`, { proxy: true })),
    },
    {
      name: "the instance metadata address is refused: 403",
      run: () => refused(request(lab, "app", "http://169.254.169.254/latest/meta-data/", { proxy: true })),
    },
  ];
}

function squidLogCheck(lab: Lab): Check {
  const { hosts } = lab.topology;
  return {
    name: "Squid's access log records the app as the client of the relayed request, in lines npm run verify reads",
    run: () => {
      const log = fs.existsSync(lab.squidAccessLog) ? fs.readFileSync(lab.squidAccessLog, "utf8") : "";
      const lines = log.split("\n").filter((l) => l.trim());
      const unread = lines.filter((l) => !parseSquidLine(l));
      if (unread.length > 0) return `lines verify's parser cannot read:\n${unread.join("\n")}`;
      const relayed = lines
        .map(parseSquidLine)
        .some((l) => l?.client === hosts.app && l.result.endsWith("/200") && l.url.startsWith(`http://${hosts.service}`));
      return relayed ? undefined : `no such line in:\n${log}`;
    },
  };
}

/** Services by name, where the environment forwards a named service's domain: allowed only when listed AND resolved into the block. */
function nameChecks(lab: Lab): Check[] {
  const names = lab.topology.names;
  if (!names) return [];
  const { hosts } = lab.topology;
  const at = (name: string, port = names.port) => `http://${name}:${port}/`;
  const logLines = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n") : []);
  return [
    {
      name: `an allowed name, ${names.allowed}:${names.port}, resolved by the provider's DNS into the service's block: 200`,
      run: () => {
        const r = request(lab, "app", at(names.allowed), { proxy: true });
        return r.status === 200 ? undefined : `got ${JSON.stringify(r)}`;
      },
    },
    {
      name: `Squid asked the provider's DNS stand-in (${names.dnsServer}) for ${names.allowed}, from the proxy's address`,
      run: () => {
        const asked = logLines(lab.dnsLog!).filter((l) => l.includes(`query[A] ${names.allowed} from ${hosts.proxy}`));
        return asked.length > 0 ? undefined : `no such query in:\n${logLines(lab.dnsLog!).slice(-10).join("\n")}`;
      },
    },
    {
      name: `a name outside the allowlist, ${names.unlisted}, refused although it resolves into the block: 403`,
      run: () => refused(request(lab, "app", at(names.unlisted), { proxy: true })),
    },
    {
      name: `an allowed name that resolves outside the block, ${names.outside} -> ${hosts.outsider}, refused: 403`,
      run: () => refused(request(lab, "app", at(names.outside), { proxy: true })),
    },
    {
      name: `the named service by address alone, ${hosts.service}:${names.port}, refused: 403`,
      run: () => refused(request(lab, "app", at(hosts.service), { proxy: true })),
    },
    {
      name: `the address-only service takes any name that resolves into its block: ${names.unlisted}:${lab.topology.servicePort} gives 200`,
      run: () => {
        const r = request(lab, "app", at(names.unlisted, lab.topology.servicePort), { proxy: true });
        return r.status === 200 ? undefined : `got ${JSON.stringify(r)}`;
      },
    },
  ];
}

/** A check of either lab: its name, and a failure's explanation or undefined. */
type AnyCheck = { readonly name: string; readonly run: () => string | undefined | Promise<string | undefined> };

/** Runs the checks `makeChecks` gives in order against a started lab, prints PASS or FAIL for each, stops the lab. */
async function runChecks(
  lab: { readonly runDir: string; stop(): Promise<void> },
  heading: string,
  makeChecks: () => readonly AnyCheck[],
): Promise<number> {
  const stopOnSignal = () => void lab.stop().then(() => process.exit(130));
  process.once("SIGINT", stopOnSignal);
  process.once("SIGTERM", stopOnSignal);
  let passed = 0;
  let failed = 0;
  try {
    console.log(heading);
    for (const check of makeChecks()) {
      let problem: string | undefined;
      try {
        problem = await check.run();
      } catch (e) {
        problem = (e as Error).message;
      }
      if (problem === undefined) passed++;
      else failed++;
      console.log(`${problem === undefined ? "PASS" : "FAIL"} ${check.name}${problem === undefined ? "" : `\n     ${problem}`}`);
    }
  } finally {
    await lab.stop();
  }
  if (failed === 0) fs.rmSync(lab.runDir, { recursive: true, force: true });
  else console.log(`logs kept in ${lab.runDir}`);
  console.log(`e2e: ${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

async function main(): Promise<number> {
  const missing = labPrerequisites();
  if (missing.length > 0) {
    console.error(`npm run e2e cannot run here: ${missing.join("; ")}.`);
    return 2;
  }
  const file = path.resolve(process.env.PROXY_CONFIG || path.join(ROOT, "demos", "verification.json"));
  const env = loadEnvironmentFile(file);
  const source = path.relative(ROOT, file);
  const started = Date.now();
  const ready = () => `lab ready in ${((Date.now() - started) / 1000).toFixed(1)} s`;
  if (env.connectivity.type === "transitGateway" && env.connectivity.egress === "privateNat") {
    // The addendum: a Transit Gateway stand-in and a NAT host instead of Squid (proof/tgw-lab.ts).
    const lab = await startTransitGatewayLab(env);
    return runChecks(
      lab,
      `e2e of ${path.relative(ROOT, file)} (Transit Gateway, private NAT): hosts ${JSON.stringify(lab.hosts)}; ${ready()}`,
      () => transitGatewayChecks(lab),
    );
  }
  if (env.connectivity.type === "privateLink") {
    // Two app VPCs of one block behind endpoint stand-ins that send PROXY protocol v2 (proof/privatelink-lab.ts).
    const fromPort = PRIVATELINK_FROM_PORT;
    const copy = parseEnvironment(privateLinkLabEnv(JSON.parse(fs.readFileSync(file, "utf8")), fromPort), `${source} (the lab's copy)`);
    const lab = await startPrivateLinkLab(copy, fromPort);
    const heading = `e2e of ${source} (PrivateLink): hosts ${JSON.stringify(lab.hosts)}; the lab's copy adds service only-first on port ${fromPort} for ${lab.apps[0].name}; ${ready()}`;
    return runChecks(lab, heading, () => privateLinkChecks(lab));
  }
  // The lab runs a copy of the environment with a second app VPC, and writes versions of its allowlist (proof/allowlist-lab.ts).
  const plan = allowlistLabPlan(JSON.parse(fs.readFileSync(file, "utf8")), source, LAB_POLL_SECONDS);
  const extras = { listenPorts: plan.listenPorts, names: plan.names };
  const copy = `the lab's copy adds app VPC ${APP2} (${plan.app2Cidr})`;
  if (env.proxy.fleet) {
    // The fleet: real Squids behind a load-balancer stand-in (proof/fleet-lab.ts).
    const lab = await startFleetLab(plan.env, extras);
    const heading = `e2e of ${source} (a fleet): load balancer ${lab.hosts.loadBalancer.join(", ")}, proxies ${JSON.stringify(lab.proxyAddress)}; ${copy}; ${ready()}`;
    return runChecks(lab, heading, () => fleetChecks(lab, plan));
  }
  const lab = await startLab(plan.env, extras);
  const heading = `e2e of ${source}: hosts ${JSON.stringify(lab.topology.hosts)}; ${copy}; ${ready()}`;
  return runChecks(lab, heading, () => [...checks(lab), ...allowlistChecks(singleProxyTarget(lab), plan)]);
}

main().then((code) => process.exit(code));
