/** Squid's access-log lines as requests the allowlist decides: the native format, optionally with the app VPC appended. */
import { isIP } from "net";
import type { AllowlistRequest } from "../../lib/allowlist-policy";
import { ACCESS_LOG_FIELDS } from "../../lib/squid";
import { parseSquidLine } from "../verify/squid-log";

/** A logged request: what the allowlist decides, and what Squid logged for it. */
export interface LoggedRequest {
  readonly request: AllowlistRequest;
  /** Denied when Squid logged TCP_DENIED, otherwise allowed (relayed, whatever the service answered). */
  readonly logged: "allowed" | "denied";
  /** The app VPC column Squid appended, if the line has one. */
  readonly appVpc?: string;
  /** The line's number in what was read (from 1). */
  readonly lineNumber: number;
}

/** What a log held: its requests, and the lines that were not Squid's native format or named no host. */
export interface AccessLog {
  readonly requests: readonly LoggedRequest[];
  readonly skipped: readonly number[];
}

/** Where Squid logs the address it connected to (HIER_DIRECT/172.16.0.10). */
const HIERARCHY_COLUMN = ACCESS_LOG_FIELDS.indexOf("hierarchy");

/** A line of CloudWatch Logs' export to S3 starts with the event's ISO time; the rest is the message. */
const EXPORT_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z\s+/;

/** The messages of a log: `aws logs filter-log-events` JSON ({"events": [{"message"}]}), or one message per line. */
export function logMessages(text: string): string[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith("{")) {
    const events = (JSON.parse(trimmed) as { events?: { message?: string }[] }).events;
    if (!Array.isArray(events))
      throw new Error('is JSON without an "events" list; give Squid\'s log lines, or aws logs filter-log-events output');
    return events.map((e) => e.message ?? "");
  }
  return text.split(/\r?\n/).map((line) => line.replace(EXPORT_TIME, ""));
}

/** The host and port a logged URL names: host:port for CONNECT, an absolute URL otherwise; undefined for anything else. */
export function hostAndPort(method: string, url: string): { host: string; port: number } | undefined {
  if (method === "CONNECT") {
    const m = /^(\[[^\]]+\]|[^:/]+):(\d+)$/.exec(url);
    return m ? { host: m[1].replace(/^\[|\]$/g, ""), port: Number(m[2]) } : undefined;
  }
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") return undefined;
    return { host: u.hostname.replace(/^\[|\]$/g, ""), port: Number(u.port || (u.protocol === "https:" ? 443 : 80)) };
  } catch {
    return undefined;
  }
}

/** The address Squid connected to, from the hierarchy field (HIER_DIRECT/172.16.0.10); undefined for HIER_NONE/-. */
function peerAddress(field: string | undefined): string | undefined {
  const address = field?.split("/")[1];
  return address && isIP(address) ? address : undefined;
}

/**
 * Reads Squid's access log. A named request's addresses are the ones Squid logged connecting to for that name
 * on any line (a denied request logs none); without any, its verdict may depend on DNS.
 */
export function readAccessLog(text: string): AccessLog {
  const skipped: number[] = [];
  const parsed = logMessages(text).flatMap((message, i) => {
    if (message.trim() === "") return [];
    const line = parseSquidLine(message);
    const target = line && hostAndPort(line.method, line.url);
    if (!line || !target) {
      skipped.push(i + 1);
      return [];
    }
    const fields = message.trim().split(/\s+/);
    return [{ line, target, fields, lineNumber: i + 1 }];
  });
  const resolved = new Map<string, Set<string>>();
  for (const { target, fields } of parsed) {
    const address = peerAddress(fields[HIERARCHY_COLUMN]);
    if (address && !isIP(target.host)) resolved.set(target.host, (resolved.get(target.host) ?? new Set()).add(address));
  }
  const requests = parsed.map(({ line, target, lineNumber }): LoggedRequest => {
    const addresses = resolved.get(target.host);
    return {
      request: { client: line.client, method: line.method, ...target, ...(addresses ? { resolved: [...addresses] } : {}) },
      logged: line.result.startsWith("TCP_DENIED") ? "denied" : "allowed",
      ...(line.appVpc ? { appVpc: line.appVpc } : {}),
      lineNumber,
    };
  });
  return { requests, skipped };
}
