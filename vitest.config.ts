import { defineConfig } from "vitest/config";

// One suite, run by `./platform test`. Tests that need the Dokku test host get its
// address from testing/globalSetup.ts (or MINDROOM_TEST_DOKKU for an existing host).
export default defineConfig({
  test: {
    include: ["**/*.test.ts"],
    exclude: ["**/node_modules/**", ".tools/**", "portal/**"],
    globalSetup: ["testing/globalSetup.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: "forks",
    // Engine tests mostly wait on pulumi and SSH: two files at a time overlap that waiting on 2 cores.
    maxWorkers: 2,
  },
});
