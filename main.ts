/**
 * Wiring only: read the environment files, build the stacks, synthesize.
 * PROXY_CONFIG=<file> synthesizes that one file instead of every file in config/.
 * PROXY_EMULATOR_ENDPOINT=<loopback URL> sends every AWS call to an emulator (deploy rehearsals).
 * Every file is validated before any stack is built, and the policy pack checks every resource
 * before anything is written, so bad input and policy violations write nothing.
 */
import { App } from "cdktf";
import * as path from "path";
import { addProjectStacks } from "./constructs/project-stacks";
import { environmentFiles, loadEnvironments } from "./lib/config";
import { checkedEmulatorEndpoint } from "./lib/emulator";
import { enforcePolicy } from "./lib/policy/pack";

const files = process.env.PROXY_CONFIG ? [path.resolve(process.env.PROXY_CONFIG)] : environmentFiles(path.join(__dirname, "config"));
const environments = loadEnvironments(files);
const emulator = process.env.PROXY_EMULATOR_ENDPOINT ? checkedEmulatorEndpoint(process.env.PROXY_EMULATOR_ENDPOINT, "PROXY_EMULATOR_ENDPOINT") : undefined;

const app = new App();
addProjectStacks(app, environments, { emulatorEndpoint: emulator });
for (const s of enforcePolicy(app)) {
  console.error(`policy: ${s.rule} suppressed for ${s.path}: ${s.reason}`);
}
app.synth();
