/** An environment's deployed state as verify reads it: outputs, managed resources, instances by name. */

/** An instance the state holds. */
export interface Instance {
  readonly id: string;
  readonly privateIp?: string;
}

/** What verify needs of a Terraform state file. */
export interface DeployedState {
  readonly outputs: Readonly<Record<string, unknown>>;
  /** Managed resources' addresses (type.name, with [index] for counted ones). */
  readonly addresses: readonly string[];
  /** Instances by their Name tag. */
  readonly instancesByName: Readonly<Record<string, Instance>>;
  /** Instances by their id. */
  readonly instancesById: Readonly<Record<string, Instance>>;
  /** The ids of managed resources, by type. */
  readonly idsByType: Readonly<Record<string, readonly string[]>>;
  /** Interface endpoints' ids by their first DNS name, which the app VPCs' proxy endpoint outputs give (PrivateLink). */
  readonly endpointIdsByDns: Readonly<Record<string, string>>;
  readonly serial: number;
}

interface StateFile {
  serial?: number;
  outputs?: Record<string, { value?: unknown }>;
  resources?: {
    mode?: string;
    type?: string;
    name?: string;
    instances?: { index_key?: unknown; attributes?: Record<string, unknown> }[];
  }[];
}

/** Reads a state file's text (format version 4); throws with a plain reason for anything else. */
export function parseState(text: string): DeployedState {
  const state = JSON.parse(text) as StateFile;
  const outputs = Object.fromEntries(Object.entries(state.outputs ?? {}).map(([k, v]) => [k, v.value]));
  const addresses: string[] = [];
  const instancesByName: Record<string, Instance> = {};
  const instancesById: Record<string, Instance> = {};
  const idsByType: Record<string, string[]> = {};
  const endpointIdsByDns: Record<string, string> = {};
  for (const r of state.resources ?? []) {
    if (r.mode !== "managed") continue;
    for (const i of r.instances ?? []) {
      addresses.push(`${r.type}.${r.name}${i.index_key === undefined ? "" : `[${JSON.stringify(i.index_key)}]`}`);
      const tags = i.attributes?.tags as Record<string, string> | null | undefined;
      const id = i.attributes?.id;
      if (typeof id === "string" && r.type) (idsByType[r.type] ??= []).push(id);
      const dns = (i.attributes?.dns_entry as { dns_name?: unknown }[] | undefined)?.[0]?.dns_name;
      if (r.type === "aws_vpc_endpoint" && typeof id === "string" && typeof dns === "string") endpointIdsByDns[dns] = id;
      if (r.type !== "aws_instance" || typeof id !== "string") continue;
      const privateIp = i.attributes?.private_ip;
      const instance = { id, privateIp: typeof privateIp === "string" ? privateIp : undefined };
      instancesById[id] = instance;
      if (tags?.Name) instancesByName[tags.Name] = instance;
    }
  }
  return {
    outputs,
    addresses: [...new Set(addresses)].sort(),
    instancesByName,
    instancesById,
    idsByType,
    endpointIdsByDns,
    serial: state.serial ?? 0,
  };
}

/** The managed resources a synthesized stack declares, as type.name. */
export function synthesizedAddresses(stack: { resource?: Record<string, Record<string, unknown>> }): string[] {
  return Object.entries(stack.resource ?? {})
    .flatMap(([type, byName]) => Object.keys(byName).map((name) => `${type}.${name}`))
    .sort();
}

/** Why the state is not the deployment of this synthesized stack, or undefined when their resources agree. */
export function staleStateProblem(
  state: DeployedState,
  stack: { resource?: Record<string, Record<string, unknown>> },
  source: string,
): string | undefined {
  const deployed = new Set(state.addresses.map((a) => a.replace(/\[.*\]$/, "")));
  const declared = synthesizedAddresses(stack);
  const notDeployed = declared.filter((a) => !deployed.has(a));
  const gone = [...deployed].filter((a) => !declared.includes(a));
  if (notDeployed.length === 0 && gone.length === 0) return undefined;
  const sample = (list: string[]) => list.slice(0, 3).join(", ") + (list.length > 3 ? `, and ${list.length - 3} more` : "");
  return [
    `the deployed state is not ${source} as it stands now:`,
    notDeployed.length ? ` ${notDeployed.length} resource(s) not deployed yet (${sample(notDeployed)});` : "",
    gone.length ? ` ${gone.length} deployed resource(s) no longer in it (${sample(gone)});` : "",
    " deploy first (npm run deploy), then verify.",
  ].join("");
}
