/**
 * Prometheus metrics of the webhook service, on a registry of its own (not prom-client's global
 * one, so tests and the benchmark can build several services in one process). The reconcile
 * worker registers its metrics on the same `registry`, and `GET /metrics` serves all of them.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { QueueDepth } from "./queue.ts";

/** What an ingested event came to (the `outcome` label). */
export const EVENT_OUTCOMES = [
  "enqueued", // recorded, reconcile queued (or coalesced into the customer's waiting one)
  "unchanged", // recorded; a renewal of a tenant settled on its applied spec: nothing to reconcile
  "recorded", // recorded; the type needs no reconcile, or names no customer
  "duplicate", // already recorded: acknowledged, nothing written
  "rejected", // bad signature, stale timestamp, malformed or oversized: 4xx, nothing written
  "failed", // our fault (database down): 503, nothing written, Stripe retries
] as const;
export type EventOutcome = (typeof EVENT_OUTCOMES)[number];

export interface WebhookMetrics {
  readonly registry: Registry;
  readonly httpRequests: Counter<"method" | "route" | "status">;
  readonly events: Counter<"type" | "outcome">;
  /** From the request's first byte to the answer, for events that reached the database. */
  readonly ingestSeconds: Histogram<"outcome">;
  readonly queueDepth: Gauge<"state">;
}

export interface MetricsOptions {
  /** Read on every scrape for the queue depth gauges; omit when there is no queue. */
  readonly queueDepth?: () => Promise<QueueDepth>;
  /** Process metrics (CPU, memory, event loop lag; default true). */
  readonly processMetrics?: boolean;
}

export function createMetrics(options: MetricsOptions = {}): WebhookMetrics {
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry, prefix: "mindroom_" });
  const readDepth = options.queueDepth;
  return {
    registry,
    httpRequests: new Counter({
      name: "mindroom_webhooks_http_requests_total",
      help: "HTTP requests answered, by route and status",
      labelNames: ["method", "route", "status"] as const,
      registers: [registry],
    }),
    events: new Counter({
      name: "mindroom_webhooks_events_total",
      help: "Stripe events received, by type and outcome",
      labelNames: ["type", "outcome"] as const,
      registers: [registry],
    }),
    ingestSeconds: new Histogram({
      name: "mindroom_webhooks_ingest_seconds",
      help: "Time to verify, record and enqueue one Stripe event",
      labelNames: ["outcome"] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: "mindroom_reconcile_queue_jobs",
      help: "Reconcile jobs by state (queued, active, failed, dead_letter)",
      labelNames: ["state"] as const,
      registers: [registry],
      async collect() {
        if (!readDepth) return;
        // A scrape during a database outage still answers, without the gauge.
        const depth = await readDepth().catch(() => undefined);
        if (!depth) return;
        this.set({ state: "queued" }, depth.queued);
        this.set({ state: "active" }, depth.active);
        this.set({ state: "failed" }, depth.failed);
        this.set({ state: "dead_letter" }, depth.deadLetters);
      },
    }),
  };
}
