/**
 * Instances: one tenant per customer. The worker writes what it wants
 * (`updateDesired`: tier, state, spec) and what it got (`recordActual`: state,
 * outputs, the spec hash it applied); the sweep lists them and finds due
 * deletions; the portal and operators read them.
 */
import type { Queryable } from "./connection.ts";
import type { ActualState, DesiredState, HealthState } from "./instanceStates.ts";
import { type JsonObject, jsonb, parseJsonObject } from "./jsonColumns.ts";

export interface Instance {
  readonly id: string;
  readonly customerId: string;
  readonly slug: string;
  readonly tier: string;
  readonly desiredState: DesiredState;
  readonly actualState: ActualState;
  readonly host: string | null;
  readonly stackName: string | null;
  /** The desired TenantSpec, without secrets. */
  readonly spec: JsonObject | null;
  readonly specHash: string | null;
  /** spec_hash of the last successful operation: equal to specHash means nothing to do. */
  readonly appliedSpecHash: string | null;
  readonly outputs: JsonObject | null;
  readonly warning: string | null;
  readonly deletionDueAt: Date | null;
  readonly lastOperationId: string | null;
  readonly lastError: string | null;
  /** An operator's suspension, in force while set (see setHold). */
  readonly hold: { readonly since: Date; readonly reason: string } | null;
  /** Bumped by each restart request (see requestRestart); the spec carries it. */
  readonly restartGeneration: number;
  /** The runtime image a fleet rollout moved it to (null: the platform's MINDROOM_RUNTIME_IMAGE). */
  readonly runtimeImage: string | null;
  /** What the last health check found (webhooks/health/), and when. */
  readonly health: HealthState;
  readonly healthCheckedAt: Date | null;
  readonly healthReport: JsonObject | null;
  /** Why the desired spec cannot be applied now (no host has room), shown to customer and operators. */
  readonly blockedReason: string | null;
  /** The newest backup found in the tenant's prefix of the backup bucket. */
  readonly lastBackupAt: Date | null;
  /** When every backup of the (deleted) tenant was purged after its retention. */
  readonly backupsPurgedAt: Date | null;
  /** The Matrix bridges the customer enabled (see setBridges); the spec carries what the tier allows. */
  readonly bridges: readonly string[];
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

interface InstanceRow {
  id: string;
  customer_id: string;
  slug: string;
  tier: string;
  desired_state: DesiredState;
  actual_state: ActualState;
  host: string | null;
  stack_name: string | null;
  spec: unknown;
  spec_hash: string | null;
  applied_spec_hash: string | null;
  outputs: unknown;
  warning: string | null;
  deletion_due_at: Date | null;
  last_operation_id: string | null;
  last_error: string | null;
  held_at: Date | null;
  hold_reason: string | null;
  restart_generation: number;
  runtime_image: string | null;
  health: HealthState;
  health_checked_at: Date | null;
  health_report: unknown;
  blocked_reason: string | null;
  last_backup_at: Date | null;
  backups_purged_at: Date | null;
  bridges: string[];
  created_at: Date;
  updated_at: Date;
}

export class InstanceConflictError extends Error {
  override readonly name = "InstanceConflictError";
}

export class InstanceNotFoundError extends Error {
  override readonly name = "InstanceNotFoundError";
}

function fromRow(row: InstanceRow): Instance {
  return {
    id: row.id,
    customerId: row.customer_id,
    slug: row.slug,
    tier: row.tier,
    desiredState: row.desired_state,
    actualState: row.actual_state,
    host: row.host,
    stackName: row.stack_name,
    spec: parseJsonObject(row.spec, "instances.spec"),
    specHash: row.spec_hash,
    appliedSpecHash: row.applied_spec_hash,
    outputs: parseJsonObject(row.outputs, "instances.outputs"),
    warning: row.warning,
    deletionDueAt: row.deletion_due_at,
    lastOperationId: row.last_operation_id,
    lastError: row.last_error,
    hold: row.held_at ? { since: row.held_at, reason: row.hold_reason ?? "" } : null,
    restartGeneration: row.restart_generation,
    runtimeImage: row.runtime_image,
    health: row.health,
    healthCheckedAt: row.health_checked_at,
    healthReport: parseJsonObject(row.health_report, "instances.health_report"),
    blockedReason: row.blocked_reason,
    lastBackupAt: row.last_backup_at,
    backupsPurgedAt: row.backups_purged_at,
    bridges: row.bridges ?? [],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

async function one(db: Queryable, sql: string, values: unknown[]): Promise<Instance | null> {
  const { rows } = await db.query<InstanceRow>(sql, values);
  return rows[0] ? fromRow(rows[0]) : null;
}

export function findInstanceById(db: Queryable, id: string): Promise<Instance | null> {
  return one(db, "select * from public.instances where id = $1", [id]);
}

export function findInstanceByCustomer(db: Queryable, customerId: string): Promise<Instance | null> {
  return one(db, "select * from public.instances where customer_id = $1", [customerId]);
}

export function findInstanceBySlug(db: Queryable, slug: string): Promise<Instance | null> {
  return one(db, "select * from public.instances where slug = $1", [slug]);
}

export interface NewInstance {
  readonly customerId: string;
  readonly slug: string;
  readonly tier: string;
  readonly desiredState: DesiredState;
  readonly host?: string | null;
  readonly stackName?: string | null;
  readonly spec?: JsonObject | null;
  readonly specHash?: string | null;
  readonly warning?: string | null;
  readonly deletionDueAt?: Date | null;
}

export async function createInstance(db: Queryable, input: NewInstance): Promise<Instance> {
  try {
    const instance = await one(
      db,
      `insert into public.instances
         (customer_id, slug, tier, desired_state, host, stack_name, spec, spec_hash, warning, deletion_due_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       returning *`,
      [
        input.customerId,
        input.slug,
        input.tier,
        input.desiredState,
        input.host ?? null,
        input.stackName ?? null,
        jsonb(input.spec),
        input.specHash ?? null,
        input.warning ?? null,
        input.deletionDueAt ?? null,
      ],
    );
    return instance as Instance;
  } catch (error) {
    const e = error as { code?: string; constraint?: string };
    if (e.code === "23505" && e.constraint === "instances_slug_key")
      throw new InstanceConflictError(`slug ${input.slug} is taken by another instance; derive another one`, {
        cause: error,
      });
    if (e.code === "23505" && e.constraint === "instances_customer_id_key")
      throw new InstanceConflictError(
        `customer ${input.customerId} already has an instance; update it (findInstanceByCustomer) instead`,
        { cause: error },
      );
    throw error;
  }
}

/** Columns a patch may set, camelCase → column. `undefined` leaves a column alone; `null` clears it. */
const DESIRED_COLUMNS = {
  tier: "tier",
  desiredState: "desired_state",
  host: "host",
  stackName: "stack_name",
  spec: "spec",
  specHash: "spec_hash",
  warning: "warning",
  deletionDueAt: "deletion_due_at",
  blockedReason: "blocked_reason",
} as const;

const ACTUAL_COLUMNS = {
  actualState: "actual_state",
  outputs: "outputs",
  appliedSpecHash: "applied_spec_hash",
  lastOperationId: "last_operation_id",
  lastError: "last_error",
} as const;

const JSONB_COLUMNS = new Set(["spec", "outputs"]);

async function patch(
  db: Queryable,
  id: string,
  columns: Readonly<Record<string, string>>,
  values: Readonly<Record<string, unknown>>,
): Promise<Instance> {
  const sets: string[] = [];
  const params: unknown[] = [id];
  for (const [key, column] of Object.entries(columns)) {
    const value = values[key];
    if (value === undefined) continue;
    params.push(JSONB_COLUMNS.has(column) ? jsonb(value) : value);
    sets.push(`${column} = $${params.length}`);
  }
  const instance =
    sets.length === 0
      ? await findInstanceById(db, id)
      : await one(db, `update public.instances set ${sets.join(", ")} where id = $1 returning *`, params);
  if (!instance) throw new InstanceNotFoundError(`instance ${id} does not exist`);
  return instance;
}

export interface DesiredUpdate {
  readonly tier?: string;
  readonly desiredState?: DesiredState;
  readonly host?: string | null;
  readonly stackName?: string | null;
  readonly spec?: JsonObject | null;
  readonly specHash?: string | null;
  readonly warning?: string | null;
  readonly deletionDueAt?: Date | null;
  /** Why this cannot be applied now (null: nothing blocks it). */
  readonly blockedReason?: string | null;
}

/** Records what the instance should be. Fields left undefined keep their value; null clears. */
export function updateDesired(db: Queryable, instanceId: string, update: DesiredUpdate): Promise<Instance> {
  return patch(db, instanceId, DESIRED_COLUMNS, { ...update });
}

export interface ActualUpdate {
  readonly actualState: ActualState;
  readonly outputs?: JsonObject | null;
  readonly appliedSpecHash?: string | null;
  readonly lastOperationId?: string | null;
  readonly lastError?: string | null;
}

/** Records what an operation left the instance as. Fields left undefined keep their value; null clears. */
export function recordActual(db: Queryable, instanceId: string, update: ActualUpdate): Promise<Instance> {
  return patch(db, instanceId, ACTUAL_COLUMNS, { ...update });
}

/**
 * Puts an operator's hold on the instance (`reason`) or lifts it (`null`). The
 * worker suspends a held tenant at its next reconcile; returns the row, or
 * InstanceNotFoundError.
 */
export async function setHold(db: Queryable, instanceId: string, reason: string | null): Promise<Instance> {
  const instance = await one(
    db,
    `update public.instances
        set held_at = case when $2::text is null then null else coalesce(held_at, now()) end,
            hold_reason = $2
      where id = $1
      returning *`,
    [instanceId, reason],
  );
  if (!instance) throw new InstanceNotFoundError(`instance ${instanceId} does not exist`);
  return instance;
}

/** Asks for one restart of the tenant's apps: the next reconcile applies the new generation. */
export async function requestRestart(db: Queryable, instanceId: string): Promise<Instance> {
  const instance = await one(
    db,
    "update public.instances set restart_generation = restart_generation + 1 where id = $1 returning *",
    [instanceId],
  );
  if (!instance) throw new InstanceNotFoundError(`instance ${instanceId} does not exist`);
  return instance;
}

export interface InstanceFilter {
  readonly desiredState?: DesiredState | readonly DesiredState[];
  readonly actualState?: ActualState | readonly ActualState[];
  readonly tier?: string;
  readonly host?: string;
  /** Slug prefix. */
  readonly slugPrefix?: string;
  /** Only instances whose applied spec differs from the desired one (work pending). */
  readonly outOfDate?: boolean;
  /** Page size, 1–1000 (default 100). */
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string | null;
}

export interface InstancePage {
  readonly instances: Instance[];
  /** Pass as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

export class InstanceFilterError extends Error {
  override readonly name = "InstanceFilterError";
}

function asArray<T>(value: T | readonly T[] | undefined): readonly T[] | undefined {
  if (value === undefined) return undefined;
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

/**
 * Instances in slug order, a page at a time (keyset pagination on the unique
 * slug: each page costs the same, however far in, and rows created between
 * pages are neither skipped nor repeated).
 */
export async function listInstances(db: Queryable, filter: InstanceFilter = {}): Promise<InstancePage> {
  const limit = filter.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new InstanceFilterError(`listInstances limit must be an integer from 1 to 1000, got ${limit}`);
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (condition: (placeholder: string) => string, value: unknown) => {
    params.push(value);
    where.push(condition(`$${params.length}`));
  };
  const desired = asArray(filter.desiredState);
  if (desired) add((p) => `desired_state = any(${p}::text[])`, desired);
  const actual = asArray(filter.actualState);
  if (actual) add((p) => `actual_state = any(${p}::text[])`, actual);
  if (filter.tier !== undefined) add((p) => `tier = ${p}`, filter.tier);
  if (filter.host !== undefined) add((p) => `host = ${p}`, filter.host);
  if (filter.slugPrefix) add((p) => `starts_with(slug, ${p})`, filter.slugPrefix);
  if (filter.outOfDate) where.push("spec_hash is distinct from applied_spec_hash");
  if (filter.cursor) add((p) => `slug > ${p}`, filter.cursor);
  params.push(limit + 1);
  const { rows } = await db.query<InstanceRow>(
    `select * from public.instances
     ${where.length > 0 ? `where ${where.join(" and ")}` : ""}
     order by slug
     limit $${params.length}`,
    params,
  );
  const page = rows.slice(0, limit).map(fromRow);
  return { instances: page, nextCursor: rows.length > limit ? (page.at(-1)?.slug ?? null) : null };
}

/**
 * Instances whose deletion is due (`deletion_due_at <= now`) and not yet done,
 * oldest due first: the sweep runs their deletion.
 */
export async function instancesDueForDeletion(db: Queryable, now: Date, limit = 1000): Promise<Instance[]> {
  const { rows } = await db.query<InstanceRow>(
    `select * from public.instances
     where deletion_due_at <= $1 and actual_state <> 'deleted'
     order by deletion_due_at, slug
     limit $2`,
    [now, limit],
  );
  return rows.map(fromRow);
}

/** The customer's choice of Matrix bridges (an input to the worker's desired spec, like a restart request). */
export async function setBridges(
  db: Queryable,
  instanceId: string,
  bridges: readonly string[],
): Promise<Instance> {
  const instance = await one(db, "update public.instances set bridges = $2 where id = $1 returning *", [
    instanceId,
    [...new Set(bridges)].sort(),
  ]);
  if (!instance) throw new InstanceNotFoundError(`instance ${instanceId} does not exist`);
  return instance;
}

/**
 * Of these Stripe customers, those whose tenant is settled on what it last applied: running as
 * desired, the desired spec's digest equal to the applied one, no warning and no hold. A renewal
 * for them changes nothing (webhooks/renewal.ts), so ingest queues no reconcile.
 */
export async function settledCustomers(
  db: Queryable,
  stripeCustomerIds: readonly string[],
): Promise<Set<string>> {
  if (stripeCustomerIds.length === 0) return new Set();
  const { rows } = await db.query<{ stripe_customer_id: string }>({
    name: "settled_customers",
    text: `select c.stripe_customer_id from public.instances i
             join public.customers c on c.id = i.customer_id
            where c.stripe_customer_id = any($1::text[])
              and i.desired_state = 'running' and i.actual_state = 'running'
              and i.spec_hash is not null and i.spec_hash = i.applied_spec_hash
              and i.warning is null and i.held_at is null`,
    values: [stripeCustomerIds],
  });
  return new Set(rows.map((row) => row.stripe_customer_id));
}
