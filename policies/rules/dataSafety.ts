/**
 * Data safety: in production, what holds data (Postgres, Redis, app storage) is
 * retained or protected on delete, and when an operator purges a tenant on
 * purpose, a destroy reaches the data only after the final backup ran.
 *
 * Pulumi's `retainOnDelete` does not reach policies (CrossGuard's resource
 * options carry `protect` only), so the rules read the data holders' recorded
 * `retainData`, which the components apply as `retainOnDelete` to the commands
 * that create the data.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { acrossStack, inTenant, type StackResource } from "../define.ts";
import { bool, list, type Props, str } from "../props.ts";
import { TYPES } from "../resourceTypes.ts";
import { isProduction } from "../tenantView.ts";

/** A Service, or an App that owns storage. */
function holdsData(type: string, props: Props): boolean {
  return type === TYPES.service || (type === TYPES.app && list(props.storage).length > 0);
}

const holderLabel = (type: string, props: Props) =>
  type === TYPES.service
    ? `${str(props.kind)} service ${str(props.service)}`
    : `app ${str(props.app)}'s storage`;

export const productionDataRetained: ResourceValidationPolicy = {
  name: "production-data-retained",
  description:
    "In production, databases and app storage are retained (or protected) when their resource is deleted.",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Keep retainData true for production tenants; lift it only through an explicit purge (spec.purgeData).",
  ...inTenant(
    { types: [TYPES.service, TYPES.app], config: ["environment"] },
    ({ resource, tenant, config, report }) => {
      if (!isProduction(tenant, config.environment) || !holdsData(resource.type, resource.props)) return;
      if (bool(resource.props.retainData) === true || resource.protect || tenant.spec.purgeData) return;
      report(
        `${holderLabel(resource.type, resource.props)} would be dropped by a destroy: it is neither retained nor protected, ` +
          "and no purge was requested; keep retainData true (or protect it).",
      );
    },
  ),
};

/** The remote commands under a data holder that create the data (their delete drops it). */
function dataCommands(holder: StackResource, resources: readonly StackResource[]): StackResource[] {
  return resources.filter((r) => {
    if (r.type !== TYPES.command || r.parent !== holder.urn) return false;
    const create = str(r.inputs?.create) ?? "";
    return /\b(postgres|redis):create\b|\bstorage:create\b/.test(create);
  });
}

/** A command whose delete backs the tenant up: the final backup. */
function isFinalBackup(r: StackResource): boolean {
  return r.type === TYPES.command && /:backup\s|\brun\s+\S+\s+backup\b/.test(str(r.inputs?.delete) ?? "");
}

export const purgeOnlyAfterFinalBackup: StackValidationPolicy = {
  name: "purge-only-after-final-backup",
  description:
    "In production, a purge drops a tenant's data only after a final backup: a backup-on-delete command that depends on every data holder.",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Purge only tenants with backups enabled; keep the final-backup command depending on every data holder.",
  ...acrossStack({ config: ["environment"] }, ({ resources, config, report }) => {
    for (const holder of resources) {
      const tenant = holder.tenant;
      const inputs = holder.inputs;
      if (!tenant || !inputs || !isProduction(tenant, config.environment) || !holdsData(holder.type, inputs))
        continue;
      // Without a purge, production-data-retained already refuses an unretained holder.
      if (!tenant.spec.purgeData || bool(inputs.retainData) === true || holder.protect) continue;
      const finals = resources.filter((r) => r.tenant?.urn === tenant.urn && isFinalBackup(r));
      const commands = dataCommands(holder, resources);
      const guarded = finals.some((f) => commands.every((c) => f.dependencies.includes(c.urn)));
      if (!guarded) {
        report(
          tenant,
          `${holderLabel(holder.type, inputs)} may be dropped by a destroy, but no final backup runs before it ` +
            (finals.length === 0
              ? "(the tenant has no final-backup command; enable backups)."
              : "(the final backup does not depend on it)."),
          holder.urn,
        );
      }
    }
  }),
};
