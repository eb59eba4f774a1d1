/**
 * The Dokku hosts tenants are placed on (`public.hosts`). Operators add them
 * (`mindroom-ops hosts add`: key pinned, capacity measured, readiness checked),
 * cordon and drain them; `DOKKU_HOSTS` seeds the table; the reconcile worker
 * reads it for placement, for each tenant's host key and address, and for the
 * policy pack's list of known hosts.
 */
import { z } from "zod";
import type { KnownHost } from "../components/hostPool.ts";
import type { Queryable } from "./connection.ts";
import { jsonb } from "./jsonColumns.ts";

export const HOST_SCHEDULES = ["active", "cordoned", "draining"] as const;
export type HostSchedule = (typeof HOST_SCHEDULES)[number];

/** What the last readiness check found (see automation/hostProbe.ts). */
export const hostReadiness = z.object({
  /** Everything tenants need is there. */
  ready: z.boolean(),
  /** What is missing or wrong, each with what to do. */
  problems: z.array(z.string()),
  dokkuVersion: z.string().nullable(),
  /** Installed community plugins and their versions. */
  plugins: z.record(z.string(), z.string()),
  /** The Let's Encrypt renewal cron job is installed. */
  autorenew: z.boolean(),
  globalDomains: z.array(z.string()),
});
export type HostReadiness = z.infer<typeof hostReadiness>;

export interface Host {
  /** `ssh://user@host:port`: the key, and what instances.host holds. */
  readonly url: string;
  /** The public address DNS records point at. */
  readonly address: string;
  /** The pinned public key (`ssh-ed25519 AAAA…`); null until pinned. */
  readonly hostKey: string | null;
  readonly memoryMb: number;
  readonly cpus: number;
  readonly proxied: boolean;
  readonly schedule: HostSchedule;
  readonly scheduleReason: string | null;
  /** The last readiness check; null when never checked. */
  readonly readiness: HostReadiness | null;
  readonly checkedAt: Date | null;
  readonly addedBy: string;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

interface HostRow {
  url: string;
  address: string;
  host_key: string | null;
  memory_mb: number;
  cpus: string;
  proxied: boolean;
  schedule: HostSchedule;
  schedule_reason: string | null;
  readiness: unknown;
  checked_at: Date | null;
  added_by: string;
  created_at: Date;
  updated_at: Date;
}

export class HostNotFoundError extends Error {
  override readonly name = "HostNotFoundError";
}

/** The host still has tenants: move them first (`mindroom-ops hosts drain`). */
export class HostInUseError extends Error {
  override readonly name = "HostInUseError";
}

function fromRow(row: HostRow): Host {
  return {
    url: row.url,
    address: row.address,
    hostKey: row.host_key,
    memoryMb: row.memory_mb,
    cpus: Number(row.cpus),
    proxied: row.proxied,
    schedule: row.schedule,
    scheduleReason: row.schedule_reason,
    readiness: row.readiness === null ? null : hostReadiness.parse(row.readiness),
    checkedAt: row.checked_at,
    addedBy: row.added_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The host as the placement, the policy pack and tenant specs know it. */
export function knownHost(host: Host): KnownHost {
  return {
    url: host.url,
    address: host.address,
    memoryMb: host.memoryMb,
    cpus: host.cpus,
    proxied: host.proxied,
  };
}

/**
 * Whether new tenants may be placed on the host: active, its key pinned, and
 * not found wanting by its last check (never checked counts as configured).
 */
export function isSchedulable(host: Host): boolean {
  return host.schedule === "active" && host.hostKey !== null && (host.readiness?.ready ?? true);
}

export interface NewHost {
  readonly url: string;
  readonly address: string;
  readonly hostKey: string | null;
  readonly memoryMb: number;
  readonly cpus: number;
  readonly proxied?: boolean;
  readonly readiness?: HostReadiness | null;
  readonly addedBy: string;
}

/** Adds a host, or updates one already known under the same URL (its key only if none was pinned). */
export async function saveHost(db: Queryable, host: NewHost): Promise<Host> {
  const { rows } = await db.query<HostRow>(
    `insert into public.hosts (url, address, host_key, memory_mb, cpus, proxied, readiness, checked_at, added_by)
     values ($1, $2, $3, $4, $5, $6, $7::jsonb, case when $7::jsonb is null then null else now() end, $8)
     on conflict (url) do update set
       address = excluded.address,
       host_key = coalesce(hosts.host_key, excluded.host_key),
       memory_mb = excluded.memory_mb,
       cpus = excluded.cpus,
       proxied = excluded.proxied,
       readiness = coalesce(excluded.readiness, hosts.readiness),
       checked_at = coalesce(excluded.checked_at, hosts.checked_at)
     returning *`,
    [
      host.url,
      host.address,
      host.hostKey,
      host.memoryMb,
      host.cpus,
      host.proxied ?? false,
      jsonb(host.readiness ?? null),
      host.addedBy,
    ],
  );
  return fromRow(rows[0] as HostRow);
}

/**
 * `DOKKU_HOSTS` as seed: hosts not in the table yet are added (with their key
 * from `DOKKU_KNOWN_HOSTS` when known); a known host gets a key only if it had
 * none. Nothing else of a known host changes: the table is the truth once seeded.
 */
export async function seedHosts(
  db: Queryable,
  hosts: readonly KnownHost[],
  keys: ReadonlyMap<string, string>,
): Promise<void> {
  for (const host of hosts) {
    await db.query(
      `insert into public.hosts (url, address, host_key, memory_mb, cpus, proxied, added_by)
       values ($1, $2, $3, $4, $5, $6, 'seed:DOKKU_HOSTS')
       on conflict (url) do update set host_key = coalesce(hosts.host_key, excluded.host_key)`,
      [host.url, host.address, keys.get(host.url) ?? null, host.memoryMb, host.cpus, host.proxied],
    );
  }
}

/**
 * The fleet as operations and the policy pack must know it: the hosts table,
 * plus the `DOKKU_HOSTS` seeds it does not hold yet (the webhook service adds
 * them when it starts). A host in the table is known as the table has it.
 */
export function fleetHosts(table: readonly Host[], seeds: readonly KnownHost[]): KnownHost[] {
  const inTable = new Set(table.map((h) => h.url));
  return [...table.map(knownHost), ...seeds.filter((s) => !inTable.has(s.url))];
}

export async function listHosts(db: Queryable): Promise<Host[]> {
  const { rows } = await db.query<HostRow>("select * from public.hosts order by created_at, url");
  return rows.map(fromRow);
}

export async function findHostByUrl(db: Queryable, url: string): Promise<Host | null> {
  const { rows } = await db.query<HostRow>("select * from public.hosts where url = $1", [url]);
  return rows[0] ? fromRow(rows[0]) : null;
}

async function updateOne(db: Queryable, url: string, sql: string, values: unknown[]): Promise<Host> {
  const { rows } = await db.query<HostRow>(sql, [url, ...values]);
  if (!rows[0]) throw new HostNotFoundError(`no host ${url}: list them with mindroom-ops hosts list`);
  return fromRow(rows[0]);
}

export function setHostSchedule(
  db: Queryable,
  url: string,
  schedule: HostSchedule,
  reason: string | null,
): Promise<Host> {
  return updateOne(
    db,
    url,
    "update public.hosts set schedule = $2, schedule_reason = $3 where url = $1 returning *",
    [schedule, reason],
  );
}

/** Records a readiness check (and, when given, freshly measured capacity). */
export function recordHostCheck(
  db: Queryable,
  url: string,
  check: { readonly readiness: HostReadiness; readonly memoryMb?: number; readonly cpus?: number },
): Promise<Host> {
  return updateOne(
    db,
    url,
    `update public.hosts set readiness = $2::jsonb, checked_at = now(),
       memory_mb = coalesce($3, memory_mb), cpus = coalesce($4, cpus)
     where url = $1 returning *`,
    [jsonb(check.readiness), check.memoryMb ?? null, check.cpus ?? null],
  );
}

/** Slugs of the tenants that live on the host (deleted ones no longer count). */
export async function tenantsOnHost(db: Queryable, url: string): Promise<string[]> {
  const { rows } = await db.query<{ slug: string }>(
    `select slug from public.instances where host = $1 and actual_state <> 'deleted' order by slug`,
    [url],
  );
  return rows.map((r) => r.slug);
}

/** Removes a host that no tenant lives on. */
export async function removeHost(db: Queryable, url: string): Promise<void> {
  const tenants = await tenantsOnHost(db, url);
  if (tenants.length > 0)
    throw new HostInUseError(
      `${url} still has ${tenants.length} tenant(s) (${tenants.slice(0, 5).join(", ")}${tenants.length > 5 ? ", …" : ""}): drain it first`,
    );
  const { rowCount } = await db.query("delete from public.hosts where url = $1", [url]);
  if (rowCount === 0) throw new HostNotFoundError(`no host ${url}: list them with mindroom-ops hosts list`);
}

/** What the reconcile worker needs from the table for one reconcile. */
export interface HostPool {
  /** Every host with a pinned key: tenant specs and the policy pack know them all. */
  readonly known: readonly KnownHost[];
  /** Where new tenants may go (see isSchedulable). */
  readonly schedulable: readonly KnownHost[];
  /** Pinned public key per host URL. */
  readonly keys: ReadonlyMap<string, string>;
}

export function hostPool(hosts: readonly Host[]): HostPool {
  const pinned = hosts.filter((h) => h.hostKey !== null);
  return {
    known: pinned.map(knownHost),
    schedulable: pinned.filter(isSchedulable).map(knownHost),
    keys: new Map(pinned.map((h) => [h.url, h.hostKey as string])),
  };
}

export async function readHostPool(db: Queryable): Promise<HostPool> {
  return hostPool(await listHosts(db));
}
