/** Resources and limits: every app runs with its tier's memory and CPU, as the tier catalog says. */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import type { ProcessResources } from "../../components/tiers.ts";
import { inTenant } from "../define.ts";
import { num, obj, str } from "../props.ts";
import { TYPES } from "../resourceTypes.ts";
import type { TenantView } from "../tenantView.ts";

/** Which row of the tier an app is sized from, by the app's name. */
export function appRole(
  tenant: TenantView,
  app: string,
): "runtime" | "homeserver" | "backupJob" | "bridge" | undefined {
  const names = tenant.names;
  if (!names) return undefined;
  if (app === names.runtimeApp) return "runtime";
  if (app === names.homeserverApp) return "homeserver";
  if (app === names.backupApp) return "backupJob";
  if (Object.values(names.bridgeApps).includes(app)) return "bridge";
  return undefined;
}

const describe = (r: ProcessResources) => `${r.memoryMb} MB, ${r.cpus} CPU, ${r.reserveMemoryMb} MB reserved`;

export const appLimitsMatchTier: ResourceValidationPolicy = {
  name: "app-limits-match-tier",
  description: "Every tenant app has memory and CPU limits, and they are its tier's row in the tier catalog.",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Size apps only from components/tiers.ts (tier(spec.tier).runtime/.homeserver/.backupJob/.bridge).",
  ...inTenant({ types: [TYPES.app], config: [] }, ({ resource, tenant, report }) => {
    const app = str(resource.props.app) ?? "(unnamed)";
    const resources = obj(resource.props.resources);
    const memoryMb = num(resources?.memoryMb);
    const cpus = num(resources?.cpus);
    const reserveMemoryMb = num(resources?.reserveMemoryMb) ?? 0;
    if (memoryMb === undefined || memoryMb <= 0 || cpus === undefined || cpus <= 0) {
      report(
        `app ${app} has no memory and CPU limit (resources: ${JSON.stringify(resources ?? null)}); give it its tier's limits.`,
      );
      return;
    }
    if (!tenant.tier) {
      report(
        `tier ${JSON.stringify(tenant.spec.tier)} is not in the tier catalog, so app ${app} cannot be sized from it; use a tier of components/tiers.ts.`,
      );
      return;
    }
    const role = appRole(tenant, app);
    if (!role) {
      report(
        `app ${app} is none of the tenant's apps, so no row of the ${tenant.tier.id} tier sizes it; name apps with tenantNames(slug).`,
      );
      return;
    }
    const expected = tenant.tier[role];
    const actual = { memoryMb, cpus, reserveMemoryMb };
    if (
      actual.memoryMb !== expected.memoryMb ||
      actual.cpus !== expected.cpus ||
      actual.reserveMemoryMb !== expected.reserveMemoryMb
    ) {
      report(
        `app ${app} runs with ${describe(actual)}, but the ${tenant.tier.id} tier gives its ${role} ${describe(expected)}. ` +
          "Size apps only from the tier catalog.",
      );
    }
  }),
};
