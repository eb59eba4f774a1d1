/** The reconcile worker's Prometheus metrics, added once to the service's registry. */
import { Counter, Histogram, type Registry } from "prom-client";

export interface WorkerMetrics {
  readonly jobs: Counter<"outcome">;
  readonly operationSeconds: Histogram<"kind" | "status">;
}

export function workerMetrics(registry: Registry | undefined): WorkerMetrics | undefined {
  if (!registry) return undefined;
  const existing = registry.getSingleMetric("mindroom_reconcile_jobs_total");
  if (existing) {
    return {
      jobs: existing as Counter<"outcome">,
      operationSeconds: registry.getSingleMetric("mindroom_reconcile_operation_seconds") as Histogram<
        "kind" | "status"
      >,
    };
  }
  return {
    jobs: new Counter({
      name: "mindroom_reconcile_jobs_total",
      help: "Reconcile jobs by outcome (none, skipped, up, destroy, failed)",
      labelNames: ["outcome"] as const,
      registers: [registry],
    }),
    operationSeconds: new Histogram({
      name: "mindroom_reconcile_operation_seconds",
      help: "Duration of the operations reconciles ran, by kind and status",
      labelNames: ["kind", "status"] as const,
      buckets: [1, 2.5, 5, 10, 20, 40, 80, 160, 320, 640],
      registers: [registry],
    }),
  };
}
