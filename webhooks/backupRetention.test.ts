/**
 * The worker's backup retention schedule on real Postgres, pg-boss and the
 * local object store: it runs every MINDROOM_BACKUP_CHECK_INTERVAL, purges a
 * deleted tenant's backups once their retention is over and not before, and
 * reads the retention again at each run.
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListObjectVersionsCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { storageKey } from "../backups/layout.ts";
import { findInstanceById } from "../database/instances.ts";
import { silentLogger } from "../logging/logger.ts";
import { objectStoreDir } from "../object-store/endpoint.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { seedInstance } from "../testing/instanceRows.ts";
import { type TestBucket, testBucket } from "../testing/objectStore.ts";
import { BACKUP_CHECK_QUEUE, startBackupRetention } from "./backupRetention.ts";
import { openReconcileQueue, type ReconcileQueue } from "./queue.ts";

const DAY = 86_400_000;
const dataDir = mkdtempSync(join(tmpdir(), "mindroom-retention-"));
let db: TestDatabase;
let bucket: TestBucket;
let queue: ReconcileQueue;

beforeAll(async () => {
  db = await testDatabase();
  bucket = await testBucket();
  queue = await openReconcileQueue({ url: db.url }, { poolSize: 2 });
  // The data folder's object store is the test's: what the worker finds when no S3 endpoint is configured.
  const storeDir = objectStoreDir(dataDir);
  mkdirSync(storeDir, { recursive: true });
  writeFileSync(join(storeDir, "port"), new URL(bucket.store.endpoint).port);
  writeFileSync(
    join(storeDir, "credentials.json"),
    JSON.stringify({ accessKeyId: bucket.store.accessKeyId, secretAccessKey: bucket.store.secretAccessKey }),
    { mode: 0o600 },
  );
});
afterAll(async () => {
  await queue?.boss.offWork(BACKUP_CHECK_QUEUE).catch(() => undefined);
  await queue?.stop({ timeoutMs: 2000 });
  await bucket?.dispose();
  await db?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

const versions = async (slug: string) => {
  const page = await bucket.client.send(
    new ListObjectVersionsCommand({ Bucket: bucket.bucket, Prefix: `tenants/${slug}/` }),
  );
  return (page.Versions?.length ?? 0) + (page.DeleteMarkers?.length ?? 0);
};

/** Finished runs of the schedule so far. */
async function runs(): Promise<number> {
  const { rows } = await db.pool.query<{ n: number }>(
    "select count(*)::int as n from pgboss.job where name = $1 and state = 'completed'",
    [BACKUP_CHECK_QUEUE],
  );
  return rows[0]?.n ?? 0;
}

/** Polls until `ready` holds (a loaded machine runs the schedule late, never early). */
async function until(what: string, ready: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("the backup retention schedule", { timeout: 600_000 }, () => {
  it("runs every interval and purges a deleted tenant's backups after their retention, not before", async () => {
    const now = Date.now();
    const longGone = await seedInstance(db.pool, "sched-gone-long", { state: "deleted" });
    const lately = await seedInstance(db.pool, "sched-gone-lately", { state: "deleted" });
    const put = (slug: string, at: Date) =>
      bucket.client.send(
        new PutObjectCommand({ Bucket: bucket.bucket, Key: storageKey(slug, at), Body: "x" }),
      );
    await put("sched-gone-long", new Date(now - 40 * DAY));
    const fresh = new Date(now - 2 * DAY);
    await put("sched-gone-lately", fresh);

    // Read at each run: the test shortens the retention later, as time passing would.
    const env: NodeJS.ProcessEnv = {
      MINDROOM_BACKUP_BUCKET: bucket.bucket,
      MINDROOM_BACKUP_RETENTION: "30d",
    };
    await startBackupRetention(
      queue.boss,
      { pool: db.pool, automation: { dataDir }, log: silentLogger, env },
      1000,
    );

    await until("two runs of the schedule", async () => (await runs()) >= 2);
    expect(await versions("sched-gone-long")).toBe(0);
    expect((await findInstanceById(db.pool, longGone.id))?.backupsPurgedAt).toBeInstanceOf(Date);
    // Deleted two days ago with a 30-day retention: kept, run after run, and its newest backup recorded.
    expect(await versions("sched-gone-lately")).toBe(1);
    const kept = await findInstanceById(db.pool, lately.id);
    expect(kept?.backupsPurgedAt).toBeNull();
    expect(kept?.lastBackupAt).toEqual(new Date(Math.floor(fresh.getTime() / 1000) * 1000));

    env.MINDROOM_BACKUP_RETENTION = "1d";
    await until("the next run to purge the tenant whose retention is now over", async () =>
      Boolean((await findInstanceById(db.pool, lately.id))?.backupsPurgedAt),
    );
    expect(await versions("sched-gone-lately")).toBe(0);
  });
});
