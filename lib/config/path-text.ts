/** A problem found by the checks that span several settings: the setting's path and what is wrong. */
export type Issue = { path: (string | number)[]; message: string };

/** `appVpcs[0].cidr` style text for a path. */
export function pathText(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) => (typeof key === "number" ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)),
    "",
  );
}
