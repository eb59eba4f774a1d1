/**
 * Measurement 3: the operations an unchanged tenant sees all day long, a no-op
 * `up` (what every reconcile pass and `mindroom-ops up --all` run; it repairs
 * the drift the last `drift` recorded, without checking the host itself), the
 * same `up` with `probeDrift` (the read-only checks of the Dokku host first, as
 * `mindroom-ops up --probe-drift`) and a `preview`. Each must change nothing,
 * or it would not be a no-op.
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
  readonly probedUp: Timed;
  readonly preview: Timed;
}

export async function measureSteadyState(
  bench: Bench,
  ops: Operations,
  tenant: string,
  runs: number,
): Promise<SteadyStateResult> {
  const timed = async (kind: "up" | "preview", probeDrift = false): Promise<Timed> => {
    const wall: number[] = [];
    const reported: number[] = [];
    for (let i = 0; i < runs; i++) {
      const start = now();
      const result = await ops.pool.run(kind, tenant, { probeDrift });
      wall.push(now() - start);
      bench.expectSucceeded([result], `${kind} ${tenant}`);
      bench.expectNoChanges(result, kind);
      reported.push(result.durationMs);
      bench.log(
        `  ${kind === "up" ? `no-op up${probeDrift ? " (probe drift)" : ""}` : "preview"} ${i + 1}/${runs}: ${((wall.at(-1) ?? 0) / 1000).toFixed(1)} s`,
      );
    }
    return { runsMs: wall, medianMs: median(wall), medianReportedMs: median(reported) };
  };
  bench.log(`steady state: ${runs} no-op ups, ${runs} with drift probes and ${runs} previews of ${tenant}`);
  const noopUp = await timed("up");
  const probedUp = await timed("up", true);
  const preview = await timed("preview");
  return { tenant, noopUp, probedUp, preview };
}
