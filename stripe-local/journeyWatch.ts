/**
 * What the customer has on the platform after a journey step, read where the
 * platform records it (its database: the customer's Stripe events, instance
 * row and latest operation), and the wait until the platform has acted: every
 * event of the customer handled by a reconcile, and the tenant settled in the
 * state the step leads to with its spec applied.
 */
import type { Queryable } from "../database/connection.ts";
import { findCustomerByStripeId } from "../database/customers.ts";
import { findInstanceByCustomer } from "../database/instances.ts";
import { operationsForInstance } from "../database/operations.ts";
import { unprocessedCountForCustomer } from "../database/stripeEvents.ts";

/** Where a step should leave the tenant. */
export interface PlatformExpectation {
  readonly state: "running" | "suspended";
  readonly tier?: string;
  /** Running with a warning (payment past due). */
  readonly warning?: boolean;
  /** Suspended with its deletion scheduled (subscription ended). */
  readonly deletionScheduled?: boolean;
}

export interface TenantView {
  readonly slug: string;
  readonly tier: string;
  readonly desiredState: string;
  readonly actualState: string;
  /** The desired spec is the one last applied. */
  readonly applied: boolean;
  readonly urls: { readonly app: string; readonly api: string; readonly matrix: string } | null;
  readonly warning: string | null;
  readonly deletionDueAt: string | null;
  readonly lastError: string | null;
  readonly operation: {
    readonly kind: string;
    readonly status: string;
    readonly done: number;
    readonly total: number;
    readonly message: string;
  } | null;
  /** The customer's Stripe events not yet handled by a reconcile. */
  readonly pendingEvents: number;
}

function urlsOf(outputs: unknown): TenantView["urls"] {
  const urls = (outputs as { urls?: Record<string, unknown> } | null)?.urls;
  return urls &&
    typeof urls.app === "string" &&
    typeof urls.api === "string" &&
    typeof urls.matrix === "string"
    ? { app: urls.app, api: urls.api, matrix: urls.matrix }
    : null;
}

/** The customer's tenant as the platform records it, or null before it has one. */
export async function readTenant(db: Queryable, stripeCustomerId: string): Promise<TenantView | null> {
  const pendingEvents = await unprocessedCountForCustomer(db, stripeCustomerId);
  const customer = await findCustomerByStripeId(db, stripeCustomerId);
  const instance = customer ? await findInstanceByCustomer(db, customer.id) : null;
  if (!instance) return null;
  const [operation] = await operationsForInstance(db, instance.id, 1);
  return {
    slug: instance.slug,
    tier: instance.tier,
    desiredState: instance.desiredState,
    actualState: instance.actualState,
    applied: instance.specHash !== null && instance.appliedSpecHash === instance.specHash,
    urls: urlsOf(instance.outputs),
    warning: instance.warning,
    deletionDueAt: instance.deletionDueAt?.toISOString() ?? null,
    lastError: instance.lastError,
    operation: operation
      ? {
          kind: operation.kind,
          status: operation.status,
          done: operation.progress?.done ?? 0,
          total: operation.progress?.total ?? 0,
          message: operation.progress?.message ?? "",
        }
      : null,
    pendingEvents,
  };
}

/** The platform has handled every event and the tenant is where the step leads. Pure. */
export function hasActed(view: TenantView | null, expected: PlatformExpectation): view is TenantView {
  if (!view || view.pendingEvents > 0 || !view.applied) return false;
  if (view.actualState !== expected.state || view.desiredState !== expected.state) return false;
  if (expected.tier !== undefined && view.tier !== expected.tier) return false;
  if (expected.warning !== undefined && (view.warning !== null) !== expected.warning) return false;
  if (
    expected.deletionScheduled !== undefined &&
    (view.deletionDueAt !== null) !== expected.deletionScheduled
  )
    return false;
  return true;
}

/** What the customer has now, in one line. Pure. */
export function describeTenant(view: TenantView): string {
  const plan = `${view.slug}, ${view.tier}`;
  if (view.actualState === "running") {
    const where = view.urls ? ` at ${view.urls.app} (api ${view.urls.api}, matrix ${view.urls.matrix})` : "";
    return `running (${plan})${where}${view.warning ? `; warning: ${view.warning}` : ""}`;
  }
  if (view.actualState === "suspended")
    return view.deletionDueAt
      ? `suspended, deletion scheduled for ${view.deletionDueAt} (${plan}); data kept until then`
      : `suspended (${plan}); data kept`;
  return `${view.actualState} (${plan})${view.lastError ? `; last error: ${view.lastError.split("\n")[0]}` : ""}`;
}

/** What the platform is doing now, in one line. Pure. */
export function describeProgress(view: TenantView | null): string {
  if (!view) return "waiting for the platform to take the customer on";
  const op = view.operation;
  if (op && (op.status === "running" || op.status === "queued"))
    return `${view.actualState}: ${op.kind} ${op.status}, ${op.done} of ${op.total} steps${op.message ? ` (${op.message})` : ""}`;
  if (view.pendingEvents > 0)
    return `${view.pendingEvents} event(s) waiting for a reconcile; now ${describeTenant(view)}`;
  return describeTenant(view);
}

export class PlatformTimeoutError extends Error {
  override readonly name = "PlatformTimeoutError";
}

/**
 * Polls until the platform has acted (`hasActed`), reporting each new state
 * through `onProgress`; throws PlatformTimeoutError with the last state after
 * `timeoutMs`.
 */
export async function waitForPlatform(
  db: Queryable,
  stripeCustomerId: string,
  expected: PlatformExpectation,
  options: {
    readonly timeoutMs: number;
    readonly intervalMs?: number;
    readonly onProgress?: (line: string) => void;
  },
): Promise<{ readonly tenant: TenantView; readonly waitedMs: number }> {
  const started = Date.now();
  let last = "";
  for (;;) {
    const view = await readTenant(db, stripeCustomerId);
    if (hasActed(view, expected)) return { tenant: view, waitedMs: Date.now() - started };
    const line = describeProgress(view);
    if (line !== last) options.onProgress?.(line);
    last = line;
    if (Date.now() - started > options.timeoutMs)
      throw new PlatformTimeoutError(
        `the platform did not reach "${expected.state}${expected.tier ? ` (${expected.tier})` : ""}" within ${Math.round(options.timeoutMs / 1000)} s; it is ${line}`,
      );
    await new Promise((done) => setTimeout(done, options.intervalMs ?? 500));
  }
}
