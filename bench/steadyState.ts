/**
 * Measurement 3: the operations an unchanged tenant sees all day long, a no-op
 * `up` (what every reconcile pass and `mindroom-ops up --all` run; it includes
 * the automation layer's drift probes of the Dokku host) and a `preview`. Each
 * must change nothing, or it would not be a no-op.
 */
import type { Operations } from "../automation/operations.ts";
import type { Bench } from "./harness.ts";
import { now } from "./harness.ts";
import { median } from "./stats.ts";

export interface Timed {
  readonly runsMs: readonly number[];
  readonly medianMs: number;
  /** The operation's own duration as the worker reports it (without queueing and IPC). */
  readonly medianReportedMs: number;
}

export interface SteadyStateResult {
  readonly tenant: string;
  readonly noopUp: Timed;
  readonly preview: Timed;
}

export async function measureSteadyState(
  bench: Bench,
  ops: Operations,
  tenant: string,
  runs: number,
): Promise<SteadyStateResult> {
  const timed = async (kind: "up" | "preview"): Promise<Timed> => {
    const wall: number[] = [];
    const reported: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = now();
      const result = await ops.pool.run(kind, tenant);
      wall.push(now() - start);
      bench.expectSucceeded([result], `${kind} ${tenant}`);
      bench.expectNoChanges(result, kind);
      reported.push(result.durationMs);
      bench.log(
        `  ${kind === "up" ? "no-op up" : "preview"} ${i + 1}/${runs}: ${((wall.at(-1) ?? 0) / 1000).toFixed(1)} s`,
      );
    }
    return { runsMs: wall, medianMs: median(wall), medianReportedMs: median(reported) };
  };
  bench.log(`steady state: ${runs} no-op ups and ${runs} previews of ${tenant}`);
  const noopUp = await timed("up");
  const preview = await timed("preview");
  return { tenant, noopUp, preview };
}
