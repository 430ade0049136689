/** Environment files: the schema, the checks across settings, loading, and derived values. */
export * from "./schema";
export * from "./checks";
export * from "./derived";
export * from "./egress";
export * from "./load";
export * from "./path-text";
export * from "./sources";
