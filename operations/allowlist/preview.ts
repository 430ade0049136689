/** The preview of an allowlist change: which logged requests the new allowlist would newly deny or newly allow, grouped. */
import { Allowlist, AllowlistDecision, decide, describeDecision } from "../../lib/allowlist-policy";
import { addressInCidr, isIpv4Address } from "../../lib/cidr";
import type { LoggedRequest } from "./log";
import type { AppBlock } from "./render";

/** How a request's verdict changes from the old allowlist to the new. */
export type Change = "newly denied" | "newly allowed" | "may change";

/** Requests of one app VPC to one destination whose verdict changes alike, with the deciding lines. */
export interface PreviewGroup {
  readonly change: Change;
  /** The app VPC's name (from the client's address), or what the log's app VPC column says, or "outside the app VPCs". */
  readonly appVpc: string;
  /** host:port. */
  readonly destination: string;
  readonly methods: readonly string[];
  readonly count: number;
  /** The old and new verdicts with their deciding lines, in words. */
  readonly before: string;
  readonly after: string;
  /** The deciding line numbers (0 where a verdict depends on DNS). */
  readonly beforeLine: number;
  readonly afterLine: number;
}

/** The preview: the groups, what did not change, and where the log disagrees with the old allowlist. */
export interface Preview {
  readonly requests: number;
  readonly groups: readonly PreviewGroup[];
  readonly unchanged: { readonly allowed: number; readonly denied: number };
  /** Requests Squid logged with another verdict than the old allowlist gives (the proxy ran another version, or DNS answered otherwise). */
  readonly disagreements: readonly { readonly lineNumber: number; readonly logged: string; readonly before: string }[];
}

/**
 * The app VPC a client belongs to: by its address among the blocks, else the logged column. Behind PrivateLink
 * (`byEndpoint`) blocks may overlap, so the logged column, which Squid filled from the endpoint, comes first.
 */
export function appVpcOf(request: LoggedRequest, apps: readonly AppBlock[], byEndpoint = false): string {
  const c = request.request.client;
  const app = byEndpoint
    ? apps.find((a) => a.vpcName === request.appVpc)
    : isIpv4Address(c)
      ? apps.find((a) => addressInCidr(c, a.cidr))
      : undefined;
  return app?.name ?? request.appVpc ?? "outside the app VPCs";
}

/** Behind PrivateLink, each request with the endpoint id of the app VPC its log line names (`endpointIds` by VPC name); none for "-". */
export function withEndpointIds(requests: readonly LoggedRequest[], endpointIds: ReadonlyMap<string, string>): LoggedRequest[] {
  return requests.map((r) => {
    const endpointId = r.appVpc === undefined ? undefined : endpointIds.get(r.appVpc);
    return endpointId === undefined ? r : { ...r, request: { ...r.request, endpointId } };
  });
}

function changeOf(before: AllowlistDecision, after: AllowlistDecision): Change | undefined {
  if (before.verdict === after.verdict && before.verdict !== "depends") return undefined;
  if (before.verdict === "allowed" && after.verdict === "denied") return "newly denied";
  if (before.verdict === "denied" && after.verdict === "allowed") return "newly allowed";
  return "may change";
}

const ORDER: readonly Change[] = ["newly denied", "newly allowed", "may change"];

/** Decides every logged request with both allowlists and groups those whose verdict changes. */
export function previewChange(
  before: Allowlist,
  after: Allowlist,
  requests: readonly LoggedRequest[],
  apps: readonly AppBlock[],
  byEndpoint = false,
): Preview {
  const groups = new Map<string, PreviewGroup>();
  const unchanged = { allowed: 0, denied: 0 };
  const disagreements: Preview["disagreements"][number][] = [];
  for (const logged of requests) {
    const b = decide(before, logged.request);
    const a = decide(after, logged.request);
    if (b.verdict !== "depends" && b.verdict !== logged.logged)
      disagreements.push({ lineNumber: logged.lineNumber, logged: logged.logged, before: describeDecision(before, b) });
    const change = changeOf(b, a);
    if (!change) {
      unchanged[a.verdict as "allowed" | "denied"]++;
      continue;
    }
    const group: Omit<PreviewGroup, "count" | "methods"> = {
      change,
      appVpc: appVpcOf(logged, apps, byEndpoint),
      destination: `${logged.request.host.includes(":") ? `[${logged.request.host}]` : logged.request.host}:${logged.request.port}`,
      before: describeDecision(before, b),
      after: describeDecision(after, a),
      beforeLine: b.verdict === "depends" ? 0 : b.line.number,
      afterLine: a.verdict === "depends" ? 0 : a.line.number,
    };
    const key = JSON.stringify([group.change, group.appVpc, group.destination, group.before, group.after]);
    const known = groups.get(key);
    const methods = [...new Set([...(known?.methods ?? []), logged.request.method])];
    groups.set(key, { ...group, methods, count: (known?.count ?? 0) + 1 });
  }
  const sorted = [...groups.values()].sort(
    (x, y) =>
      ORDER.indexOf(x.change) - ORDER.indexOf(y.change) ||
      x.appVpc.localeCompare(y.appVpc) ||
      x.destination.localeCompare(y.destination) ||
      y.count - x.count,
  );
  return { requests: requests.length, groups: sorted, unchanged, disagreements };
}

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;

/** The preview in words: per change, per app VPC, per destination, the count and both verdicts with their lines. */
export function renderPreview(preview: Preview): string {
  const out: string[] = [];
  for (const change of ORDER) {
    const groups = preview.groups.filter((g) => g.change === change);
    const total = groups.reduce((n, g) => n + g.count, 0);
    out.push(`${change[0].toUpperCase()}${change.slice(1)}: ${total === 0 ? "none" : plural(total, "request")}`);
    for (const app of [...new Set(groups.map((g) => g.appVpc))]) {
      out.push(`  ${app}`);
      for (const g of groups.filter((x) => x.appVpc === app)) {
        out.push(`    ${g.destination}  ${plural(g.count, "request")} (${g.methods.join(", ")})`);
        out.push(`      before: ${g.before}`);
        out.push(`      after:  ${g.after}`);
      }
    }
  }
  const { allowed, denied } = preview.unchanged;
  out.push(`Unchanged: ${plural(allowed + denied, "request")} (${allowed} allowed, ${denied} denied)`);
  if (preview.disagreements.length > 0) {
    const first = preview.disagreements[0];
    out.push(
      `Note: ${plural(preview.disagreements.length, "logged request")} got another verdict from Squid than the old allowlist gives ` +
        `(the proxy ran another version, or DNS answered otherwise); the first, log line ${first.lineNumber}, was ${first.logged}, ` +
        `while the old allowlist: ${first.before}`,
    );
  }
  return out.join("\n");
}
