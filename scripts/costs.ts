/**
 * `npm run costs -- [stack dir or cdk.tf.json ...]`: the monthly estimate of each synthesized
 * environment stack (every stack in cdktf.out without arguments, bootstrap stacks aside), priced for
 * the stack's own region from tools/prices.ts, or marked "not known" where the table has no price.
 */
import * as fs from "fs";
import * as path from "path";
import { answerHelp, synthesizedStackFiles } from "../tools/cli";
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

function main(): void {
  const sections: string[] = [];
  for (const file of synthesizedStackFiles(process.argv.slice(2), process.env.CDKTF_OUTDIR ?? path.join(ROOT, "cdktf.out"))) {
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
