/**
 * What a killed pulumi process leaves behind, put right before the next
 * operation: Pulumi's stack lock held by a holder that is gone (on a `file://`
 * or `s3://` backend, stackLocks.ts; lockHolders.ts decides who is gone), and, on a file
 * backend, a checkpoint torn mid-save (checkpointRecovery.ts). An object store
 * replaces an object in one PUT, so an S3 checkpoint is never torn: it is the
 * old one or the new one. Called under the tenant's lease, so no operation of
 * ours is running on the stack.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { repairTornCheckpoint } from "./checkpointRecovery.ts";
import { judgeLock, type LockVerdict } from "./lockHolders.ts";
import type { OperationOptions } from "./operationResult.ts";
import { type StackLock, stackLocks } from "./stackLocks.ts";
import type { Tenure } from "./tenantLease.ts";

/** Where the stack's state lives, and the AWS_* variables an s3:// backend needs besides the process's. */
export interface BackendAccess {
  readonly backendUrl: string;
  readonly env: Readonly<Record<string, string>>;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** The stack's Pulumi locks with their verdicts (none for a backend whose locks cannot be read here). */
async function judgedLocks(
  access: BackendAccess,
  project: string,
  stack: string,
  tenures: readonly Tenure[],
): Promise<{ lock: StackLock; verdict: LockVerdict }[]> {
  const locks = await stackLocks(access.backendUrl, project, stack, access.env);
  return locks.map((lock) => ({
    lock,
    verdict: judgeLock(lock, { thisHost: hostname(), processAlive, tenures }),
  }));
}

/**
 * Removes Pulumi's lock on the stack when every holder of it is gone; a lock
 * with a live (or unknown) holder stays, and the operation then waits for it
 * and fails naming it (retryConcurrent in operationContext.ts).
 */
export async function clearStaleLocks(
  access: BackendAccess,
  project: string,
  stack: Stack,
  tenures: readonly Tenure[],
  options: OperationOptions,
): Promise<void> {
  const judged = await judgedLocks(access, project, stack.name, tenures);
  if (judged.length === 0) return;
  const live = judged.filter((j) => j.verdict.holder === "live");
  if (live.length > 0) {
    options.onProgress?.({
      type: "diagnostic",
      severity: "warning",
      message: `${stack.name}: the stack is locked by a holder that may still run (${live.map((j) => j.verdict.why).join("; ")}); waiting for it`,
    });
    return;
  }
  await stack.cancel();
  options.onProgress?.({
    type: "diagnostic",
    severity: "warning",
    message: `${stack.name}: removed Pulumi's lock left by a holder that is gone (${judged.map((j) => j.verdict.why).join("; ")})`,
  });
}

/**
 * A pulumi killed while saving can leave a file backend's checkpoint torn;
 * with no live holder of the stack, put its backup back (see checkpointRecovery.ts).
 */
export async function recoverTornCheckpoint(
  access: BackendAccess,
  project: string,
  slug: string,
  tenures: readonly Tenure[],
  options: OperationOptions,
): Promise<void> {
  if (!access.backendUrl.startsWith("file://")) return;
  const judged = await judgedLocks(access, project, slug, tenures);
  if (judged.some((j) => j.verdict.holder === "live")) return;
  const stacksDir = join(access.backendUrl.slice("file://".length), ".pulumi", "stacks", project);
  const state = repairTornCheckpoint(stacksDir, slug);
  if (state === "restored" || state === "unrecoverable")
    options.onProgress?.({
      type: "diagnostic",
      severity: state === "restored" ? "warning" : "error",
      message:
        state === "restored"
          ? `${slug}: the stack's checkpoint was torn by an interrupted update; restored the previous one (the next up re-runs what was lost)`
          : `${slug}: the stack's checkpoint is torn and has no usable backup; restore one from the backend's history before retrying`,
    });
}
