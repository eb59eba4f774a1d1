/**
 * Placement: a tenant lives on a host the platform knows, in the platform's
 * environment, and its tier's limits fit that host.
 */
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { findHost, type KnownHost } from "../../components/hostPool.ts";
import { tenantFootprint } from "../../components/tiers.ts";
import { inTenant } from "../define.ts";
import { TYPES } from "../resourceTypes.ts";
import type { TenantView } from "../tenantView.ts";

/** Share of a host's capacity a tenant may take before the headroom warning (20% must stay free). */
export const HEADROOM_SHARE = 0.8;

/** Memory and CPU the tenant's processes may use together, at their limits (components/tiers.ts). */
export function tenantDemand(tenant: TenantView): { memoryMb: number; cpus: number } | undefined {
  const t = tenant.tier;
  if (!t) return undefined;
  const { memoryMb, cpus } = tenantFootprint({
    tier: t.id,
    homeserver: tenant.spec.homeserver === "synapse" ? "synapse" : "tuwunel",
    backups: tenant.spec.backups.enabled,
    bridges: tenant.spec.bridges,
  });
  return { memoryMb, cpus };
}

const hostLabel = (host: KnownHost) => `${host.url} (${host.memoryMb} MB, ${host.cpus} CPU)`;

export const tenantOnKnownHost: ResourceValidationPolicy = {
  name: "tenant-on-known-host",
  description:
    "A tenant is placed on one of the platform's known Dokku hosts, at that host's public address.",
  enforcementLevel: "mandatory",
  remediationSteps: "Place the tenant on a host from DOKKU_HOSTS, or add the host to the policy pack config.",
  ...inTenant({ types: [TYPES.tenant], config: ["hosts"] }, ({ tenant, config, report }) => {
    const { url, address } = tenant.spec.host;
    const host = findHost(config.hosts, url);
    if (!host) {
      report(
        `its host ${url} is not a known Dokku host (known: ${config.hosts.map((h) => h.url).join(", ")}); place the tenant on one of them, or add the host to the policy pack config.`,
      );
    } else if (address !== host.address) {
      report(
        `its host ${url} is known at address ${host.address}, but the spec says ${address}; correct the spec's host.address (DNS would point elsewhere).`,
      );
    }
  }),
};

export const tenantEnvironmentMatches: ResourceValidationPolicy = {
  name: "tenant-environment-matches",
  description: "A tenant's environment is the platform's: a spec cannot claim test to skip production rules.",
  enforcementLevel: "mandatory",
  ...inTenant({ types: [TYPES.tenant], config: ["environment"] }, ({ tenant, config, report }) => {
    if (tenant.spec.environment !== config.environment) {
      report(
        `its spec says environment ${JSON.stringify(tenant.spec.environment)}, but this platform is ${config.environment}; ` +
          "set the spec's environment from the platform's.",
      );
    }
  }),
};

export const tierFitsHost: ResourceValidationPolicy = {
  name: "tier-fits-host",
  description:
    "A tenant's tier limits (all its processes together) fit the capacity of the host it is placed on.",
  enforcementLevel: "mandatory",
  remediationSteps: "Place the tenant on a bigger host, or lower the tier's limits in components/tiers.ts.",
  ...inTenant({ types: [TYPES.tenant], config: ["hosts"] }, ({ tenant, config, report }) => {
    const host = findHost(config.hosts, tenant.spec.host.url);
    const demand = tenantDemand(tenant);
    if (!host) return; // tenant-on-known-host says so
    if (!demand) {
      report(
        `tier ${JSON.stringify(tenant.spec.tier)} is not in the tier catalog; its limits cannot be checked against ${host.url}; use a tier of components/tiers.ts.`,
      );
      return;
    }
    if (demand.memoryMb > host.memoryMb || demand.cpus > host.cpus) {
      report(
        `the ${tenant.spec.tier} tier needs ${demand.memoryMb} MB and ${demand.cpus} CPU at its limits, ` +
          `more than host ${hostLabel(host)} has; place the tenant on a bigger host.`,
      );
    }
  }),
};

export const tierHostHeadroom: ResourceValidationPolicy = {
  name: "tier-host-headroom",
  description: "A tenant leaves at least 20% of its host's memory and CPU free (advisory).",
  enforcementLevel: "advisory",
  ...inTenant({ types: [TYPES.tenant], config: ["hosts"] }, ({ tenant, config, report }) => {
    const host = findHost(config.hosts, tenant.spec.host.url);
    const demand = tenantDemand(tenant);
    if (!host || !demand) return;
    const memory = demand.memoryMb / host.memoryMb;
    const cpu = demand.cpus / host.cpus;
    if (memory <= 1 && cpu <= 1 && (memory > HEADROOM_SHARE || cpu > HEADROOM_SHARE)) {
      const pct = (share: number) => `${Math.round(share * 100)}%`;
      report(
        `the ${tenant.spec.tier} tier takes ${pct(memory)} of the memory and ${pct(cpu)} of the CPU of host ${hostLabel(host)}, ` +
          "leaving less than 20% headroom; plan a bigger host.",
      );
    }
  }),
};
