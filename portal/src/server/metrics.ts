/**
 * The portal's Prometheus metrics: requests by method, route and status, their
 * duration, and the process's own (CPU, memory, event loop), served on an
 * internal listener (`PORTAL_METRICS_HOST`, default 127.0.0.1, and
 * `PORTAL_METRICS_PORT`, default 9465; 0 picks a free port), never on the port
 * customers reach. Routes are counted by their pattern (ids become `:id`) so a
 * scrape stays small however many tenants there are.
 */
import type { Middleware } from "h3";
import { Counter, collectDefaultMetrics, Histogram, Registry } from "prom-client";
import { type MetricsServer, startMetricsServer } from "../../../webhooks/metricsServer.ts";
import { log } from "./log.ts";

export interface PortalMetrics {
  readonly registry: Registry;
  readonly requests: Counter<"method" | "route" | "status">;
  readonly seconds: Histogram<"method" | "route">;
}

let metrics: PortalMetrics | undefined;

/** One set per process (module state: the middleware and the listener share it). */
export function portalMetrics(): PortalMetrics {
  if (metrics) return metrics;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "mindroom_portal_" });
  metrics = {
    registry,
    requests: new Counter({
      name: "mindroom_portal_http_requests_total",
      help: "Portal requests answered, by route pattern and status",
      labelNames: ["method", "route", "status"] as const,
      registers: [registry],
    }),
    seconds: new Histogram({
      name: "mindroom_portal_http_request_seconds",
      help: "Time to answer a portal request, by route pattern",
      labelNames: ["method", "route"] as const,
      buckets: [0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
  };
  return metrics;
}

const ID =
  /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9]+|(?:cus|sub|in|evt)_[A-Za-z0-9]+)$/;

/** `/operator/tenants/3f…` → `/operator/tenants/:id`; build assets collapse into one route. */
export function routeOf(pathname: string): string {
  if (pathname.startsWith("/_build/") || pathname.startsWith("/assets/")) return "/_build/*";
  return pathname
    .split("/")
    .map((segment) => (ID.test(segment) ? ":id" : segment))
    .join("/");
}

let listener: Promise<MetricsServer | undefined> | undefined;

/** Starts the internal listener once per process; a port in use is logged, never fatal to the portal. */
export function serveMetrics(env: NodeJS.ProcessEnv = process.env): Promise<MetricsServer | undefined> {
  listener ??= startMetricsServer([portalMetrics().registry], {
    host: env.PORTAL_METRICS_HOST?.trim() || "127.0.0.1",
    port: Number(env.PORTAL_METRICS_PORT?.trim() || 9465),
  }).then(
    (server) => {
      log.info("portal metrics listening", { url: server.url });
      return server;
    },
    (error: Error) => {
      log.error("portal metrics listener failed", { error });
      return undefined;
    },
  );
  return listener;
}

/**
 * The outermost middleware: times and counts every request, whatever answers it (a page, a
 * server function, a redirect from the session middleware, a thrown HTTP error).
 */
export const measureRequests: Middleware = async (event, next) => {
  const started = performance.now();
  let status = 500;
  try {
    const response = await next();
    status = response instanceof Response ? response.status : (event.res.status ?? 200);
    return response;
  } catch (error) {
    const code = (error as { status?: unknown }).status;
    status = typeof code === "number" ? code : 500;
    throw error;
  } finally {
    // Unknown paths (scanners) all count as one route, so they cannot grow the scrape.
    const route = status === 404 ? "unmatched" : routeOf(event.url.pathname);
    const labels = { method: event.req.method, route };
    const { requests, seconds } = portalMetrics();
    requests.inc({ ...labels, status: String(status) });
    seconds.observe(labels, (performance.now() - started) / 1000);
  }
};
