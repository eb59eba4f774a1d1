/**
 * Pulumi's stack locks read from a file backend and from an S3 backend (the
 * run's real object store), where the stale-lock recovery finds them.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, describe, expect, it } from "vitest";
import { testBucket } from "../testing/objectStore.ts";
import { stackLocks } from "./stackLocks.ts";

const LOCK = { pid: 4242, hostname: "worker-host", username: "root", timestamp: "2026-01-01T00:00:00Z" };
const dir = mkdtempSync(join(tmpdir(), "mindroom-stack-locks-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("stackLocks", () => {
  it("reads a file backend's locks; an unreadable one has no holder", async () => {
    const locks = join(dir, ".pulumi", "locks", "organization", "proj", "acme");
    mkdirSync(locks, { recursive: true });
    writeFileSync(join(locks, "a.json"), JSON.stringify(LOCK));
    writeFileSync(join(locks, "b.json"), "{torn");
    writeFileSync(join(locks, "notes.txt"), "not a lock");
    const found = await stackLocks(`file://${dir}`, "proj", "acme");
    expect(found).toEqual(
      expect.arrayContaining([
        { pid: 4242, hostname: "worker-host", timestamp: new Date(LOCK.timestamp) },
        {},
      ]),
    );
    expect(found).toHaveLength(2);
    expect(await stackLocks(`file://${dir}`, "proj", "other")).toEqual([]);
  });

  it("reads an S3 backend's locks, with and without a key prefix, with the credentials Pulumi uses", async () => {
    await using bucket = await testBucket();
    const saved = { ...process.env };
    Object.assign(process.env, bucket.env);
    try {
      const put = (key: string, body: string) =>
        bucket.client.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: key, Body: body }));
      await put(".pulumi/locks/organization/proj/acme/1.json", JSON.stringify(LOCK));
      await put(".pulumi/locks/organization/proj/acme-2/1.json", JSON.stringify({ ...LOCK, pid: 1 }));
      await put("team/.pulumi/locks/organization/proj/acme/2.json", JSON.stringify({ ...LOCK, pid: 7 }));
      const at = new Date(LOCK.timestamp);
      expect(await stackLocks(bucket.backendUrl, "proj", "acme")).toEqual([
        { pid: 4242, hostname: "worker-host", timestamp: at },
      ]);
      const prefixed = bucket.backendUrl.replace(`s3://${bucket.bucket}?`, `s3://${bucket.bucket}/team?`);
      expect(await stackLocks(prefixed, "proj", "acme")).toEqual([
        { pid: 7, hostname: "worker-host", timestamp: at },
      ]);
      expect(await stackLocks(bucket.backendUrl, "proj", "nobody")).toEqual([]);
    } finally {
      process.env = saved;
    }
  });

  it("reads an S3 backend with credentials given beside the process's (the local object store's)", async () => {
    await using bucket = await testBucket();
    await bucket.client.send(
      new PutObjectCommand({
        Bucket: bucket.bucket,
        Key: ".pulumi/locks/organization/proj/acme/1.json",
        Body: JSON.stringify(LOCK),
      }),
    );
    const saved = { ...process.env };
    for (const key of Object.keys(bucket.env)) delete process.env[key];
    try {
      expect(await stackLocks(bucket.backendUrl, "proj", "acme", bucket.env)).toEqual([
        { pid: 4242, hostname: "worker-host", timestamp: new Date(LOCK.timestamp) },
      ]);
    } finally {
      process.env = saved;
    }
  });

  it("lists nothing for a backend that keeps its own locks", async () => {
    expect(await stackLocks("https://api.pulumi.com", "proj", "acme")).toEqual([]);
  });
});
