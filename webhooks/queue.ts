/**
 * The reconcile queue: "look at this customer again", kept in Postgres by pg-boss.
 *
 * - One reconcile per customer at a time, with coalescing: the queue uses pg-boss's `stately`
 *   policy keyed by the Stripe customer id, which allows one job per state per key. A burst of
 *   events for one customer therefore leaves at most one queued job (later enqueues are absorbed
 *   by it) and one active job; an event arriving while a reconcile runs queues exactly one more,
 *   so nothing the running reconcile may have missed is lost.
 * - Retries with exponential backoff (pg-boss `retryBackoff`), then a copy of the job in the dead
 *   letter queue, which operators list with `deadLetters()` and re-run with `retryDeadLetter()`.
 * - `enqueue(job, tx)` and `enqueueAll(jobs, tx)` run on the caller's transaction (pg-boss's `db` option with an
 *   `executeSql` adapter over a `pg.PoolClient`), so an event row never exists without its job or
 *   the other way round.
 *
 * Deviations from the interface first announced, forced by pg-boss 12.38:
 * - A job that fails while another job for the same key already waits in `retry` cannot take the
 *   retry slot either (stately allows one job per state); pg-boss then fails it for good and
 *   dead-letters it. That is harmless for a level-triggered reconcile (the waiting job re-reads
 *   everything), but an operator may see such a dead letter next to a later success.
 * - While a failed job waits out its backoff in `retry`, a new event can still queue one job in
 *   `created`: "queued" is then 2 for that key (one retry + one fresh), never more.
 * - A deferred job (`startAfter`, e.g. a deletion due in 7 days) holds the key's `created` slot,
 *   so a later enqueue could not jump ahead of it. `enqueue` therefore first moves a waiting
 *   job's start to the earlier of the two times (one UPDATE on pg-boss's job table, same
 *   transaction), and calls pg-boss only when no job waits.
 * - `ReconcileJob` carries `attempt`, `retryLimit`, `queuedAt` and the job's `AbortSignal`
 *   (aborted when pg-boss stops the worker or the job expires) besides the enqueued fields.
 */
import type pg from "pg";
import { type Db, type JobWithMetadata, PgBoss } from "pg-boss";
import { z } from "zod";
import { createLogger } from "../logging/logger.ts";

/** pg-boss's longest job expiry (its MAX_EXPIRATION_HOURS). */
export const MAX_EXPIRY_SECONDS = 24 * 3600;

/** Queue names inside pg-boss's schema. */
export const RECONCILE_QUEUE = "reconcile";
export const DEAD_LETTER_QUEUE = "reconcile-dead-letter";
/** Operators' requests of the worker (live outputs, previews): webhooks/operatorRequests.ts. */
export const OPERATOR_REQUEST_QUEUE = "operator-request";
/** Looks at fleet rollouts, one waiting per rollout (webhooks/rollouts.ts). */
export const ROLLOUT_QUEUE = "rollout";

/** Why a reconcile was asked for; the same set as `operations.trigger` in the schema. */
export const RECONCILE_TRIGGERS = ["stripe", "sweep", "operator", "customer", "retry"] as const;
export type ReconcileTrigger = (typeof RECONCILE_TRIGGERS)[number];

/** What `enqueue` takes. */
export interface ReconcileRequest {
  /** The Stripe customer id (`cus_…`): the unit of serialisation and coalescing. */
  readonly customerKey: string;
  readonly trigger: ReconcileTrigger;
  /** Human-readable, shown in operations and the audit log (e.g. `customer.subscription.updated`). */
  readonly reason: string;
  /** The Stripe event that caused it, when one did. */
  readonly eventId?: string;
  /** Who asked (`operator:<email>`, `customer:<email>`), when a person did. */
  readonly requestedBy?: string;
  /** The request that queued it (its X-Request-Id): the worker's logs and the operation row carry it. */
  readonly requestId?: string;
  /** Not before this time (a deletion that is due later). */
  readonly startAfter?: Date;
}

/** One job in the handler's hands. */
export interface ReconcileJob {
  /** pg-boss job id. */
  readonly id: string;
  readonly customerKey: string;
  readonly trigger: ReconcileTrigger;
  readonly reason: string;
  readonly eventId: string | undefined;
  readonly requestedBy: string | undefined;
  readonly requestId: string | undefined;
  /** 0 on the first run, then 1, 2, … on retries. */
  readonly attempt: number;
  /** Retries allowed before the job is dead-lettered. */
  readonly retryLimit: number;
  readonly queuedAt: Date;
  /** Aborted when the worker stops or the job expires: pass it to long operations. */
  readonly signal: AbortSignal;
}

/** A reconcile that failed all its attempts, waiting for an operator. */
export interface DeadLetter {
  /** Id of the dead-letter record (what `retryDeadLetter` takes). */
  readonly id: string;
  readonly customerKey: string;
  readonly trigger: ReconcileTrigger;
  readonly reason: string;
  readonly eventId: string | undefined;
  readonly requestedBy: string | undefined;
  /** The job that failed. */
  readonly failedJobId: string | undefined;
  /** Retries it used (attempts - 1). */
  readonly retries: number;
  /** The last error, as the handler threw it. */
  readonly error: string;
  readonly firstQueuedAt: Date | undefined;
  readonly deadLetteredAt: Date;
}

export interface QueueDepth {
  /** Waiting to run (created or in retry backoff), deferred ones included. */
  readonly queued: number;
  readonly active: number;
  /** Failed for good and still retained. */
  readonly failed: number;
  /** Waiting for an operator in the dead letter queue. */
  readonly deadLetters: number;
}

export interface ReconcileQueueOptions {
  /** Postgres schema pg-boss owns (default `pgboss`). */
  readonly schema?: string;
  /** Connections pg-boss's own pool may open (default 4). */
  readonly poolSize?: number;
  /** Retries after the first attempt before a job is dead-lettered (default 5). */
  readonly retryLimit?: number;
  /** First retry delay in seconds, doubled (with jitter) on each retry (default 15). */
  readonly retryDelaySeconds?: number;
  /** Longest delay between retries, in seconds (default 600). */
  readonly retryDelayMaxSeconds?: number;
  /**
   * A job active longer than this is failed and retried. Only the process that runs reconciles
   * passes it, derived from its operation timeout (reconcile/settings.ts reconcileJobExpirySeconds),
   * and only that process writes the queue's settings: the others (ingest, portal, CLIs) create
   * the queue when it is missing, with pg-boss's longest expiry (24 h), and never change it, so a
   * process with other settings cannot shorten it below a running operation.
   */
  readonly expireInSeconds?: number;
  /**
   * Workers heartbeat their jobs; a job whose worker died (killed mid-reconcile) is failed and
   * retried after this many seconds without one (default 30, pg-boss's minimum is 10).
   */
  readonly heartbeatSeconds?: number;
  /** How often an idle worker polls for jobs, in seconds (default 2). */
  readonly pollingIntervalSeconds?: number;
  /**
   * Wake workers with NOTIFY the moment a job is queued (default false). Off by default because
   * Postgres serialises the commits of every transaction that notifies (a global lock on the
   * notification queue), which caps webhook ingest; a reconcile starting up to one polling
   * interval later costs nothing.
   */
  readonly notify?: boolean;
  /** Seconds between pg-boss maintenance passes (expiry, heartbeat checks, retention; default 60). */
  readonly superviseIntervalSeconds?: number;
  /** Where pg-boss's background errors go (default: one JSON line on stderr). */
  readonly onError?: (error: Error) => void;
}

export interface ReconcileQueue {
  /** Queue a reconcile; on `tx` when given, so it commits or rolls back with the caller's writes. */
  enqueue(job: ReconcileRequest, tx?: pg.PoolClient): Promise<void>;
  /** Queue many on the caller's transaction in a few statements (one job per customer, coalesced as `enqueue` does). */
  enqueueAll(jobs: readonly ReconcileRequest[], tx: pg.PoolClient): Promise<void>;
  /** Run `handler` for jobs, `concurrency` at a time in this process. A throw fails the attempt. */
  work(handler: (job: ReconcileJob) => Promise<void>, options: { concurrency: number }): Promise<void>;
  depth(): Promise<QueueDepth>;
  deadLetters(): Promise<DeadLetter[]>;
  /** Queue the dead letter's customer again (trigger `retry`) and remove the dead letter, atomically. */
  retryDeadLetter(id: string, by: string): Promise<void>;
  /** A cheap round trip through pg-boss's pool, for readiness checks. */
  ping(): Promise<void>;
  /** Stop fetching, wait for active handlers (up to `timeoutMs`, default 30 s), close the pool. */
  stop(options?: { timeoutMs?: number }): Promise<void>;
  /** The pg-boss instance, for periodic schedules (the sweep); not for reconcile jobs. */
  readonly boss: PgBoss;
}

export class DeadLetterNotFoundError extends Error {
  override readonly name = "DeadLetterNotFoundError";
  readonly code = "dead_letter_not_found";
}

const jobData = z.object({
  customerKey: z.string().min(1),
  trigger: z.enum(RECONCILE_TRIGGERS),
  reason: z.string(),
  eventId: z.string().optional(),
  requestedBy: z.string().optional(),
  requestId: z.string().optional(),
});
type JobData = z.infer<typeof jobData>;

/** pg-boss statements on a caller's connection (its documented `db` option). */
function onClient(client: pg.PoolClient): Db {
  return { executeSql: (text, values) => client.query(text, values) };
}

function errorText(output: unknown): string {
  if (output && typeof output === "object") {
    const record = output as Record<string, unknown>;
    if (typeof record.message === "string") return record.message;
    if (record.value !== undefined) return String(record.value);
  }
  return output === null || output === undefined ? "" : JSON.stringify(output);
}

/** Open (and on first use install) the queue in the database at `db.url`. */
export async function openReconcileQueue(
  db: { url: string },
  options: ReconcileQueueOptions = {},
): Promise<ReconcileQueue> {
  const schema = options.schema ?? "pgboss";
  if (!/^[a-z_][a-z0-9_]*$/.test(schema))
    throw new Error(`queue schema must be a plain identifier: ${schema}`);
  const onError =
    options.onError ??
    ((error: Error) => createLogger({ stream: process.stderr }).error("queue error", { error }));
  const boss = new PgBoss({
    connectionString: db.url,
    schema,
    max: options.poolSize ?? 4,
    application_name: "mindroom-reconcile-queue",
    useListenNotify: options.notify ?? false,
    superviseIntervalSeconds: options.superviseIntervalSeconds ?? 60,
    monitorIntervalSeconds: options.superviseIntervalSeconds ?? 60,
  });
  // An EventEmitter without an `error` listener would throw the error and crash the process.
  boss.on("error", onError);
  await boss.start();
  const jobTable = `${schema}.job`;
  const pollingInterval = options.pollingIntervalSeconds ?? 2;
  try {
    await boss.createQueue(DEAD_LETTER_QUEUE, {
      // Kept until an operator acts: a year, not pg-boss's 14 days.
      retentionSeconds: 365 * 24 * 3600,
    });
    const queueOptions = {
      retryLimit: options.retryLimit ?? 5,
      retryDelay: options.retryDelaySeconds ?? 15,
      retryBackoff: true,
      retryDelayMax: options.retryDelayMaxSeconds ?? 600,
      expireInSeconds: options.expireInSeconds ?? MAX_EXPIRY_SECONDS,
      heartbeatSeconds: options.heartbeatSeconds ?? 30,
    };
    // Not retried: the operator who asked is waiting for this answer, not a later one.
    await boss.createQueue(OPERATOR_REQUEST_QUEUE, {
      retryLimit: 0,
      expireInSeconds: options.expireInSeconds ?? 1800,
      retentionSeconds: 24 * 3600,
    });
    // A look that fails is tried again; the rollout's state is in its tables, not in the job.
    await boss.createQueue(ROLLOUT_QUEUE, {
      policy: "stately",
      retryLimit: 10,
      retryDelay: 5,
      retentionSeconds: 7 * 24 * 3600,
    });
    await boss.createQueue(RECONCILE_QUEUE, {
      ...queueOptions,
      policy: "stately",
      deadLetter: DEAD_LETTER_QUEUE,
      notify: options.notify ?? false,
    });
    // createQueue leaves an existing queue alone; the reconciling process brings its settings up to date.
    if (options.expireInSeconds !== undefined)
      await boss.updateQueue(RECONCILE_QUEUE, {
        ...queueOptions,
        deadLetter: DEAD_LETTER_QUEUE,
        notify: options.notify ?? false,
      });
  } catch (error) {
    await boss.stop({ graceful: false, close: true }).catch(() => undefined);
    throw error;
  }

  /**
   * Queue every request in a few statements, whatever their number: a job already waiting for a
   * customer covers that customer's request (its start pulled forward if needed: one indexed
   * UPDATE for all of them, much cheaper than an insert, and the common case during a burst; the
   * row lock it takes keeps a worker from claiming the job until this transaction ends); the
   * others are inserted together (pg-boss `insert`, one statement).
   */
  async function enqueueOn(database: Db, requests: readonly ReconcileRequest[]): Promise<void> {
    // One request per customer: the earliest start wins, the first request's fields are kept.
    const byCustomer = new Map<string, { data: JobData; startAfter: Date }>();
    for (const job of requests) {
      const data: JobData = jobData.parse({
        customerKey: job.customerKey,
        trigger: job.trigger,
        reason: job.reason,
        eventId: job.eventId,
        requestedBy: job.requestedBy,
        requestId: job.requestId,
      });
      const startAfter = job.startAfter ?? new Date();
      const seen = byCustomer.get(job.customerKey);
      if (!seen) byCustomer.set(job.customerKey, { data, startAfter });
      else if (startAfter < seen.startAfter) seen.startAfter = startAfter;
    }
    if (byCustomer.size === 0) return;
    const coalesce = async (keys: string[]): Promise<Set<string>> => {
      const { rows } = await database.executeSql(
        `update ${jobTable} j set start_after = least(j.start_after, w.start_after)
           from unnest($2::text[], $3::timestamptz[]) as w(key, start_after)
          where j.name = $1 and j.singleton_key = w.key and j.state = 'created'
          returning j.singleton_key as key`,
        [RECONCILE_QUEUE, keys, keys.map((key) => byCustomer.get(key)?.startAfter)],
      );
      return new Set((rows as { key: string }[]).map((row) => row.key));
    };
    const covered = await coalesce([...byCustomer.keys()]);
    const fresh = [...byCustomer].filter(([key]) => !covered.has(key));
    if (fresh.length === 0) return;
    const ids = await boss.insert(
      RECONCILE_QUEUE,
      fresh.map(([key, { data, startAfter }]) => ({
        data,
        singletonKey: key,
        startAfter: startAfter.toISOString(),
      })),
      { db: database, returnId: true },
    );
    // Fewer ids: another transaction queued a job for some of these customers meanwhile (stately
    // absorbs the insert); it covers their requests once its start is pulled forward.
    if ((ids?.length ?? 0) < fresh.length) await coalesce(fresh.map(([key]) => key));
  }

  return {
    boss,

    async enqueue(job, tx) {
      await enqueueOn(tx ? onClient(tx) : boss.getDb(), [job]);
    },

    async enqueueAll(jobs, tx) {
      await enqueueOn(onClient(tx), jobs);
    },

    async work(handler, { concurrency }) {
      await boss.work(
        RECONCILE_QUEUE,
        {
          localConcurrency: concurrency,
          batchSize: 1,
          includeMetadata: true,
          // NOTIFY (when on) wakes workers for new jobs only, not for retries coming due: same pace.
          pollingIntervalSeconds: pollingInterval,
          notifyPollingIntervalSeconds: pollingInterval,
        },
        async (jobs: JobWithMetadata<JobData>[]) => {
          for (const job of jobs) {
            const data = jobData.parse(job.data);
            await handler({
              id: job.id,
              customerKey: data.customerKey,
              trigger: data.trigger,
              reason: data.reason,
              eventId: data.eventId,
              requestedBy: data.requestedBy,
              requestId: data.requestId,
              attempt: job.retryCount,
              retryLimit: job.retryLimit,
              queuedAt: job.createdOn,
              signal: job.signal,
            });
          }
        },
      );
    },

    async depth() {
      const { rows } = await boss.getDb().executeSql(
        `select name, state::text as state, count(*)::int as count from ${jobTable}
            where name = any($1) and state in ('created', 'retry', 'active', 'failed')
            group by name, state`,
        [[RECONCILE_QUEUE, DEAD_LETTER_QUEUE]],
      );
      const count = (name: string, states: string[]) =>
        (rows as { name: string; state: string; count: number }[])
          .filter((row) => row.name === name && states.includes(row.state))
          .reduce((sum, row) => sum + row.count, 0);
      return {
        queued: count(RECONCILE_QUEUE, ["created", "retry"]),
        active: count(RECONCILE_QUEUE, ["active"]),
        failed: count(RECONCILE_QUEUE, ["failed"]),
        deadLetters: count(DEAD_LETTER_QUEUE, ["created", "retry"]),
      };
    },

    async deadLetters() {
      const jobs = await boss.findJobs<JobData>(DEAD_LETTER_QUEUE, { queued: true, limit: 1000 });
      return jobs.map((job) => {
        const data = jobData.parse(job.data);
        return {
          id: job.id,
          customerKey: data.customerKey,
          trigger: data.trigger,
          reason: data.reason,
          eventId: data.eventId,
          requestedBy: data.requestedBy,
          failedJobId: job.sourceId ?? undefined,
          retries: job.sourceRetryCount ?? 0,
          error: errorText(job.sourceOutput),
          firstQueuedAt: job.sourceCreatedOn ?? undefined,
          deadLetteredAt: job.createdOn,
        };
      });
    },

    async retryDeadLetter(id, by) {
      const begin = boss.getDb().beginTransaction;
      if (!begin) throw new Error("pg-boss's database adapter cannot open a transaction");
      const tx = await begin.call(boss.getDb());
      try {
        const [job] = await boss.findJobs<JobData>(DEAD_LETTER_QUEUE, { id, queued: true, db: tx.db });
        if (!job) {
          throw new DeadLetterNotFoundError(
            `no dead letter ${id} waits in ${DEAD_LETTER_QUEUE}: list them with deadLetters()`,
          );
        }
        const data = jobData.parse(job.data);
        await enqueueOn(tx.db, [
          {
            customerKey: data.customerKey,
            trigger: "retry",
            reason: `retry of dead letter ${id} (${data.trigger}: ${data.reason})`,
            requestedBy: by,
            ...(data.eventId === undefined ? {} : { eventId: data.eventId }),
            // The retry keeps the id of the request that first queued it: one id, the whole story.
            ...(data.requestId === undefined ? {} : { requestId: data.requestId }),
          },
        ]);
        await boss.deleteJob(DEAD_LETTER_QUEUE, id, { db: tx.db });
        await tx.commit();
      } catch (error) {
        await tx.rollback();
        throw error;
      }
    },

    async ping() {
      await boss.getDb().executeSql("select 1");
    },

    async stop({ timeoutMs = 30_000 } = {}) {
      await boss.stop({ graceful: true, close: true, timeout: timeoutMs });
    },
  };
}
