/**
 * The states an instance can be in: what the worker wants (desired) and what
 * it got (actual). One definition for the database layer, the worker and the
 * portal; free of imports, so browser code can use it too.
 */
export const DESIRED_STATES = ["running", "suspended", "deleted"] as const;
export type DesiredState = (typeof DESIRED_STATES)[number];
export const ACTUAL_STATES = [
  "pending",
  /** Paid for, but no Dokku host has room yet: provisions as soon as one has. */
  "waiting_for_capacity",
  "provisioning",
  "running",
  "suspended",
  "deleting",
  "deleted",
  "failed",
] as const;
export type ActualState = (typeof ACTUAL_STATES)[number];
/** What the last health check of a running tenant found (unknown: not running, or not checked yet). */
export const HEALTH_STATES = ["unknown", "healthy", "degraded"] as const;
export type HealthState = (typeof HEALTH_STATES)[number];

/** A customer may restart an instance that runs, or whose last provisioning failed. */
export function canRestart(state: string): boolean {
  return state === "running" || state === "failed";
}
