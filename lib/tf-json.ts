/**
 * Reading synthesized Terraform JSON (cdk.tf.json, or a stack's `toTerraform()`): resources,
 * references between them, nested blocks, and what a security group rule covers. The policy
 * rules and the reachability analysis both read stacks through this one module.
 */

/** A resource's or block's attributes as synthesized: snake_case keys, JSON values. */
export type Attributes = Record<string, unknown>;

/** A synthesized stack, as far as these helpers read it. */
export interface TerraformJson {
  readonly resource?: Record<string, Record<string, Attributes>>;
  readonly data?: Record<string, Record<string, Attributes>>;
}

/** A resource as synthesized. */
export interface ResourceView {
  /** The Terraform resource type, such as aws_instance. */
  readonly type: string;
  /** The Terraform logical id. */
  readonly logicalId: string;
  /** The construct path, such as verification/Proxy/Server/Resource. */
  readonly path: string;
  /** The attributes as synthesized (snake_case, references as ${type.name.attr} text). */
  readonly attrs: Attributes;
}

/** Every resource of a synthesized stack. */
export function resourceViews(json: TerraformJson): ResourceView[] {
  return Object.entries(json.resource ?? {}).flatMap(([type, byId]) =>
    Object.entries(byId).map(([logicalId, attrs]) => ({ type, logicalId, path: metadataPath(attrs) ?? logicalId, attrs })),
  );
}

/** The construct path cdktf records in a resource's "//" metadata. */
function metadataPath(attrs: Attributes): string | undefined {
  const path = (attrs["//"] as { metadata?: { path?: unknown } } | undefined)?.metadata?.path;
  return typeof path === "string" ? path : undefined;
}

/** The address of a resource, such as aws_vpc.ProxyVpc_1234. */
export function addressOf(type: string, logicalId: string): string {
  return `${type}.${logicalId}`;
}

/** The ${type.name.attr} text by which other resources refer to a resource. */
export function referenceTo(resource: Pick<ResourceView, "type" | "logicalId">, attribute = "id"): string {
  return `\${${resource.type}.${resource.logicalId}.${attribute}}`;
}

/**
 * The address (type.name, or data.type.name for a data source) that a reference such as
 * ${aws_vpc.ProxyVpc_1234.id} points at; undefined for a literal or any other expression.
 */
export function referencedAddress(value: unknown): string | undefined {
  const m = typeof value === "string" ? /^\$\{(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)\.[a-z_]+\}$/.exec(value) : null;
  return m ? `${m[1] ?? ""}${addressOf(m[2], m[3])}` : undefined;
}

/** A Terraform list or single block as an array (nested blocks synthesize either way). */
export function blocks(value: unknown): Attributes[] {
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]) as Attributes[];
}

/** The transports a rule's protocol field can name. */
export type Transport = "tcp" | "udp";

const PROTOCOL_NAMES: Record<Transport, readonly string[]> = { tcp: ["tcp", "6"], udp: ["udp", "17"] };

/** Does a protocol field ("tcp", "6", "-1", "all" ...) carry `transport`? */
export function protocolCarries(protocol: unknown, transport: Transport): boolean {
  const p = String(protocol ?? "").toLowerCase();
  return p === "-1" || p === "all" || PROTOCOL_NAMES[transport].includes(p);
}

/** Does a protocol field mean every protocol and port? */
export function isAllTraffic(protocol: unknown): boolean {
  const p = String(protocol ?? "").toLowerCase();
  return p === "-1" || p === "all";
}

/**
 * Does a security group rule (any of Terraform's shapes: ip_protocol or protocol, from_port and
 * to_port) admit `port` over one of `transports`?
 */
export function coversPort(rule: Attributes, port: number, transports: readonly Transport[] = ["tcp", "udp"]): boolean {
  const protocol = rule.ip_protocol ?? rule.protocol;
  if (isAllTraffic(protocol)) return true;
  const from = Number(rule.from_port);
  const to = Number(rule.to_port ?? rule.from_port);
  return transports.some((t) => protocolCarries(protocol, t)) && from <= port && port <= to;
}

/** The ingress rules a resource carries, in every form Terraform knows. */
export function ingressRules(resource: ResourceView): Attributes[] {
  switch (resource.type) {
    case "aws_vpc_security_group_ingress_rule":
      return [resource.attrs];
    case "aws_security_group_rule":
      return resource.attrs.type === "ingress" ? [resource.attrs] : [];
    case "aws_security_group":
    case "aws_default_security_group":
      return blocks(resource.attrs.ingress);
    default:
      return [];
  }
}

/** The resource types that can carry ingress rules. */
export const INGRESS_TYPES = [
  "aws_vpc_security_group_ingress_rule",
  "aws_security_group_rule",
  "aws_security_group",
  "aws_default_security_group",
] as const;
