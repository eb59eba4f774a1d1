/**
 * `GET /healthz`: the process answers (liveness; restarts fix nothing else). `GET /readyz`: every
 * dependency answers within a deadline (the platform database, the queue's pool), so a load
 * balancer stops sending events to an instance that could only answer 503. Probe details go to
 * the log; the response says only which check failed.
 */
import type Router from "@koa/router";
import type { Logger } from "../logging/logger.ts";

export interface ReadinessProbe {
  readonly name: string;
  check(): Promise<void>;
}

export interface HealthOptions {
  readonly probes: readonly ReadinessProbe[];
  /** Longest a probe may take before it counts as failed (default 2 s). */
  readonly timeoutMs?: number;
  readonly logger: Logger;
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function addHealthRoutes(router: Router, options: HealthOptions): void {
  const timeoutMs = options.timeoutMs ?? 2000;
  router.get("/healthz", (ctx) => {
    ctx.body = { status: "ok" };
  });
  router.get("/readyz", async (ctx) => {
    const results = await Promise.all(
      options.probes.map(async (probe) => {
        try {
          await within(probe.check(), timeoutMs, probe.name);
          return [probe.name, "ok"] as const;
        } catch (error) {
          options.logger.warn("readiness check failed", { check: probe.name, error });
          return [probe.name, "failed"] as const;
        }
      }),
    );
    const ready = results.every(([, result]) => result === "ok");
    ctx.status = ready ? 200 : 503;
    ctx.body = { status: ready ? "ready" : "unavailable", checks: Object.fromEntries(results) };
  });
}
