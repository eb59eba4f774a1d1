/**
 * Where the platform database lives: `DATABASE_URL` (Supabase's Postgres in
 * production, any Postgres elsewhere), or, when it is unset, an embedded
 * Postgres kept in `<MINDROOM_DATA_DIR>/postgres`.
 */
import { resolve } from "node:path";
import { z } from "zod";
import { isProduction, productionRefusal, unset } from "../components/environments.ts";

export interface DatabaseSettings {
  /** `postgres://…` from `DATABASE_URL`; undefined means "start the embedded Postgres". */
  readonly databaseUrl: string | undefined;
  /** Everything the embedded defaults keep (`MINDROOM_DATA_DIR`, default `./.data`). */
  readonly dataDir: string;
}

export class DatabaseSettingsError extends Error {
  override readonly name = "DatabaseSettingsError";
}

const databaseUrl = z
  .string()
  .regex(/^postgres(ql)?:\/\/[^\s]+$/, "must be a postgres:// or postgresql:// URL")
  .optional();

/** What production refuses: the embedded Postgres. */
export function databaseProductionProblems(env: NodeJS.ProcessEnv): string[] {
  return unset(env, "DATABASE_URL")
    ? [
        "DATABASE_URL is unset (an embedded Postgres in the data folder): point it at the platform's Postgres, Supabase's in production (docs/production.md)",
      ]
    : [];
}

export function loadDatabaseSettings(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): DatabaseSettings {
  if (isProduction(env)) {
    const problems = databaseProductionProblems(env);
    if (problems.length > 0) throw new DatabaseSettingsError(productionRefusal(problems));
  }
  const raw = env.DATABASE_URL?.trim() || undefined;
  const parsed = databaseUrl.safeParse(raw);
  // The URL may carry a password: name the problem, never echo the value.
  if (!parsed.success)
    throw new DatabaseSettingsError(
      `DATABASE_URL ${parsed.error.issues[0]?.message ?? "is invalid"} (value not shown: it may hold a password)`,
    );
  return { databaseUrl: parsed.data, dataDir: resolve(cwd, env.MINDROOM_DATA_DIR || ".data") };
}
