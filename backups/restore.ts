/**
 * Puts a tenant's data back from a backup (`mindroom-ops restore`): the
 * newest backup at or before `at` (storage archive and each service's dump;
 * layout.ts), of the tenant itself or, with `from`, of another tenant (a
 * deleted tenant restored into a new one). The tenant is suspended (its apps
 * stopped) while its storage entries are replaced whole and its services'
 * data imported through Dokku, then resumed when its spec says it runs. It
 * holds the tenant's lock throughout, so no reconcile touches the tenant
 * meanwhile. Every step can be re-run: a restore cut off anywhere (a dropped
 * connection) converges when it is run again.
 */
import { spawn } from "node:child_process";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { S3Client } from "@aws-sdk/client-s3";
import { downloadStream, listObjects } from "./bucket.ts";
import { decryptWith } from "./encryption.ts";
import { importService, startApps, stopApps, storagePaths, writeStorage } from "./hostData.ts";
import {
  BACKUP_KINDS,
  type BackupObject,
  parseBackupKey,
  type RestorePoint,
  restorePoint,
  tenantPrefix,
} from "./layout.ts";
import { backupPassphrase, type TenantData } from "./tenantData.ts";

export interface RestoreDeps {
  readonly client: S3Client;
  readonly bucket: string;
  readonly rootSecret: string;
  readonly onStep?: (step: string) => void;
}

export interface RestoreOptions {
  /** The newest backup at or before this time (default: the newest). */
  readonly at?: Date;
  /** Whose backups: another tenant's slug (a deleted tenant's), default the tenant's own. */
  readonly from?: string;
}

export class RestoreError extends Error {
  override readonly name = "RestoreError";
}

/** Every backup of a tenant in the bucket, oldest first (a set: storage, then its services). */
export async function listBackups(
  deps: Pick<RestoreDeps, "client" | "bucket">,
  slug: string,
): Promise<BackupObject[]> {
  const objects = await listObjects(deps.client, deps.bucket, tenantPrefix(slug));
  return objects
    .map((o) => parseBackupKey(slug, o))
    .filter((b): b is BackupObject => b !== undefined)
    .sort(
      (a, b) =>
        a.takenAt.getTime() - b.takenAt.getTime() ||
        BACKUP_KINDS.indexOf(a.kind) - BACKUP_KINDS.indexOf(b.kind) ||
        a.key.localeCompare(b.key),
    );
}

/** The object's bytes as they were written: decrypted when it was encrypted. */
async function plain(
  deps: RestoreDeps,
  object: BackupObject,
  passphrase: string,
): Promise<{ stream: Readable; done: Promise<void> }> {
  const body = await downloadStream(deps.client, deps.bucket, object.key);
  if (!object.encrypted) return { stream: body, done: Promise.resolve() };
  const gpg = decryptWith(passphrase);
  const fed = pipeline(body, gpg.input);
  return { stream: gpg.output, done: Promise.all([fed, gpg.done]).then(() => undefined) };
}

/** The dump inside the service plugins' scheduled backup (a tgz holding `export`). */
function exportMember(tgz: Readable): { stream: Readable; done: Promise<void> } {
  const tar = spawn("tar", ["--extract", "--gzip", "--to-stdout", "--wildcards", "*export"], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const err: Buffer[] = [];
  tar.stderr.on("data", (c: Buffer) => err.push(c));
  tar.stdin.on("error", () => undefined);
  const fed = pipeline(tgz, tar.stdin);
  const exited = new Promise<void>((resolve, reject) =>
    tar.once("close", (code) =>
      code === 0
        ? resolve()
        : reject(
            new RestoreError(
              `the dump archive has no export member: ${Buffer.concat(err).toString("utf8").trim()}`,
            ),
          ),
    ),
  );
  return { stream: tar.stdout, done: Promise.all([fed, exited]).then(() => undefined) };
}

export interface RestoreReport {
  readonly from: string;
  readonly point: RestorePoint;
}

/**
 * Restores `tenant` (the caller holds its lock) from the point `options`
 * choose. Throws RestoreError when there is nothing to restore, or what the
 * failed step threw; the apps stay stopped then, and a re-run finishes.
 */
export async function restoreTenant(
  deps: RestoreDeps,
  tenant: TenantData,
  options: RestoreOptions = {},
): Promise<RestoreReport> {
  const step = deps.onStep ?? (() => undefined);
  const from = options.from ?? tenant.slug;
  const point = restorePoint(from, await listBackups(deps, from), options.at);
  const services = point.services.map((backup) => {
    const target = tenant.services.find((s) => s.kind === backup.kind);
    if (!target)
      throw new RestoreError(
        `the backup has ${backup.kind} data (${backup.key}) but tenant ${tenant.slug} has no ${backup.kind} service: give it the same homeserver as ${from}`,
      );
    return { backup, service: target.service };
  });
  const passphrase = backupPassphrase(deps.rootSecret, from);
  const paths = await storagePaths(tenant.access, tenant.storage);

  step(`suspending ${tenant.apps.join(", ")}`);
  await stopApps(tenant.access, tenant.apps);
  step(`restoring storage from ${point.storage.key}`);
  const storage = await plain(deps, point.storage, passphrase);
  await Promise.all([writeStorage(tenant.access, paths, storage.stream), storage.done]);
  for (const { backup, service } of services) {
    step(`restoring ${backup.kind} ${service} from ${backup.key}`);
    const decrypted = await plain(deps, backup, passphrase);
    const dump =
      backup.format === "tgz"
        ? exportMember(decrypted.stream)
        : { stream: decrypted.stream, done: Promise.resolve() };
    await Promise.all([
      importService(tenant.access, backup.kind as "postgres" | "redis", service, dump.stream),
      decrypted.done,
      dump.done,
    ]);
  }
  if (tenant.running) {
    step(`resuming ${tenant.apps.join(", ")}`);
    await startApps(tenant.access, tenant.apps);
  }
  return { from, point };
}
