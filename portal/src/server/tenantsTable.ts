/**
 * The operator's tenants table: one row per instance with its customer, last operation, drift and
 * recent failures, filtered, sorted and paginated in SQL so the page stays fast with thousands of
 * tenants (the client only ever receives one page). Runs under `withUser`: the operator RLS policy
 * is what lets these rows through.
 */
import { createHash } from "node:crypto";
import type pg from "pg";
import { z } from "zod";
import { TIER_IDS } from "../../../components/tiers.ts";
import { ACTUAL_STATES } from "../../../database/instanceStates.ts";

export const DRIFT_STATES = ["drifted", "pending", "clean", "unknown"] as const;
export const SORTS = ["slug", "state", "tier", "updated", "failures"] as const;

export const tenantFilterSchema = z.object({
  q: z.string().trim().max(100, "Search text is limited to 100 characters.").default(""),
  tier: z.enum(["", ...TIER_IDS]).default(""),
  state: z.enum(["", ...ACTUAL_STATES]).default(""),
  drift: z.enum(["", ...DRIFT_STATES]).default(""),
  failing: z.enum(["", "yes"]).default(""),
  sort: z.enum(SORTS).default("slug"),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(10).max(200).default(50),
});
export type TenantFilter = z.infer<typeof tenantFilterSchema>;

export interface TenantListRow {
  readonly id: string;
  readonly slug: string;
  readonly email: string | null;
  readonly tier: string;
  readonly actualState: string;
  readonly desiredState: string;
  /** The last health check's verdict (degraded: the worker found it not working). */
  readonly health: string;
  readonly host: string | null;
  readonly drift: (typeof DRIFT_STATES)[number];
  readonly lastOperation: { kind: string; status: string; at: string } | null;
  readonly failures: number;
  readonly lastError: string | null;
  readonly updatedAt: string;
}

export interface TenantPage {
  readonly rows: readonly TenantListRow[];
  readonly total: number;
  readonly page: number;
  readonly pageSize: number;
}

const ORDER: Record<TenantFilter["sort"], string> = {
  slug: "slug asc",
  state: "actual_state asc, slug asc",
  tier: "tier asc, slug asc",
  updated: "updated_at desc, slug asc",
  failures: "failures desc, slug asc",
};

/**
 * Drift as the table shows it: "pending" while the desired spec is not yet applied, otherwise what
 * the latest drift check found (any change count besides `same`, or a non-empty finding list).
 */
const DRIFT_SQL = `case
  when i.spec_hash is not null and i.spec_hash is distinct from i.applied_spec_hash then 'pending'
  when d.status = 'succeeded' and (
    coalesce(jsonb_typeof(d.changes -> 'drift') = 'array' and jsonb_array_length(d.changes -> 'drift') > 0, false)
    or exists (select 1 from jsonb_each(coalesce(d.changes, '{}'::jsonb)) e
                where e.key not in ('same', 'drift') and jsonb_typeof(e.value) = 'number' and (e.value)::text::numeric > 0)
  ) then 'drifted'
  when d.status = 'succeeded' then 'clean'
  else 'unknown' end`;

/** The per-tenant facts that cost a lookup in `operations` each. */
const LATERALS = `
  left join lateral (select o.kind, o.status, o.created_at from public.operations o
                      where o.instance_id = i.id order by o.created_at desc limit 1) lo on true
  left join lateral (select o.status, o.changes from public.operations o
                      where o.instance_id = i.id and o.kind = 'drift' order by o.created_at desc limit 1) d on true
  left join lateral (select count(*)::int as failures from public.operations o
                      where o.instance_id = i.id and o.status = 'failed'
                        and o.created_at > now() - interval '7 days') f on true`;

const COMPUTED = `lo.kind as last_kind, lo.status as last_status, lo.created_at as last_at,
  ${DRIFT_SQL} as drift, coalesce(f.failures, 0) as failures`;

const names = new Map<string, string>();

/** A prepared statement's name for this text (same text, same name on every connection). */
function statementName(prefix: string, sql: string): string {
  let name = names.get(sql);
  if (!name) {
    name = `${prefix}_${createHash("sha1").update(sql).digest("hex").slice(0, 16)}`;
    names.set(sql, name);
  }
  return name;
}

export async function tenantsPage(db: pg.PoolClient, filter: TenantFilter): Promise<TenantPage> {
  const params: unknown[] = [];
  const base: string[] = [];
  const computed: string[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (filter.q) {
    const like = param(`%${filter.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`);
    base.push(
      `(i.slug ilike ${like} or c.email ilike ${like} or i.host ilike ${like} or i.id::text = ${param(filter.q)})`,
    );
  }
  if (filter.tier) base.push(`i.tier = ${param(filter.tier)}`);
  if (filter.state) base.push(`i.actual_state = ${param(filter.state)}`);
  if (filter.drift) computed.push(`drift = ${param(filter.drift)}`);
  if (filter.failing) computed.push("(failures > 0 or last_error is not null)");
  const limit = param(filter.pageSize);
  const offset = param((filter.page - 1) * filter.pageSize);
  const columns = `i.id, i.slug, c.email, i.tier, i.actual_state, i.desired_state, i.health, i.host, i.last_error, i.updated_at,
    i.spec_hash, i.applied_spec_hash`;
  const joined = "from public.instances i join public.customers c on c.id = i.customer_id";
  const where = base.length ? `where ${base.join(" and ")}` : "";
  // Filtering or sorting on per-tenant facts needs them for every tenant; otherwise page first and
  // look them up for the page's rows only (a page of 50 instead of every tenant).
  const needsAll = computed.length > 0 || filter.sort === "failures";
  const sql = needsAll
    ? `with t as (select ${columns}, ${COMPUTED} ${joined} ${LATERALS} ${where})
       select t.*, count(*) over ()::int as total from t
        ${computed.length ? `where ${computed.join(" and ")}` : ""}
        order by ${ORDER[filter.sort]} limit ${limit} offset ${offset}`
    : // The count apart from the page, so the page can stop after offset + limit rows (by the slug
      // index when sorting by slug) instead of numbering every tenant first.
      `with page as (select ${columns} ${joined} ${where}
                      order by ${ORDER[filter.sort]} limit ${limit} offset ${offset})
       select i.*, (select count(*)::int ${joined} ${where}) as total, ${COMPUTED} from page i ${LATERALS}
        order by ${ORDER[filter.sort]}`;
  // Named, so each pooled connection plans each variant of the statement once (planning it with
  // the RLS policies inlined took about 1.5 ms a request); the text, never user input, decides the name.
  const { rows } = await db.query({ name: statementName("tenants", sql), text: sql, values: params });
  let total = rows[0] ? Number(rows[0].total) : 0;
  if (!rows[0] && filter.page > 1) {
    // Past the last page: count separately so the pager can offer a way back.
    const count = await db.query(
      `select count(*)::int as n from public.instances i join public.customers c on c.id = i.customer_id`,
    );
    total = Number(count.rows[0]?.n ?? 0);
  }
  return {
    rows: rows.map((r) => ({
      id: String(r.id),
      slug: String(r.slug),
      email: (r.email as string | null) ?? null,
      tier: String(r.tier),
      actualState: String(r.actual_state),
      desiredState: String(r.desired_state),
      health: String(r.health),
      host: (r.host as string | null) ?? null,
      drift: r.drift as TenantListRow["drift"],
      lastOperation: r.last_kind
        ? { kind: String(r.last_kind), status: String(r.last_status), at: (r.last_at as Date).toISOString() }
        : null,
      failures: Number(r.failures),
      lastError: (r.last_error as string | null) ?? null,
      updatedAt: (r.updated_at as Date).toISOString(),
    })),
    total,
    page: filter.page,
    pageSize: filter.pageSize,
  };
}
