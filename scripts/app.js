#!/usr/bin/env node
/**
 * The cdktf app command (cdktf.json): runs main.ts, or the TypeScript file given, as one esbuild bundle in memory.
 * It skips a per-file transform and source-map handling (docs/benchmarks.md); NODE_OPTIONS=--enable-source-maps maps traces back.
 * The bundle is kept in node_modules/.cache/app-bundle with the SHA-256 of every file it was built from, and reused
 * only while every one of those files still has that content.
 */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const Module = require("module");
const path = require("path");
const esbuild = require("esbuild");

const entry = path.resolve(process.argv[2] || path.join(__dirname, "..", "main.ts"));
const OPTIONS = {
  entryPoints: [entry],
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  packages: "external",
  sourcemap: "inline",
  write: false,
  logLevel: "error",
};
const CACHE = path.join(__dirname, "..", "node_modules", ".cache", "app-bundle");
const key = crypto
  .createHash("sha256")
  .update(JSON.stringify([esbuild.version, OPTIONS]))
  .digest("hex")
  .slice(0, 16);
const cached = path.join(CACHE, `${key}.json`);

const sha256 = (file) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

/** The cached bundle's text when every input file still has the content it was built from. */
function cachedBundle() {
  let saved;
  try {
    saved = JSON.parse(fs.readFileSync(cached, "utf8"));
    return Object.entries(saved.inputs).every(([file, hash]) => sha256(file) === hash) ? saved.text : undefined;
  } catch {
    return undefined;
  }
}

/** Bundles the entry and keeps the result (written whole by a rename, so that runs at the same time read a complete file). */
function freshBundle() {
  const { outputFiles, metafile } = esbuild.buildSync({ ...OPTIONS, metafile: true });
  const text = outputFiles[0].text;
  try {
    const inputs = Object.fromEntries(Object.keys(metafile.inputs).map((f) => [path.resolve(f), sha256(path.resolve(f))]));
    fs.mkdirSync(CACHE, { recursive: true });
    const partial = `${cached}.${process.pid}`;
    fs.writeFileSync(partial, JSON.stringify({ inputs, text }));
    fs.renameSync(partial, cached);
  } catch {
    // A read-only checkout runs without the cache.
  }
  return text;
}

const app = new Module(entry, module);
app.filename = entry;
app.paths = Module._nodeModulePaths(path.dirname(entry));
process.argv.splice(1, 2, entry);
app._compile(cachedBundle() ?? freshBundle(), entry);
