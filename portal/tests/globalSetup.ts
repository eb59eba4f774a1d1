/** One embedded Postgres for the portal's test run (testing/database.ts), like the root suite's. */
import type { TestProject } from "vitest/node";
import { provideTestPostgres } from "../../testing/database.ts";

export default function setup(project: TestProject): Promise<() => Promise<void>> {
  return provideTestPostgres(project);
}
