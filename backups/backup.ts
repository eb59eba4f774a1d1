/**
 * A backup of one tenant, now (`mindroom-ops backup`, and the first step of a
 * move): the apps are stopped so their files hold still, both storage entries
 * are archived in one stream and every service dumped, each encrypted with the
 * tenant's passphrase on the way to the bucket, then the apps run again. One
 * time names every object of the set. An object whose stream failed anywhere
 * (host, gpg, upload) is removed again, so a listed backup is always whole.
 */
import { pipeline } from "node:stream/promises";
import type { S3Client } from "@aws-sdk/client-s3";
import { purgePrefix, uploadStream } from "./bucket.ts";
import { encryptWith } from "./encryption.ts";
import { exportService, readStorage, startApps, stopApps, storagePaths } from "./hostData.ts";
import { type BackupObject, serviceDumpKey, storageKey } from "./layout.ts";
import { backupPassphrase, type TenantData } from "./tenantData.ts";

export interface BackupDeps {
  readonly client: S3Client;
  readonly bucket: string;
  readonly rootSecret: string;
  /** Progress for people: one line per step. */
  readonly onStep?: (step: string) => void;
}

/** Streams `source` through gpg into the bucket; removes the object if any part failed. */
async function upload(
  deps: BackupDeps,
  key: string,
  passphrase: string,
  source: { stream: NodeJS.ReadableStream; done: Promise<void> },
): Promise<number> {
  const gpg = encryptWith(passphrase);
  const results = await Promise.allSettled([
    pipeline(source.stream, gpg.input),
    gpg.done,
    source.done,
    uploadStream(deps.client, deps.bucket, key, gpg.output),
  ]);
  const failed = results.find((r) => r.status === "rejected");
  if (failed) {
    await purgePrefix(deps.client, deps.bucket, key).catch(() => undefined);
    throw (failed as PromiseRejectedResult).reason;
  }
  return (results[3] as PromiseFulfilledResult<number>).value;
}

export async function takeBackup(
  deps: BackupDeps,
  tenant: TenantData,
  at: Date = new Date(),
): Promise<BackupObject[]> {
  const step = deps.onStep ?? (() => undefined);
  const passphrase = backupPassphrase(deps.rootSecret, tenant.slug);
  const paths = await storagePaths(tenant.access, tenant.storage);
  const taken: BackupObject[] = [];
  // Whole seconds: the names carry no more.
  const time = new Date(Math.floor(at.getTime() / 1000) * 1000);
  step(`stopping ${tenant.apps.join(", ")} for a consistent copy`);
  await stopApps(tenant.access, tenant.apps);
  try {
    step(`archiving storage (${Object.values(paths).join(", ")})`);
    const key = storageKey(tenant.slug, time);
    const storage = readStorage(tenant.access, paths);
    const size = await upload(deps, key, passphrase, { stream: storage.archive, done: storage.done });
    taken.push({ key, kind: "storage", takenAt: time, size, format: "tar.gz", encrypted: true });
    for (const { kind, service } of tenant.services) {
      step(`dumping ${kind} ${service}`);
      const dumpKey = serviceDumpKey(tenant.slug, kind, service, time);
      const exported = exportService(tenant.access, kind, service);
      const dumpSize = await upload(deps, dumpKey, passphrase, {
        stream: exported.dump,
        done: exported.done,
      });
      taken.push({
        key: dumpKey,
        kind,
        service,
        takenAt: time,
        size: dumpSize,
        format: "dump",
        encrypted: true,
      });
    }
  } catch (error) {
    // Half a set would restore one part newer than the rest: none of it stays.
    for (const object of taken)
      await purgePrefix(deps.client, deps.bucket, object.key).catch(() => undefined);
    throw error;
  } finally {
    if (tenant.running) {
      step(`starting ${tenant.apps.join(", ")}`);
      await startApps(tenant.access, tenant.apps);
    }
  }
  return taken;
}
