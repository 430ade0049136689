/** The reachability analysis: model, analysis and report, and the whole-network check. */
export * from "./model";
export * from "./analysis";
export * from "./servers";
export * from "./privatelink";
export * from "./report";
export * from "./allowlist";
export * from "./addresses";
export * from "./traffic";
export * from "./network";
export * from "./invariants";
export * from "./paths";
export * from "./zones";
export * from "./whole";
export * from "./whole-report";
