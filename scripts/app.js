#!/usr/bin/env node
/**
 * The cdktf app command (cdktf.json): runs main.ts, or the TypeScript file given, as one bundle.
 * esbuild compiles the project's own TypeScript into a single module in memory (packages stay
 * external and load from node_modules as usual) and Node runs it under the entry's own path, so
 * `__dirname` is the project folder. Compared with a per-file TypeScript loader this skips one
 * transform per file and Node's source-map handling of every stack trace cdktf captures; see the
 * bench table in docs/benchmarks.md. Stack traces then point into the bundle: set
 * NODE_OPTIONS=--enable-source-maps to map them back to the TypeScript sources.
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
