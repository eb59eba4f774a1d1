import { describe, expect, it } from "vitest";
import { importsOf, isProduction, STAND_IN_FOLDERS, sourceFiles } from "./importGraph.ts";

describe("import boundaries", () => {
  it("classifies production code the way the guide does", () => {
    expect(
      [
        "webhooks/app.ts",
        "portal/src/routes/index.tsx",
        "billing/stripeClient.ts",
        "webhooks/app.test.ts",
        "testing/database.ts",
        "policies/testing/samples.ts",
        "portal/tests/environment.ts",
        "stripe-local/server.ts",
        "dokku-double/host.ts",
        "bench/main.ts",
        "platform.ts",
      ].map((f) => [f, isProduction(f)]),
    ).toEqual([
      ["webhooks/app.ts", true],
      ["portal/src/routes/index.tsx", true],
      ["billing/stripeClient.ts", true],
      ["webhooks/app.test.ts", false],
      ["testing/database.ts", false],
      ["policies/testing/samples.ts", false],
      ["portal/tests/environment.ts", false],
      ["stripe-local/server.ts", false],
      ["dokku-double/host.ts", false],
      ["bench/main.ts", false],
      ["platform.ts", false],
    ]);
  });

  it("no production module imports from stripe-local/, dokku-double/ or testing/", () => {
    const production = sourceFiles().filter(isProduction);
    expect(production.length).toBeGreaterThan(100);
    const violations = production.flatMap((file) =>
      importsOf(file)
        .filter((ref) => ref.target && STAND_IN_FOLDERS.some((folder) => ref.target?.startsWith(folder)))
        .map((ref) => `${file}:${ref.line} imports ${ref.specifier}`),
    );
    expect(violations).toEqual([]);
  });
});
