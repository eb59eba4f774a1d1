/**
 * What of a tenant a backup holds and where it lives, from its spec: its Dokku
 * host (reached with the platform's key), its two apps and their storage
 * entries, its services (Synapse's Postgres and Redis), whether it should run,
 * and the passphrase its backups are encrypted with (derived from the root
 * secret like every tenant secret, so the backups of a deleted tenant stay
 * readable while the root secret is the same).
 */
import type { HostAccess } from "../automation/hostShell.ts";
import { parseSlug, tenantNames } from "../components/tenantNames.ts";
import { deriveSecret } from "../components/tenantSecrets.ts";
import type { TenantSpec } from "../components/tenantSpec.ts";
import type { StorageRole } from "./hostData.ts";
import type { ServiceKind } from "./layout.ts";

export interface TenantData {
  readonly slug: string;
  readonly access: HostAccess;
  readonly apps: readonly string[];
  readonly storage: Readonly<Record<StorageRole, string>>;
  readonly services: readonly { readonly kind: ServiceKind; readonly service: string }[];
  /** The spec says the tenant runs (it is not suspended). */
  readonly running: boolean;
}

export function tenantData(spec: TenantSpec, privateKey: string): TenantData {
  const names = tenantNames(spec.slug);
  return {
    slug: spec.slug,
    access: { url: spec.host.url, hostKey: spec.host.hostKey, privateKey },
    apps: [names.runtimeApp, names.homeserverApp],
    storage: { runtime: names.runtimeStorage, homeserver: names.homeserverStorage },
    services:
      spec.homeserver === "synapse"
        ? [
            { kind: "postgres", service: names.postgres },
            { kind: "redis", service: names.redis },
          ]
        : [],
    running: !spec.suspended,
  };
}

/** The passphrase of a tenant's backups (the backup job's GPG_PASSPHRASE). */
export function backupPassphrase(rootSecret: string, slug: string): string {
  return deriveSecret(rootSecret, parseSlug(slug), "backup-encryption");
}
