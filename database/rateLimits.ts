/**
 * The rate_limits table: counters that hold across processes (migration
 * 20261204235611_rate_limits.sql explains the algorithm). `takeRateLimits` counts one request
 * against several keys at once (e.g. a client address and an account) in one statement; the
 * request is allowed only if every key allows it.
 */
import type { Queryable } from "./connection.ts";

export interface RateLimitRequest {
  readonly key: string;
  /** Seconds one request adds: the window divided by the requests it allows. */
  readonly emissionSeconds: number;
  /** Seconds ahead of now the budget may run: the burst (window minus one emission). */
  readonly toleranceSeconds: number;
}

export type RateLimitDecision =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly retryAfterSeconds: number; readonly keys: readonly string[] };

export async function takeRateLimits(
  db: Queryable,
  requests: readonly RateLimitRequest[],
): Promise<RateLimitDecision> {
  if (requests.length === 0) return { allowed: true };
  const keys = requests.map((r) => r.key);
  const { rows } = await db.query<{ key: string }>(
    `insert into public.rate_limits as r (key, tat, emission, tolerance)
     select k, now() + make_interval(secs => e), make_interval(secs => e), make_interval(secs => t)
       from unnest($1::text[], $2::float8[], $3::float8[]) as u(k, e, t)
     on conflict (key) do update
        set tat = greatest(r.tat, now()) + excluded.emission,
            emission = excluded.emission,
            tolerance = excluded.tolerance
      where greatest(r.tat, now()) - now() <= excluded.tolerance
     returning key`,
    [keys, requests.map((r) => r.emissionSeconds), requests.map((r) => r.toleranceSeconds)],
  );
  const passed = new Set(rows.map((r) => r.key));
  const refused = keys.filter((k) => !passed.has(k));
  if (refused.length === 0) return { allowed: true };
  const waits = await db.query<{ wait: number }>(
    `select extract(epoch from tat - tolerance - now())::float8 as wait from public.rate_limits where key = any($1)`,
    [refused],
  );
  const wait = Math.max(0, ...waits.rows.map((w) => w.wait));
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(wait)), keys: refused };
}

/** Drops keys whose budget is whole again (they count as absent); returns how many. */
export async function forgetIdleRateLimits(db: Queryable): Promise<number> {
  const { rowCount } = await db.query("delete from public.rate_limits where tat < now()");
  return rowCount ?? 0;
}
