/**
 * `mindroom-ops migrate`: applies the pending migrations and says which, so a
 * deployment runs them once before the new release starts (app.json's
 * pre-deploy step) instead of on the first process to open the database.
 *
 * Exit codes: 0 applied (or nothing to apply), 1 a migration failed (rolled
 * back, nothing after it applied), 2 usage error.
 */
import { parseArgs } from "node:util";
import { STANDARD_OPTIONS } from "../automation/cli/standardOptions.ts";
import { openDatabase } from "../database/connection.ts";
import { loadDatabaseSettings } from "../database/settings.ts";

export const MIGRATE_HELP = `Usage: mindroom-ops migrate [--json]

Applies supabase/migrations/*.sql that the platform database has not applied yet, in order,
each in its own transaction, recording them where the Supabase CLI keeps its history.
Configuration: DATABASE_URL (unset: the embedded Postgres in MINDROOM_DATA_DIR).
Exit codes: 0 applied or up to date, 1 a migration failed, 2 usage error.`;

export async function migrateMain(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { ...STANDARD_OPTIONS },
  });
  if (values.help) {
    process.stdout.write(`${MIGRATE_HELP}\n`);
    return 0;
  }
  const database = await openDatabase(loadDatabaseSettings(), { maxConnections: 2 });
  try {
    const { applied, alreadyApplied } = database.migrations;
    process.stdout.write(
      values.json
        ? `${JSON.stringify({ applied, alreadyApplied })}\n`
        : applied.length === 0
          ? `up to date (${alreadyApplied.length} migrations applied before)\n`
          : `applied ${applied.length}: ${applied.join(", ")}\n`,
    );
    return 0;
  } finally {
    await database.close();
  }
}
