/**
 * Environment variables that mark the processes of one owner: every process
 * started below the owner inherits them, however deep (supervise() passes them
 * on even to children given an environment of their own), so /proc finds all of
 * them after the owner is gone, whoever their parent is by then.
 */

/** Set by a platform run (processes/run.ts): `<data folder id>:<run id>`. */
export const RUN_MARKER = "MINDROOM_RUN";

/** Set by `./platform test` for the whole suite; checked at its end (processes/checkLeftovers.ts). */
export const TEST_MARKER = "MINDROOM_TEST_RUN";

/** The markers this process carries, for a child's environment. */
export function inheritedMarkers(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [RUN_MARKER, TEST_MARKER]) {
    const value = process.env[name];
    if (value) out[name] = value;
  }
  return out;
}
