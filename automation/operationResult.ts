/**
 * What a tenant operation is asked and what it answers: the typed result every
 * caller (operator CLI, reconcile worker, portal, benchmarks) reads, whichever
 * process ran the operation.
 */
import type { OutputMap } from "@pulumi/pulumi/automation/index.js";
import type { DriftFinding } from "./driftProbes.ts";
import type { ProgressEvent } from "./progress.ts";
import type { PropertyChange } from "./propertyDiff.ts";

export type OperationKind = "preview" | "up" | "refresh" | "drift" | "destroy" | "rebuild";

export interface PlannedStep {
  readonly resource: string;
  readonly type: string;
  readonly op: string;
  readonly changes: readonly PropertyChange[];
}

export interface PolicyViolation {
  readonly policy: string;
  readonly level: string;
  readonly message: string;
  readonly resource?: string;
}

export interface OperationResult {
  readonly tenant: string;
  readonly operation: OperationKind;
  readonly status: "succeeded" | "failed" | "cancelled";
  readonly changes: Readonly<Record<string, number>>;
  readonly durationMs: number;
  readonly outputs?: Readonly<Record<string, unknown>>;
  /** preview and drift: what would change. */
  readonly steps?: readonly PlannedStep[];
  /** drift: what differs on the Dokku host. */
  readonly drift?: readonly DriftFinding[];
  readonly policyViolations: readonly PolicyViolation[];
  readonly error?: { readonly kind: string; readonly message: string };
}

export interface OperationOptions {
  readonly onProgress?: (event: ProgressEvent) => void;
  readonly signal?: AbortSignal;
  /** The holder id of the tenant lease the operation runs under (the worker pool takes it). */
  readonly lease?: string;
}

export interface UpOptions extends OperationOptions {
  /**
   * Check the Dokku host first and repair what differs from the stack (about 20
   * read-only Dokku commands over one SSH session, a few seconds). Without it,
   * `up` repairs the drift that the last `drift` of the tenant found and
   * recorded, and nothing else: run `drift` on a schedule (the reconcile sweep,
   * `mindroom-ops drift --all`) and every `up` after it repairs what it found.
   */
  readonly probeDrift?: boolean;
  /** `false` never probes (the default since `probeDrift`); kept for callers written before it. */
  readonly repairDrift?: boolean;
}

/** The tenant has no stack yet: run `ensure` (or an `up` through the worker) first. */
export class TenantNotFoundError extends Error {
  override readonly name = "TenantNotFoundError";
}

/** Stack outputs as plain values, secret ones masked. */
export function plainOutputs(outputs: OutputMap): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.secret ? "[secret]" : v.value]));
}
