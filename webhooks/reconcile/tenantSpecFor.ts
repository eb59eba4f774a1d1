/**
 * The whole TenantSpec of a customer's tenant, from the desired state, the
 * instance row (its slug and host, fixed at creation and placement) and the
 * platform settings; plus a stable hash, so the worker can tell "nothing
 * changed since the last successful reconcile" without asking Pulumi. The spec
 * holds no secrets (they travel as Pulumi secrets), so it is safe to store in
 * the instances row and to show operators.
 */
import { createHash } from "node:crypto";
import { BRIDGE_KINDS, type BridgeKind } from "../../components/bridges.ts";
import type { KnownHost } from "../../components/hostPool.ts";
import { parseTenantSpec, type TenantSpec, type TenantSpecInput } from "../../components/tenantSpec.ts";
import { type TierId, tier, UNLIMITED } from "../../components/tiers.ts";
import type { DesiredTenant } from "./desiredState.ts";
import type { TenantImages } from "./settings.ts";

export interface SpecSettings {
  readonly baseDomain: string;
  readonly environment: "production" | "staging" | "test";
  readonly hosts: readonly KnownHost[];
  readonly hostKeys: ReadonlyMap<string, string>;
  readonly images: TenantImages;
  readonly tlsEmail: string;
  readonly cloudflareZoneId: string | undefined;
  readonly backup: { readonly bucket: string; readonly region: string } | undefined;
  readonly homeserver?: "tuwunel" | "synapse";
  readonly bridgeImages?: Readonly<Record<BridgeKind, string>>;
  readonly platformAuth?:
    | { readonly supabaseUrl: string; readonly supabaseAnonKey: string; readonly portalUrl: string }
    | undefined;
}

export interface SpecInstance {
  readonly slug: string;
  /** The placed host's URL (see placement.ts). */
  readonly host: string;
  readonly displayName?: string | null;
  /** instances.restart_generation: each new value restarts the apps once. */
  readonly restartGeneration?: number;
  /** instances.runtime_image: set by a fleet rollout, it wins over the platform's runtime image. */
  readonly runtimeImage?: string | null;
  /** The owner's account (auth user) id, once the customer is linked to one: single sign-on needs it. */
  readonly ownerAccountId?: string | null;
  /** The homeserver the tenant was created with (its data lives there: never switched by a reconcile). */
  readonly homeserver?: "tuwunel" | "synapse";
  /** instances.bridges: what the customer enabled; the spec gets as many as the tier allows. */
  readonly bridges?: readonly string[];
}

/** The tenant's host is not usable: it left the pool, or its key is unknown. */
export class HostNotConfiguredError extends Error {
  override readonly name = "HostNotConfiguredError";
}

export function tenantSpecFor(
  desired: Exclude<DesiredTenant, { state: "absent" }>,
  instance: SpecInstance,
  settings: SpecSettings,
): { spec: TenantSpec; hash: string } {
  const host = settings.hosts.find((h) => h.url === instance.host);
  if (!host) {
    throw new HostNotConfiguredError(
      `tenant ${instance.slug} lives on ${instance.host}, which is not a known host (or has no pinned key): add it back with mindroom-ops hosts add (tenants are not moved by a reconcile)`,
    );
  }
  const hostKey = settings.hostKeys.get(host.url);
  if (!hostKey) {
    throw new HostNotConfiguredError(
      `no pinned public key for ${host.url}: pin it with mindroom-ops hosts add (or DOKKU_KNOWN_HOSTS for a seeded host)`,
    );
  }
  const input: TenantSpecInput = {
    slug: instance.slug,
    tier: desired.tier,
    environment: settings.environment,
    ...displayNameOf(instance.displayName),
    suspended: desired.state !== "running",
    ...(instance.restartGeneration ? { restartGeneration: instance.restartGeneration } : {}),
    // A deletion lifts data protection so the destroy removes storage too (after the final backup).
    purgeData: desired.state === "deleted",
    baseDomain: settings.baseDomain,
    homeserver: instance.homeserver ?? settings.homeserver ?? "tuwunel",
    // Without a known owner the runtime stays in API-key mode: platform mode without ACCOUNT_ID lets any platform user in.
    ...(settings.platformAuth && instance.ownerAccountId
      ? { platformAuth: { ...settings.platformAuth, accountId: instance.ownerAccountId } }
      : {}),
    images: { ...settings.images, ...(instance.runtimeImage ? { runtime: instance.runtimeImage } : {}) },
    ...bridgesFor(desired.tier, instance.bridges ?? [], settings.bridgeImages),
    host: { url: host.url, hostKey, address: host.address },
    tls: { mode: "letsencrypt", email: settings.tlsEmail },
    dns: settings.cloudflareZoneId
      ? { enabled: true, zoneId: settings.cloudflareZoneId, proxied: host.proxied }
      : { enabled: false },
    backups: settings.backup ? { enabled: true, ...settings.backup } : { enabled: false },
  };
  const spec = parseTenantSpec(input);
  return { spec, hash: specHash(spec) };
}

/**
 * The enabled bridges the tier allows, in catalog order (a downgrade keeps the first ones and the
 * customer's choice, so an upgrade brings the rest back); absent when none, so specs without
 * bridges keep their hash.
 */
function bridgesFor(
  tierId: TierId,
  enabled: readonly string[],
  images: SpecSettings["bridgeImages"],
): Pick<TenantSpecInput, "bridges"> {
  const limit = tier(tierId).bridges;
  const kinds = BRIDGE_KINDS.filter((kind) => enabled.includes(kind)).slice(
    0,
    limit === UNLIMITED ? undefined : limit,
  );
  if (kinds.length === 0 || !images) return {};
  return { bridges: kinds.map((kind) => ({ kind, image: images[kind] })) };
}

/** SHA-256 of the spec as canonical JSON (keys sorted at every level). */
export function specHash(spec: TenantSpec): string {
  return createHash("sha256").update(canonicalJson(spec)).digest("hex");
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/**
 * The customer's name as the spec takes it: one line of at most 100
 * characters. Stripe accepts any text (a newline, a tab); the spec refuses
 * control characters, so they become spaces here rather than a tenant that
 * never provisions.
 */
function displayNameOf(name: string | null | undefined): { displayName?: string } {
  const line = (name ?? "")
    .replace(/[\p{Cc}\s]+/gu, " ")
    .trim()
    .slice(0, 100)
    .trim();
  return line === "" ? {} : { displayName: line };
}
