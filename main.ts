/**
 * Wiring only: read the environment files, build one stack per environment, synthesize.
 * PROXY_CONFIG=<file> synthesizes that one file instead of every file in config/.
 * PROXY_EMULATOR_ENDPOINT=<loopback URL> sends every AWS call to an emulator (deploy rehearsals).
 * Every file is validated before any stack is built, so bad input writes nothing.
 */
import { App } from "cdktf";
import * as path from "path";
import { EnvironmentStack } from "./constructs/environment-stack";
import { environmentFiles, loadEnvironments } from "./lib/config";
import { checkedEmulatorEndpoint } from "./lib/emulator";

const files = process.env.PROXY_CONFIG ? [path.resolve(process.env.PROXY_CONFIG)] : environmentFiles(path.join(__dirname, "config"));
const environments = loadEnvironments(files);
const emulator = process.env.PROXY_EMULATOR_ENDPOINT ? checkedEmulatorEndpoint(process.env.PROXY_EMULATOR_ENDPOINT, "PROXY_EMULATOR_ENDPOINT") : undefined;

const app = new App();
for (const config of environments) {
  new EnvironmentStack(app, config.name, { config, emulatorEndpoint: emulator });
}
app.synth();
