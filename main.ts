/**
 * Wiring only: read the environment files, build one stack per environment, synthesize.
 * PROXY_CONFIG=<file> synthesizes that one file instead of every file in config/.
 * Every file is validated before any stack is built, so bad input writes nothing.
 */
import { App } from "cdktf";
import * as path from "path";
import { EnvironmentStack } from "./constructs/environment-stack";
import { environmentFiles, loadEnvironments } from "./lib/config";

const files = process.env.PROXY_CONFIG ? [path.resolve(process.env.PROXY_CONFIG)] : environmentFiles(path.join(__dirname, "config"));
const environments = loadEnvironments(files);

const app = new App();
for (const config of environments) {
  new EnvironmentStack(app, config.name, { config });
}
app.synth();
