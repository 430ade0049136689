#!/usr/bin/env node
/**
 * The cdktf app command (cdktf.json) and the npm scripts' runner: runs main.ts, or the TypeScript file given, as one
 * esbuild bundle in memory. It skips a per-file transform and source-map handling (docs/benchmarks.md);
 * NODE_OPTIONS=--enable-source-maps maps traces back. Each bundled file keeps its own __dirname.
 * The bundle is kept in node_modules/.cache/app-bundle with the SHA-256 of every file it was built from, and reused
 * only while every one of those files still has that content.
 */
"use strict";
const crypto = require("crypto");
const fs = require("fs");
const Module = require("module");
const path = require("path");

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
/** The name the bundle gives the entry's folder, from which each other file's __dirname is found. */
const ENTRY_DIR = "__bundleEntryDir";
const CACHE = path.join(__dirname, "..", "node_modules", ".cache", "app-bundle");
const sha256 = (file) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

// This file's own content is in the key: a change to how it bundles makes every bundle anew.
const esbuildVersion = require("esbuild/package.json").version;
const key = crypto
  .createHash("sha256")
  .update(JSON.stringify([esbuildVersion, OPTIONS, sha256(__filename)]))
  .digest("hex")
  .slice(0, 16);
const cached = path.join(CACHE, `${key}.json`);

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

/**
 * Gives each file that reads __dirname its own folder, relative to the entry's (a bundle has only the entry's), so
 * that a file such as proof/moto.ts finds the files beside it wherever the checkout is.
 */
const ownDirname = {
  name: "own-dirname",
  setup(build) {
    build.onLoad({ filter: /\.ts$/ }, (args) => {
      const source = fs.readFileSync(args.path, "utf8");
      if (args.path === entry || !/\b__dirname\b/.test(source)) return { contents: source, loader: "ts" };
      const relative = path.relative(path.dirname(entry), path.dirname(args.path));
      // esbuild renames this top-level const apart from every other file's, and from the entry's own __dirname.
      const own = `const __dirname = require("path").join(${ENTRY_DIR}, ${JSON.stringify(relative)});`;
      return { contents: `${own} ${source}`, loader: "ts" };
    });
  },
};

/** Bundles the entry and keeps the result (written whole by a rename, so that runs at the same time read a complete file). */
async function freshBundle() {
  const esbuild = require("esbuild");
  const { outputFiles, metafile } = await esbuild.build({
    ...OPTIONS,
    metafile: true,
    banner: { js: `const ${ENTRY_DIR} = __dirname;` },
    plugins: [ownDirname],
  });
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
const ready = cachedBundle();
if (ready !== undefined) app._compile(ready, entry);
else
  freshBundle().then(
    (text) => app._compile(text, entry),
    // esbuild has printed what it could not build.
    () => process.exit(1),
  );
