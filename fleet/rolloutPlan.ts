/**
 * The decisions of a fleet rollout, pure: which tenants go in which wave (the
 * canary first, then batches), and, given where each tenant of the current
 * wave stands, what the worker does next. One wave at a time: the next starts
 * only when every tenant of this one converged, and the first failure halts the
 * rollout with the remaining waves untouched.
 */

/** `registry/name@sha256:<64 hex>`: a rollout moves tenants to one exact image, never a moving tag. */
export const PINNED_IMAGE =
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::\d+)?(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?@sha256:[0-9a-f]{64}$/;

export class RolloutPlanError extends Error {
  override readonly name = "RolloutPlanError";
}

/** Wave of each tenant, in the order given: `canary` tenants in wave 0, then `batch` per wave. */
export function planWaves<T>(
  tenants: readonly T[],
  canary: number,
  batch: number,
): { tenant: T; wave: number }[] {
  if (!Number.isInteger(canary) || canary < 0)
    throw new RolloutPlanError(`--canary must be 0 or more, got ${canary}`);
  if (!Number.isInteger(batch) || batch < 1)
    throw new RolloutPlanError(`--batch must be 1 or more, got ${batch}`);
  // Without a canary, the first batch is wave 1 all the same: wave 0 always means "canary".
  return tenants.map((tenant, i) => ({
    tenant,
    wave: i < canary ? 0 : 1 + Math.floor((i - canary) / batch),
  }));
}

export type TenantStep = "pending" | "applying" | "succeeded" | "failed";

export interface WaveTenant {
  readonly instanceId: string;
  readonly wave: number;
  readonly status: TenantStep;
}

/** What the worker saw of a tenant it is moving. */
export type Observation =
  | { readonly state: "converged" }
  | { readonly state: "in progress" }
  | { readonly state: "failed"; readonly error: string };

export type RolloutStep =
  /** Every tenant moved. */
  | { readonly action: "finish" }
  /** A tenant of the current wave failed: record the outcomes and stop. */
  | {
      readonly action: "halt";
      readonly succeeded: readonly string[];
      readonly failed: readonly { readonly instanceId: string; readonly error: string }[];
    }
  /** Set the image and queue the reconciles of this wave (after recording who converged). */
  | {
      readonly action: "start wave";
      readonly wave: number;
      readonly instanceIds: readonly string[];
      readonly succeeded: readonly string[];
    }
  /** The wave is still being applied: record who converged and look again later. */
  | { readonly action: "wait"; readonly succeeded: readonly string[] };

export function nextRolloutStep(
  tenants: readonly WaveTenant[],
  observe: (instanceId: string) => Observation,
): RolloutStep {
  const open = tenants.filter((t) => t.status !== "succeeded");
  if (open.length === 0) return { action: "finish" };
  const wave = Math.min(...open.map((t) => t.wave));
  const current = open.filter((t) => t.wave === wave);
  const succeeded: string[] = [];
  const failed: { instanceId: string; error: string }[] = [];
  let waiting = false;
  for (const t of current) {
    if (t.status === "failed") {
      failed.push({ instanceId: t.instanceId, error: "failed earlier" });
      continue;
    }
    if (t.status !== "applying") continue;
    const seen = observe(t.instanceId);
    if (seen.state === "converged") succeeded.push(t.instanceId);
    else if (seen.state === "failed") failed.push({ instanceId: t.instanceId, error: seen.error });
    else waiting = true;
  }
  if (failed.length > 0) return { action: "halt", succeeded, failed };
  const pending = current.filter((t) => t.status === "pending").map((t) => t.instanceId);
  if (waiting || pending.length === 0) {
    // All of this wave converged just now: the next wave starts on the next look.
    return { action: "wait", succeeded };
  }
  return { action: "start wave", wave, instanceIds: pending, succeeded };
}
