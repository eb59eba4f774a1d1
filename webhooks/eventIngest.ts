/**
 * Recording verified Stripe events, many at once: one transaction per batch (webhooks/groupCommit.ts
 * gathers the requests that arrive together) holding
 * - one INSERT of every event row (duplicates, within the batch or already recorded, insert nothing),
 * - for renewals (webhooks/renewal.ts), one look at whether their tenants are settled on the spec they
 *   last applied, and one UPDATE moving their subscriptions' period end forward,
 * - the reconcile jobs of the new events that need one: one coalescing UPDATE and one INSERT into the
 *   queue for the whole batch (queue.ts enqueueAll).
 * The event row and its job commit together (the job table is written in the same transaction), so
 * an acknowledged event is never without its reconcile, and a rolled back batch leaves neither.
 */
import type pg from "pg";
import { settledCustomers } from "../database/instances.ts";
import { concernsTheRows } from "../database/sqlState.ts";
import { type NewStripeEvent, recordEvents } from "../database/stripeEvents.ts";
import { advancePeriodEnds } from "../database/subscriptions.ts";
import { transaction } from "../database/transaction.ts";
import { GroupCommit } from "./groupCommit.ts";
import type { ReconcileQueue, ReconcileRequest } from "./queue.ts";
import { type Renewal, renewalOf } from "./renewal.ts";
import { concernsSubscription, eventCustomer, type IngestedEvent } from "./stripeWebhook.ts";

/** A delivery whose signature and shape were checked. */
export interface VerifiedDelivery {
  readonly event: IngestedEvent;
  /** The verified bytes as received: stored without re-serialising. */
  readonly raw: Buffer;
  readonly requestId?: string | undefined;
}

/**
 * What recording came to: `enqueued` (a reconcile queued or coalesced), `unchanged` (a renewal of a
 * settled tenant: nothing to reconcile), `recorded` (a type that needs none, or no customer named),
 * `duplicate` (already recorded: nothing written).
 */
export type Recorded = "enqueued" | "unchanged" | "recorded" | "duplicate";

export type EventRecorder = (delivery: VerifiedDelivery) => Promise<Recorded>;

/** Records deliveries in group-committed batches; each promise settles once its batch committed. */
export function eventRecorder(
  pool: pg.Pool,
  queue: Pick<ReconcileQueue, "enqueueAll">,
  options: { readonly maxBatch?: number } = {},
): EventRecorder {
  const batches = new GroupCommit<VerifiedDelivery, Recorded>(
    (deliveries) => transaction(pool, (tx) => recordBatch(tx, queue, deliveries)),
    // One event Postgres refuses fails alone; a database that is down fails the batch at once.
    { ...options, splitOn: concernsTheRows },
  );
  return (delivery) => batches.submit(delivery);
}

interface Planned {
  readonly delivery: VerifiedDelivery;
  readonly row: NewStripeEvent;
  readonly customer: string | undefined;
  readonly reconcile: boolean;
  readonly renewal: Renewal | undefined;
}

async function recordBatch(
  tx: pg.PoolClient,
  queue: Pick<ReconcileQueue, "enqueueAll">,
  deliveries: readonly VerifiedDelivery[],
): Promise<Recorded[]> {
  const planned: Planned[] = deliveries.map((delivery) => {
    const { event, raw } = delivery;
    const customer = eventCustomer(event);
    const reconcile = customer !== undefined && concernsSubscription(event.type);
    const objectId = event.data.object.id;
    return {
      delivery,
      customer,
      reconcile,
      renewal: reconcile ? renewalOf(event) : undefined,
      row: {
        id: event.id,
        type: event.type,
        stripeCreated: new Date(event.created * 1000),
        livemode: event.livemode,
        customerId: customer ?? null,
        objectId: typeof objectId === "string" ? objectId : null,
        payload: raw.toString("utf8"),
      },
    };
  });
  const renewing = planned.filter((p) => p.renewal !== undefined).map((p) => p.customer as string);
  const settled = await settledCustomers(tx, [...new Set(renewing)]);
  const unchanged = (p: Planned) => p.renewal !== undefined && settled.has(p.customer as string);
  // A skipped renewal is recorded as handled: the sweep would otherwise take it for a lost job.
  const inserted = await recordEvents(
    tx,
    planned.map((p) => p.row),
    new Set(planned.filter(unchanged).map((p) => p.row.id)),
  );
  // Each id counts once: a second delivery of it in this batch is a duplicate like a later one.
  const fresh = planned.map((p) => inserted.delete(p.row.id));

  const periods = planned.flatMap((p, i) =>
    fresh[i] && p.renewal?.kind === "subscription" && p.renewal.periodEnd
      ? [{ subscriptionId: p.renewal.subscriptionId, periodEnd: p.renewal.periodEnd }]
      : [],
  );
  await advancePeriodEnds(tx, periods);

  const jobs: ReconcileRequest[] = planned.flatMap((p, i) =>
    fresh[i] && p.reconcile && !unchanged(p)
      ? [
          {
            customerKey: p.customer as string,
            trigger: "stripe" as const,
            reason: p.row.type,
            eventId: p.row.id,
            ...(p.delivery.requestId ? { requestId: p.delivery.requestId } : {}),
          },
        ]
      : [],
  );
  if (jobs.length > 0) await queue.enqueueAll(jobs, tx);

  return planned.map((p, i) =>
    !fresh[i] ? "duplicate" : !p.reconcile ? "recorded" : unchanged(p) ? "unchanged" : "enqueued",
  );
}
