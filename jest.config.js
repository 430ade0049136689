/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  // Terraform and the emulator run inside some tests.
  testTimeout: 120000,
  // Jest takes cores minus one by default: one worker on a two-core machine. Much of the work
  // waits on Terraform and moto in other processes, so two workers pay off even there.
  maxWorkers: 2,
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  // esbuild strips the types without checking them (npm test runs tsc for that): ts-jest's type check per file took twice as long.
  transform: { "^.+\\.ts$": "<rootDir>/__tests__/helpers/esbuild-transform.js" },
  globalSetup: "<rootDir>/__tests__/global-setup.ts",
  setupFilesAfterEnv: ["<rootDir>/__tests__/setup.ts"],
  globalTeardown: "<rootDir>/__tests__/global-teardown.ts",
  testPathIgnorePatterns: ["/node_modules/", "/__tests__/helpers/"],
  // Slowest suites first, also on a clean clone where Jest has no timings yet.
  testSequencer: "<rootDir>/__tests__/helpers/sequencer.js",
};
