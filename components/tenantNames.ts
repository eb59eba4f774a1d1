/**
 * Every name a tenant owns on its Dokku host and in DNS, derived from one
 * validated slug. Each kind of name has its own fixed prefix, none a prefix of
 * another, and the slug is the rest: so no two names of any tenants can ever be
 * equal, and every name carries its tenant's slug (the isolation policy checks
 * exactly that).
 */

import { BRIDGE_KINDS, BRIDGES, type BridgeKind } from "./bridges.ts";

/**
 * The resource name suffix of a tenant's final backup (components/tenant.ts): a
 * command whose delete backs the tenant up before a destroy removes its data.
 * A move's retired checkpoint leaves it out (fleet/movePlan.ts): the old host's
 * data is stale by then, and a backup of it must not become the newest.
 */
export const FINAL_BACKUP = "final-backup";

/** A value that would be unsafe as a tenant name or domain, with what is allowed instead. */
export class TenantInputError extends Error {
  override readonly name = "TenantInputError";
  readonly field: string;
  constructor(field: string, value: unknown, rule: string) {
    super(`invalid ${field} ${JSON.stringify(value)}: ${rule}`);
    this.field = field;
  }
}

declare const slugBrand: unique symbol;
/** A tenant slug that passed {@link parseSlug}. */
export type Slug = string & { readonly [slugBrand]: true };

/**
 * Lowercase letters, digits and single hyphens, starting with a letter, 3 to 30
 * characters: a DNS label (so `<slug>.matrix.<base>` stays valid), a Dokku app
 * and service name, a Docker network name and a storage entry name at once.
 */
const SLUG = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
export const SLUG_MIN = 3;
export const SLUG_MAX = 30;

export function parseSlug(value: unknown): Slug {
  if (typeof value !== "string") throw new TenantInputError("slug", value, "must be a string");
  if (value.length < SLUG_MIN || value.length > SLUG_MAX || !SLUG.test(value)) {
    throw new TenantInputError(
      "slug",
      value,
      `use ${SLUG_MIN}-${SLUG_MAX} lowercase letters, digits and single hyphens, starting with a letter and not ending with a hyphen`,
    );
  }
  return value as Slug;
}

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A lowercase DNS name of at least two labels, at most 253 characters, no trailing dot. */
export function parseDomain(value: unknown, field = "domain"): string {
  if (typeof value !== "string") throw new TenantInputError(field, value, "must be a string");
  const labels = value.split(".");
  if (value.length > 253 || labels.length < 2 || !labels.every((l) => LABEL.test(l))) {
    throw new TenantInputError(
      field,
      value,
      "must be a lowercase DNS name like example.com (labels of a-z, 0-9 and inner hyphens, at most 63 characters each)",
    );
  }
  return value;
}

export interface TenantNames {
  readonly slug: Slug;
  /** The tenant's own Docker network; its apps and services attach to it only. */
  readonly network: string;
  /** The MindRoom runtime (port 8765). */
  readonly runtimeApp: string;
  /** The Matrix homeserver. */
  readonly homeserverApp: string;
  /** The scheduled backup job for app storage. */
  readonly backupApp: string;
  readonly postgres: string;
  readonly redis: string;
  readonly runtimeStorage: string;
  readonly homeserverStorage: string;
  /** Each Matrix bridge's app (`br-<code>-<slug>`) and storage entry. */
  readonly bridgeApps: { readonly [K in BridgeKind]: string };
  readonly bridgeStorage: { readonly [K in BridgeKind]: string };
}

function perBridge(name: (code: string) => string): { readonly [K in BridgeKind]: string } {
  return Object.fromEntries(BRIDGE_KINDS.map((kind) => [kind, name(BRIDGES[kind].code)])) as {
    [K in BridgeKind]: string;
  };
}

export function tenantNames(slug: Slug): TenantNames {
  return {
    slug,
    network: `net-${slug}`,
    runtimeApp: `mr-${slug}`,
    homeserverApp: `mx-${slug}`,
    backupApp: `bk-${slug}`,
    postgres: `pg-${slug}`,
    redis: `redis-${slug}`,
    runtimeStorage: `data-mr-${slug}`,
    homeserverStorage: `data-mx-${slug}`,
    bridgeApps: perBridge((code) => `br-${code}-${slug}`),
    bridgeStorage: perBridge((code) => `data-br-${code}-${slug}`),
  };
}

export interface TenantDomains {
  /** The MindRoom dashboard, also the Matrix server name. */
  readonly app: string;
  readonly api: string;
  readonly matrix: string;
}

export function tenantDomains(slug: Slug, baseDomain: string): TenantDomains {
  const base = parseDomain(baseDomain, "base domain");
  return { app: `${slug}.${base}`, api: `${slug}.api.${base}`, matrix: `${slug}.matrix.${base}` };
}
