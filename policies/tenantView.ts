/**
 * A tenant as the pack sees it: the spec the MindRoomTenant component recorded
 * as its input, read leniently (the pack judges specs the component should
 * never have accepted, so it cannot rely on the component's schema), plus what
 * follows from it: names, domains, the tier's row in the catalog.
 */

import type { Environment } from "../components/environments.ts";
import {
  parseSlug,
  type TenantDomains,
  type TenantNames,
  tenantDomains,
  tenantNames,
} from "../components/tenantNames.ts";
import { isTierId, TIERS, type Tier } from "../components/tiers.ts";
import { bool, obj, type Props, str } from "./props.ts";

export interface TenantSpecView {
  readonly slug: string;
  readonly tier: string;
  readonly environment: string;
  readonly baseDomain: string;
  readonly homeserver: string;
  readonly images: { readonly runtime?: string; readonly homeserver?: string; readonly backup?: string };
  readonly host: { readonly url: string; readonly address: string };
  readonly tlsMode: string;
  readonly dns: { readonly enabled: boolean; readonly proxied?: boolean };
  readonly backups: { readonly enabled: boolean; readonly bucket?: string; readonly schedule?: string };
  readonly purgeData: boolean;
  /** How many Matrix bridges the spec enables. */
  readonly bridges: number;
}

export interface TenantView {
  readonly urn: string;
  readonly spec: TenantSpecView;
  /** Every name the tenant owns; undefined when its slug is not a valid slug (then nothing can carry it). */
  readonly names: TenantNames | undefined;
  readonly domains: TenantDomains | undefined;
  /** The tier's row in the catalog; undefined for a tier the catalog does not have. */
  readonly tier: Tier | undefined;
}

export function readTenantSpec(props: Props): TenantSpecView {
  const spec = obj(props.spec) ?? {};
  const images = obj(spec.images) ?? {};
  const host = obj(spec.host) ?? {};
  const dns = obj(spec.dns) ?? {};
  const backups = obj(spec.backups) ?? {};
  const optional = <T>(key: string, value: T | undefined) => (value === undefined ? {} : { [key]: value });
  return {
    slug: str(spec.slug) ?? "",
    tier: str(spec.tier) ?? "",
    environment: str(spec.environment) ?? "",
    baseDomain: str(spec.baseDomain) ?? "",
    homeserver: str(spec.homeserver) ?? "",
    images: {
      ...optional("runtime", str(images.runtime)),
      ...optional("homeserver", str(images.homeserver)),
      ...optional("backup", str(images.backup)),
    },
    host: { url: str(host.url) ?? "", address: str(host.address) ?? "" },
    tlsMode: str(obj(spec.tls)?.mode) ?? "",
    dns: { enabled: bool(dns.enabled) ?? false, ...optional("proxied", bool(dns.proxied)) },
    backups: {
      enabled: bool(backups.enabled) ?? false,
      ...optional("bucket", str(backups.bucket)),
      ...optional("schedule", str(backups.schedule)),
    },
    purgeData: bool(spec.purgeData) ?? false,
    bridges: Array.isArray(spec.bridges) ? spec.bridges.length : 0,
  };
}

export function tenantView(urn: string, props: Props): TenantView {
  const spec = readTenantSpec(props);
  let names: TenantNames | undefined;
  let domains: TenantDomains | undefined;
  try {
    const slug = parseSlug(spec.slug);
    names = tenantNames(slug);
    domains = tenantDomains(slug, spec.baseDomain);
  } catch {
    // An invalid slug or base domain: the names stay undefined and the policies say so.
  }
  return { urn, spec, names, domains, tier: isTierId(spec.tier) ? TIERS[spec.tier] : undefined };
}

/**
 * Production rules hold when the tenant says it is production or the platform
 * is: a spec cannot talk its way out of backups and data protection.
 */
export function isProduction(tenant: TenantView, platform: Environment): boolean {
  return platform === "production" || tenant.spec.environment === "production";
}

/** The tenant's S3 prefix (components/tenant.ts keeps every backup of the tenant under it). */
export function backupPrefix(slug: string): string {
  return `tenants/${slug}`;
}
