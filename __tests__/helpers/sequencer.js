// Jest sequencer: failed suites first, then the slowest first, by Jest's timings of the last run or, where it has none (a clean clone), by these estimates.
// Slowest first keeps both workers busy until the end instead of leaving one suite of Terraform running alone.
"use strict";
const path = require("path");
const Sequencer = require("@jest/test-sequencer").default;

/** Seconds each slow suite took in a full run (docs/benchmarks.md); the others take about a second. */
const ESTIMATES = {
  "main.test.ts": 20,
  "terraform-plan.test.ts": 18,
  "deploy.test.ts": 16,
  "terraform-validate.test.ts": 15,
  "cli.test.ts": 12,
  "diagram.test.ts": 11,
  "reachability.test.ts": 9,
  "verify.test.ts": 8,
  "orphan-inventory.test.ts": 6,
  "emulator-server.test.ts": 6,
  "orphans.test.ts": 5,
  "costs.test.ts": 5,
};

class SlowestFirst extends Sequencer {
  sort(tests) {
    const seconds = (test) => {
      const ms = this.time(test);
      return ms != null ? ms / 1000 : (ESTIMATES[path.basename(test.path)] ?? 1);
    };
    return [...tests].sort((a, b) => Number(this.hasFailed(b)) - Number(this.hasFailed(a)) || seconds(b) - seconds(a));
  }
}

module.exports = SlowestFirst;
