/**
 * The orphan sweep's judgements, pure: what in the account the state does not know, where each belongs, and the import blocks.
 * A killed apply leaves what it created since its last state write (at most every 20 s) in the account and out of the state.
 */

/** A resource found in the account, described in Terraform's terms. */
export interface FoundResource {
  /** The Terraform resource type it would be managed by, such as aws_vpc. */
  readonly type: string;
  /** The id `terraform import` takes for that type (an id, a name, an ARN or a composite). */
  readonly importId: string;
  /** Other identifiers the state may hold it by (an ARN, an association id). */
  readonly aliases?: readonly string[];
  /**
   * Its settings under Terraform's attribute names (such as vpc_id, cidr_block, "tags.Name"),
   * used to find the address it belongs to.
   */
  readonly attributes: Readonly<Record<string, string>>;
}

/** The parts of a Terraform state file (version 4) the sweep reads. */
export interface TerraformState {
  readonly resources?: readonly {
    readonly mode: string;
    readonly type: string;
    readonly name: string;
    readonly module?: string;
    readonly instances: readonly { readonly index_key?: string | number; readonly attributes?: Record<string, unknown> }[];
  }[];
}

/** The parts of a synthesized stack (cdk.tf.json) the sweep reads. */
export interface SynthesizedStack {
  readonly resource?: Record<string, Record<string, Record<string, unknown>>>;
}

/** An orphan with the address it most likely belongs to (undefined when none fits). */
export interface Orphan {
  readonly resource: FoundResource;
  readonly address?: string;
}

/** Resource types whose state id is not the id `terraform import` takes: the key the state holds them by. */
const COMPOSITE_KEYS: Readonly<Record<string, (a: Record<string, unknown>) => string | undefined>> = {
  aws_route: (a) => join("_", a.route_table_id, a.destination_cidr_block || a.destination_ipv6_cidr_block || a.destination_prefix_list_id),
  aws_route_table_association: (a) => join("/", a.subnet_id || a.gateway_id, a.route_table_id),
  aws_iam_role_policy_attachment: (a) => join("/", a.role, a.policy_arn),
  aws_cloudwatch_log_metric_filter: (a) => join(":", a.log_group_name, a.name),
};

function join(separator: string, ...parts: unknown[]): string | undefined {
  return parts.every((p) => typeof p === "string" && p !== "") ? parts.join(separator) : undefined;
}

/** The settings that tell one resource of a type from another, per type ("tags.Name" when none is listed). */
export const IDENTITY: Readonly<Record<string, readonly string[]>> = {
  aws_vpc: ["cidr_block", "tags.Name"],
  aws_subnet: ["vpc_id", "cidr_block", "tags.Name"],
  aws_route_table: ["vpc_id", "tags.Name"],
  aws_route: ["route_table_id", "destination_cidr_block", "destination_prefix_list_id"],
  aws_route_table_association: ["route_table_id", "subnet_id"],
  aws_security_group: ["vpc_id", "name", "tags.Name"],
  aws_default_security_group: ["vpc_id"],
  aws_vpc_security_group_ingress_rule: [
    "security_group_id",
    "ip_protocol",
    "from_port",
    "to_port",
    "cidr_ipv4",
    "referenced_security_group_id",
    "prefix_list_id",
  ],
  aws_vpc_security_group_egress_rule: [
    "security_group_id",
    "ip_protocol",
    "from_port",
    "to_port",
    "cidr_ipv4",
    "referenced_security_group_id",
    "prefix_list_id",
  ],
  aws_vpc_peering_connection: ["vpc_id", "peer_vpc_id", "tags.Name"],
  aws_vpc_endpoint: ["vpc_id", "service_name", "tags.Name"],
  aws_vpc_endpoint_service: ["tags.Name"],
  aws_flow_log: ["vpc_id", "tags.Name"],
  aws_instance: ["tags.Name", "private_ip"],
  aws_iam_role: ["name"],
  aws_iam_instance_profile: ["name"],
  aws_iam_role_policy: ["role", "name"],
  aws_iam_role_policy_attachment: ["role", "policy_arn"],
  aws_cloudwatch_log_group: ["name"],
  aws_cloudwatch_metric_alarm: ["alarm_name"],
  aws_lb: ["name"],
  aws_lb_target_group: ["name"],
  aws_lb_listener: ["load_balancer_arn", "port"],
  aws_launch_template: ["name"],
  aws_autoscaling_group: ["name"],
  aws_nat_gateway: ["subnet_id", "tags.Name"],
  aws_internet_gateway: ["vpc_id", "tags.Name"],
  aws_ec2_transit_gateway: ["tags.Name"],
  aws_ec2_transit_gateway_vpc_attachment: ["vpc_id", "tags.Name"],
  aws_ec2_transit_gateway_route_table: ["tags.Name"],
  aws_ec2_transit_gateway_route_table_association: ["transit_gateway_route_table_id", "transit_gateway_attachment_id"],
  aws_ec2_transit_gateway_route_table_propagation: ["transit_gateway_route_table_id", "transit_gateway_attachment_id"],
  aws_ec2_transit_gateway_route: ["transit_gateway_route_table_id", "destination_cidr_block"],
  aws_route53_resolver_endpoint: ["name", "direction", "tags.Name"],
  aws_route53_resolver_rule: ["domain_name", "rule_type", "name", "tags.Name"],
  aws_route53_resolver_rule_association: ["resolver_rule_id", "vpc_id"],
  aws_ssm_parameter: ["name"],
  aws_cloudwatch_log_metric_filter: ["log_group_name", "name"],
  aws_cloudwatch_dashboard: ["dashboard_name"],
  aws_kms_key: ["description", "tags.Name"],
  aws_kms_alias: ["name"],
  aws_sns_topic: ["name"],
  aws_sns_topic_subscription: ["topic_arn", "protocol", "endpoint"],
};

/** Every key the state holds a managed resource instance by, as "type|key". */
export function stateKeys(state: TerraformState): Set<string> {
  const keys = new Set<string>();
  for (const r of state.resources ?? []) {
    if (r.mode !== "managed") continue;
    for (const instance of r.instances) {
      const a = instance.attributes ?? {};
      for (const key of [a.id, a.arn, COMPOSITE_KEYS[r.type]?.(a)]) {
        if (typeof key === "string" && key !== "") keys.add(`${r.type}|${key}`);
      }
    }
  }
  return keys;
}

/** The resources found that the state does not hold, by any of their identifiers. */
export function unknownToState(found: readonly FoundResource[], state: TerraformState): FoundResource[] {
  const keys = stateKeys(state);
  return found.filter((f) => ![f.importId, ...(f.aliases ?? [])].some((id) => keys.has(`${f.type}|${id}`)));
}

/** A resource the state lacks that is still no orphan to adopt, with why and what to do instead. */
export interface NotAdopted {
  readonly resource: FoundResource;
  readonly reason: string;
}

const KEY_LEAVING = ["PendingDeletion", "PendingReplicaDeletion"];

/**
 * Why a found resource is not to be adopted though the state lacks it, or undefined: a KMS key pending deletion (the
 * provider reads such a key as gone) or an alias of one, and an email subscription not yet confirmed (AWS lists no ARN for it).
 */
export function adoptionRefusal(resource: FoundResource): string | undefined {
  const a = resource.attributes;
  if (resource.type === "aws_kms_key" && KEY_LEAVING.includes(a.key_state ?? "")) {
    const when = a.deletion_date ? ` (deleted on ${a.deletion_date})` : "";
    return `pending deletion${when}: not an orphan to adopt, Terraform cannot manage a key pending deletion; to keep it, aws kms cancel-key-deletion --key-id ${resource.importId} and sweep again, else leave it to AWS`;
  }
  if (resource.type === "aws_kms_alias" && KEY_LEAVING.includes(a.target_key_state ?? "")) {
    return `its key ${a.target_key_id} is pending deletion and the alias goes with it: not an orphan to adopt`;
  }
  if (resource.type === "aws_sns_topic_subscription" && !resource.importId.startsWith("arn:")) {
    return `${a.protocol} subscription of ${a.endpoint} pending confirmation: AWS lists no ARN to import it by; the next apply subscribes the address again, and AWS deletes an unconfirmed subscription after 48 hours`;
  }
  return undefined;
}

/** The resources the state lacks, split into the orphans to adopt and those not to adopt (with why). */
export function judgeUnknown(unknown: readonly FoundResource[]): { adoptable: FoundResource[]; notAdopted: NotAdopted[] } {
  const adoptable: FoundResource[] = [];
  const notAdopted: NotAdopted[] = [];
  for (const resource of unknown) {
    const reason = adoptionRefusal(resource);
    if (reason === undefined) adoptable.push(resource);
    else notAdopted.push({ resource, reason });
  }
  return { adoptable, notAdopted };
}

/** The address of a state resource instance, such as aws_vpc.ProxyVpc_Vpc_1234 or module.m.aws_x.y["a"]. */
function stateAddress(r: NonNullable<TerraformState["resources"]>[number], indexKey: string | number | undefined): string {
  const base = `${r.module ? `${r.module}.` : ""}${r.mode === "data" ? "data." : ""}${r.type}.${r.name}`;
  return indexKey === undefined ? base : `${base}[${JSON.stringify(indexKey)}]`;
}

/** Attributes (flattened one level for tags) of every state resource instance, by address. */
function stateAttributes(state: TerraformState): Map<string, Record<string, string>> {
  const byAddress = new Map<string, Record<string, string>>();
  for (const r of state.resources ?? []) {
    for (const instance of r.instances) byAddress.set(stateAddress(r, instance.index_key), flatten(instance.attributes ?? {}));
  }
  return byAddress;
}

function flatten(attributes: Record<string, unknown>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [key, value] of Object.entries(attributes)) {
    if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") flat[key] = String(value);
    else if (key === "tags" && value && typeof value === "object") {
      for (const [tag, tagValue] of Object.entries(value)) if (typeof tagValue === "string") flat[`tags.${tag}`] = tagValue;
    }
  }
  return flat;
}

const REFERENCE = /\$\{([^}]*)\}/g;

/**
 * A synthesized value as a test of a found value: literal text must be equal, and each
 * `${address.attribute}` must be the value known for that address, or (unknown) anything.
 * Undefined when the synthesized value says nothing (absent, or nothing but unknown references).
 */
function valueTest(template: unknown, known: Map<string, Record<string, string>>): ((found: string) => boolean) | undefined {
  if (template === undefined || template === null) return undefined;
  if (typeof template !== "string") return typeof template === "object" ? undefined : (found) => found === String(template);
  let pattern = "";
  let last = 0;
  let literal = false;
  for (const match of template.matchAll(REFERENCE)) {
    const text = template.slice(last, match.index);
    pattern += escape(text);
    literal ||= text !== "";
    const reference = match[1].trim();
    const dot = reference.lastIndexOf(".");
    const value = dot > 0 ? known.get(reference.slice(0, dot))?.[reference.slice(dot + 1)] : undefined;
    if (value === undefined) pattern += "(.*?)";
    else {
      pattern += escape(value);
      literal = true;
    }
    last = match.index! + match[0].length;
  }
  const rest = template.slice(last);
  pattern += escape(rest);
  literal ||= rest !== "";
  if (!literal) return undefined;
  const expression = new RegExp(`^${pattern}$`);
  return (found) => expression.test(found);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

function configValue(config: Record<string, unknown>, key: string): unknown {
  if (key.startsWith("tags.")) return (config.tags as Record<string, unknown> | undefined)?.[key.slice(5)];
  return config[key];
}

/**
 * How well a synthesized resource fits a found one: undefined when a setting differs, else the
 * number of settings that agree.
 */
function fit(resource: FoundResource, config: Record<string, unknown>, known: Map<string, Record<string, string>>): number | undefined {
  let agreed = 0;
  for (const key of IDENTITY[resource.type] ?? ["tags.Name"]) {
    const found = resource.attributes[key];
    const test = valueTest(configValue(config, key), known);
    if (found === undefined || test === undefined) continue;
    if (!test(found)) return undefined;
    agreed++;
  }
  return agreed;
}

/**
 * The address each orphan most likely belongs to: the unrecorded synthesized resource of its type whose identifying
 * settings agree best (one agreeing at least, none differing, no tie), in passes until nothing more is placed.
 * Resources with count or for_each are not placed, since their instances' keys are not known before a plan.
 */
export function placeOrphans(orphans: readonly FoundResource[], synthesized: SynthesizedStack, state: TerraformState): Orphan[] {
  const known = stateAttributes(state);
  const taken = new Set(known.keys());
  const placed = new Map<FoundResource, string>();
  for (let pass = 0; pass < 10; pass++) {
    let progress = false;
    for (const orphan of orphans) {
      if (placed.has(orphan)) continue;
      const candidates = Object.entries(synthesized.resource?.[orphan.type] ?? {})
        .filter(([name, config]) => !taken.has(`${orphan.type}.${name}`) && config.count === undefined && config.for_each === undefined)
        .map(([name, config]) => ({ address: `${orphan.type}.${name}`, score: fit(orphan, config, known) }))
        .filter((c): c is { address: string; score: number } => c.score !== undefined && c.score > 0)
        .sort((a, b) => b.score - a.score);
      if (candidates.length === 0 || (candidates.length > 1 && candidates[1].score === candidates[0].score)) continue;
      const address = candidates[0].address;
      placed.set(orphan, address);
      taken.add(address);
      known.set(address, { id: orphan.importId, ...orphan.attributes });
      progress = true;
    }
    if (!progress) break;
  }
  return orphans.map((resource) => ({ resource, address: placed.get(resource) }));
}

/** Terraform `import` blocks (JSON syntax) for the orphans that have an address. */
export function importBlocks(orphans: readonly Orphan[]): { import: { to: string; id: string }[] } {
  return {
    import: orphans
      .filter((o): o is Orphan & { address: string } => o.address !== undefined)
      .map((o) => ({ to: o.address, id: o.resource.importId }))
      .sort((a, b) => a.to.localeCompare(b.to)),
  };
}
