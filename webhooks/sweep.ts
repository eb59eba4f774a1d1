/**
 * The sweep: the backstop for everything events can miss (lost deliveries,
 * events Stripe never generated, a job dead-lettered while the host was down).
 * It lists every subscription from Stripe (pages of 100, 429s waited out:
 * reconcile/stripeSubscriptions.ts listSubscriptions) and every instance from the database,
 * asks the same pure decision the worker uses, and enqueues each customer whose
 * state disagrees; due deletions are enqueued too (the worker runs them).
 *
 * It flags what the platform already knows is wrong (failed operations,
 * operations stuck past the automation timeout, a projection that disagrees
 * with Stripe, prices missing from STRIPE_PRICE_TIERS) and records its findings
 * in the audit log. It does NOT check the Dokku hosts for drift: that is a
 * refresh preview plus SSH probes, seconds of CPU per tenant on the worker
 * pool. Drift checks run on their own, slower schedule through the pool
 * (`MINDROOM_DRIFT_INTERVAL`, webhooks/driftSchedule.ts) and on demand
 * (`mindroom-ops drift --all`); each records what it found, and the tenant's
 * next `up` repairs exactly that.
 *
 * Periodic inside the service (webhooks/periodic.ts), and at once via
 * `mindroom-ops sweep`.
 */
import type pg from "pg";
import type Stripe from "stripe";
import type { AutomationSettings } from "../automation/settings.ts";
import type { BackoffOptions } from "../billing/stripeBackoff.ts";
import { audit } from "../database/auditLog.ts";
import type { Logger } from "../logging/logger.ts";
import { startPeriodic } from "./periodic.ts";
import type { ReconcileQueue } from "./queue.ts";
import {
  type DesiredTenant,
  desiredState,
  instanceSnapshot,
  type SubscriptionSnapshot,
  UnknownPriceError,
} from "./reconcile/desiredState.ts";
import type { ReconcileSettings } from "./reconcile/settings.ts";
import { type SweptInstance, sweptInstances, unprocessedEventCustomers } from "./reconcile/store.ts";
import { type FetchedSubscription, listSubscriptions, snapshot } from "./reconcile/stripeSubscriptions.ts";

export const SWEEP_QUEUE = "reconcile-sweep";

export interface SweepDeps {
  readonly db: { readonly pool: pg.Pool };
  readonly queue: Pick<ReconcileQueue, "enqueue">;
  readonly stripe: Pick<Stripe, "subscriptions">;
  readonly settings: { readonly automation: AutomationSettings; readonly reconcile: ReconcileSettings };
  readonly log: Logger;
  readonly now?: () => Date;
  /** How Stripe's 429s are waited out (default billing/stripeBackoff.ts STRIPE_BACKOFF). */
  readonly backoff?: BackoffOptions;
}

export interface SweepFinding {
  readonly customerKey: string;
  readonly slug: string | null;
  readonly finding: string;
}

export interface SweepReport {
  readonly startedAt: string;
  readonly durationMs: number;
  readonly stripeSubscriptions: number;
  /** Time spent listing Stripe's subscriptions (all pages, 429 waits included). */
  readonly stripeListMs: number;
  /** Pages Stripe answered 429 (rate limited) and that were tried again. */
  readonly stripeRateLimited: number;
  readonly instances: number;
  /** Customers queued for a reconcile, each with why. */
  readonly enqueued: readonly { readonly customerKey: string; readonly reason: string }[];
  /** Of those, how many because a deletion is due. */
  readonly dueDeletions: number;
  /** What looks wrong beyond "needs a reconcile" (failed, stuck, unknown price). */
  readonly flagged: readonly SweepFinding[];
}

/** Events older than this and still unprocessed mean their job was lost: reconcile the customer. */
const LOST_EVENT_AGE_MS = 5 * 60_000;

export async function sweep(deps: SweepDeps): Promise<SweepReport> {
  const started = Date.now();
  const now = deps.now?.() ?? new Date();
  const settings = deps.settings.reconcile;

  const byCustomer = new Map<string, FetchedSubscription[]>();
  let stripeSubscriptions = 0;
  let rateLimited = 0;
  for await (const sub of listSubscriptions(
    deps.stripe,
    {},
    {
      ...deps.backoff,
      onRateLimited: (waitMs) => {
        rateLimited++;
        deps.backoff?.onRateLimited?.(waitMs);
      },
    },
  )) {
    const s = snapshot(sub);
    stripeSubscriptions++;
    const list = byCustomer.get(s.stripeCustomerId);
    if (list) list.push(s);
    else byCustomer.set(s.stripeCustomerId, [s]);
  }
  const listMs = Date.now() - started;
  const instances = await sweptInstances(deps.db.pool);
  const instanceOf = new Map(instances.map((i) => [i.stripeCustomerId, i]));

  const reasons = new Map<string, string[]>();
  const flagged: SweepFinding[] = [];
  const want = (customerKey: string, reason: string) =>
    reasons.set(customerKey, [...(reasons.get(customerKey) ?? []), reason]);
  let dueDeletions = 0;

  const customers = new Set([...byCustomer.keys(), ...instanceOf.keys()]);
  for (const customerKey of customers) {
    const subs = byCustomer.get(customerKey) ?? [];
    const instance = instanceOf.get(customerKey) ?? null;
    let desired: DesiredTenant;
    try {
      desired = desiredState({
        subscriptions: subs,
        instance: instance ? instanceSnapshot(instance) : null,
        now,
        deletionGraceMs: settings.deletionGraceMs,
        priceTiers: settings.priceTiers,
      });
    } catch (error) {
      if (!(error instanceof UnknownPriceError)) throw error;
      // Queuing would only dead-letter it: an operator has to add the price first.
      flagged.push({ customerKey, slug: instance?.slug ?? null, finding: error.message });
      continue;
    }
    for (const reason of disagreements(desired, instance, subs)) want(customerKey, reason);
    if (desired.state === "deleted" && instance && instance.actualState !== "deleted") dueDeletions++;
    if (instance) flagged.push(...flags(instance, now, deps.settings.automation.operationTimeoutMs));
  }

  for (const customerKey of await unprocessedEventCustomers(
    deps.db.pool,
    new Date(now.getTime() - LOST_EVENT_AGE_MS),
  ))
    want(customerKey, "events unprocessed for over 5 minutes");

  const enqueued = [...reasons].map(([customerKey, why]) => ({ customerKey, reason: why.join("; ") }));
  for (const { customerKey, reason } of enqueued) {
    await deps.queue.enqueue({ customerKey, trigger: "sweep", reason: `sweep: ${reason}` });
  }
  const report: SweepReport = {
    startedAt: now.toISOString(),
    durationMs: Date.now() - started,
    stripeSubscriptions,
    stripeListMs: listMs,
    stripeRateLimited: rateLimited,
    instances: instances.length,
    enqueued,
    dueDeletions,
    flagged,
  };
  if (enqueued.length > 0 || flagged.length > 0) {
    await audit(deps.db.pool, {
      actor: "sweep",
      action: "sweep.findings",
      reason: `${enqueued.length} customers queued, ${flagged.length} findings`,
      details: { enqueued, flagged, dueDeletions },
    });
  }
  deps.log.info("sweep finished", {
    stripeSubscriptions,
    stripeListMs: listMs,
    stripeRateLimited: rateLimited,
    instances: instances.length,
    enqueued: enqueued.length,
    dueDeletions,
    flagged: flagged.length,
    durationMs: report.durationMs,
  });
  return report;
}

/** Why the instance does not match what the subscriptions say (empty: it matches). */
export function disagreements(
  desired: DesiredTenant,
  instance: SweptInstance | null,
  subs: readonly SubscriptionSnapshot[],
): string[] {
  if (!instance) return desired.state === "absent" ? [] : [`no instance yet, should be ${desired.state}`];
  if (desired.state === "absent") {
    return instance.actualState === "deleted" || instance.actualState === "pending"
      ? []
      : [`instance is ${instance.actualState} but nothing should exist`];
  }
  const out: string[] = [];
  if (desired.state === "deleted") {
    if (instance.actualState !== "deleted")
      out.push(`deletion due since ${desired.deletionDueAt.toISOString()}`);
    return out;
  }
  if (instance.desiredState !== desired.state)
    out.push(`desired ${instance.desiredState}, should be ${desired.state}`);
  if (instance.actualState !== desired.state)
    out.push(`actual ${instance.actualState}, should be ${desired.state}`);
  if (instance.tier !== desired.tier) out.push(`tier ${instance.tier}, should be ${desired.tier}`);
  if (instance.specHash !== instance.appliedSpecHash) out.push("applied spec differs from the desired one");
  const due = desired.state === "suspended" ? desired.deletionDueAt : null;
  if ((instance.deletionDueAt?.getTime() ?? null) !== (due?.getTime() ?? null))
    out.push(
      due
        ? `deletion should be scheduled for ${due.toISOString()}`
        : "a scheduled deletion should be cancelled",
    );
  for (const s of subs) {
    const projected = instance.projection.get(s.id);
    if (projected !== s.status)
      out.push(`projection of ${s.id} is ${projected ?? "missing"}, Stripe says ${s.status}`);
  }
  return out;
}

function flags(instance: SweptInstance, now: Date, operationTimeoutMs: number): SweepFinding[] {
  const out: SweepFinding[] = [];
  const base = { customerKey: instance.stripeCustomerId, slug: instance.slug };
  if (instance.actualState === "failed")
    out.push({ ...base, finding: `last operation failed: ${instance.lastError ?? "no error recorded"}` });
  const transitional = instance.actualState === "provisioning" || instance.actualState === "deleting";
  // Twice the automation timeout: a worker that died mid-operation left this state behind.
  if (transitional && now.getTime() - instance.updatedAt.getTime() > 2 * operationTimeoutMs)
    out.push({
      ...base,
      finding: `${instance.actualState} since ${instance.updatedAt.toISOString()}: stuck`,
    });
  return out;
}

/** Runs the sweep every `intervalMs` inside the service (see periodic.ts). */
export async function startPeriodicSweep(
  deps: SweepDeps & { readonly queue: Pick<ReconcileQueue, "enqueue" | "boss"> },
  intervalMs: number,
): Promise<void> {
  await startPeriodic(deps.queue.boss, {
    name: SWEEP_QUEUE,
    intervalMs,
    run: async () => {
      await sweep(deps);
    },
  });
}
