/**
 * Fleet rollouts (`public.rollouts`, `public.rollout_tenants`): which image,
 * which tenants in which wave, and where each stands. The worker advances them
 * (webhooks/rollouts.ts); operators start, resume and watch them.
 */
import type { Queryable } from "./connection.ts";

export type RolloutStatus = "running" | "halted" | "succeeded";
export type RolloutTenantStatus = "pending" | "applying" | "succeeded" | "failed";

export interface Rollout {
  readonly id: string;
  readonly image: string;
  readonly canary: number;
  readonly batchSize: number;
  readonly status: RolloutStatus;
  readonly requestedBy: string;
  readonly error: string | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly finishedAt: Date | null;
}

export interface RolloutTenant {
  readonly instanceId: string;
  readonly slug: string;
  /** The Stripe customer id: what a reconcile is queued for. */
  readonly customerKey: string;
  readonly wave: number;
  readonly previousImage: string | null;
  readonly status: RolloutTenantStatus;
  readonly error: string | null;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
}

/** Another rollout is running or halted: resume or finish that one first. */
export class RolloutConflictError extends Error {
  override readonly name = "RolloutConflictError";
}

interface RolloutRow {
  id: string;
  image: string;
  canary: number;
  batch_size: number;
  status: RolloutStatus;
  requested_by: string;
  error: string | null;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
}

function fromRow(row: RolloutRow): Rollout {
  return {
    id: row.id,
    image: row.image,
    canary: row.canary,
    batchSize: row.batch_size,
    status: row.status,
    requestedBy: row.requested_by,
    error: row.error,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    finishedAt: row.finished_at,
  };
}

/** A tenant that a rollout moves: every instance with a stack that is not being deleted. */
export interface RolloutCandidate {
  readonly instanceId: string;
  readonly slug: string;
  readonly runtimeImage: string | null;
}

export async function rolloutCandidates(db: Queryable): Promise<RolloutCandidate[]> {
  const { rows } = await db.query<{ id: string; slug: string; runtime_image: string | null }>(
    `select id, slug, runtime_image from public.instances
      where desired_state <> 'deleted' and stack_name is not null and host is not null
      order by created_at, slug`,
  );
  return rows.map((r) => ({ instanceId: r.id, slug: r.slug, runtimeImage: r.runtime_image }));
}

export interface NewRollout {
  readonly image: string;
  readonly canary: number;
  readonly batchSize: number;
  readonly requestedBy: string;
  readonly tenants: readonly {
    readonly instanceId: string;
    readonly wave: number;
    readonly previousImage: string | null;
  }[];
}

export async function createRollout(db: Queryable, input: NewRollout): Promise<Rollout> {
  let row: RolloutRow | undefined;
  try {
    ({
      rows: [row],
    } = await db.query<RolloutRow>(
      `insert into public.rollouts (image, canary, batch_size, requested_by)
       values ($1, $2, $3, $4) returning *`,
      [input.image, input.canary, input.batchSize, input.requestedBy],
    ));
  } catch (error) {
    if ((error as { constraint?: string }).constraint === "rollouts_one_open_idx")
      throw new RolloutConflictError(
        "another rollout is running or halted: resume it (mindroom-ops rollout --resume <id>) or let it finish first",
      );
    throw error;
  }
  const rollout = fromRow(row as RolloutRow);
  if (input.tenants.length > 0)
    await db.query(
      `insert into public.rollout_tenants (rollout_id, instance_id, wave, previous_image)
       select $1, t.instance_id, t.wave, t.previous_image
         from jsonb_to_recordset($2::jsonb) as t(instance_id uuid, wave integer, previous_image text)`,
      [
        rollout.id,
        JSON.stringify(
          input.tenants.map((t) => ({
            instance_id: t.instanceId,
            wave: t.wave,
            previous_image: t.previousImage,
          })),
        ),
      ],
    );
  return rollout;
}

export async function findRollout(db: Queryable, id: string): Promise<Rollout | null> {
  const { rows } = await db.query<RolloutRow>("select * from public.rollouts where id = $1", [id]);
  return rows[0] ? fromRow(rows[0]) : null;
}

export async function listRollouts(db: Queryable, limit = 20): Promise<Rollout[]> {
  const { rows } = await db.query<RolloutRow>(
    "select * from public.rollouts order by created_at desc limit $1",
    [limit],
  );
  return rows.map(fromRow);
}

export async function rolloutTenants(db: Queryable, rolloutId: string): Promise<RolloutTenant[]> {
  const { rows } = await db.query<{
    instance_id: string;
    slug: string;
    stripe_customer_id: string | null;
    wave: number;
    previous_image: string | null;
    status: RolloutTenantStatus;
    error: string | null;
    started_at: Date | null;
    finished_at: Date | null;
  }>(
    `select t.instance_id, i.slug, c.stripe_customer_id, t.wave, t.previous_image, t.status, t.error,
            t.started_at, t.finished_at
       from public.rollout_tenants t
       join public.instances i on i.id = t.instance_id
       join public.customers c on c.id = i.customer_id
      where t.rollout_id = $1
      order by t.wave, i.created_at, i.slug`,
    [rolloutId],
  );
  return rows.map((r) => ({
    instanceId: r.instance_id,
    slug: r.slug,
    customerKey: r.stripe_customer_id ?? "",
    wave: r.wave,
    previousImage: r.previous_image,
    status: r.status,
    error: r.error,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  }));
}

/** Moves tenants of the rollout to `status` (applying stamps the start, an end state the finish). */
export async function setTenantStatus(
  db: Queryable,
  rolloutId: string,
  instanceIds: readonly string[],
  status: RolloutTenantStatus,
  error: string | null = null,
): Promise<void> {
  if (instanceIds.length === 0) return;
  await db.query(
    `update public.rollout_tenants
        set status = $3, error = $4,
            started_at = case when $3 = 'applying' then now() when $3 = 'pending' then null else started_at end,
            finished_at = case when $3 in ('succeeded', 'failed') then now() else null end
      where rollout_id = $1 and instance_id = any($2::uuid[])`,
    [rolloutId, instanceIds, status, error],
  );
}

export async function setRolloutStatus(
  db: Queryable,
  id: string,
  status: RolloutStatus,
  error: string | null = null,
): Promise<Rollout> {
  const { rows } = await db.query<RolloutRow>(
    `update public.rollouts
        set status = $2, error = $3, updated_at = now(),
            finished_at = case when $2 = 'succeeded' then now() else null end
      where id = $1 returning *`,
    [id, status, error],
  );
  if (!rows[0]) throw new Error(`rollout ${id} does not exist`);
  return fromRow(rows[0]);
}

/** Sets the runtime image the tenant's next reconcile applies. */
export async function setRuntimeImage(
  db: Queryable,
  instanceIds: readonly string[],
  image: string,
): Promise<void> {
  await db.query("update public.instances set runtime_image = $2 where id = any($1::uuid[])", [
    instanceIds,
    image,
  ]);
}
