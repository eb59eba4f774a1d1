/**
 * Structured progress of a tenant operation, as a discriminated union that the
 * worker pool streams to callers (the CLI's live view, the reconcile worker's
 * operations record), translated once from Pulumi's engine events.
 */
import type { EngineEvent, StepEventMetadata } from "@pulumi/pulumi/automation/index.js";
import { type PropertyChange, propertyChanges } from "./propertyDiff.ts";

export type ResourceOp =
  | "create"
  | "update"
  | "delete"
  | "replace"
  | "same"
  | "read"
  | "refresh"
  | (string & {});

export type ProgressEvent =
  /**
   * How many resource steps the operation will take, known before it starts: an up's from the
   * engine's plan (a preview), a refresh's or destroy's from the stack's state.
   */
  | { readonly type: "plan"; readonly total: number }
  | {
      readonly type: "resource.started";
      readonly urn: string;
      readonly resourceType: string;
      readonly op: ResourceOp;
    }
  | {
      readonly type: "resource.planned";
      readonly urn: string;
      readonly resourceType: string;
      readonly op: ResourceOp;
      readonly changes: readonly PropertyChange[];
    }
  | {
      readonly type: "resource.done";
      readonly urn: string;
      readonly op: ResourceOp;
      readonly durationMs: number;
    }
  | { readonly type: "resource.failed"; readonly urn: string; readonly op: ResourceOp }
  | {
      readonly type: "diagnostic";
      readonly severity: string;
      readonly message: string;
      readonly urn?: string;
    }
  | {
      readonly type: "policy.violation";
      readonly policy: string;
      readonly pack: string;
      readonly level: string;
      readonly message: string;
      readonly urn?: string;
    }
  | {
      readonly type: "summary";
      readonly changes: Readonly<Record<string, number>>;
      readonly durationMs: number;
    };

/** Short display name of a resource from its URN (`…::tenant-runtime-app`). */
export function resourceName(urn: string): string {
  return urn.split("::").pop() ?? urn;
}

const STACK_TYPE = "pulumi:pulumi:Stack";

/**
 * The resource step an engine event announces (`resourcePreEvent`), the stack
 * resource aside: what a preview's plan counts and an up then reports done,
 * one `resOutputsEvent` per step.
 */
export function announcedStep(event: EngineEvent): StepEventMetadata | undefined {
  const pre = event.resourcePreEvent?.metadata;
  return pre && pre.type !== STACK_TYPE ? pre : undefined;
}

/**
 * Turns the engine's event stream into progress events. Stateful only to time
 * each resource step (the engine reports start and end separately).
 */
export class ProgressTranslator {
  private readonly started = new Map<string, number>();
  private readonly now: () => number;

  constructor(now: () => number = Date.now) {
    this.now = now;
  }

  translate(event: EngineEvent, preview: boolean): ProgressEvent[] {
    const out: ProgressEvent[] = [];
    const pre = announcedStep(event);
    if (pre) {
      if (preview) {
        const changes = propertyChanges(pre);
        out.push({ type: "resource.planned", urn: pre.urn, resourceType: pre.type, op: pre.op, changes });
      } else {
        this.started.set(pre.urn, this.now());
        out.push({ type: "resource.started", urn: pre.urn, resourceType: pre.type, op: pre.op });
      }
    }
    const done = event.resOutputsEvent?.metadata;
    if (done && !preview && done.type !== STACK_TYPE) {
      const start = this.started.get(done.urn);
      out.push({
        type: "resource.done",
        urn: done.urn,
        op: done.op,
        durationMs: start ? this.now() - start : 0,
      });
    }
    const failed = event.resOpFailedEvent?.metadata;
    if (failed) out.push({ type: "resource.failed", urn: failed.urn, op: failed.op });
    const diag = event.diagnosticEvent;
    if (diag && !diag.ephemeral && diag.message.trim() !== "") {
      out.push({
        type: "diagnostic",
        severity: diag.severity,
        message: stripAnsi(diag.message).trim(),
        ...(diag.urn ? { urn: diag.urn } : {}),
      });
    }
    const policy = event.policyEvent;
    if (policy) {
      out.push({
        type: "policy.violation",
        policy: policy.policyName,
        pack: policy.policyPackName,
        level: policy.enforcementLevel,
        message: policy.message,
        ...(policy.resourceUrn ? { urn: policy.resourceUrn } : {}),
      });
    }
    const summary = event.summaryEvent;
    if (summary) {
      out.push({
        type: "summary",
        changes: { ...summary.resourceChanges },
        durationMs: summary.durationSeconds * 1000,
      });
    }
    return out;
  }
}

function stripAnsi(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: ANSI escapes are control characters by definition.
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}
