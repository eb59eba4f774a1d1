/**
 * The person's usage over the last days, one entry per calendar day (UTC), oldest first: what the
 * platform measured that day, or nulls where it measured nothing (a day without a row, or a figure
 * it could not read). Runs inside the caller's `withUser`: RLS returns only their own instance.
 */
import type pg from "pg";
import { measured, type UsageRow } from "./customerView.ts";

export interface UsageHistory {
  readonly instance: { readonly slug: string; readonly tier: string; readonly actualState: string } | null;
  readonly days: readonly UsageRow[];
}

export async function usageHistory(db: pg.PoolClient, days = 30): Promise<UsageHistory> {
  const { rows: instances } = await db.query<{
    id: string;
    slug: string;
    tier: string;
    actual_state: string;
  }>(
    `select i.id, i.slug, i.tier, i.actual_state from public.instances i
       join public.customers c on c.id = i.customer_id
      where c.user_id = (select auth.uid()) limit 1`,
  );
  const instance = instances[0];
  if (!instance) return { instance: null, days: [] };
  const { rows } = await db.query<{
    day: string;
    agents: unknown;
    messages: unknown;
    storage_bytes: unknown;
  }>(
    `with today as (select (now() at time zone 'utc')::date as d)
     select g.day::date::text as day, u.agents, u.messages, u.storage_bytes::float8 as storage_bytes
       from today, generate_series(today.d - ($2::int - 1), today.d, interval '1 day') as g(day)
       left join public.usage u on u.instance_id = $1 and u.day = g.day::date
      order by g.day`,
    [instance.id, days],
  );
  return {
    instance: { slug: instance.slug, tier: instance.tier, actualState: instance.actual_state },
    days: rows.map((r) => ({
      day: r.day,
      agents: measured(r.agents),
      messages: measured(r.messages),
      storageBytes: measured(r.storage_bytes),
    })),
  };
}
