/**
 * Matrix bridges: as many as the tenant's tier allows, each reachable only on
 * the tenant's network (no public domain: only the tenant's homeserver talks
 * to it), and each registered with the tenant's homeserver — a bridge without
 * its registration cannot work, a registration without its bridge lets the
 * homeserver push the tenant's messages to an app nobody runs. The tokens they
 * share are secrets like any other (secrets-are-pulumi-secrets,
 * no-plaintext-secret-material); the network rule for every app is
 * apps-on-tenant-network.
 */
import type { ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { BRIDGE_KINDS, type BridgeKind } from "../../components/bridges.ts";
import { UNLIMITED, withinLimit } from "../../components/tiers.ts";
import { acrossStack, inTenant, type StackResource } from "../define.ts";
import { list, obj, str } from "../props.ts";
import { TYPES } from "../resourceTypes.ts";
import type { TenantView } from "../tenantView.ts";

/** Which bridge an app is, by the tenant's names. */
function bridgeOf(tenant: TenantView, app: string | undefined): BridgeKind | undefined {
  const names = tenant.names;
  return names && app ? BRIDGE_KINDS.find((kind) => names.bridgeApps[kind] === app) : undefined;
}

/** Each tenant's apps among the stack's resources. */
function appsByTenant(resources: readonly StackResource[]): Map<TenantView, StackResource[]> {
  const byTenant = new Map<TenantView, StackResource[]>();
  for (const r of resources) {
    if (r.type !== TYPES.app || !r.tenant) continue;
    byTenant.set(r.tenant, [...(byTenant.get(r.tenant) ?? []), r]);
  }
  return byTenant;
}

export const bridgesWithinTier: StackValidationPolicy = {
  name: "bridges-within-tier",
  description: "A tenant runs no more Matrix bridges than its tier allows.",
  enforcementLevel: "mandatory",
  remediationSteps: "Enable bridges only up to tier(spec.tier).bridges (components/tiers.ts).",
  ...acrossStack({ config: [] }, ({ resources, report }) => {
    for (const [tenant, apps] of appsByTenant(resources)) {
      const bridges = apps.filter((a) => bridgeOf(tenant, str(a.inputs?.app)) !== undefined);
      const allowed = tenant.tier?.bridges ?? 0;
      if (!withinLimit(bridges.length, allowed)) {
        report(
          tenant,
          `it runs ${bridges.length} Matrix bridges (${bridges.map((b) => str(b.inputs?.app)).join(", ")}), ` +
            `but the ${tenant.spec.tier || "(unknown)"} tier allows ${allowed === UNLIMITED ? "any number" : allowed}; ` +
            "disable bridges or change the tier.",
        );
      }
    }
  }),
};

export const bridgesStayPrivate: ResourceValidationPolicy = {
  name: "bridges-stay-private",
  description:
    "A Matrix bridge has no public domain: only its tenant's homeserver, on the tenant network, reaches it.",
  enforcementLevel: "mandatory",
  ...inTenant({ types: [TYPES.app], config: [] }, ({ resource, tenant, report }) => {
    const app = str(resource.props.app);
    if (!bridgeOf(tenant, app)) return;
    const web = obj(resource.props.web);
    if (web) {
      report(
        `bridge ${app} is served on ${JSON.stringify(list(web.domains))}; a bridge takes no web domains (the homeserver reaches it as ${app}.web on the tenant network).`,
      );
    }
  }),
};

export const bridgesRegistered: StackValidationPolicy = {
  name: "bridges-registered",
  description:
    "Every Matrix bridge is registered with its tenant's homeserver, and every registration belongs to a bridge the tenant runs.",
  enforcementLevel: "mandatory",
  remediationSteps: "Create bridges only through the spec's `bridges` (components/tenant.ts writes both).",
  ...acrossStack({ config: [] }, ({ resources, report }) => {
    for (const [tenant, apps] of appsByTenant(resources)) {
      const names = tenant.names;
      if (!names) continue;
      const running = new Set(apps.flatMap((a) => bridgeOf(tenant, str(a.inputs?.app)) ?? []));
      const homeserver = apps.find((a) => str(a.inputs?.app) === names.homeserverApp);
      const registered = new Set(
        list(homeserver?.inputs?.files).flatMap((f) => {
          const m = /^appservices\/([a-z]+)\.yaml$/.exec(str(obj(f)?.path) ?? "");
          return m && str(obj(f)?.entry) === names.homeserverStorage ? [m[1] as string] : [];
        }),
      );
      for (const kind of running) {
        if (!registered.has(kind))
          report(
            tenant,
            `bridge ${names.bridgeApps[kind]} runs without a registration on ${names.homeserverApp}; register it (appservices/${kind}.yaml).`,
          );
      }
      for (const kind of registered) {
        if (!running.has(kind as BridgeKind))
          report(
            tenant,
            `${names.homeserverApp} loads the ${kind} appservice registration, but no ${kind} bridge runs; remove the registration.`,
          );
      }
    }
  }),
};
