/**
 * Pulumi's file backend saves a checkpoint by keeping the previous one as
 * `<stack>.json.bak` and then writing `<stack>.json`; a pulumi process killed
 * in between (a worker killed mid-`up`) can leave that file empty or cut
 * short, after which every operation fails with "failed to load checkpoint"
 * (pulumi/pulumi#2801, #4679; the documented fix is restoring the backup).
 * Called under the tenant lock once no live process holds the stack.
 */
import { copyFileSync, existsSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";

export type CheckpointState = "absent" | "intact" | "restored" | "unrecoverable";

function readable(path: string): boolean {
  try {
    const parsed = JSON.parse(readFileSync(path, "utf8")) as { checkpoint?: unknown; version?: unknown };
    return typeof parsed === "object" && parsed !== null && "checkpoint" in parsed;
  } catch {
    return false;
  }
}

/**
 * The file backend's blobs (gocloud's fileblob) keep their attributes beside them in
 * `<file>.attrs`, written in place before the new blob is renamed over the old one: a pulumi
 * killed in between leaves that file empty or cut short while the blob is still the previous,
 * intact one, and every read of it then fails with "failed to load checkpoint: EOF". Without
 * the file, fileblob reads the blob with default attributes, which pulumi does not use; the torn
 * one is kept for a post-mortem.
 */
function repairTornAttributes(file: string): boolean {
  const attributes = `${file}.attrs`;
  if (!existsSync(attributes)) return false;
  try {
    JSON.parse(readFileSync(attributes, "utf8"));
    return false;
  } catch {
    renameSync(attributes, `${attributes}.torn-${Date.now()}`);
    return true;
  }
}

/**
 * Restores `<stack>.json` from its backup when it is torn (or its attributes are). The backup is the
 * state before the interrupted update: commands that update ran may be missing
 * from it, and the next `up` re-runs them (every command probes before it acts).
 */
export function repairTornCheckpoint(stacksDir: string, stack: string): CheckpointState {
  const file = join(stacksDir, `${stack}.json`);
  if (!existsSync(file)) return "absent";
  const attributesTorn = repairTornAttributes(file);
  if (readable(file)) return attributesTorn ? "restored" : "intact";
  const backup = `${file}.bak`;
  if (!existsSync(backup) || !readable(backup)) return "unrecoverable";
  // Keep the torn file for a post-mortem, then put the backup in place atomically.
  renameSync(file, `${file}.torn-${Date.now()}`);
  copyFileSync(backup, `${file}.restoring`);
  renameSync(`${file}.restoring`, file);
  return "restored";
}
