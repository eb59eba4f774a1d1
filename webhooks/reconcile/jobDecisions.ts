/**
 * The small decisions of one reconcile job besides the desired state
 * (desiredState.ts): who acts, which verb the audit log names, and the job
 * that carries out a scheduled deletion. Pure.
 */
import type { TenantSpec } from "../../components/tenantSpec.ts";
import type { Instance } from "../../database/instances.ts";
import type { ReconcileJob, ReconcileRequest } from "../queue.ts";
import type { DesiredTenant } from "./desiredState.ts";

/** A desired state that keeps the tenant (running or suspended). */
export type Wanted = Exclude<DesiredTenant, { state: "absent" }>;

export function actorOf(job: ReconcileJob): string {
  if (job.requestedBy) return job.requestedBy;
  return job.trigger === "stripe" ? "stripe" : job.trigger === "sweep" ? "sweep" : "worker";
}

export function deletionJob(job: ReconcileJob, dueAt: Date): ReconcileRequest {
  return {
    customerKey: job.customerKey,
    trigger: job.trigger,
    reason: `scheduled deletion due ${dueAt.toISOString()}`,
    startAfter: dueAt,
    ...(job.requestId ? { requestId: job.requestId } : {}),
  };
}

export function verbFor(previous: Instance, desired: Wanted["state"], spec: TenantSpec): string {
  if (desired === "deleted") return "delete";
  if (
    desired === "running" &&
    previous.appliedSpecHash !== null &&
    previous.desiredState === "running" &&
    spec.restartGeneration !== previous.spec?.restartGeneration
  )
    return "restart";
  if (
    desired === "running" &&
    (previous.actualState === "suspended" || previous.desiredState === "suspended")
  )
    return previous.appliedSpecHash === null ? "provision" : "resume";
  if (desired === "running" && previous.appliedSpecHash === null) return "provision";
  if (desired === "suspended" && previous.actualState !== "suspended") return "suspend";
  return "update";
}
