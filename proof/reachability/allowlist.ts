/** The proxy's allowlist as a third condition on flows through the proxy: read from the stack's SSM parameter, decided as Squid decides. */
import { AllowlistDecision, AllowlistRequest, decide, describeDecision, parseAllowlist } from "../../lib/allowlist-policy";
import { allowlistParameterName } from "../../lib/naming";
import { resourceViews, TerraformJson } from "../../lib/tf-json";
import type { Place } from "./model";

/** The allowlist a stack gives its proxies: the SSM parameter's name and value, and the environment it names. */
export interface StackAllowlist {
  readonly parameter: string;
  readonly environment: string;
  readonly text: string;
}

/** Parameter names such as /proxy-over-peering/<environment>/squid-allowlist. */
const PARAMETER_NAME = new RegExp(
  `^${allowlistParameterName("\0")
    .replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")
    .replace("\0", "([^/]+)")}$`,
);

/** The stack's allowlist parameter, or undefined for a stack without one (no Squid); throws on two. */
export function allowlistOf(stack: TerraformJson): StackAllowlist | undefined {
  const found = resourceViews(stack).filter((r) => r.type === "aws_ssm_parameter" && PARAMETER_NAME.test(String(r.attrs.name)));
  if (found.length > 1)
    throw new Error(`the stack has ${found.length} allowlist parameters (${found.map((r) => r.attrs.name).join(", ")}); expected one`);
  const [parameter] = found;
  if (!parameter) return undefined;
  if (typeof parameter.attrs.value !== "string")
    throw new Error(`the allowlist parameter ${parameter.attrs.name} has no literal value to analyse`);
  const name = String(parameter.attrs.name);
  return { parameter: name, environment: PARAMETER_NAME.exec(name)![1], text: parameter.attrs.value };
}

/** An address as a /32 written bare; a block as it is. */
const bare = (range: string) => range.replace(/\/32$/, "");

/** True for the reason allowlistJudgement gives a flow the allowlist refuses. */
export function isAllowlistBlock(reason: string): boolean {
  return /^BLOCKED: \S+'s allowlist \(SSM parameter /.test(reason);
}

/** A request the flow could make, and the allowlist's decision on it. */
interface Attempt {
  readonly request: AllowlistRequest;
  readonly decision: AllowlistDecision;
}

const requestText = (r: AllowlistRequest) =>
  `${r.method === "CONNECT" ? "CONNECT" : "GET"} ${r.host}:${r.port} from ${r.client}${"endpointId" in r ? ` through ${String(r.endpointId)}` : ""}${r.resolved ? ` (${r.host} resolving into ${r.resolved.join(" ")})` : ""}`;

/** How near a denied attempt came to an allow line: a later deciding line, then an allow line that lacked fewer ACLs and matched more. */
function nearness(a: Attempt): [number, number, number] {
  const d = a.decision;
  const nearest = d.verdict === "depends" ? undefined : d.nearest;
  return [d.line.number, -(nearest?.failed.length ?? Infinity), nearest?.matched ?? 0];
}

const nearer = (a: Attempt, b: Attempt) => {
  const [x, y] = [nearness(a), nearness(b)];
  return x[0] !== y[0] ? x[0] > y[0] : x[1] !== y[1] ? x[1] > y[1] : x[2] > y[2];
};

/**
 * The allowlist's verdict on `client` reaching `to` on `port` through the proxy: allowed when some request is (by address or
 * by a name the allowlist lists, resolving to `to`; CONNECT or plain), with that request's deciding line; else the nearest denial.
 * `endpointId`: behind PrivateLink, the reference to the interface endpoint the client comes through, which the PROXY header names.
 */
export function allowlistJudgement(
  allowlist: StackAllowlist,
  proxy: string,
  from: Place,
  to: Place,
  port: number,
  endpointId?: string,
): { allowed: boolean; reasons: string[] } {
  const rules = parseAllowlist(allowlist.text);
  const [client, target] = [bare(from.range), bare(to.range)];
  const via = endpointId ? { endpointId } : {};
  const names = [...rules.acls.values()].filter((a) => a.type === "dstdomain").flatMap((a) => a.values.map((v) => v.replace(/^\./, "")));
  const requests: AllowlistRequest[] = ["GET", "CONNECT"].flatMap((method) => [
    { client, method, host: target, port, ...via },
    ...[...new Set(names)].map((host) => ({ client, method, host, port, resolved: [target], ...via })),
  ]);
  const attempts: Attempt[] = requests.map((request) => ({ request, decision: decide(rules, request) }));
  const where = `${proxy}'s allowlist (SSM parameter ${allowlist.parameter})`;
  const allowed = attempts.find((a) => a.decision.verdict === "allowed");
  if (allowed)
    return { allowed: true, reasons: [`${where} allows ${requestText(allowed.request)}: ${describeDecision(rules, allowed.decision)}`] };
  const best = attempts.reduce((b, a) => (nearer(a, b) ? a : b));
  const depends = attempts.filter((a) => a.decision.verdict === "depends").length;
  return {
    allowed: false,
    reasons: [
      `BLOCKED: ${where} allows no request from ${client} to ${target} on ${port}${depends ? ` (${depends} depend on what the analysis cannot know)` : ""}; ` +
        `the nearest, ${requestText(best.request)}, is ${describeDecision(rules, best.decision)}`,
    ],
  };
}
