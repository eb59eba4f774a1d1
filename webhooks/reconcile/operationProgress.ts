/**
 * The operations row's `progress` column: the automation layer's progress
 * events folded into one summary ({step, done, total, message}), written to the
 * database at most once per interval (the last state is always written), so a
 * portal can show a live view without a write per engine event.
 */
import type { ProgressEvent } from "../../automation/progress.ts";
import { resourceName } from "../../automation/progress.ts";

/** The operations row's progress column, every field set. */
export interface OperationProgressSummary {
  readonly step: string;
  readonly done: number;
  readonly total: number;
  readonly message: string;
}

/**
 * Folds progress events. `total` is the plan's size, which the automation layer
 * reports before the engine starts (an up's from its preview, a refresh's or
 * destroy's from the stack's state; it never falls below `done`), and 0 until
 * then or when it could not be known: then only `done` counts and a reader
 * shows progress without a percentage.
 */
export function foldProgress(
  summary: OperationProgressSummary,
  event: ProgressEvent,
): OperationProgressSummary {
  switch (event.type) {
    case "plan":
      return { ...summary, total: Math.max(event.total, summary.done) };
    case "resource.started":
      return {
        ...summary,
        step: resourceName(event.urn),
        message: `${event.op} ${resourceName(event.urn)}`,
      };
    case "resource.done": {
      const done = summary.done + 1;
      return {
        ...summary,
        done,
        total: summary.total > 0 ? Math.max(summary.total, done) : 0,
        message: `${event.op} ${resourceName(event.urn)} done`,
      };
    }
    case "resource.failed":
      return {
        ...summary,
        step: resourceName(event.urn),
        message: `${event.op} ${resourceName(event.urn)} failed`,
      };
    case "summary":
      return { ...summary, step: "summary", message: "finished" };
    case "diagnostic":
    case "policy.violation":
    case "resource.planned":
      return summary;
    default:
      return summary;
  }
}

export const EMPTY_PROGRESS: OperationProgressSummary = {
  step: "starting",
  done: 0,
  total: 0,
  message: "queued",
};

/**
 * Writes the folded progress at most every `intervalMs`, one write at a time;
 * `flush()` waits for the last write. Write errors are reported, never thrown
 * into the engine's event stream.
 */
export class ThrottledProgress {
  private summary = EMPTY_PROGRESS;
  private lastWrite = 0;
  private pending: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private readonly write: (summary: OperationProgressSummary) => Promise<void>;
  private readonly intervalMs: number;
  private readonly onError: (error: unknown) => void;

  constructor(
    write: (summary: OperationProgressSummary) => Promise<void>,
    intervalMs: number,
    onError: (error: unknown) => void,
  ) {
    this.write = write;
    this.intervalMs = intervalMs;
    this.onError = onError;
  }

  get current(): OperationProgressSummary {
    return this.summary;
  }

  push(event: ProgressEvent): void {
    this.summary = foldProgress(this.summary, event);
    if (this.timer) return;
    const wait = Math.max(0, this.lastWrite + this.intervalMs - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.lastWrite = Date.now();
      const snapshot = this.summary;
      this.pending = this.pending.then(() => this.write(snapshot)).catch(this.onError);
    }, wait);
  }

  /** Cancels a scheduled write and waits for any in flight; the caller writes the final state itself. */
  async flush(): Promise<OperationProgressSummary> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.pending;
    return this.summary;
  }
}
