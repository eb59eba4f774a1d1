/**
 * Where a tenant's backups live in the backup bucket and what their names say.
 * Pure. Every backup of tenant `<slug>` is under `tenants/<slug>/`:
 *
 * - `storage/storage-<YYYY-MM-DDTHH-MM-SS>.tar.gz[.gpg]`: both apps' storage in one
 *   archive (`backup/runtime/…`, `backup/homeserver/…`), as the scheduled backup
 *   job writes it (offen/docker-volume-backup, `BACKUP_FILENAME`, GPG-encrypted
 *   with the tenant's derived passphrase) and as `mindroom-ops backup` writes it;
 * - `postgres/…`, `redis/…`: a service's dump. The service plugins' scheduled
 *   backups (`<kind>:backup`, the dokku/s3backup image) upload
 *   `<kind>-<service>-<YYYY-MM-DD-HH-MM-SS>.tgz[.gpg]` holding the dump as `export`;
 *   `mindroom-ops backup` uploads the dump itself,
 *   `<kind>-<service>-<YYYY-MM-DD-HH-MM-SS>.dump.gpg`.
 *
 * Times in names are UTC; a name that does not parse falls back to the object's
 * LastModified.
 */

export const BACKUP_KINDS = ["storage", "postgres", "redis"] as const;
export type BackupKind = (typeof BACKUP_KINDS)[number];
export type ServiceKind = Exclude<BackupKind, "storage">;

/** How the object's bytes are laid out, from its name. */
export type BackupFormat = "tar.gz" | "tgz" | "dump";

export interface BackupObject {
  readonly key: string;
  readonly kind: BackupKind;
  /** The service name (postgres, redis). */
  readonly service?: string;
  readonly takenAt: Date;
  readonly size: number;
  readonly format: BackupFormat;
  readonly encrypted: boolean;
}

export function tenantPrefix(slug: string): string {
  return `tenants/${slug}/`;
}

const pad = (n: number) => String(n).padStart(2, "0");
const day = (at: Date) => `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}`;
const clock = (at: Date, sep: string) =>
  [at.getUTCHours(), at.getUTCMinutes(), at.getUTCSeconds()].map(pad).join(sep);

/** The storage archive's key, as offen names it (`storage-%Y-%m-%dT%H-%M-%S.tar.gz`, encrypted). */
export function storageKey(slug: string, at: Date): string {
  return `${tenantPrefix(slug)}storage/storage-${day(at)}T${clock(at, "-")}.tar.gz.gpg`;
}

/** A service dump's key as `mindroom-ops backup` writes it. */
export function serviceDumpKey(slug: string, kind: ServiceKind, service: string, at: Date): string {
  return `${tenantPrefix(slug)}${kind}/${kind}-${service}-${day(at)}-${clock(at, "-")}.dump.gpg`;
}

const STORAGE_NAME = /^storage-(\d{4})-(\d{2})-(\d{2})T(\d{2})-(\d{2})-(\d{2})\.(tar\.gz)(\.gpg)?$/;
const SERVICE_NAME =
  /^(postgres|redis)-([A-Za-z0-9_-]+?)-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})\.(tgz|dump)(\.gpg)?$/;

const utc = (parts: readonly string[]) =>
  new Date(
    Date.UTC(
      Number(parts[0]),
      Number(parts[1]) - 1,
      Number(parts[2]),
      Number(parts[3]),
      Number(parts[4]),
      Number(parts[5]),
    ),
  );

/** One listed object as a backup, or undefined when it is not one of the tenant's backups. */
export function parseBackupKey(
  slug: string,
  object: { readonly key: string; readonly size: number; readonly lastModified: Date },
): BackupObject | undefined {
  const prefix = tenantPrefix(slug);
  if (!object.key.startsWith(prefix)) return undefined;
  const [folder, name, ...rest] = object.key.slice(prefix.length).split("/");
  if (!folder || !name || rest.length > 0) return undefined;
  const base = { key: object.key, size: object.size };
  if (folder === "storage") {
    const m = STORAGE_NAME.exec(name);
    if (!m) return undefined;
    return {
      ...base,
      kind: "storage",
      takenAt: utc(m.slice(1, 7)),
      format: "tar.gz",
      encrypted: m[8] !== undefined,
    };
  }
  if (folder === "postgres" || folder === "redis") {
    const m = SERVICE_NAME.exec(name);
    if (!m || m[1] !== folder) return undefined;
    return {
      ...base,
      kind: folder,
      service: m[2] as string,
      takenAt: utc(m.slice(3, 9)),
      format: m[9] as "tgz" | "dump",
      encrypted: m[10] !== undefined,
    };
  }
  return undefined;
}

/** What a restore puts back: the newest storage archive, and each service's newest dump, at or before a time. */
export interface RestorePoint {
  readonly storage: BackupObject;
  readonly services: readonly BackupObject[];
}

export class NoBackupError extends Error {
  override readonly name = "NoBackupError";
}

export function restorePoint(slug: string, backups: readonly BackupObject[], at?: Date): RestorePoint {
  const limit = at?.getTime() ?? Number.POSITIVE_INFINITY;
  const newest = (of: readonly BackupObject[]) =>
    [...of]
      .filter((b) => b.takenAt.getTime() <= limit)
      .sort((a, b) => b.takenAt.getTime() - a.takenAt.getTime())[0];
  const storage = newest(backups.filter((b) => b.kind === "storage"));
  if (!storage) {
    throw new NoBackupError(
      backups.length === 0
        ? `tenant ${slug} has no backups (mindroom-ops backup ${slug} takes one)`
        : `tenant ${slug} has no storage backup at or before ${at?.toISOString()}: the oldest is from ${[
            ...backups,
          ]
            .sort((a, b) => a.takenAt.getTime() - b.takenAt.getTime())[0]
            ?.takenAt.toISOString()}`,
    );
  }
  const services = new Map<string, BackupObject>();
  for (const b of backups) {
    if (b.kind === "storage") continue;
    const id = `${b.kind}/${b.service}`;
    if (b.takenAt.getTime() > limit) continue;
    const seen = services.get(id);
    if (!seen || seen.takenAt < b.takenAt) services.set(id, b);
  }
  return { storage, services: [...services.values()].sort((a, b) => a.key.localeCompare(b.key)) };
}
