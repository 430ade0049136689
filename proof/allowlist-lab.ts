/**
 * The allowlist changes the namespace labs apply live (issue 22): the lab's copy of an environment (a second app VPC,
 * the poll interval), then versions of its allowlist parameter rendered from edited copies, each with the request
 * whose answer flips when it is in force. Pure: the labs (proof/allowlist-checks.ts) run what this plans.
 */
import { squidPolicyOf } from "../lib/allowlist-sync";
import { cidrsOverlap } from "../lib/cidr";
import { EnvironmentConfig, firstServicePort, parseEnvironment, peeredServiceSide, portNumbers } from "../lib/config";
import { renderAllowlist } from "../lib/squid";

/** The app VPC the lab adds, so that a service's `from` can leave it out. */
export const APP2 = "app2";

/** Blocks for the lab's second app VPC, the first that overlaps nothing of the environment (nor the labs' outsiders). */
const APP2_BLOCKS = ["192.168.1.0/24", "192.168.2.0/24", "10.255.0.0/24"];
const OUTSIDER_BLOCKS = ["198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24"];

/** The first port the lab adds to the service side; each later one takes the next free number. */
const FIRST_LAB_PORT = 8090;

/** The poll interval of the lab's copy in CI: the schema's lower bound, so that five writes fit the lab's time. */
export const LAB_POLL_SECONDS = 10;

/** The seconds past the poll interval a change may take on a proxy: the timer's 1 s accuracy, the parse and the reconfigure. */
export const IN_FORCE_MARGIN_SECONDS = 3;

/** A request whose answer tells one version from the one before: its HTTP status before and after. */
export interface Probe {
  /** The client: the environment's first app VPC, or the lab's second. */
  readonly from: "app" | "app2";
  /** A name to ask for; the stand-in service's address when absent. */
  readonly host?: string;
  readonly port: number;
  readonly before: number;
  readonly after: number;
}

/** One version of the lab's stand-in parameter after the first. */
export interface AllowlistVersion {
  readonly version: number;
  /** What changed, for the check's line. */
  readonly label: string;
  /** "change": a version that parses; "broken": one that `squid -k parse` refuses. */
  readonly kind: "change" | "broken";
  /** The parameter's text. */
  readonly text: string;
  /** The request that flips once this version is in force; a broken version flips nothing. */
  readonly probe?: Probe;
}

/** What the lab runs: its environment, the versions it writes, and what its stand-ins must serve. */
export interface AllowlistLabPlan {
  /** The lab's copy of the environment, which the proxies start with (version 1). */
  readonly env: EnvironmentConfig;
  readonly pollSeconds: number;
  /** Why the poll interval differs from the environment's, when it does. */
  readonly pollNote?: string;
  /** Version 1: the allowlist rendered from {@link env}. */
  readonly initial: string;
  readonly versions: readonly AllowlistVersion[];
  /** Plain HTTP ports the stand-in service must listen on besides its own. */
  readonly listenPorts: readonly number[];
  /** Names the lab's DNS must answer with the stand-in service's address. */
  readonly names: readonly string[];
  /** The second app VPC's block. */
  readonly app2Cidr: string;
}

/** An environment file's JSON, as far as the lab edits it. */
type RawEnvironment = {
  proxy: Record<string, unknown>;
  appVpcs: { name: string; cidr: string; subnets?: { availabilityZone: string; cidr: string }[] }[];
  services: { name: string; cidr: string; ports: unknown[]; domains?: string[]; from?: string[] }[];
  [key: string]: unknown;
};

const copyOf = (raw: unknown): RawEnvironment => JSON.parse(JSON.stringify(raw));

/** The allowlist the proxies of `env` run: the parameter's text. */
export const allowlistOf = (env: EnvironmentConfig): string => renderAllowlist(squidPolicyOf(env));

/** A version that `squid -k parse` refuses: `text` with an access rule naming an ACL that no line defines. */
export function brokenAllowlist(text: string): string {
  const lines = text.trimEnd().split("\n");
  return [...lines.slice(0, -1), "http_access allow lab_undefined_acl", ...lines.slice(-1), ""].join("\n");
}

/** The blocks an environment uses (its VPCs and services), which the lab's additions must not overlap. */
function usedBlocks(env: EnvironmentConfig): string[] {
  const side = peeredServiceSide(env, "the allowlist lab");
  return [env.proxyVpc.cidr, side.vpc.cidr, ...env.appVpcs.map((a) => a.cidr), ...env.services.map((s) => s.cidr), ...OUTSIDER_BLOCKS];
}

/** The lab's copy: `raw` with a second app VPC (APP2) and `pollSeconds`; the environment's name is kept. */
function labRaw(raw: unknown, env: EnvironmentConfig, pollSeconds: number): { raw: RawEnvironment; app2Cidr: string } {
  if (env.appVpcs.some((a) => a.name === APP2))
    throw new Error(`the allowlist lab adds an app VPC named ${APP2}, and the environment has one already; rename it`);
  const first = env.appVpcs.find((a) => a.subnets);
  if (!first?.subnets) throw new Error("the allowlist lab needs an app VPC that the project creates (with subnets)");
  const used = usedBlocks(env);
  const app2Cidr = APP2_BLOCKS.find((b) => !used.some((u) => cidrsOverlap(b, u)));
  if (!app2Cidr) throw new Error(`the allowlist lab: every block for ${APP2} (${APP2_BLOCKS.join(", ")}) overlaps the environment`);
  const copy = copyOf(raw);
  copy.proxy = { ...copy.proxy, allowlistPollSeconds: pollSeconds };
  copy.appVpcs.push({
    name: APP2,
    cidr: app2Cidr,
    subnets: [{ availabilityZone: first.subnets[0].availabilityZone, cidr: app2Cidr }],
    sessionManagerEndpoints: false,
  } as RawEnvironment["appVpcs"][number]);
  return { raw: copy, app2Cidr };
}

/** Ports no service uses yet (nor 80, 443 and the lab's Safe_ports probe 8081), from FIRST_LAB_PORT up. */
export function freePorts(env: EnvironmentConfig, count: number): number[] {
  const used = new Set([80, 443, 8081, ...env.services.flatMap((s) => portNumbers(s))]);
  const ports: number[] = [];
  for (let p = FIRST_LAB_PORT; ports.length < count; p++) if (!used.has(p)) ports.push(p);
  return ports;
}

/** A service name no service has, from `base`. */
function freeName(env: EnvironmentConfig, base: string): string {
  const names = new Set(env.services.map((s) => s.name));
  for (let i = 1; ; i++) if (!names.has(i === 1 ? base : `${base}${i}`)) return i === 1 ? base : `${base}${i}`;
}

/**
 * Plans the lab's allowlist changes for an environment file's JSON (`raw`, validated as `source`): version 1 is the
 * lab's copy; then a port added to services[0], a service added by name, that service removed, a version Squid
 * refuses, and services[0] restricted to the first app VPC with `from`. Each edited copy is validated as a file would be.
 */
export function allowlistLabPlan(raw: unknown, source: string, pollSeconds?: number): AllowlistLabPlan {
  const env = parseEnvironment(raw, source);
  const poll = pollSeconds ?? env.proxy.allowlistPollSeconds;
  const lab = labRaw(raw, env, poll);
  const parse = (r: RawEnvironment, what: string) => parseEnvironment(r, `${source} (the allowlist lab's copy, ${what})`);
  const labEnv = parse(lab.raw, `with ${APP2}`);
  const first = labEnv.appVpcs.find((a) => a.subnets)!.name;
  const [addedPort, namedPort] = freePorts(labEnv, 2);
  const service = labEnv.services[0];
  const named = freeName(labEnv, "portal");
  const host = `${named}.${labEnv.dns?.forward[0]?.domain ?? "service.example"}`;
  const servicePort = firstServicePort(labEnv, "http");
  if (servicePort === undefined) throw new Error("the allowlist lab needs a plain HTTP port on services[0]");

  const withPort = copyOf(lab.raw);
  withPort.services[0].ports.push(addedPort);
  const withNamed = copyOf(withPort);
  withNamed.services.push({ name: named, cidr: service.cidr, domains: [host], ports: [namedPort] });
  const withFrom = copyOf(withPort);
  withFrom.services[0].from = [first];
  const [portEnv, namedEnv, removedEnv, fromEnv] = [
    parse(withPort, `port ${addedPort} added to ${service.name}`),
    parse(withNamed, `service ${named} added`),
    parse(copyOf(withPort), `service ${named} removed`),
    parse(withFrom, `${service.name} from ${first} only`),
  ];
  const versions: AllowlistVersion[] = [
    {
      version: 2,
      label: `a port added: ${service.name} gets ${addedPort}`,
      kind: "change",
      text: allowlistOf(portEnv),
      probe: { from: "app", port: addedPort, before: 403, after: 200 },
    },
    {
      version: 3,
      label: `a service added by name: ${named} (${host}:${namedPort})`,
      kind: "change",
      text: allowlistOf(namedEnv),
      probe: { from: "app", host, port: namedPort, before: 403, after: 200 },
    },
    {
      version: 4,
      label: `a service removed: ${named}`,
      kind: "change",
      text: allowlistOf(removedEnv),
      probe: { from: "app", host, port: namedPort, before: 200, after: 403 },
    },
    {
      version: 5,
      label: "a version squid -k parse refuses (an undefined ACL)",
      kind: "broken",
      text: brokenAllowlist(allowlistOf(removedEnv)),
    },
    {
      version: 6,
      label: `from: ${service.name} for ${first} only, not ${APP2}`,
      kind: "change",
      text: allowlistOf(fromEnv),
      probe: { from: "app2", port: servicePort, before: 200, after: 403 },
    },
  ];
  return {
    env: labEnv,
    pollSeconds: poll,
    pollNote:
      poll === env.proxy.allowlistPollSeconds
        ? undefined
        : `allowlistPollSeconds ${poll} in the lab's copy, not the environment's ${env.proxy.allowlistPollSeconds}: five writes at ${env.proxy.allowlistPollSeconds} s could take ${5 * (env.proxy.allowlistPollSeconds + IN_FORCE_MARGIN_SECONDS)} s, past the 3 minutes the lab may add`,
    initial: allowlistOf(labEnv),
    versions,
    listenPorts: [addedPort, namedPort],
    names: [host],
    app2Cidr: lab.app2Cidr,
  };
}
