/**
 * The few reads and writes the reconcile worker and the sweep need beyond the
 * database helper's repositories (database/*.ts): host occupancy for
 * placement, marking a customer's events handled, and a transaction helper.
 */
import type pg from "pg";
import { z } from "zod";
import { isTierId, type TierId } from "../../components/tiers.ts";
import type { Queryable } from "../../database/connection.ts";

const tierId = z.string().refine(isTierId, "must be a tier id") as unknown as z.ZodType<TierId>;

/** Tenants that occupy a host: placed and not deleted (the instance being placed left out). */
export async function placedInstances(
  q: Queryable,
  exceptId: string,
): Promise<{ host: string; tier: TierId }[]> {
  const { rows } = await q.query(
    `select host, tier from public.instances
      where host is not null and actual_state <> 'deleted' and id <> $1`,
    [exceptId],
  );
  return z.array(z.object({ host: z.string(), tier: tierId })).parse(rows);
}

/**
 * Every event about this customer received before `before` is handled: a
 * reconcile that started after it re-read everything those events announced.
 */
export async function markCustomerEventsProcessed(
  q: Queryable,
  stripeCustomerId: string,
  before: Date,
): Promise<void> {
  await q.query(
    `update public.stripe_events set processed_at = now(), error = null
      where customer_id = $1 and processed_at is null and received_at <= $2`,
    [stripeCustomerId, before],
  );
}

/** Notes why the event's reconcile failed (it stays unprocessed; the queue retries). */
export async function noteEventError(q: Queryable, eventId: string, error: string): Promise<void> {
  await q.query("update public.stripe_events set error = $2 where id = $1 and processed_at is null", [
    eventId,
    error.slice(0, 2000),
  ]);
}

/** One transaction on a pooled client: committed when `fn` returns, rolled back when it throws. */
export async function transaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query("begin");
    const result = await fn(client);
    await client.query("commit");
    return result;
  } catch (error) {
    await client.query("rollback").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
