/**
 * What is wrong with one entry of `services[].ports`, in words: the entry is either a port number
 * or `{ "port": <number>, "carries": "http" | "tls" }`, and a mistake in either form gets a message
 * that says which part is wrong and what the entry may be. The schema's union of the two forms
 * calls this when neither form accepts the value (zod would say only "Invalid input").
 */
import { distance } from "fastest-levenshtein";

/** What `carries` may say. */
export const PORT_CARRIES = ["http", "tls"] as const;

/** The two forms of a port entry, for messages. */
export const PORT_ENTRY_FORMS =
  'a port number from 1 to 65535 (443 carries TLS, any other plain HTTP), or { "port": <number>, "carries": "http" or "tls" }';

/** What a mistaken "carries" most likely means. */
const CARRIES_MEANT: Record<string, (typeof PORT_CARRIES)[number]> = {
  https: "tls",
  ssl: "tls",
  tls: "tls",
  connect: "tls",
  http: "http",
  plain: "http",
};

const isWholePort = (value: unknown): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535;

/** The part of a message that says what is wrong with a port number (the bare entry or an object's "port"). */
function portNumberProblem(value: unknown): string | undefined {
  if (typeof value === "string") {
    const n = Number(value.trim());
    return value.trim() !== "" && isWholePort(n) ? `is text; write the number without quotes (${n})` : "is text, not a port number";
  }
  if (typeof value !== "number") return `is ${kindOf(value)}, not a port number`;
  if (!Number.isInteger(value)) return `is not a whole number`;
  if (!isWholePort(value)) return "is out of range";
  return undefined;
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/** Why `value` is neither form of a port entry, ending with what the entry may be. */
export function portEntryProblem(value: unknown): string {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return `${portNumberProblem(value) ?? "is not a port entry"}; an entry is ${PORT_ENTRY_FORMS}`;
  }
  const entry = value as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(entry).filter((k) => k !== "port" && k !== "carries")) {
    const near = ["port", "carries"].find((k) => !(k in entry) && distance(key.toLowerCase(), k) <= 3);
    problems.push(`has the unknown setting "${key}"${near ? ` (did you mean "${near}"?)` : ""}`);
  }
  const portProblem = "port" in entry ? portNumberProblem(entry.port) : undefined;
  if (!("port" in entry)) problems.push(`has no "port"`);
  else if (portProblem) problems.push(`its "port" ${portProblem}`);
  if (!("carries" in entry)) {
    problems.push(`has no "carries"`);
  } else if (!PORT_CARRIES.includes(entry.carries as (typeof PORT_CARRIES)[number])) {
    const meant = typeof entry.carries === "string" ? CARRIES_MEANT[entry.carries.trim().toLowerCase()] : undefined;
    problems.push(
      `its "carries" is ${JSON.stringify(entry.carries)}, which is neither "http" (plain HTTP requests) nor "tls" (HTTPS through CONNECT)${meant ? `; write "${meant}"` : ""}`,
    );
  }
  return `${problems.length > 0 ? problems.join(", ") : "is not a port entry"}; an entry is ${PORT_ENTRY_FORMS}`;
}
