/**
 * `npm run diagram [stack dir or cdk.tf.json ...]`: diagram.svg, .dot and .mmd beside each synthesized stack's cdk.tf.json,
 * with expected flows and surroundings from the environment files, as for `npm run reachability`.
 */
import * as fs from "fs";
import * as path from "path";
import { loadEnvironments, selectEnvironmentFiles, selectionSettings } from "../lib/config";
import { expectedFlowsOf, surroundingsOf } from "../proof/reachability";
import { picture, toDot, toMermaid, toSvg } from "../tools/diagram";
import { answerHelp, SELECTION_HELP, synthesizedStackFiles } from "../tools/cli";

const USAGE = `
Usage: npm run diagram -- [stack dir or cdk.tf.json ...]

One picture per synthesized stack (every stack in cdktf.out without arguments, bootstrap stacks
aside): diagram.svg, diagram.dot and diagram.mmd in the stack's folder, with the flows the
environment expects.

Options:
  --help  print this and do nothing else

${SELECTION_HELP}

Example:
  npx cdktf synth && npm run diagram
`;
answerHelp(USAGE);

const ROOT = path.join(__dirname, "..");

async function main(): Promise<void> {
  const configFiles = selectEnvironmentFiles(ROOT, selectionSettings(process.env)).files;
  const environments = new Map(loadEnvironments(configFiles).map((e) => [e.name, e]));
  for (const file of synthesizedStackFiles(process.argv.slice(2), process.env.CDKTF_OUTDIR ?? path.join(ROOT, "cdktf.out"))) {
    const stackName = path.basename(path.dirname(file));
    const stack = JSON.parse(fs.readFileSync(file, "utf8"));
    if (Object.keys(stack.resource?.aws_vpc ?? {}).length === 0) continue; // a bootstrap stack: a bucket, no network
    const env = environments.get(stackName);
    const expected = env ? expectedFlowsOf(env) : [];
    const p = picture(stack, expected, env ? surroundingsOf(env) : {});
    const dot = toDot(stackName, p);
    const dir = path.dirname(file);
    fs.writeFileSync(path.join(dir, "diagram.dot"), dot);
    fs.writeFileSync(path.join(dir, "diagram.mmd"), toMermaid(p));
    fs.writeFileSync(path.join(dir, "diagram.svg"), await toSvg(dot));
    console.log(`${stackName}: ${path.relative(process.cwd(), path.join(dir, "diagram.svg"))} (and diagram.dot, diagram.mmd)`);
  }
}

main().catch((e) => {
  console.error(`npm run diagram: ${(e as Error).message}`);
  process.exit(2);
});
