/**
 * The webhook service's Koa application, built from what it needs (no I/O here): the Stripe
 * route, health and readiness (metrics are served apart, on the internal listener of
 * metricsServer.ts); around them one middleware that times, counts and logs
 * every request (one JSON line each) and one that renders every error as
 * `{ error: { code, message } }`, hiding messages that are not meant for the caller.
 */
import Router from "@koa/router";
import Koa from "koa";
import type pg from "pg";
import type { Logger } from "../logging/logger.ts";
import { requestIdFrom } from "../logging/requestId.ts";
import { clientAddress } from "../net/clientAddress.ts";
import { eventRecorder } from "./eventIngest.ts";
import { addHealthRoutes, type ReadinessProbe } from "./health.ts";
import { HttpError } from "./httpError.ts";
import type { WebhookMetrics } from "./metrics.ts";
import type { ReconcileQueue } from "./queue.ts";
import { rateLimit, TokenBuckets } from "./rateLimit.ts";
import type { HttpSettings, StripeSettings } from "./settings.ts";
import { stripeWebhook } from "./stripeWebhook.ts";

export interface AppOptions {
  /** Connections for recording events. */
  readonly pool: pg.Pool;
  readonly queue: Pick<ReconcileQueue, "enqueueAll" | "ping">;
  readonly stripe: Pick<StripeSettings, "webhookSecret">;
  readonly http: Pick<HttpSettings, "bodyLimitBytes" | "toleranceSeconds" | "rateLimit" | "trustedProxies">;
  readonly metrics: WebhookMetrics;
  readonly logger: Logger;
  /** Checks for `/readyz` (default: the pool and the queue). */
  readonly probes?: readonly ReadinessProbe[];
}

/** Routes whose requests are logged at debug level: probes and scrapes come every few seconds. */
const QUIET_ROUTES = new Set(["/healthz", "/readyz"]);

export function createApp(options: AppOptions): Koa {
  const { metrics, logger } = options;
  // Koa's own `proxy` mode believes the leftmost X-Forwarded-For entry, which the client writes;
  // the client address comes from net/clientAddress.ts instead.
  const app = new Koa({ proxy: false });
  const router = new Router();

  // Outermost: time, count and log every request, whatever happened inside.
  app.use(async (ctx, next) => {
    ctx.state.startedAt = performance.now();
    const requestId = requestIdFrom(ctx.get("x-request-id"));
    ctx.state.requestId = requestId;
    // Read now: once a refused upload's connection is gone, the socket no longer knows its peer.
    const ip = clientAddress(
      ctx.req.socket.remoteAddress,
      ctx.get("x-forwarded-for"),
      options.http.trustedProxies,
    );
    ctx.state.clientAddress = ip;
    ctx.set("X-Request-Id", requestId);
    try {
      await next();
    } finally {
      const route = typeof ctx._matchedRoute === "string" ? ctx._matchedRoute : "unmatched";
      const durationMs = Math.round((performance.now() - ctx.state.startedAt) * 100) / 100;
      metrics.httpRequests.inc({ method: ctx.method, route, status: String(ctx.status) });
      const level =
        ctx.status >= 500 ? "error" : ctx.status >= 400 ? "warn" : QUIET_ROUTES.has(route) ? "debug" : "info";
      logger[level]("request", {
        requestId,
        method: ctx.method,
        route,
        status: ctx.status,
        durationMs,
        ip,
        ...(ctx.state.event ? { eventId: ctx.state.event.id, eventType: ctx.state.event.type } : {}),
        ...(ctx.state.outcome ? { outcome: ctx.state.outcome } : {}),
        ...(ctx.state.error ? { error: ctx.state.error } : {}),
      });
    }
  });

  // Every error becomes one response shape; the cause goes to the request's log line only.
  app.use(async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      const http =
        error instanceof HttpError
          ? error
          : new HttpError(500, "internal", "internal error", { expose: false, cause: error });
      ctx.status = http.status;
      for (const [name, value] of Object.entries(http.headers)) ctx.set(name, value);
      ctx.body = { error: { code: http.code, message: http.expose ? http.message : "internal error" } };
      ctx.state.error = {
        code: http.code,
        message: http.message,
        // Why we failed matters for a 5xx; a caller's mistake is described by the code and message.
        ...(http.status >= 500 && http.cause instanceof Error ? { cause: http.cause } : {}),
      };
    }
  });

  const webhookRoute = stripeWebhook({
    record: eventRecorder(options.pool, options.queue),
    webhookSecret: options.stripe.webhookSecret,
    toleranceSeconds: options.http.toleranceSeconds,
    bodyLimitBytes: options.http.bodyLimitBytes,
    metrics,
  });
  const limit = options.http.rateLimit;
  if (limit) router.post("/stripe/webhook", rateLimit(new TokenBuckets(limit)), webhookRoute);
  else router.post("/stripe/webhook", webhookRoute);

  addHealthRoutes(router, {
    logger,
    probes: options.probes ?? [
      {
        name: "database",
        check: async () => {
          await options.pool.query("select 1");
        },
      },
      { name: "queue", check: () => options.queue.ping() },
    ],
  });

  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}
