/**
 * `npm run costs -- [stack dir or cdk.tf.json ...]`: the monthly estimate of each synthesized
 * environment stack (every stack in cdktf.out without arguments, bootstrap stacks aside), priced for
 * the stack's own region from tools/prices.ts, or marked "not known" where the table has no price.
 */
import * as fs from "fs";
import * as path from "path";
import { answerHelp } from "../tools/cli";
import { costTable, PRICED_REGIONS, stackRegion } from "../tools/costs";
import { PRICES_TAKEN } from "../tools/prices";

const USAGE = `
Usage: npm run costs -- [stack dir or cdk.tf.json ...]

The monthly estimate of each synthesized environment stack (every stack in cdktf.out without
arguments, bootstrap stacks aside): what it runs, the unit prices of its own region and the fixed
total, as Markdown tables. Prices are AWS on-demand list prices taken ${PRICES_TAKEN} for
${PRICED_REGIONS.join(", ")}; for any other region the quantities are listed and the prices said
to be not known.

Options:
  --help  print this and do nothing else

Example:
  npx cdktf synth && npm run costs
`;
answerHelp(USAGE);

const ROOT = path.join(__dirname, "..");

function stackFiles(args: string[]): string[] {
  if (args.length > 0) return args.map((a) => (fs.existsSync(a) && fs.statSync(a).isDirectory() ? path.join(a, "cdk.tf.json") : a));
  const stacks = path.join(process.env.CDKTF_OUTDIR ?? path.join(ROOT, "cdktf.out"), "stacks");
  const files = fs.existsSync(stacks) ? fs.readdirSync(stacks).map((s) => path.join(stacks, s, "cdk.tf.json")).filter((f) => fs.existsSync(f)) : [];
  if (files.length === 0) throw new Error(`${path.relative(process.cwd(), stacks) || stacks} holds no synthesized stack; run npx cdktf synth first, or name a stack folder`);
  return files;
}

function main(): void {
  const sections: string[] = [];
  for (const file of stackFiles(process.argv.slice(2))) {
    if (!fs.existsSync(file)) throw new Error(`${file} does not exist; name a stack folder of cdktf.out/stacks or its cdk.tf.json`);
    const stack = JSON.parse(fs.readFileSync(file, "utf8"));
    if (Object.keys(stack.resource?.aws_vpc ?? {}).length === 0) continue; // a bootstrap stack: a bucket, no network
    sections.push(`## ${path.basename(path.dirname(file))} (${stackRegion(stack)})\n\n${costTable(stack)}`);
  }
  console.log(sections.join("\n\n"));
}

try {
  main();
} catch (e) {
  console.error(`npm run costs: ${(e as Error).message}`);
  process.exit(1);
}
