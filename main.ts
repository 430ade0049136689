/**
 * Wiring only: read the environment files, build the stacks, check the policy, synthesize.
 * Environment files: every file of environments/ (PROXY_ENVIRONMENTS_DIR=<folder> names another),
 * or the demos of demos/ when it holds none; PROXY_CONFIG=<file> synthesizes that one file instead.
 * Each synthesized stack records the files it came from and their SHA-256, for deploy to check.
 * PROXY_EMULATOR_ENDPOINT=<loopback URL> sends every AWS call to an emulator (deploy rehearsals).
 * PROXY_STATE_DIR=<folder> keeps the bootstrap stacks' local state there instead of state/.
 * Every file is validated before any stack is built, and the policy pack checks every resource
 * before anything is written, so bad input and policy violations write nothing; a failure also
 * removes the stacks of earlier runs from the output, so no later command reads them. A failure
 * prints its message alone and exits 1.
 */
import * as fs from "fs";
import * as path from "path";
import { App } from "cdktf";
import { addProjectStacks } from "./constructs/project-stacks";
import { environmentWarnings, loadEnvironments, stateBuckets, selectEnvironmentFiles, selectionSettings } from "./lib/config";
import { checkedEmulatorEndpoint } from "./lib/emulator";
import { bootstrapStackName, bootstrapStateFile, LOCAL_STATE_FOLDER } from "./lib/naming";
import { enforcePolicy } from "./lib/policy/pack";
import { clearSynthesizedStacks, recordSources, rescueLegacyState, sourceOf } from "./lib/synth-output";

const outdir = path.resolve(process.env.CDKTF_OUTDIR ?? "cdktf.out");

function synthesize(): void {
  const files = selectEnvironmentFiles(__dirname, selectionSettings(process.env)).files;
  const environments = loadEnvironments(files);
  const sources = files.map((file) => sourceOf(__dirname, file));
  const emulator = process.env.PROXY_EMULATOR_ENDPOINT
    ? checkedEmulatorEndpoint(process.env.PROXY_EMULATOR_ENDPOINT, "PROXY_EMULATOR_ENDPOINT")
    : undefined;
  const localStateDir = path.resolve(process.env.PROXY_STATE_DIR || path.join(__dirname, LOCAL_STATE_FOLDER));
  // Warnings go to standard output: the cdktf CLI shows whatever the app writes to standard error as an error.
  for (const warning of environments.flatMap(environmentWarnings)) console.log(`warning: ${warning}`);
  const buckets = stateBuckets(environments);
  for (const { bucket } of buckets) {
    const stack = bootstrapStackName(bucket);
    const note = rescueLegacyState(outdir, stack, bootstrapStateFile(localStateDir, stack));
    if (note) console.log(`state: ${note}`);
  }

  fs.mkdirSync(outdir, { recursive: true });
  const app = new App({ outdir });
  addProjectStacks(app, environments, { emulatorEndpoint: emulator, localStateDir });
  for (const s of enforcePolicy(app)) console.log(`policy: ${s.rule} suppressed for ${s.path}: ${s.reason}`);
  app.synth();
  // Each stack records the environment files it came from, so that deploy refuses a stale one.
  environments.forEach((env, i) => recordSources(outdir, env.name, [sources[i]]));
  for (const { bucket, environments: users } of buckets) {
    recordSources(
      outdir,
      bootstrapStackName(bucket),
      environments.flatMap((env, i) => (users.includes(env.name) ? [sources[i]] : [])),
    );
  }
}

try {
  synthesize();
} catch (e) {
  clearSynthesizedStacks(outdir);
  console.error((e as Error).message ?? String(e));
  process.exit(1);
}
