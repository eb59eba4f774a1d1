/**
 * Per-operation plumbing: progress translation, collected steps and policy
 * violations, timeout and cancellation, retry on Pulumi's stack lock, and the
 * typed result with the engine's error made readable.
 */

import type { Stack } from "@pulumi/pulumi/automation/index.js";
import {
  ConcurrentUpdateError,
  type EngineEvent,
  type UpdateSummary,
} from "@pulumi/pulumi/automation/index.js";
import type {
  OperationKind,
  OperationOptions,
  OperationResult,
  PlannedStep,
  PolicyViolation,
} from "./operationResult.ts";
import { announcedStep, ProgressTranslator, resourceName } from "./progress.ts";
import { EngineSummary } from "./stackAccess.ts";

export class OperationContext {
  readonly steps: PlannedStep[] = [];
  readonly violations: PolicyViolation[] = [];
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly translator = new ProgressTranslator();
  private readonly options: OperationOptions;
  private timedOut = false;

  constructor(options: OperationOptions, timeoutMs: number) {
    this.options = options;
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, timeoutMs);
    if (options.signal?.aborted) this.controller.abort();
    else options.signal?.addEventListener("abort", () => this.controller.abort(), { once: true });
  }

  /** Aborted when the operation is cancelled or runs out of time: for work outside the engine (host reads). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** Before the engine starts: an operation cancelled (or timed out) while it waited ends here. */
  throwIfAborted(operation: OperationKind): void {
    if (this.controller.signal.aborted) throw new Error(`${operation} cancelled before the engine started`);
  }

  /**
   * The status of a run the engine completed. An abort reaches only an engine
   * already running (the SDK listens per command it starts), so an operation
   * cancelled or out of time while the SDK was still preparing runs to its end:
   * it is still reported as cancelled, or as a timeout.
   */
  get completedStatus(): OperationResult["status"] {
    if (this.timedOut) return "failed";
    return this.cancelled ? "cancelled" : "succeeded";
  }

  get cancelled(): boolean {
    return this.controller.signal.aborted && !this.timedOut;
  }

  /**
   * Options for one `up`, `refresh` or `destroy`, and the `Stack` to run it on:
   * it answers the SDK's follow-up calls from this run's events (stackAccess.ts).
   */
  engineRun(kind: UpdateSummary["kind"]) {
    const summary = new EngineSummary(kind);
    const base = this.engine(false);
    return {
      stack: (stack: Stack) => summary.bind(stack),
      options: {
        ...base,
        onEvent: (event: EngineEvent) => {
          summary.observe(event);
          base.onEvent(event);
        },
      },
    };
  }

  /**
   * The engine's plan for an up, as `pulumi up` shows it before it asks: a
   * preview (without the policy pack, which the up runs), its resource steps
   * counted and reported as the operation's total, so progress reads done/total
   * on any backend and for a new stack too.
   */
  async plan(stack: Stack): Promise<void> {
    const onProgress = this.options.onProgress;
    if (!onProgress) return;
    let total = 0;
    await retryConcurrent(() => {
      total = 0;
      return stack.preview({
        signal: this.controller.signal,
        color: "never",
        onEvent: (event) => {
          if (announcedStep(event)) total++;
        },
      });
    });
    onProgress({ type: "plan", total });
  }

  engine(preview: boolean) {
    return {
      signal: this.controller.signal,
      color: "never" as const,
      onEvent: (event: EngineEvent) => {
        for (const p of this.translator.translate(event, preview)) {
          if (p.type === "resource.planned") {
            this.steps.push({
              resource: resourceName(p.urn),
              type: p.resourceType,
              op: p.op,
              changes: p.changes,
            });
          }
          if (p.type === "policy.violation") {
            this.violations.push({
              policy: p.policy,
              level: p.level,
              message: p.message,
              ...(p.urn ? { resource: resourceName(p.urn) } : {}),
            });
          }
          this.options.onProgress?.(p);
        }
      },
    };
  }

  result(
    tenant: string,
    operation: OperationKind,
    status: OperationResult["status"],
    started: number,
    partial: Partial<OperationResult>,
    error?: OperationResult["error"],
  ): OperationResult {
    const timeout = this.timedOut
      ? { kind: "Timeout", message: `${operation} exceeded its time limit and was cancelled` }
      : undefined;
    return {
      tenant,
      operation,
      status,
      changes: partial.changes ?? {},
      durationMs: Date.now() - started,
      policyViolations: this.violations,
      ...(partial.outputs ? { outputs: partial.outputs } : {}),
      ...(partial.steps ? { steps: partial.steps } : {}),
      ...(partial.drift ? { drift: partial.drift } : {}),
      ...((timeout ?? error) ? { error: timeout ?? error } : {}),
    };
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

/** Pulumi's stack lock is the second guard: back off and retry a few times, then report it. */
export async function retryConcurrent<T>(fn: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError) || attempt >= attempts) throw error;
      await new Promise((r) => setTimeout(r, 500 * 3 ** (attempt - 1)));
    }
  }
}

/** Said instead of a CLI failure's command line, which is all its `err?:` section would add. */
export const COMMAND_LINE_WITHHELD =
  "the pulumi CLI failed (its command line is withheld: it carries secrets)";

/**
 * The engine's message, without the CLI's boilerplate, and the kind of failure. A CLI failure's
 * `err?:` section is the process error: the whole command line (stackSecrets.ts keeps the stack's
 * secrets off it, but a plain value can be long) and the stderr already shown. It goes entirely,
 * since this message is recorded, logged and shown to operators.
 */
export function classify(error: unknown): { kind: string; message: string } {
  if (error instanceof Error) {
    const lines = error.message.split("\n");
    const processError = lines.findIndex((l) => /^\s*err\?:/.test(l));
    const message = (processError === -1 ? lines : lines.slice(0, processError))
      .filter((l) => !/^\s*code:/.test(l))
      .map((l) => l.replace(/^\s*(stdout|stderr):\s?/, ""))
      .filter((l) => l.trim() !== "")
      .slice(-20)
      .join("\n");
    return { kind: error.name || error.constructor.name, message: message || COMMAND_LINE_WITHHELD };
  }
  return { kind: "Error", message: String(error) };
}
