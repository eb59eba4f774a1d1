import { defineConfig } from "vitest/config";

// The portal's own suite (the root config excludes portal/): security tests against the built server
// and end-to-end tests in headless Chromium. Run from the repository root:
//   npx vitest run --config portal/vitest.config.ts
export default defineConfig({
  test: {
    root: import.meta.dirname,
    include: ["tests/**/*.test.ts"],
    globalSetup: ["tests/globalSetup.ts"],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: "forks",
    maxWorkers: 1,
    fileParallelism: false,
    // UI steps wait on the server and Stripe round trips; polls give up after 20 s, not vitest's 1 s.
    expect: { poll: { timeout: 20_000, interval: 100 } },
  },
});
