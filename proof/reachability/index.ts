/** The reachability analysis: model, analysis and report. */
export * from "./model";
export * from "./analysis";
export * from "./report";
export * from "./allowlist";
