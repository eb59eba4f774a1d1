/**
 * Everything the platform holds about a person, as JSON, read under RLS (so it can only ever be
 * their own rows): customer, subscriptions, instance, operations, usage and the history of their
 * account. As customers may see it (customerFacing.ts): the instance without the host's address
 * or the tenant spec, operations and history without raw engine output or who on our team acted.
 */
import type pg from "pg";
import { tenantUrls } from "../components/outputs.ts";
import { customerActor, customerProblem, requester } from "./customerFacing.ts";

type Row = Record<string, unknown>;

export async function accountExport(db: pg.PoolClient, email: string): Promise<Record<string, unknown>> {
  const all = async (sql: string, params: unknown[] = []) => (await db.query<Row>(sql, params)).rows;
  const customers = await all(
    `select id, email, display_name, stripe_customer_id, created_at, updated_at
       from public.customers where user_id = (select auth.uid())`,
  );
  const ids = customers.map((c) => c.id);
  const instances = await all(
    `select id, slug, tier, desired_state, actual_state, outputs, warning, deletion_due_at, last_error,
            created_at, updated_at from public.instances where customer_id = any($1)`,
    [ids],
  );
  const instanceIds = instances.map((i) => i.id);
  const operations = await all(
    `select id, instance_id, kind, trigger, status, error, started_at, finished_at, created_at
       from public.operations where instance_id = any($1) order by created_at`,
    [instanceIds],
  );
  const history = await all(
    `select at, actor, action from public.audit_log where customer_id = any($1) order by at`,
    [ids],
  );
  return {
    exportedAt: new Date().toISOString(),
    account: { email },
    customers,
    subscriptions: await all(
      `select id, status, price_id, tier, cancel_at_period_end, current_period_end, canceled_at, ended_at,
              created_at from public.subscriptions where customer_id = any($1) order by created_at`,
      [ids],
    ),
    instances: instances.map(({ outputs, last_error, ...kept }) => ({
      ...kept,
      urls: tenantUrls(outputs as Record<string, unknown> | null),
      problem: customerProblem(last_error as string | null),
    })),
    operations: operations.map(({ trigger, error, ...kept }) => ({
      ...kept,
      requested_by: requester(trigger as string | null),
      problem: kept.status === "failed" ? customerProblem(error as string | null) : null,
    })),
    usage: await all(`select * from public.usage where instance_id = any($1) order by day`, [instanceIds]),
    history: history.map((h) => ({ at: h.at, by: customerActor(String(h.actor)), action: h.action })),
  };
}
