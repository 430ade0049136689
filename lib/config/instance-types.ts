/**
 * EC2 instance types: which exist (the EC2 API's own list, as the AWS SDK the project already uses
 * ships it; no network), which processor architecture each has, and which have less memory than
 * Windows Server needs. Pure: what the environment schema and its checks use.
 */
import * as fs from "fs";
import { distance } from "fastest-levenshtein";

/** The package whose `_InstanceType` enum lists every instance type the EC2 API accepts. */
const SDK_PACKAGE = "@aws-sdk/client-ec2";

/** A processor architecture that AMIs are built for. */
export type Architecture = "x86_64" | "arm64";

let known: ReadonlySet<string> | undefined;

/** Every instance type of the EC2 API, read once. */
export function ec2InstanceTypes(): ReadonlySet<string> {
  return (known ??= new Set(sdkInstanceTypes()));
}

/**
 * The values of the SDK's `_InstanceType` enum. The client's CommonJS build is one module that
 * takes ~220 ms to load, a third of a synthesis; the same enum is also shipped as an ES module of
 * plain constants (dist-es/models/enums.js), read here as text in about a millisecond. Should a
 * later SDK lay its files out otherwise, the whole client is loaded instead: slower, same list.
 */
export function sdkInstanceTypes(): string[] {
  const fromText = instanceTypesInEnumsModule();
  if (fromText.length > 0) return fromText;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- loaded lazily: the whole client takes a second, and only this fallback needs it
  return Object.values((require(SDK_PACKAGE) as { _InstanceType: Record<string, string> })._InstanceType);
}

/** The instance types in the SDK's enums module, or none when it has no such enum where expected. */
export function instanceTypesInEnumsModule(): string[] {
  let text: string;
  try {
    text = fs.readFileSync(require.resolve(`${SDK_PACKAGE}/dist-es/models/enums.js`), "utf8");
  } catch {
    return [];
  }
  const body = /^export const _InstanceType = \{([^}]*)\};$/m.exec(text)?.[1] ?? "";
  return [...body.matchAll(/^\s*\w+: "([^"]+)",?$/gm)].map((m) => m[1]);
}

/** The version of the SDK package that the list comes from, for messages. */
function sdkVersion(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- read lazily, only when a message names the SDK's version
  return (require(`${SDK_PACKAGE}/package.json`) as { version: string }).version;
}

/** The family of an instance type: what comes before the dot (t4g of t4g.micro). */
export function familyOf(instanceType: string): string {
  return instanceType.split(".")[0];
}

/**
 * Why `value` is not an instance type of the EC2 API, with the type most likely meant; undefined
 * when it is one.
 */
export function instanceTypeProblem(value: string): string | undefined {
  const types = ec2InstanceTypes();
  if (types.has(value)) return undefined;
  if (types.has(value.toLowerCase())) return `has capital letters; instance types are lowercase, so write "${value.toLowerCase()}"`;
  const nearest = Math.min(...[...types].map((t) => distance(value, t)));
  if (nearest <= 2) {
    // Of the equally near, those that start as the value does first: "m7.large" means m7a, m7g or m7i sooner than m1.
    const shared = (t: string) => {
      const differs = [...t].findIndex((c, i) => c !== value[i]);
      return differs < 0 ? t.length : differs;
    };
    const near = [...types]
      .filter((t) => distance(value, t) === nearest)
      .sort((a, b) => shared(b) - shared(a))
      .slice(0, 5);
    return `is not an EC2 instance type; did you mean ${near.length === 1 ? `"${near[0]}"` : `one of ${near.map((t) => `"${t}"`).join(", ")}`}?`;
  }
  const family = familyOf(value);
  const sizes = [...types]
    .filter((t) => familyOf(t) === family)
    .map((t) => t.slice(family.length + 1))
    .sort((a, b) => sizeRank(a) - sizeRank(b));
  if (sizes.length > 0) return `is not a size of ${family}; ${family} comes in ${sizes.join(", ")}`;
  return `is not an EC2 instance type (the EC2 API's list in ${SDK_PACKAGE} ${sdkVersion()} has no such type); write one such as t3.micro, or update ${SDK_PACKAGE} for a type announced since`;
}

/** Where a size comes among its family's sizes: nano to medium, large, xlarge, 2xlarge ..., metal. */
function sizeRank(size: string): number {
  const small = ["nano", "micro", "small", "medium", "large"].indexOf(size);
  if (small >= 0) return small;
  const times = /^(\d*)xlarge$/.exec(size);
  if (times) return 100 + Number(times[1] || 1);
  const metal = /^metal(?:-(\d+)xl)?$/.exec(size);
  return metal ? 10000 + Number(metal[1] ?? 0) : 100000;
}

/**
 * The architecture of an instance type. Graviton families are a1 and those whose name has a "g"
 * right after the generation digit (t4g, m6gd, c7gn, im4gn, x2gd, g5g); NVIDIA Grace families carry
 * "-gb" (p6e-gb200). Every other family is x86_64 (Intel or AMD).
 */
export function architectureOf(instanceType: string): Architecture {
  const family = familyOf(instanceType);
  return family === "a1" || /^[a-z]+\d+g/.test(family) || /-gb\d/.test(family) ? "arm64" : "x86_64";
}

/** Mac instances (mac1, mac2-m2, mac-m4, ...) run only macOS, on Dedicated Hosts. */
export function isMacInstanceType(instanceType: string): boolean {
  return familyOf(instanceType).startsWith("mac");
}

/**
 * The memory of an instance type in GiB when it is below 1 GiB (the nano sizes 0.5 GiB, t1.micro
 * 0.613 GiB); undefined for every other type, which has 1 GiB or more.
 */
export function memoryBelowOneGiB(instanceType: string): number | undefined {
  if (instanceType === "t1.micro") return 0.613;
  return instanceType.endsWith(".nano") ? 0.5 : undefined;
}

/** The architecture an SSM parameter's name says its AMI is built for, if it says one. */
export function parameterArchitecture(parameter: string): Architecture | undefined {
  if (/arm64|aarch64/i.test(parameter)) return "arm64";
  if (/x86_64|amd64/i.test(parameter)) return "x86_64";
  return undefined;
}
