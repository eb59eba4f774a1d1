/**
 * At most one operation per tenant at a time, across every control-plane
 * machine: a lease in the platform Postgres (`automation.tenant_leases`, see
 * its migration). A holder renews its lease every few seconds; when it cannot
 * (its database is gone, or another holder took the lease), it must stop its
 * work before the lease expires: `lease.lost` aborts at `fenceAfterMs` without
 * a confirmed renewal, well before `ttlMs`. So an expired lease means its
 * holder is gone (killed, partitioned, its machine down), and the next holder
 * takes over; a live one means someone is working, and others wait. Expiry is
 * judged by the database's clock, never a machine's.
 *
 * The tenures stay recorded for a while (30 days): they tell which Pulumi lock
 * files were written by holders that are gone (automation/lockHolders.ts).
 */
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import pg from "pg";
import { z } from "zod";

export interface LeaseTimings {
  /** A lease not renewed for this long is over (default 30 s). */
  readonly ttlMs: number;
  /** How often a holder renews (default ttl/6). */
  readonly renewEveryMs: number;
  /** A holder that has not confirmed a renewal for this long gives up its work (default ttl/2). */
  readonly fenceAfterMs: number;
}

export const DEFAULT_LEASE_TIMINGS: LeaseTimings = {
  ttlMs: 30_000,
  renewEveryMs: 5_000,
  fenceAfterMs: 15_000,
};

/** Timings from a ttl: renew six times per ttl, give up after half of it. */
export function leaseTimings(ttlMs: number): LeaseTimings {
  return { ttlMs, renewEveryMs: Math.floor(ttlMs / 6), fenceAfterMs: Math.floor(ttlMs / 2) };
}

/** Who holds (or held) a tenant. */
export interface LeaseHolder {
  readonly holder: string;
  readonly tenant: string;
  readonly operation: string;
  readonly host: string;
  readonly pid: number;
  readonly acquiredAt: Date;
  readonly expiresAt: Date;
  /** When it was given back; null while held (or until the next holder closes an expired one). */
  readonly releasedAt: Date | null;
}

/** A tenure as the stale-lock rule reads it: who, on which host, from when to when. */
export interface Tenure extends LeaseHolder {
  /** Held right now (not released, not expired by the database's clock). */
  readonly live: boolean;
}

/** Another holder has the tenant and kept it for as long as we waited. */
export class TenantBusyError extends Error {
  override readonly name = "TenantBusyError";
  readonly holder: LeaseHolder | undefined;
  constructor(tenant: string, holder: LeaseHolder | undefined) {
    super(
      `tenant ${tenant} is busy${
        holder
          ? ` with ${holder.operation} (pid ${holder.pid} on ${holder.host} since ${holder.acquiredAt.toISOString()}, lease until ${holder.expiresAt.toISOString()} unless renewed)`
          : ""
      }; try again when it finishes`,
    );
    this.holder = holder;
  }
}

/** The lease was lost while working: whatever ran under it was stopped. */
export class LeaseLostError extends Error {
  override readonly name = "LeaseLostError";
}

export interface TenantLease {
  readonly holder: string;
  readonly tenant: string;
  /** Aborted when the lease is lost: stop the work at once (its reason is a LeaseLostError). */
  readonly lost: AbortSignal;
  /** Gives the tenant back (idempotent); renewals stop. */
  release(): Promise<void>;
}

const row = z.object({
  holder: z.string(),
  tenant: z.string(),
  operation: z.string(),
  holder_host: z.string(),
  holder_pid: z.number(),
  acquired_at: z.date(),
  expires_at: z.date(),
  released_at: z.date().nullable(),
});

function holderOf(r: z.infer<typeof row>): LeaseHolder {
  return {
    holder: r.holder,
    tenant: r.tenant,
    operation: r.operation,
    host: r.holder_host,
    pid: r.holder_pid,
    acquiredAt: r.acquired_at,
    expiresAt: r.expires_at,
    releasedAt: r.released_at,
  };
}

/** This machine's name as lease rows and Pulumi's lock files record it. */
export function holderHost(): string {
  const name = hostname()
    .replace(/[^A-Za-z0-9._-]/g, "-")
    .slice(0, 253);
  return /^[A-Za-z0-9]/.test(name) ? name : `h${name}`.slice(0, 253);
}

export interface AcquireOptions {
  /** Wait up to this long for a live holder to finish (default 0: fail at once). */
  readonly waitMs?: number;
  readonly signal?: AbortSignal;
}

export class TenantLeases {
  readonly timings: LeaseTimings;
  private readonly pool: pg.Pool;

  private constructor(pool: pg.Pool, timings: LeaseTimings) {
    this.pool = pool;
    this.timings = timings;
  }

  /** Leases in the database at `databaseUrl` (its migrations applied), on a small pool of their own. */
  static open(databaseUrl: string, timings: LeaseTimings = DEFAULT_LEASE_TIMINGS): TenantLeases {
    const pool = new pg.Pool({
      connectionString: databaseUrl,
      max: 3,
      application_name: "mindroom-tenant-leases",
      connectionTimeoutMillis: timings.renewEveryMs,
      // A renewal that hangs must not outlive the fence: it fails, and the next one retries.
      query_timeout: timings.renewEveryMs,
    });
    // An idle connection lost (database restart) must not crash the process; renewals retry.
    pool.on("error", () => undefined);
    return new TenantLeases(pool, timings);
  }

  /** Takes the tenant's lease, waiting up to `waitMs` for a live holder to finish. */
  async acquire(tenant: string, operation: string, options: AcquireOptions = {}): Promise<TenantLease> {
    const deadline = Date.now() + (options.waitMs ?? 0);
    for (let attempt = 0; ; attempt++) {
      options.signal?.throwIfAborted();
      const taken = await this.tryAcquire(tenant, operation);
      if (taken) return this.hold(taken);
      if (Date.now() >= deadline) throw new TenantBusyError(tenant, await this.current(tenant));
      // Poll with a little jitter, never past the deadline.
      const pause = Math.min(250 * 2 ** Math.min(attempt, 2) + Math.random() * 250, deadline - Date.now());
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, pause)));
    }
  }

  /** The tenant's live holder, if any. */
  async current(tenant: string): Promise<LeaseHolder | undefined> {
    const { rows } = await this.pool.query(
      `select * from automation.tenant_leases
        where tenant = $1 and released_at is null and expires_at > clock_timestamp()`,
      [tenant],
    );
    return rows[0] ? holderOf(row.parse(rows[0])) : undefined;
  }

  /** Whether `holder` still holds its lease. */
  async isLive(holder: string): Promise<boolean> {
    const { rowCount } = await this.pool.query(
      `select 1 from automation.tenant_leases
        where holder = $1 and released_at is null and expires_at > clock_timestamp()`,
      [holder],
    );
    return (rowCount ?? 0) > 0;
  }

  /** The tenant's recorded tenures, newest first. */
  async tenures(tenant: string): Promise<Tenure[]> {
    const { rows } = await this.pool.query(
      `select *, released_at is null and expires_at > clock_timestamp() as live
         from automation.tenant_leases where tenant = $1 order by acquired_at desc limit 500`,
      [tenant],
    );
    return rows.map((r) => ({ ...holderOf(row.parse(r)), live: z.boolean().parse(r.live) }));
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  private async tryAcquire(tenant: string, operation: string): Promise<LeaseHolder | undefined> {
    const client = await this.pool.connect();
    try {
      await client.query("begin");
      // A lease that expired belongs to a holder that is gone: close it so the index admits a new one.
      await client.query(
        `update automation.tenant_leases set released_at = expires_at
          where tenant = $1 and released_at is null and expires_at <= clock_timestamp()`,
        [tenant],
      );
      const { rows } = await client.query(
        `insert into automation.tenant_leases (holder, tenant, operation, holder_host, holder_pid, expires_at)
         values ($1, $2, $3, $4, $5, clock_timestamp() + $6 * interval '1 millisecond')
         on conflict do nothing returning *`,
        [randomUUID(), tenant, operation, holderHost(), process.pid, this.timings.ttlMs],
      );
      await client.query(
        `delete from automation.tenant_leases
          where tenant = $1 and released_at < clock_timestamp() - interval '30 days'`,
        [tenant],
      );
      await client.query("commit");
      return rows[0] ? holderOf(row.parse(rows[0])) : undefined;
    } catch (error) {
      await client.query("rollback").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Renews `taken` until released; aborts `lost` when a renewal fails for good or is not confirmed in time. */
  private hold(taken: LeaseHolder): TenantLease {
    const controller = new AbortController();
    let confirmedAt = performance.now();
    let released = false;
    const lose = (why: string) => {
      if (controller.signal.aborted || released) return;
      clearInterval(timer);
      controller.abort(new LeaseLostError(`lost the lease on tenant ${taken.tenant}: ${why}`));
    };
    const renew = async () => {
      const sent = performance.now();
      try {
        const { rowCount } = await this.pool.query(
          `update automation.tenant_leases
              set renewed_at = clock_timestamp(), expires_at = clock_timestamp() + $2 * interval '1 millisecond'
            where holder = $1 and released_at is null and expires_at > clock_timestamp()`,
          [taken.holder, this.timings.ttlMs],
        );
        if (released) return;
        if ((rowCount ?? 0) === 0) lose("it expired or another holder took it");
        else confirmedAt = Math.max(confirmedAt, sent);
      } catch {
        // The database is unreachable: keep trying until the fence.
      }
    };
    const timer = setInterval(() => {
      if (performance.now() - confirmedAt > this.timings.fenceAfterMs)
        lose(`no renewal confirmed for ${Math.round((performance.now() - confirmedAt) / 1000)} s`);
      else void renew();
    }, this.timings.renewEveryMs);
    timer.unref();
    return {
      holder: taken.holder,
      tenant: taken.tenant,
      lost: controller.signal,
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        await this.pool
          .query(
            `update automation.tenant_leases set released_at = clock_timestamp()
              where holder = $1 and released_at is null`,
            [taken.holder],
          )
          .catch(() => undefined); // Unreachable: the lease expires on its own.
      },
    };
  }
}
