/**
 * What a killed pulumi process leaves behind, put right before the next
 * operation: Pulumi's stack lock held by a dead process (file and S3 backends),
 * and a checkpoint torn mid-save (file backends, checkpointRecovery.ts). Called under the tenant
 * lock, so no operation of ours is running on the stack.
 */
import { hostname } from "node:os";
import { join } from "node:path";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
import { repairTornCheckpoint } from "./checkpointRecovery.ts";
import type { OperationOptions } from "./operationResult.ts";
import { stackLocks } from "./stackLocks.ts";

/**
 * Pulumi's locks on a stack (automation/stackLocks.ts), split into those whose
 * holder provably no longer exists (written on this host by a dead process)
 * and the others.
 */
async function pulumiLocks(
  backendUrl: string,
  project: string,
  stackName: string,
): Promise<{ stale: number; live: number }> {
  let stale = 0;
  let live = 0;
  for (const lock of await stackLocks(backendUrl, project, stackName)) {
    if (lock.hostname === hostname() && typeof lock.pid === "number" && !processAlive(lock.pid)) stale++;
    else live++;
  }
  return { stale, live };
}

function fileBackendRoot(backendUrl: string): string {
  return join(backendUrl.slice("file://".length), ".pulumi");
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * A killed worker leaves Pulumi's lock behind (a file, or an object in S3).
 * Remove it only when it is provably stale: written on this host by a process
 * that no longer exists.
 */
export async function clearStaleLocks(backendUrl: string, project: string, stack: Stack): Promise<void> {
  const { stale, live } = await pulumiLocks(backendUrl, project, stack.name);
  if (stale > 0 && live === 0) await stack.cancel();
}

/**
 * A pulumi killed while saving can leave the stack's checkpoint torn; with no
 * live holder of the stack, put its backup back (see checkpointRecovery.ts).
 */
export async function recoverTornCheckpoint(
  backendUrl: string,
  project: string,
  slug: string,
  options: OperationOptions,
): Promise<void> {
  // Only files can be torn: an object store replaces an object whole.
  if (!backendUrl.startsWith("file://") || (await pulumiLocks(backendUrl, project, slug)).live > 0) return;
  const state = repairTornCheckpoint(join(fileBackendRoot(backendUrl), "stacks", project), slug);
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
