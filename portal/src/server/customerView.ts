/**
 * What a customer sees about themselves: their customer row, subscription, instance, recent
 * operations and today's usage. Every statement runs under `withUser`, so RLS alone decides which
 * rows come back; the `where` clauses only pick among rows the person may already read.
 */
import type pg from "pg";
import { HEALTH_STATES, type HealthState } from "../../../database/instanceStates.ts";

export interface CustomerRow {
  readonly id: string;
  readonly email: string | null;
  readonly displayName: string | null;
  readonly stripeCustomerId: string | null;
  readonly createdAt: string;
}

export interface SubscriptionRow {
  readonly id: string;
  readonly status: string;
  readonly priceId: string | null;
  readonly tier: string | null;
  readonly cancelAtPeriodEnd: boolean;
  readonly currentPeriodEnd: string | null;
  readonly canceledAt: string | null;
  readonly endedAt: string | null;
}

export interface InstanceRow {
  readonly id: string;
  readonly slug: string;
  readonly tier: string;
  readonly desiredState: string;
  readonly actualState: string;
  readonly host: string | null;
  readonly outputs: Record<string, unknown> | null;
  readonly warning: string | null;
  readonly deletionDueAt: string | null;
  readonly lastError: string | null;
  readonly specHash: string | null;
  readonly appliedSpecHash: string | null;
  /** An operator's suspension: the worker keeps the tenant suspended while it is set. */
  readonly hold: { readonly since: string; readonly reason: string } | null;
  /** The worker's last health check of the running tenant (unknown: not checked, or not running). */
  readonly health: HealthState;
  /** What the check found wrong, written for the customer. */
  readonly healthFindings: readonly string[];
  readonly healthCheckedAt: string | null;
  /** Why the desired spec cannot be applied now (no host has room), or null. */
  readonly blockedReason: string | null;
  readonly updatedAt: string;
}

export interface OperationProgress {
  readonly step?: string;
  readonly done?: number;
  readonly total?: number;
  readonly message?: string;
}

export interface OperationRow {
  readonly id: string;
  readonly kind: string;
  readonly trigger: string | null;
  readonly requestedBy: string | null;
  readonly reason: string | null;
  readonly status: string;
  readonly progress: OperationProgress | null;
  readonly changes: Record<string, unknown> | null;
  readonly error: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly durationMs: number | null;
  readonly createdAt: string;
}

/** One day's measured usage; null is "not measured" (the platform could not read it), never 0. */
export interface UsageRow {
  readonly day: string;
  readonly agents: number | null;
  readonly messages: number | null;
  readonly storageBytes: number | null;
}

export interface CustomerView {
  readonly customer: CustomerRow | null;
  readonly subscription: SubscriptionRow | null;
  readonly instance: InstanceRow | null;
  readonly operations: readonly OperationRow[];
  readonly usage: UsageRow | null;
}

/** A timestamp as an ISO string: a `pg` Date, or Postgres JSON text (`2026-11-29T14:50:03.123456+00:00`). */
function iso(v: unknown): string | null {
  if (v instanceof Date) return v.toISOString();
  if (v == null) return null;
  if (typeof v === "string") {
    const d = new Date(v);
    return Number.isNaN(d.getTime()) ? v : d.toISOString();
  }
  return String(v);
}

export const customerColumns = `c.id, c.email, c.display_name, c.stripe_customer_id, c.created_at`;
export function customerFrom(r: Record<string, unknown>): CustomerRow {
  return {
    id: String(r.id),
    email: (r.email as string | null) ?? null,
    displayName: (r.display_name as string | null) ?? null,
    stripeCustomerId: (r.stripe_customer_id as string | null) ?? null,
    createdAt: iso(r.created_at) ?? "",
  };
}

export const subscriptionColumns = `s.id, s.status, s.price_id, s.tier, s.cancel_at_period_end,
  s.current_period_end, s.canceled_at, s.ended_at`;
export function subscriptionFrom(r: Record<string, unknown>): SubscriptionRow {
  return {
    id: String(r.id),
    status: String(r.status),
    priceId: (r.price_id as string | null) ?? null,
    tier: (r.tier as string | null) ?? null,
    cancelAtPeriodEnd: r.cancel_at_period_end === true,
    currentPeriodEnd: iso(r.current_period_end),
    canceledAt: iso(r.canceled_at),
    endedAt: iso(r.ended_at),
  };
}

export const instanceColumns = `i.id, i.slug, i.tier, i.desired_state, i.actual_state, i.host, i.outputs,
  i.warning, i.deletion_due_at, i.last_error, i.spec_hash, i.applied_spec_hash, i.held_at, i.hold_reason,
  i.health, i.health_report, i.health_checked_at, i.blocked_reason, i.updated_at`;

/** The findings' messages from the worker's health report (webhooks/tenantHealth/assess.ts). */
function healthFindings(report: unknown): string[] {
  const findings = (report as { findings?: unknown } | null)?.findings;
  if (!Array.isArray(findings)) return [];
  return findings
    .map((f) => (f as { message?: unknown } | null)?.message)
    .filter((m): m is string => typeof m === "string");
}
export function instanceFrom(r: Record<string, unknown>): InstanceRow {
  return {
    id: String(r.id),
    slug: String(r.slug),
    tier: String(r.tier),
    desiredState: String(r.desired_state),
    actualState: String(r.actual_state),
    host: (r.host as string | null) ?? null,
    outputs: (r.outputs as Record<string, unknown> | null) ?? null,
    warning: (r.warning as string | null) ?? null,
    deletionDueAt: iso(r.deletion_due_at),
    lastError: (r.last_error as string | null) ?? null,
    specHash: (r.spec_hash as string | null) ?? null,
    appliedSpecHash: (r.applied_spec_hash as string | null) ?? null,
    hold: r.held_at ? { since: iso(r.held_at) ?? "", reason: String(r.hold_reason) } : null,
    health: HEALTH_STATES.find((h) => h === r.health) ?? "unknown",
    healthFindings: healthFindings(r.health_report),
    healthCheckedAt: iso(r.health_checked_at),
    blockedReason: (r.blocked_reason as string | null) ?? null,
    updatedAt: iso(r.updated_at) ?? "",
  };
}

export const operationColumns = `o.id, o.kind, o.trigger, o.requested_by, o.reason, o.status, o.progress,
  o.changes, o.error, o.started_at, o.finished_at, o.duration_ms, o.created_at`;
export function operationFrom(r: Record<string, unknown>): OperationRow {
  return {
    id: String(r.id),
    kind: String(r.kind),
    trigger: (r.trigger as string | null) ?? null,
    requestedBy: (r.requested_by as string | null) ?? null,
    reason: (r.reason as string | null) ?? null,
    status: String(r.status),
    progress: (r.progress as OperationProgress | null) ?? null,
    changes: (r.changes as Record<string, unknown> | null) ?? null,
    error: (r.error as string | null) ?? null,
    startedAt: iso(r.started_at),
    finishedAt: iso(r.finished_at),
    durationMs: (r.duration_ms as number | null) ?? null,
    createdAt: iso(r.created_at) ?? "",
  };
}

/** The person's customer row (RLS returns only their own). */
export async function ownCustomer(db: pg.PoolClient): Promise<CustomerRow | null> {
  const { rows } = await db.query(
    `select ${customerColumns} from public.customers c where c.user_id = (select auth.uid())`,
  );
  return rows[0] ? customerFrom(rows[0]) : null;
}

/**
 * Everything the customer's pages show, in ONE statement (one round trip inside the caller's
 * `withUser` transaction): the customer row, the subscription that matters, the instance, its
 * latest operations and its latest usage day, each as JSON. RLS still filters every table read.
 * Named (a prepared statement per pooled connection): planning it cost more than running it.
 */
const VIEW_SQL = `
  with c as (
    select ${customerColumns} from public.customers c where c.user_id = (select auth.uid())
  )
  select to_json(c) as customer,
    (select to_json(s) from (
       select ${subscriptionColumns} from public.subscriptions s where s.customer_id = c.id
        order by (s.status in ('active','trialing','past_due','unpaid','paused')) desc, s.created_at desc
        limit 1) s) as subscription,
    to_json(i) as instance,
    (select coalesce(json_agg(o order by o.created_at desc), '[]'::json) from (
       select ${operationColumns} from public.operations o where o.instance_id = i.id
        order by o.created_at desc limit $1) o) as operations,
    (select to_json(u) from (
       select day::text as day, agents, messages, storage_bytes::float8 as storage_bytes
         from public.usage where instance_id = i.id order by day desc limit 1) u) as usage
  from c left join lateral (
    select ${instanceColumns} from public.instances i where i.customer_id = c.id limit 1
  ) i on true`;

type Json = Record<string, unknown>;

/** A usage figure from the database: null stays null ("not measured"). */
export function measured(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}

export async function customerView(db: pg.PoolClient, operationLimit = 15): Promise<CustomerView> {
  const { rows } = await db.query<{
    customer: Json;
    subscription: Json | null;
    instance: Json | null;
    operations: Json[];
    usage: Json | null;
  }>({ name: "customer_view", text: VIEW_SQL, values: [operationLimit] });
  const row = rows[0];
  if (!row) return { customer: null, subscription: null, instance: null, operations: [], usage: null };
  const customer = customerFrom(row.customer);
  const subscription = row.subscription ? subscriptionFrom(row.subscription) : null;
  if (!row.instance) return { customer, subscription, instance: null, operations: [], usage: null };
  const instance = instanceFrom(row.instance);
  const operations = row.operations.map(operationFrom);
  const u = row.usage;
  const usage = u
    ? {
        day: String(u.day),
        agents: measured(u.agents),
        messages: measured(u.messages),
        storageBytes: measured(u.storage_bytes),
      }
    : null;
  return { customer, subscription, instance, operations, usage };
}
