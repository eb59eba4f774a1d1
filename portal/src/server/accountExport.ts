/**
 * Everything the platform holds about a person, as JSON, read under RLS (so it can only ever be
 * their own rows): customer, subscriptions, instance, operations, usage and audit log.
 */
import type pg from "pg";

export async function accountExport(db: pg.PoolClient, email: string): Promise<Record<string, unknown>> {
  const one = async (sql: string, params: unknown[] = []) => (await db.query(sql, params)).rows;
  const customers = await one(
    `select id, email, display_name, stripe_customer_id, created_at, updated_at
       from public.customers where user_id = (select auth.uid())`,
  );
  const ids = customers.map((c) => c.id);
  const instances = await one(
    `select id, slug, tier, desired_state, actual_state, host, outputs, warning, deletion_due_at, spec,
            created_at, updated_at from public.instances where customer_id = any($1)`,
    [ids],
  );
  const instanceIds = instances.map((i) => i.id);
  return {
    exportedAt: new Date().toISOString(),
    account: { email },
    customers,
    subscriptions: await one(
      `select id, status, price_id, tier, cancel_at_period_end, current_period_end, canceled_at, ended_at,
              created_at from public.subscriptions where customer_id = any($1) order by created_at`,
      [ids],
    ),
    instances,
    operations: await one(
      `select id, instance_id, kind, trigger, status, reason, error, started_at, finished_at, created_at
         from public.operations where instance_id = any($1) order by created_at`,
      [instanceIds],
    ),
    usage: await one(`select * from public.usage where instance_id = any($1) order by day`, [instanceIds]),
    auditLog: await one(
      `select at, actor, action, reason, details from public.audit_log where customer_id = any($1) order by at`,
      [ids],
    ),
  };
}
