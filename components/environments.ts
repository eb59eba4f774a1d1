/** The platform's environments; in production, production rules hold for every tenant. */
export const ENVIRONMENTS = ["production", "staging", "test"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export function isEnvironment(value: string): value is Environment {
  return (ENVIRONMENTS as readonly string[]).includes(value);
}

/** Whether this environment runs with production's rules (`MINDROOM_ENVIRONMENT=production`). */
export function isProduction(env: NodeJS.ProcessEnv): boolean {
  return env.MINDROOM_ENVIRONMENT?.trim() === "production";
}

/**
 * One message for everything production refuses, each problem on its line with
 * what to do: every settings module throws it for its own part, and the
 * production check (control/productionCheck.ts) for all parts at once.
 */
export function productionRefusal(problems: readonly string[]): string {
  return `MINDROOM_ENVIRONMENT=production refuses ${problems.length === 1 ? "a local default" : `${problems.length} local defaults`}:\n  - ${problems.join("\n  - ")}`;
}

/** An unset variable (empty counts as unset). */
export function unset(env: NodeJS.ProcessEnv, name: string): boolean {
  return !env[name]?.trim();
}
