/**
 * Rebuilding a lost tenant stack from its program, for a tenant that is still
 * running on its host: `mindroom-ops state rebuild <tenant>`.
 *
 * A remote command cannot be read back (nothing on a Dokku host says which
 * command created what), so `pulumi import` would record empty inputs and the
 * next up would run every command again. Composing a checkpoint by hand from a
 * preview would lose the secrets (the engine's events mask them) and duplicate
 * the engine's bookkeeping (parents, dependencies, providers). Instead the
 * engine runs the tenant's own program in an `up` whose command provider
 * records each create's inputs without running it (toolchain/pulumi-resource-command,
 * remote/adopt.go): the state gets exactly the inputs the program declares, so
 * the next up with the same config has nothing to change, and the host is
 * never contacted. The provider refuses updates and deletes in that mode, and
 * the stack must be empty, so an adopting run can only add records.
 *
 * Cloud resources (Cloudflare DNS records, AWS backup credentials) do have a
 * provider that could read them, but only by their ids, which a lost stack no
 * longer knows; a tenant with them is refused instead of creating them twice.
 */
import type { Deployment } from "@pulumi/pulumi/automation/index.js";
import type { TenantSpec } from "../components/tenantSpec.ts";
import { providersFor } from "./providerPlugins.ts";

/** The command provider's switch (remote/adopt.go's AdoptEnv): creates record, nothing runs. */
export const COMMAND_ADOPT_ENV = "MINDROOM_COMMAND_ADOPT";

/** A rebuild that would not be sound; the message says what to do instead. */
export class StackRebuildRefusedError extends Error {
  override readonly name = "StackRebuildRefusedError";
}

/** Refuses a tenant whose config is missing or whose stack would hold resources adopting cannot record. */
export function assertRebuildable(slug: string, spec: TenantSpec | undefined): void {
  if (!spec)
    throw new StackRebuildRefusedError(
      `tenant ${slug} has no stack config here or in the platform database: a rebuild runs the program ` +
        "with the config the tenant was last run with, so there is nothing to rebuild from",
    );
  const cloud = providersFor(spec);
  if (cloud.length > 0)
    throw new StackRebuildRefusedError(
      `tenant ${slug} has ${cloud.join(" and ")} resources, which a rebuild cannot adopt without their ids: ` +
        `import them with \`pulumi import\` by id, or run up to create them anew`,
    );
}

/** The resources a checkpoint holds besides the stack itself and its providers. */
export function heldResources(deployment: Deployment): string[] {
  const resources = (deployment.deployment as { resources?: { urn: string; type: string }[] } | undefined)
    ?.resources;
  return (resources ?? [])
    .filter((r) => r.type !== "pulumi:pulumi:Stack" && !r.type.startsWith("pulumi:providers:"))
    .map((r) => r.urn);
}

/** Refuses a stack that still holds resources: adopting is for a lost stack, not a live one. */
export function assertEmptyStack(slug: string, deployment: Deployment): void {
  const held = heldResources(deployment);
  if (held.length > 0)
    throw new StackRebuildRefusedError(
      `the stack of tenant ${slug} still holds ${held.length} resource${held.length === 1 ? "" : "s"}: ` +
        "a rebuild only fills an empty (lost) stack; use refresh or up for this one, or remove the stack " +
        "first if its state is corrupt",
    );
}
