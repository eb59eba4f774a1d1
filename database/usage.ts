/**
 * Daily usage per instance (agents, messages, storage), one row per day:
 * a later report for the same day replaces the figures it carries.
 */
import { z } from "zod";
import type { Queryable } from "./connection.ts";

export interface UsageDay {
  readonly instanceId: string;
  /** `YYYY-MM-DD` (UTC day), kept as text: a JS Date would shift it by the local time zone. */
  readonly day: string;
  readonly agents: number | null;
  readonly messages: number | null;
  readonly storageBytes: number | null;
}

interface UsageRow {
  instance_id: string;
  day: string;
  agents: number | null;
  messages: number | null;
  storage_bytes: string | null;
}

const isoDay = z.iso.date();

function fromRow(row: UsageRow): UsageDay {
  return {
    instanceId: row.instance_id,
    day: row.day,
    agents: row.agents,
    messages: row.messages,
    storageBytes: row.storage_bytes === null ? null : Number(row.storage_bytes),
  };
}

export interface UsageReport {
  readonly instanceId: string;
  /** `YYYY-MM-DD`. */
  readonly day: string;
  readonly agents?: number | null;
  readonly messages?: number | null;
  readonly storageBytes?: number | null;
}

/** Inserts or updates one day; figures left undefined keep what that day already has. */
export async function recordUsage(db: Queryable, report: UsageReport): Promise<UsageDay> {
  const day = isoDay.parse(report.day);
  const { rows } = await db.query<UsageRow>(
    `insert into public.usage (instance_id, day, agents, messages, storage_bytes)
     values ($1, $2, $3, $4, $5)
     on conflict (instance_id, day) do update set
       agents = coalesce(excluded.agents, usage.agents),
       messages = coalesce(excluded.messages, usage.messages),
       storage_bytes = coalesce(excluded.storage_bytes, usage.storage_bytes)
     returning instance_id, day::text as day, agents, messages, storage_bytes`,
    [report.instanceId, day, report.agents ?? null, report.messages ?? null, report.storageBytes ?? null],
  );
  return fromRow(rows[0] as UsageRow);
}

/** An instance's usage from `from` to `to` (inclusive, `YYYY-MM-DD`; default: all), oldest first. */
export async function usageForInstance(
  db: Queryable,
  instanceId: string,
  range: { readonly from?: string; readonly to?: string } = {},
): Promise<UsageDay[]> {
  const { rows } = await db.query<UsageRow>(
    `select instance_id, day::text as day, agents, messages, storage_bytes from public.usage
     where instance_id = $1 and ($2::date is null or day >= $2::date) and ($3::date is null or day <= $3::date)
     order by day`,
    [instanceId, range.from ? isoDay.parse(range.from) : null, range.to ? isoDay.parse(range.to) : null],
  );
  return rows.map(fromRow);
}
