/**
 * The pure suites only: no synthesis of whole stacks, no Terraform, no emulator, no scripts run.
 * `npm run mutation:unit` uses it, so that Stryker can rerun the tests of a mutant in seconds;
 * the score it reports says what these suites alone catch.
 */
const base = require("./jest.config.js");

module.exports = {
  ...base,
  testMatch: [
    "**/__tests__/cidr.test.ts",
    "**/__tests__/config.test.ts",
    "**/__tests__/quotas.test.ts",
    "**/__tests__/squid.test.ts",
    "**/__tests__/user-data.test.ts",
    "**/__tests__/reachability-shapes.test.ts",
    "**/__tests__/reachability-report.test.ts",
    "**/__tests__/allowlist-policy.test.ts",
  ],
};
