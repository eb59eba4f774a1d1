/**
 * Two control-plane machines on one platform database and one S3 state
 * backend (the local object store), each with its own data folder: a stack's
 * config follows the tenant from one to the other (spec, repair tokens), and a
 * Pulumi lock on the S3 backend is cleared only when its holder is gone (an
 * ended lease on another machine, a dead process on this one), never when it
 * may still run. Real engine, real Postgres, real MinIO, the Dokku test host.
 */
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import {
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantNames } from "../components/tenantNames.ts";
import { parseTenantSpec } from "../components/tenantSpec.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { runDokku } from "../testing/dokkuClient.ts";
import { dokkuTarget } from "../testing/dokkuTarget.ts";
import { type TestBucket, testBucket } from "../testing/objectStore.ts";
import { expectTenant, observeTenant } from "../testing/tenantObserver.ts";
import { SAMPLE_ROOT_SECRET } from "../testing/tenantSamples.ts";
import { hostSpec } from "../testing/tenantStacks.ts";
import { Operations } from "./operations.ts";
import type { ProgressEvent } from "./progress.ts";
import { loadAutomationSettings } from "./settings.ts";
import { lockFolder } from "./stackLocks.ts";
import { PROJECT } from "./tenantWorkspaces.ts";

const target = dokkuTarget();
const suffix = `${process.pid.toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const dirs: string[] = [];
let db: TestDatabase;
let bucket: TestBucket;
let machineA: Operations;
let machineB: Operations;

/** One control-plane machine: its own data folder, the shared database, bucket and secrets. */
function machine(): Promise<Operations> {
  const dataDir = mkdtempSync(join(tmpdir(), "mindroom-machine-"));
  dirs.push(dataDir);
  const settings = loadAutomationSettings({
    MINDROOM_DATA_DIR: dataDir,
    DATABASE_URL: db.url,
    PULUMI_BACKEND_URL: bucket.backendUrl,
    PULUMI_CONFIG_PASSPHRASE: "shared-passphrase-of-the-platform",
    MINDROOM_ROOT_SECRET: SAMPLE_ROOT_SECRET,
    MINDROOM_AUTOMATION_WORKERS: "1",
    DOKKU_SSH_KEY: target.keyPath,
    // Room for a professional tenant (the policy pack checks cores and memory per tier).
    DOKKU_HOSTS: `${target.shellUrl}?memoryMb=32768&cpus=8`,
  });
  // The S3 credentials come from the environment, as on a real machine.
  return Operations.start({ ...settings, backendEnv: bucket.env });
}

beforeAll(async () => {
  db = await testDatabase();
  bucket = await testBucket();
  [machineA, machineB] = await Promise.all([machine(), machine()]);
});
afterAll(async () => {
  await Promise.all([machineA?.close(), machineB?.close()]);
  await bucket?.dispose();
  await db?.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function putLock(tenant: string, lock: { pid: number; hostname: string; timestamp: Date }) {
  const key = `${lockFolder(PROJECT, tenant)}/${randomUUID()}.json`;
  await bucket.client.send(
    new PutObjectCommand({
      Bucket: bucket.bucket,
      Key: key,
      Body: JSON.stringify({ ...lock, username: "pulumi", timestamp: lock.timestamp.toISOString() }),
    }),
  );
  return key;
}

async function exists(key: string): Promise<boolean> {
  return bucket.client.send(new HeadObjectCommand({ Bucket: bucket.bucket, Key: key })).then(
    () => true,
    () => false,
  );
}

describe("two machines, one database, one S3 backend", { timeout: 900_000 }, () => {
  it("run a tenant with the same config on either machine: spec and repair tokens follow it", async () => {
    const spec = hostSpec(target, `mm-cfg-${suffix}`);
    const tenant = String(spec.slug);
    const names = tenantNames(parseTenantSpec(spec).slug);
    try {
      const progress: ProgressEvent[] = [];
      const applied = await machineA.pool.apply(spec, machineA.secrets(), {
        onProgress: (e) => progress.push(e),
      });
      expect([applied.status, applied.error?.message]).toEqual(["succeeded", undefined]);
      // A first up on the object store reports its total before the first step (the engine's
      // plan), and does as many steps as it planned.
      const plan = progress.findIndex((e) => e.type === "plan");
      const total = progress[plan]?.type === "plan" ? progress[plan].total : 0;
      expect(plan).toBeGreaterThanOrEqual(0);
      expect(plan).toBeLessThan(progress.findIndex((e) => e.type === "resource.started"));
      expect(total).toBeGreaterThan(0);
      expect(progress.filter((e) => e.type === "resource.done").length).toBe(total);
      // Machine B never saw the spec: it runs the tenant from the shared config, changing nothing.
      const onB = await machineB.pool.run("up", tenant);
      expect([onB.status, onB.error?.message]).toEqual(["succeeded", undefined]);
      expect(Object.keys(onB.changes)).toEqual(["same"]);

      // Drift found on A is repaired by an up on B.
      const limit = `resource:limit --memory 99 ${names.runtimeApp}`;
      expect((await runDokku(target, limit, { quiet: true })).code).toBe(0);
      const drift = await machineA.pool.run("drift", tenant);
      expect(drift.drift?.map((d) => d.id)).toEqual(["tenant-runtime: limits"]);
      const repaired = await machineB.pool.run("up", tenant);
      expect([repaired.status, repaired.changes.update, repaired.error?.message]).toEqual([
        "succeeded",
        1,
        undefined,
      ]);
      expectTenant(await observeTenant(target, names), parseTenantSpec(spec));

      // A spec change applied on B is what A runs next.
      const upgraded = { ...spec, tier: "professional" as const };
      const applied2 = await machineB.pool.apply(upgraded, machineB.secrets());
      expect([applied2.status, applied2.error?.message]).toEqual(["succeeded", undefined]);
      const onA = await machineA.pool.run("preview", tenant);
      expect([onA.status, Object.keys(onA.changes), onA.error?.message]).toEqual([
        "succeeded",
        ["same"],
        undefined,
      ]);
    } finally {
      await machineB.pool.destroy(tenant);
    }
  });

  it("clear a Pulumi lock on S3 only when its holder is gone", async () => {
    const spec = hostSpec(target, `mm-lock-${suffix}`);
    const tenant = String(spec.slug);
    try {
      expect((await machineA.pool.apply(spec, machineA.secrets())).status).toBe("succeeded");

      // A lock from another machine that no lease of ours accounts for (a person's pulumi): kept.
      const foreign = await putLock(tenant, {
        pid: 4242,
        hostname: "control-2.example",
        timestamp: new Date(),
      });
      const blocked = await machineB.pool.run("up", tenant);
      expect([blocked.status, blocked.error?.kind]).toEqual(["failed", "ConcurrentUpdateError"]);
      expect(await exists(foreign)).toBe(true);

      // The same lock, once the database shows it was written under a lease of control-2 that has
      // ended (that machine died): its holder is gone, and the lock is cleared.
      await db.pool.query(
        `insert into automation.tenant_leases
           (holder, tenant, operation, holder_host, holder_pid, acquired_at, expires_at, released_at)
         values ($1, $2, 'up', 'control-2.example', 4242, clock_timestamp() - interval '2 minutes',
                 clock_timestamp() - interval '10 seconds', clock_timestamp() - interval '10 seconds')`,
        [randomUUID(), tenant],
      );
      const cleared = await machineB.pool.run("up", tenant);
      expect([cleared.status, cleared.error?.message]).toEqual(["succeeded", undefined]);
      expect(await exists(foreign)).toBe(false);

      // Written on this machine: a dead process's lock is cleared, a running one's kept.
      const deadPid = Number(execFileSync("sh", ["-c", "sh -c 'echo $$'"]).toString().trim());
      const dead = await putLock(tenant, { pid: deadPid, hostname: hostname(), timestamp: new Date() });
      expect((await machineA.pool.run("up", tenant)).status).toBe("succeeded");
      expect(await exists(dead)).toBe(false);
      const live = await putLock(tenant, { pid: process.pid, hostname: hostname(), timestamp: new Date() });
      const held = await machineA.pool.run("up", tenant);
      expect([held.status, held.error?.kind]).toEqual(["failed", "ConcurrentUpdateError"]);
      expect(await exists(live)).toBe(true);
    } finally {
      // The live lock is this test's own: remove it for the destroy.
      const listed = await bucket.client.send(
        new ListObjectsV2Command({ Bucket: bucket.bucket, Prefix: `${lockFolder(PROJECT, tenant)}/` }),
      );
      for (const o of listed.Contents ?? [])
        await bucket.client.send(new DeleteObjectCommand({ Bucket: bucket.bucket, Key: o.Key }));
      await machineA.pool.destroy(tenant);
    }
  });
});
