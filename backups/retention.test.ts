/**
 * Retention on the local object store (MinIO, versioned bucket) and real
 * Postgres: the lifecycle rule is set and read back, a deleted tenant's
 * backups (every version) are purged once their retention is over and not
 * before, a live tenant's never, and each tenant's newest backup is recorded.
 */
import {
  DeleteObjectCommand,
  GetBucketLifecycleConfigurationCommand,
  ListObjectVersionsCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditForInstance } from "../database/auditLog.ts";
import { findInstanceById } from "../database/instances.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { seedInstance } from "../testing/instanceRows.ts";
import { type TestBucket, testBucket } from "../testing/objectStore.ts";
import { RETENTION_RULE_ID } from "./bucket.ts";
import { serviceDumpKey, storageKey } from "./layout.ts";
import { enforceRetention } from "./retention.ts";

const DAY = 86_400_000;
const now = new Date("2026-12-04T12:00:00Z");
let db: TestDatabase;
let bucket: TestBucket;

beforeAll(async () => {
  db = await testDatabase();
  bucket = await testBucket();
});
afterAll(async () => {
  await bucket?.dispose();
  await db?.close();
});

const tenant = (slug: string, state: "running" | "deleted") => seedInstance(db.pool, slug, { state });

const put = (key: string, body = "x") =>
  bucket.client.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: key, Body: body }));
const versions = async (prefix: string) => {
  const page = await bucket.client.send(
    new ListObjectVersionsCommand({ Bucket: bucket.bucket, Prefix: prefix }),
  );
  return (page.Versions?.length ?? 0) + (page.DeleteMarkers?.length ?? 0);
};

describe("backup retention", () => {
  const run = () =>
    enforceRetention({
      pool: db.pool,
      client: bucket.client,
      bucket: bucket.bucket,
      retentionDays: 30,
      now: () => now,
    });

  it("sets the bucket's lifecycle rule once: backups under tenants/ expire after the retention", async () => {
    expect((await run()).ruleSet).toBe(true);
    expect((await run()).ruleSet).toBe(false);
    const { Rules } = await bucket.client.send(
      new GetBucketLifecycleConfigurationCommand({ Bucket: bucket.bucket }),
    );
    expect(Rules).toContainEqual(
      expect.objectContaining({
        ID: RETENTION_RULE_ID,
        Status: "Enabled",
        Expiration: expect.objectContaining({ Days: 30 }),
        NoncurrentVersionExpiration: expect.objectContaining({ NoncurrentDays: 1 }),
      }),
    );
    // A different retention replaces the rule.
    const longer = await enforceRetention({
      pool: db.pool,
      client: bucket.client,
      bucket: bucket.bucket,
      retentionDays: 90,
      now: () => now,
    });
    expect(longer.ruleSet).toBe(true);
    await run();
  });

  it("purges every version of a deleted tenant's backups once the retention is over, and records the newest backup of the others", async () => {
    const gone = await tenant("gone-long-ago", "deleted");
    const recent = await tenant("gone-lately", "deleted");
    const live = await tenant("still-here", "running");
    const old = new Date(now.getTime() - 40 * DAY);
    const fresh = new Date(now.getTime() - 2 * DAY);
    // Two versions and a delete marker: a versioned bucket keeps all of them until purged.
    await put(storageKey("gone-long-ago", old), "v1");
    await put(storageKey("gone-long-ago", old), "v2");
    await put(serviceDumpKey("gone-long-ago", "postgres", "pg-gone-long-ago", old));
    await bucket.client.send(
      new DeleteObjectCommand({
        Bucket: bucket.bucket,
        Key: serviceDumpKey("gone-long-ago", "postgres", "pg-gone-long-ago", old),
      }),
    );
    await put(storageKey("gone-lately", fresh));
    await put(storageKey("still-here", old));
    await put(storageKey("still-here", fresh));
    expect(await versions("tenants/gone-long-ago/")).toBe(4);

    const result = await run();
    expect(result.purged).toEqual([{ slug: "gone-long-ago", objects: 4 }]);
    expect(await versions("tenants/gone-long-ago/")).toBe(0);
    expect(await versions("tenants/gone-lately/")).toBe(1);
    expect(await versions("tenants/still-here/")).toBe(2);
    expect((await findInstanceById(db.pool, gone.id))?.backupsPurgedAt).toEqual(now);
    expect((await findInstanceById(db.pool, recent.id))?.backupsPurgedAt).toBeNull();
    expect((await findInstanceById(db.pool, live.id))?.lastBackupAt).toEqual(
      new Date(Math.floor(fresh.getTime() / 1000) * 1000),
    );
    const trail = await auditForInstance(db.pool, gone.id);
    expect(trail.map((a) => [a.action, a.actor])).toContainEqual(["backups.purged", "worker"]);

    // Purged once: the next run leaves it alone.
    expect((await run()).purged).toEqual([]);
  });
});
