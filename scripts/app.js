#!/usr/bin/env node
/**
 * The cdktf app command (cdktf.json): runs main.ts, or the TypeScript file given, as one esbuild bundle in memory.
 * It skips a per-file transform and source-map handling (docs/benchmarks.md); NODE_OPTIONS=--enable-source-maps maps traces back.
 */
"use strict";
const Module = require("module");
const path = require("path");
const esbuild = require("esbuild");

const entry = path.resolve(process.argv[2] || path.join(__dirname, "..", "main.ts"));
const { outputFiles } = esbuild.buildSync({
  entryPoints: [entry],
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  packages: "external",
  sourcemap: "inline",
  write: false,
  logLevel: "error",
});
const app = new Module(entry, module);
app.filename = entry;
app.paths = Module._nodeModulePaths(path.dirname(entry));
process.argv.splice(1, 2, entry);
app._compile(outputFiles[0].text, entry);
