/**
 * Operator reads beyond the tenants table: one tenant in full, and the platform overview. Under
 * `withUser` like everything else; the operator RLS policies let these rows through.
 */
import type pg from "pg";
import { isTierId, TIERS } from "../../../components/tiers.ts";
import {
  type CustomerRow,
  customerColumns,
  customerFrom,
  type InstanceRow,
  instanceColumns,
  instanceFrom,
  type OperationRow,
  operationColumns,
  operationFrom,
  type SubscriptionRow,
  subscriptionColumns,
  subscriptionFrom,
} from "./customerView.ts";

export interface AuditRow {
  readonly id: string;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly reason: string | null;
  readonly details: Record<string, unknown> | null;
}

export interface TenantDetail {
  readonly instance: InstanceRow;
  readonly customer: CustomerRow;
  readonly subscription: SubscriptionRow | null;
  readonly operations: readonly OperationRow[];
  readonly audit: readonly AuditRow[];
}

export async function tenantDetail(db: pg.PoolClient, instanceId: string): Promise<TenantDetail | null> {
  const { rows } = await db.query(
    `select ${instanceColumns}, ${customerColumns.replace("c.id,", "c.id as customer_id,")}
       from public.instances i join public.customers c on c.id = i.customer_id where i.id = $1`,
    [instanceId],
  );
  const row = rows[0];
  if (!row) return null;
  const instance = instanceFrom(row);
  const customer = customerFrom({ ...row, id: row.customer_id });
  const [subscription, operations, audit] = await Promise.all([
    db
      .query(
        `select ${subscriptionColumns} from public.subscriptions s where s.customer_id = $1
          order by s.created_at desc limit 1`,
        [customer.id],
      )
      .then((r) => (r.rows[0] ? subscriptionFrom(r.rows[0]) : null)),
    db
      .query(
        `select ${operationColumns} from public.operations o where o.instance_id = $1
          order by o.created_at desc limit 100`,
        [instance.id],
      )
      .then((r) => r.rows.map(operationFrom)),
    db
      .query(
        `select id::text, at, actor, action, reason, details from public.audit_log
          where instance_id = $1 or customer_id = $2 order by at desc limit 100`,
        [instance.id, customer.id],
      )
      .then((r) =>
        r.rows.map((a) => ({
          id: String(a.id),
          at: (a.at as Date).toISOString(),
          actor: String(a.actor),
          action: String(a.action),
          reason: (a.reason as string | null) ?? null,
          details: (a.details as Record<string, unknown> | null) ?? null,
        })),
      ),
  ]);
  return { instance, customer, subscription, operations, audit };
}

export interface PlatformView {
  readonly byTierAndState: readonly { tier: string; state: string; count: number }[];
  readonly tenants: number;
  /** Monthly recurring revenue from live subscriptions, US cents; enterprise counts at its list price when it has one. */
  readonly mrrCents: number;
  readonly payingSubscriptions: number;
  readonly customPriced: number;
  readonly failedLastDay: readonly (OperationRow & { slug: string; instanceId: string })[];
  /** The latest fleet rollouts (mindroom-ops rollout), newest first, with where their tenants stand. */
  readonly rollouts: readonly RolloutView[];
}

export interface RolloutView {
  readonly id: string;
  readonly image: string;
  readonly status: string;
  readonly canary: number;
  readonly batchSize: number;
  readonly requestedBy: string;
  readonly error: string | null;
  readonly createdAt: string;
  readonly tenants: number;
  readonly moved: number;
  readonly applying: number;
  readonly failed: number;
}

export async function platformView(db: pg.PoolClient): Promise<PlatformView> {
  const [grid, subs, failed, rollouts] = await Promise.all([
    db.query(
      `select tier, actual_state as state, count(*)::int as count from public.instances
        group by tier, actual_state order by tier, actual_state`,
    ),
    db.query(
      `select tier, count(*)::int as count from public.subscriptions
        where status in ('active', 'trialing', 'past_due') group by tier`,
    ),
    db.query(
      `select ${operationColumns}, i.slug, i.id as instance_id from public.operations o
         join public.instances i on i.id = o.instance_id
        where o.status = 'failed' and o.created_at > now() - interval '24 hours'
        order by o.created_at desc limit 50`,
    ),
    db.query(
      `select r.id, r.image, r.status, r.canary, r.batch_size, r.requested_by, r.error, r.created_at,
              count(t.instance_id)::int as tenants,
              count(*) filter (where t.status = 'succeeded')::int as moved,
              count(*) filter (where t.status = 'applying')::int as applying,
              count(*) filter (where t.status = 'failed')::int as failed
         from public.rollouts r left join public.rollout_tenants t on t.rollout_id = r.id
        group by r.id order by r.created_at desc limit 5`,
    ),
  ]);
  let mrrCents = 0;
  let paying = 0;
  let custom = 0;
  for (const r of subs.rows) {
    const id = String(r.tier ?? "");
    const count = Number(r.count);
    if (!isTierId(id)) continue;
    const price = TIERS[id].monthlyPriceCents;
    if (price === null) custom += count;
    else {
      mrrCents += price * count;
      if (price > 0) paying += count;
    }
  }
  const byTierAndState = grid.rows.map((r) => ({
    tier: String(r.tier),
    state: String(r.state),
    count: Number(r.count),
  }));
  return {
    byTierAndState,
    tenants: byTierAndState.reduce((n, r) => n + r.count, 0),
    mrrCents,
    payingSubscriptions: paying,
    customPriced: custom,
    failedLastDay: failed.rows.map((r) => ({
      ...operationFrom(r),
      slug: String(r.slug),
      instanceId: String(r.instance_id),
    })),
    rollouts: rollouts.rows.map((r) => ({
      id: String(r.id),
      image: String(r.image),
      status: String(r.status),
      canary: Number(r.canary),
      batchSize: Number(r.batch_size),
      requestedBy: String(r.requested_by),
      error: r.error === null ? null : String(r.error),
      createdAt: new Date(r.created_at).toISOString(),
      tenants: Number(r.tenants),
      moved: Number(r.moved),
      applying: Number(r.applying),
      failed: Number(r.failed),
    })),
  };
}
