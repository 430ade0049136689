/** Squid's access log as CloudWatch Logs holds it: the Logs Insights query verify runs and how a line is read. */
import { ACCESS_LOG_FIELDS } from "../../lib/squid";
import { probePath } from "./commands";

/** One line of the proxy's access log: Squid's native format, then the app VPC. */
export interface SquidLine {
  readonly client: string;
  /** Squid's result code and the HTTP status, such as TCP_MISS/200 or TCP_DENIED/403. */
  readonly result: string;
  readonly method: string;
  readonly url: string;
  /** The app VPC the proxy saw the request come from; undefined when none matched ("-") or the line has no such column. */
  readonly appVpc?: string;
}

/** Where the app VPC is in a line: the last column. */
const APP_VPC_COLUMN = ACCESS_LOG_FIELDS.length - 1;

/** The Logs Insights query for this run's lines: its probe path (plain HTTP) or any CONNECT (TLS, whose path Squid never sees). */
export function squidQuery(nonce: string): string {
  return `fields @timestamp, @message | filter @message like "${probePath(nonce)}" or @message like " CONNECT " | sort @timestamp asc | limit 10000`;
}

/** Reads a line: time elapsed client result/status bytes method url ... [app VPC]; undefined for anything else. */
export function parseSquidLine(message: string): SquidLine | undefined {
  const f = message.trim().split(/\s+/);
  if (f.length < 7 || !/^\d+\.\d+$/.test(f[0]) || !f[3].includes("/")) return undefined;
  const app = f[APP_VPC_COLUMN];
  return { client: f[2], result: f[3], method: f[5], url: f[6], ...(app !== undefined && app !== "-" && { appVpc: app }) };
}

/** The logged URL of a request: CONNECT host:port for TLS, the absolute URL with this run's path for plain HTTP. */
export function loggedUrl(url: string, nonce: string): { method: string; url: string } {
  const u = new URL(url);
  if (u.protocol === "https:") return { method: "CONNECT", url: `${u.hostname}:${u.port || "443"}` };
  return { method: "GET", url: `${u.protocol}//${u.host}${probePath(nonce)}` };
}
