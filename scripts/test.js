#!/usr/bin/env node
// `npm test [-- <jest options>]`: package.json's `typecheck` and `lint` and Jest at the same time; fails when any fails.
// Running them together lets the checks use the time Jest's workers spend waiting on Terraform and moto.
"use strict";
const { spawn } = require("child_process");
const path = require("path");

const ROOT = path.join(__dirname, "..");
const scripts = require(path.join(ROOT, "package.json")).scripts;
const env = { ...process.env, PATH: `${path.join(ROOT, "node_modules", ".bin")}${path.delimiter}${process.env.PATH}` };

/** Runs a step; resolves with its name, exit code, seconds and, unless `inherit`, its output. */
function run(name, command, args, inherit) {
  const started = performance.now();
  const child = spawn(command, args, { cwd: ROOT, env, stdio: inherit ? "inherit" : ["ignore", "pipe", "pipe"] });
  let output = "";
  if (!inherit) {
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
  }
  return new Promise((resolve) => {
    child.on("error", (e) => resolve({ name, code: 1, seconds: 0, output: `${name} could not start: ${e.message}\n` }));
    child.on("close", (code, signal) =>
      resolve({ name, code: code ?? (signal ? 1 : 0), seconds: (performance.now() - started) / 1000, output }),
    );
  });
}

if (process.argv.includes("--help") || process.argv.includes("-h")) {
  console.log(`Usage: npm test [-- <Jest options>]

Runs the type check (tsc), the lint (prettier --check, eslint) and Jest at the same time, prints each
step's time and fails when any fails. The type check and the lint always cover the whole tree.

Options:
  <Jest options>  passed to Jest: a test path pattern, -t <test name>, --ci (npm run test:unit runs Jest alone)
  --help          this text; nothing runs

Example:
  npm test -- __tests__/verify.test.ts`);
  process.exit(0);
}

const steps = [
  run("typecheck", "sh", ["-c", scripts.typecheck]),
  run("lint", "sh", ["-c", scripts.lint]),
  run("jest", process.execPath, [require.resolve("jest/bin/jest"), ...process.argv.slice(2)], true),
];

Promise.all(steps).then((results) => {
  for (const r of results.filter((r) => r.code !== 0 && r.output)) process.stderr.write(`\n== ${r.name} failed:\n${r.output}`);
  const failed = results.filter((r) => r.code !== 0).map((r) => r.name);
  const times = results.map((r) => `${r.name} ${r.seconds.toFixed(1)} s`).join(", ");
  console.log(`npm test: ${times}; ${failed.length === 0 ? "all passed" : `failed: ${failed.join(", ")}`}`);
  process.exitCode = failed.length === 0 ? 0 : 1;
});
