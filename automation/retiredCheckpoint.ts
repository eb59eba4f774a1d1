/**
 * Destroying what an old checkpoint of a stack holds, without touching the
 * stack itself: a temporary stack beside it takes the checkpoint
 * (`pulumi stack import`), is destroyed (each resource's own delete, with the
 * inputs it was created with: the old host's connection) and removed. A move
 * retires a tenant's old host this way (fleet/tenantMove.ts). Run again after
 * a failure, it imports the checkpoint anew: the deletes that ran already
 * find nothing and succeed (every delete tolerates absence).
 */
import type { Deployment, LocalWorkspace } from "@pulumi/pulumi/automation/index.js";
import { Stack } from "@pulumi/pulumi/automation/index.js";

/** The temporary stack's name: a `.` no tenant slug has, so it never names a tenant's stack. */
export function retiredStackName(slug: string): string {
  return `${RETIRED_PREFIX}${slug}`;
}

const RETIRED_PREFIX = "retired.";

/** Whether a stack is such a temporary one: it sits beside the tenants' stacks but is no tenant's. */
export function isRetiredStack(name: string): boolean {
  return name.startsWith(RETIRED_PREFIX);
}

export async function destroyCheckpoint(
  workspace: LocalWorkspace,
  name: string,
  checkpoint: Deployment,
  onOutput?: (line: string) => void,
): Promise<void> {
  const stack = await Stack.createOrSelect(name, workspace);
  await stack.importStack(checkpoint);
  await stack.destroy(onOutput ? { onOutput } : {});
  await workspace.removeStack(name);
}
