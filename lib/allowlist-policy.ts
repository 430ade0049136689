/**
 * What Squid's access rules decide, offline: parses the access part of a squid.conf or allowlist (the ACL types we render:
 * src, dst, dstdomain, port, method, and behind PrivateLink annotate_transaction and note on the endpoint's PROXY
 * protocol TLV; http_access allow/deny) and decides a request the way Squid does for that subset.
 * First matching http_access line wins; every ACL on a line must match; with no line matching, Squid does the opposite
 * of the last line. What needs DNS (dst on a named request) without the addresses given is reported as depending on it.
 */
import * as ipaddr from "ipaddr.js";

/** A line of the text: its number (from 1) and its text, trimmed. */
export interface AllowlistLine {
  readonly number: number;
  readonly text: string;
}

/** The ACL types this evaluator decides. */
export const ALLOWLIST_ACL_TYPES = ["src", "dst", "dstdomain", "port", "method", "note", "annotate_transaction"] as const;
export type AllowlistAclType = (typeof ALLOWLIST_ACL_TYPES)[number];

/** An ACL: every `acl` line of its name, values appended in order (Squid ORs them). */
export interface AllowlistAcl {
  readonly name: string;
  /** Its type; another type than ours is kept by name and refused only when an http_access line uses it. */
  readonly type: string;
  /** Flags such as -n (dstdomain: no reverse lookups). */
  readonly flags: readonly string[];
  readonly values: readonly string[];
  /** Where it is defined; empty for Squid's predefined ACLs. */
  readonly lines: readonly AllowlistLine[];
}

/** An ACL named on an http_access line, negated with `!`. */
export interface AclRef {
  readonly name: string;
  readonly negated: boolean;
}

/** An http_access line. */
export interface AccessRule {
  readonly line: AllowlistLine;
  readonly action: "allow" | "deny";
  readonly acls: readonly AclRef[];
}

/** The parsed access rules. */
export interface Allowlist {
  readonly acls: ReadonlyMap<string, AllowlistAcl>;
  readonly rules: readonly AccessRule[];
}

/** A request as Squid's access rules see it. */
export interface AllowlistRequest {
  /** The client's address, or a block standing for every address in it. */
  readonly client: string;
  /** CONNECT (a tunnel) or another method such as GET. */
  readonly method: string;
  /** The name or address the request asks for (a block: some address in it). */
  readonly host: string;
  readonly port: number;
  /**
   * The addresses a named host resolves to, as Squid's `dst` would look them up (a block: some address in it).
   * @default unknown: a verdict that needs them depends on DNS
   */
  readonly resolved?: readonly string[];
  /**
   * The id of the VPC endpoint the request came through, as the load balancer of an endpoint service puts it in the
   * PROXY protocol v2 header (TLV 0xEA), or a Terraform reference to it, as a synthesized allowlist holds it.
   * @default none: the header carries no such TLV
   */
  readonly endpointId?: string;
}

/** An allow line passed over, and the ACLs of it that did not match (`!name` for a negated one). */
export interface NearMiss {
  readonly line: AllowlistLine;
  readonly failed: readonly string[];
  /** How many of its ACLs did match: of two lines that lack as many, the one that matched more was meant. */
  readonly matched: number;
}

/** A verdict: allowed or denied by `line`, or depending on what `on` says. */
export type AllowlistDecision =
  | {
      readonly verdict: "allowed" | "denied";
      /** The deciding line (for Squid's default, the last http_access line). */
      readonly line: AllowlistLine;
      /** True when no line matched and Squid did the opposite of the last one. */
      readonly byDefault?: boolean;
      /** For a denial: the allow line the request came nearest to, with what it lacked. */
      readonly nearest?: NearMiss;
      /** The same verdict whatever `either.on` turns out to be: the line that decides in each case. */
      readonly either?: {
        readonly on: string;
        readonly when: string;
        readonly ifMatched: AllowlistLine;
        readonly otherwise: AllowlistLine;
      };
    }
  | {
      readonly verdict: "depends";
      /** The line whose match is not known. */
      readonly line: AllowlistLine;
      /** What it depends on, in words, such as "the addresses api.example resolves to". */
      readonly on: string;
      /** When the line matches, in words, such as "one is in api_dst (dst 172.16.0.0/24)". */
      readonly when: string;
      readonly ifMatched: AllowlistDecision;
      readonly otherwise: AllowlistDecision;
    };

/** Squid's predefined ACLs that our types express. */
const PREDEFINED: readonly AllowlistAcl[] = [
  { name: "all", type: "src", flags: [], values: ["all"], lines: [] },
  { name: "localhost", type: "src", flags: [], values: ["127.0.0.1/32", "::1"], lines: [] },
  { name: "to_localhost", type: "dst", flags: [], values: ["127.0.0.0/8", "0.0.0.0/32", "::1/128", "::/128"], lines: [] },
];

/** The logical lines of `text` (a trailing backslash continues a line), comments and blanks dropped. */
function logicalLines(text: string): AllowlistLine[] {
  const out: AllowlistLine[] = [];
  const raw = text.split(/\r?\n/);
  for (let i = 0; i < raw.length; i++) {
    const number = i + 1;
    let line = raw[i];
    while (line.endsWith("\\") && i + 1 < raw.length) line = `${line.slice(0, -1)} ${raw[++i]}`;
    const trimmed = line.trim();
    if (trimmed !== "" && !trimmed.startsWith("#")) out.push({ number, text: trimmed });
  }
  return out;
}

const problem = (line: AllowlistLine, message: string) => new Error(`line ${line.number} (${line.text}): ${message}`);

/** Adds an `acl` line to `acls`. */
function addAcl(acls: Map<string, AllowlistAcl>, line: AllowlistLine, words: readonly string[]): void {
  const [, name, type, ...rest] = words;
  if (!name || !type) throw problem(line, "an acl line needs a name and a type: acl <name> <type> <values>");
  const flags = rest.filter((w) => w.startsWith("-") && !/^-\d/.test(w));
  const values = rest.filter((w) => !flags.includes(w));
  const comment = values.findIndex((v) => v.startsWith("#"));
  const kept = comment < 0 ? values : values.slice(0, comment);
  if (kept.some((v) => v.startsWith('"'))) throw problem(line, "values read from a file are not supported here; list them on the line");
  const known = acls.get(name);
  if (known && known.lines.length > 0 && known.type !== type)
    throw problem(line, `acl ${name} is already of type ${known.type} (line ${known.lines[0].number}); Squid refuses a second type`);
  const base = known && known.lines.length > 0 ? known : { name, type, flags: [], values: [], lines: [] };
  acls.set(name, {
    ...base,
    flags: [...new Set([...base.flags, ...flags])],
    values: [...base.values, ...kept],
    lines: [...base.lines, line],
  });
}

/** The one format code this evaluator expands in an annotation: AWS's endpoint TLV (0xEA, 234) of the PROXY header. */
const ENDPOINT_TLV_CODE = "%proxy_protocol::>h{234}";

/** An annotation an annotate_transaction ACL sets; `expands` for a quoted value, whose format codes Squid expands. */
interface Annotation {
  readonly name: string;
  readonly value: string;
  readonly expands: boolean;
}

/** The annotations of an annotate_transaction ACL (name=value; a quoted value may be {@link ENDPOINT_TLV_CODE}). */
function annotationsOf(acl: AllowlistAcl): Annotation[] {
  return acl.values.map((v) => {
    const pair = /^([A-Za-z0-9_-]+)=(.*)$/.exec(v);
    if (!pair) throw new Error(`acl ${acl.name} annotate_transaction: "${v}" is not name=value; this evaluator decides no other form`);
    const quoted = /^"(.*)"$/.exec(pair[2]);
    const value = quoted ? quoted[1] : pair[2];
    if (quoted && value.includes("%") && value !== ENDPOINT_TLV_CODE)
      throw new Error(
        `acl ${acl.name} annotate_transaction: "${value}" holds a format code; this evaluator expands ${ENDPOINT_TLV_CODE} only`,
      );
    return { name: pair[1], value, expands: quoted !== null };
  });
}

/** What Squid writes for {@link ENDPOINT_TLV_CODE}: the subtype byte 01 URL-encoded, then the id; "-" without the TLV. */
function endpointTlvText(request: AllowlistRequest): string {
  const id = request.endpointId;
  if (id === undefined) return "-";
  if (!/^[A-Za-z0-9-]+$/.test(id) && !id.includes("${"))
    throw new Error(`the endpoint id "${id}" is not letters, digits and hyphens as AWS writes one; give it as vpce-<hex>`);
  return `%01${id}`;
}

/** The annotations a request carries when Squid reaches rule `index`: those of every annotate_transaction ACL first on a rule up to it. */
function annotationsAt(allowlist: Allowlist, index: number, request: AllowlistRequest): Map<string, string> {
  const notes = new Map<string, string>();
  for (const rule of allowlist.rules.slice(0, index + 1)) {
    const acl = allowlist.acls.get(rule.acls[0].name)!;
    if (acl.type !== "annotate_transaction") continue;
    for (const a of annotationsOf(acl)) notes.set(a.name, a.expands && a.value === ENDPOINT_TLV_CODE ? endpointTlvText(request) : a.value);
  }
  return notes;
}

/** Parses the access part of `text`: acl and http_access lines; other directives are passed over. Throws on what Squid would refuse. */
export function parseAllowlist(text: string): Allowlist {
  const acls = new Map<string, AllowlistAcl>(PREDEFINED.map((a) => [a.name, a]));
  const rules: AccessRule[] = [];
  for (const line of logicalLines(text)) {
    const words = line.text.split(/\s+/);
    if (words[0] === "acl") addAcl(acls, line, words);
    if (words[0] !== "http_access") continue;
    const action = words[1];
    if (action !== "allow" && action !== "deny") throw problem(line, `"${action ?? ""}" is not allow or deny`);
    const names = words.slice(2);
    const end = names.findIndex((n) => n.startsWith("#"));
    const refs = (end < 0 ? names : names.slice(0, end)).map((n) => ({ name: n.replace(/^!/, ""), negated: n.startsWith("!") }));
    if (refs.length === 0) throw problem(line, "an http_access line names at least one ACL");
    for (const ref of refs) {
      const acl = acls.get(ref.name);
      if (!acl) throw problem(line, `ACL ${ref.name} is not defined above; Squid refuses the configuration`);
      if (!(ALLOWLIST_ACL_TYPES as readonly string[]).includes(acl.type))
        throw problem(line, `ACL ${ref.name} is of type ${acl.type}; this evaluator decides ${ALLOWLIST_ACL_TYPES.join(", ")} only`);
      if (acl.type === "annotate_transaction" && ref !== refs[0])
        throw problem(
          line,
          `ACL ${ref.name} (annotate_transaction) is not first on its line; this evaluator decides it only there, where Squid always reaches it`,
        );
      if (acl.type === "annotate_transaction") annotationsOf(acl);
      if (acl.type === "note" && (acl.flags.length > 0 || acl.values.length === 0))
        throw problem(
          line,
          `ACL ${ref.name} (note) needs an annotation name and no flags here; write acl <name> note <annotation> [values]`,
        );
    }
    rules.push({ line, action, acls: refs });
  }
  return { acls, rules };
}

/** An address range of one family, bounds included. */
interface Range {
  readonly v6: boolean;
  readonly lo: bigint;
  readonly hi: bigint;
}

const ALL_V4: Range = { v6: false, lo: 0n, hi: 2n ** 32n - 1n };
const ALL_V6: Range = { v6: true, lo: 0n, hi: 2n ** 128n - 1n };

function addressValue(text: string): { v6: boolean; value: bigint } {
  const a = ipaddr.parse(text.replace(/^\[|\]$/g, ""));
  return { v6: a.kind() === "ipv6", value: a.toByteArray().reduce((n, b) => (n << 8n) | BigInt(b), 0n) };
}

/** The range of an address, a block (prefix or dotted mask), or a-b; undefined for what is none of them. */
export function addressRange(text: string): Range | undefined {
  try {
    const [body, mask] = text.split("/");
    if (body.includes("-") && !body.includes(":")) {
      const [a, b] = body.split("-").map(addressValue);
      return { v6: false, lo: a.value, hi: b.value };
    }
    const { v6, value } = addressValue(body);
    const bits = v6 ? 128 : 32;
    const prefix = mask === undefined ? bits : /^\d+$/.test(mask) ? Number(mask) : ipaddr.IPv4.parse(mask).prefixLengthFromSubnetMask();
    if (prefix === null || prefix < 0 || prefix > bits) return undefined;
    const size = 1n << BigInt(bits - prefix);
    const lo = (value / size) * size;
    return { v6, lo, hi: lo + size - 1n };
  } catch {
    return undefined;
  }
}

function entryRanges(acl: AllowlistAcl): Range[] {
  return acl.values
    .map((v) => {
      if (v === "all") return [ALL_V4, ALL_V6];
      const r = addressRange(v);
      if (!r) throw new Error(`acl ${acl.name} ${acl.type}: "${v}" is not an address, block or range`);
      return [r];
    })
    .flat();
}

/** How much of `range` the ranges cover: all, none, or part. */
function coverage(ranges: readonly Range[], range: Range): "all" | "none" | "part" {
  const parts = ranges
    .filter((r) => r.v6 === range.v6 && r.hi >= range.lo && r.lo <= range.hi)
    .map((r) => [r.lo < range.lo ? range.lo : r.lo, r.hi > range.hi ? range.hi : r.hi] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (parts.length === 0) return "none";
  let next = range.lo;
  for (const [lo, hi] of parts) {
    if (lo > next) return "part";
    if (hi + 1n > next) next = hi + 1n;
  }
  return next > range.hi ? "all" : "part";
}

/** A match of one ACL: yes, no, or unknown (with what it waits on). */
type Match = { readonly kind: "yes" } | { readonly kind: "no" } | { readonly kind: "unknown"; readonly on: string; readonly when: string };
const YES: Match = { kind: "yes" };
const NO: Match = { kind: "no" };

/** True for an address, or a block standing for some address in it (as the reachability analysis asks). */
function isLiteral(host: string): boolean {
  return ipaddr.isValid(host.replace(/^\[|\]$/g, "")) || (host.includes("/") && addressRange(host) !== undefined);
}

function srcMatch(acl: AllowlistAcl, client: string): Match {
  const range = addressRange(client);
  if (!range) throw new Error(`the client "${client}" is not an address or block`);
  const c = coverage(entryRanges(acl), range);
  if (c !== "part") return c === "all" ? YES : NO;
  return { kind: "unknown", on: `which address of ${client} the client has`, when: `it is in ${aclText(acl)}` };
}

function dstMatch(acl: AllowlistAcl, request: AllowlistRequest): Match {
  const ranges = entryRanges(acl);
  const unknown: Match = { kind: "unknown", on: `the addresses ${request.host} resolves to`, when: `one is in ${aclText(acl)}` };
  if (isLiteral(request.host)) {
    const c = coverage(ranges, addressRange(request.host)!);
    return c === "part"
      ? { kind: "unknown", on: `which address of ${request.host} is asked for`, when: `it is in ${aclText(acl)}` }
      : c === "all"
        ? YES
        : NO;
  }
  if (!request.resolved) return unknown;
  const covered = request.resolved.map((r) => {
    const range = addressRange(r);
    if (!range) throw new Error(`the resolved address "${r}" of ${request.host} is not an address or block`);
    return coverage(ranges, range);
  });
  return covered.includes("all") ? YES : covered.every((c) => c === "none") ? NO : unknown;
}

function dstdomainMatch(acl: AllowlistAcl, host: string): Match {
  const h = host.toLowerCase().replace(/\.$/, "");
  const listed = acl.values.some((v) => {
    const d = v.toLowerCase();
    return d.startsWith(".") ? h === d.slice(1) || h.endsWith(d) : h === d;
  });
  if (listed) return YES;
  // Without -n, Squid looks up the name of an address and tries that too.
  if (isLiteral(host) && !acl.flags.includes("-n"))
    return { kind: "unknown", on: `the reverse DNS name of ${host}`, when: `it is in ${aclText(acl)}` };
  return NO;
}

function portMatch(acl: AllowlistAcl, port: number): Match {
  const inList = acl.values.some((v) => {
    const [lo, hi] = v.split("-").map(Number);
    return hi === undefined ? port === lo : port >= lo && port <= hi;
  });
  return inList ? YES : NO;
}

/** A note ACL: the request carries its annotation (values[0]), with one of the values listed after it if any. */
function noteMatch(acl: AllowlistAcl, annotations: ReadonlyMap<string, string>): Match {
  const [name, ...wanted] = acl.values;
  const value = annotations.get(name);
  if (value === undefined) return NO;
  return wanted.length === 0 || wanted.includes(value) ? YES : NO;
}

function aclMatch(acl: AllowlistAcl, request: AllowlistRequest, annotations: ReadonlyMap<string, string>): Match {
  switch (acl.type as AllowlistAclType) {
    case "src":
      return srcMatch(acl, request.client);
    case "dst":
      return dstMatch(acl, request);
    case "dstdomain":
      return dstdomainMatch(acl, request.host);
    case "port":
      return portMatch(acl, request.port);
    case "method":
      return acl.values.some((m) => m.toUpperCase() === request.method.toUpperCase()) ? YES : NO;
    case "note":
      return noteMatch(acl, annotations);
    case "annotate_transaction":
      return YES;
  }
}

/** One line against a request: matched, not (with the ACLs that failed), or unknown (with what it waits on). */
function ruleMatch(allowlist: Allowlist, index: number, request: AllowlistRequest): { match: Match; failed: string[]; matched: number } {
  const rule = allowlist.rules[index];
  const annotations = annotationsAt(allowlist, index, request);
  const failed: string[] = [];
  const unknown: { on: string; when: string }[] = [];
  for (const ref of rule.acls) {
    const m = aclMatch(allowlist.acls.get(ref.name)!, request, annotations);
    const label = `${ref.negated ? "!" : ""}${ref.name}`;
    if (m.kind === "unknown")
      unknown.push({
        on: m.on,
        when: ref.negated ? m.when.replace(/^it is in /, "it is not in ").replace(/^one is in /, "none is in ") : m.when,
      });
    else if ((m.kind === "yes") === ref.negated) failed.push(label);
  }
  const matched = rule.acls.length - failed.length - unknown.length;
  if (failed.length > 0) return { match: NO, failed, matched };
  if (unknown.length === 0) return { match: YES, failed, matched };
  const on = [...new Set(unknown.map((u) => u.on))].join(" and ");
  return { match: { kind: "unknown", on, when: unknown.map((u) => u.when).join(" and ") }, failed, matched };
}

const verdictOf = (action: AccessRule["action"]) => (action === "allow" ? "allowed" : "denied");

/** The decision from rule `from` on. */
function decideFrom(allowlist: Allowlist, request: AllowlistRequest, from: number, passed: NearMiss[]): AllowlistDecision {
  const { rules } = allowlist;
  for (let i = from; i < rules.length; i++) {
    const rule = rules[i];
    const { match, failed, matched } = ruleMatch(allowlist, i, request);
    if (match.kind === "no") {
      if (rule.action === "allow") passed.push({ line: rule.line, failed, matched });
      continue;
    }
    const decided = (line: AllowlistLine, verdict: "allowed" | "denied", byDefault?: boolean): AllowlistDecision => {
      const nearest = verdict === "denied" ? nearestMiss(passed) : undefined;
      return { verdict, line, ...(byDefault ? { byDefault } : {}), ...(nearest ? { nearest } : {}) };
    };
    if (match.kind === "yes") return decided(rule.line, verdictOf(rule.action));
    const ifMatched = decided(rule.line, verdictOf(rule.action));
    const otherwise = decideFrom(allowlist, request, i + 1, [...passed]);
    if (otherwise.verdict !== "depends" && otherwise.verdict === ifMatched.verdict)
      return { ...otherwise, line: rule.line, either: { on: match.on, when: match.when, ifMatched: rule.line, otherwise: otherwise.line } };
    return { verdict: "depends", line: rule.line, on: match.on, when: match.when, ifMatched, otherwise };
  }
  const last = rules[rules.length - 1];
  if (!last) return { verdict: "denied", line: { number: 0, text: "(no http_access line: Squid denies)" }, byDefault: true };
  const verdict = last.action === "allow" ? "denied" : "allowed";
  const nearest = verdict === "denied" ? nearestMiss(passed) : undefined;
  return { verdict, line: last.line, byDefault: true, ...(nearest ? { nearest } : {}) };
}

/** The allow line that lacked the fewest ACLs; of equals, the one that matched the most (the most specific), then the first. */
function nearestMiss(passed: readonly NearMiss[]): NearMiss | undefined {
  const nearer = (m: NearMiss, best: NearMiss) =>
    m.failed.length < best.failed.length || (m.failed.length === best.failed.length && m.matched > best.matched);
  const best = passed.reduce<NearMiss | undefined>((b, m) => (!b || nearer(m, b) ? m : b), undefined);
  return best;
}

/** Decides `request` as Squid's http_access lines of `allowlist` would. */
export function decide(allowlist: Allowlist, request: AllowlistRequest): AllowlistDecision {
  return decideFrom(allowlist, request, 0, []);
}

/** An ACL as its definition reads, such as `api_from (src 192.168.0.0/24)`. */
function aclText(acl: AllowlistAcl, label = acl.name): string {
  return `${label} (${acl.type}${acl.flags.length ? ` ${acl.flags.join(" ")}` : ""} ${acl.values.join(" ")})`;
}

/** A label of a line (an ACL's name, `!` before a negated one) with the ACL's definition. */
export function aclLabelText(allowlist: Allowlist, label: string): string {
  const acl = allowlist.acls.get(label.replace(/^!/, ""));
  return acl ? aclText(acl, label) : label;
}

const lineText = (line: AllowlistLine) => `line ${line.number}: ${line.text}`;

/** A decision in words: the verdict, the deciding line, and for a denial the nearest allow line and what it lacked. */
export function describeDecision(allowlist: Allowlist, d: AllowlistDecision): string {
  if (d.verdict === "depends") {
    const cases: string[] = [];
    let rest: AllowlistDecision = d;
    while (rest.verdict === "depends") {
      cases.push(`${rest.ifMatched.verdict} by ${lineText(rest.ifMatched.line)} if ${rest.when}`);
      rest = rest.otherwise;
    }
    return `depends on ${d.on}: ${cases.join("; ")}; otherwise ${describeDecision(allowlist, rest)}`;
  }
  const by = d.either
    ? `${d.verdict} whatever ${d.either.on} (by ${lineText(d.either.ifMatched)} if ${d.either.when}; otherwise by ${lineText(d.either.otherwise)})`
    : d.byDefault
      ? `${d.verdict}: no http_access line matched, and Squid does the opposite of the last one (${lineText(d.line)})`
      : `${d.verdict} by ${lineText(d.line)}`;
  const lacks = d.nearest?.failed.map((f) => aclLabelText(allowlist, f)).join(", ");
  return `${by}${d.nearest ? `; the nearest allow line, ${lineText(d.nearest.line)}, lacks ${lacks}` : ""}`;
}
