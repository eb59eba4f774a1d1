/**
 * The restore drill, on the real engine, the Dokku test host and the local
 * object store (MinIO): a Synapse tenant (storage in two entries, Postgres and
 * Redis) gets files and data, is backed up, changes, and is restored; the
 * files (names, types, modes, bytes) and the databases' contents equal those
 * at backup time. A restore cut off by a dropped connection converges when run
 * again; `--at` picks an older backup; a deleted tenant's last backup is
 * restored into a new tenant. Host state is read only through Dokku's own
 * commands and the tenant's shell login.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantNames } from "../components/tenantNames.ts";
import { parseTenantSpec, type TenantSpec } from "../components/tenantSpec.ts";
import { auditForInstance } from "../database/auditLog.ts";
import { operationsForInstance } from "../database/operations.ts";
import { testDatabase } from "../testing/database.ts";
import { dokkuTarget } from "../testing/dokkuTarget.ts";
import type { EngineStack } from "../testing/engineStack.ts";
import { seedInstance } from "../testing/instanceRows.ts";
import { type TestBucket, testBucket } from "../testing/objectStore.ts";
import { appRunning, hostShell, load, tenantState, writeFiles } from "../testing/tenantDataProbe.ts";
import { SAMPLE_ROOT_SECRET } from "../testing/tenantSamples.ts";
import { hostSpec, tenantStack } from "../testing/tenantStacks.ts";
import { takeBackup } from "./backup.ts";
import { storagePaths } from "./hostData.ts";
import { listBackups, restoreTenant } from "./restore.ts";
import { type TenantData, tenantData } from "./tenantData.ts";

const run = promisify(execFile);
const target = dokkuTarget();
const unique = (base: string) =>
  `${base}-${process.pid.toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const privateKey = readFileSync(target.keyPath, "utf8");

const state = (tenant: TenantData) => tenantState(tenant, target);
const running = (app: string) => appRunning(target, app);

describe("restore drill", { timeout: 1_200_000 }, () => {
  const slug = unique("drill");
  let spec: TenantSpec;
  let engine: EngineStack;
  let tenant: TenantData;
  let bucket: TestBucket;
  let deps: { client: TestBucket["client"]; bucket: string; rootSecret: string };

  beforeAll(async () => {
    bucket = await testBucket();
    deps = { client: bucket.client, bucket: bucket.bucket, rootSecret: SAMPLE_ROOT_SECRET };
    const input = hostSpec(target, slug, { homeserver: "synapse" });
    spec = parseTenantSpec(input);
    engine = await tenantStack(target, input);
    const up = await engine.stack.up();
    expect(up.summary.result).toBe("succeeded");
    tenant = tenantData(spec, privateKey);
  });
  afterAll(async () => {
    await engine?.stack.destroy().catch(() => undefined);
    engine?.dispose();
    await bucket?.dispose();
  });

  let atBackup: Awaited<ReturnType<typeof state>>;
  let firstBackupAt: Date;

  it("backs up storage and databases consistently, encrypted, listed with time and size", async () => {
    const names = tenantNames(spec.slug);
    await writeFiles(tenant, "one");
    await load(
      tenant,
      "postgres",
      names.postgres,
      Buffer.concat([Buffer.from("PGDMP"), randomBytes(50_000)]),
    );
    await load(tenant, "redis", names.redis, Buffer.concat([Buffer.from("REDIS0011"), randomBytes(10_000)]));
    atBackup = await state(tenant);
    const commandsBefore = (await target.commandLog?.())?.length ?? 0;

    firstBackupAt = new Date(Math.floor(Date.now() / 1000) * 1000);
    const taken = await takeBackup(deps, tenant, firstBackupAt);
    expect(taken.map((b) => b.kind)).toEqual(["storage", "postgres", "redis"]);
    expect(await listBackups(deps, slug)).toEqual(taken);
    for (const b of taken) {
      expect(b.size).toBeGreaterThan(0);
      expect(b.encrypted).toBe(true);
    }
    // The apps were stopped for the copy and run again afterwards.
    const log = (await target.commandLog?.())?.slice(commandsBefore).map((c) => c.argv.join(" ")) ?? [];
    const stop = log.indexOf(`ps:stop ${names.runtimeApp}`);
    const exported = log.indexOf(`postgres:export ${names.postgres}`);
    const start = log.indexOf(`ps:start ${names.runtimeApp}`);
    if (target.commandLog) expect(stop >= 0 && stop < exported && exported < start).toBe(true);
    expect(await running(names.runtimeApp)).toBe("true");
    // Nothing in the bucket is readable without the tenant's passphrase.
    const secret = (
      await bucket.client.send(
        new (
          await import("@aws-sdk/client-s3")
        ).GetObjectCommand({ Bucket: bucket.bucket, Key: taken[0]?.key }),
      )
    ).Body;
    const head = Buffer.from(
      await (secret as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    expect(head.subarray(0, 2).equals(Buffer.from([0x1f, 0x8b]))).toBe(false);
  });

  it("restores files and database contents byte for byte, and resumes the tenant", async () => {
    const names = tenantNames(spec.slug);
    await writeFiles(tenant, "two");
    await hostShell(
      tenant,
      `rm -f '${(await storagePaths(tenant.access, tenant.storage)).runtime}/config.yaml'`,
    );
    await load(tenant, "postgres", names.postgres, randomBytes(1000));
    expect(await state(tenant)).not.toEqual(atBackup);

    const report = await restoreTenant(deps, tenant);
    expect(report.point.storage.takenAt).toEqual(firstBackupAt);
    expect(await state(tenant)).toEqual(atBackup);
    expect(await running(names.runtimeApp)).toBe("true");
    expect(await running(names.homeserverApp)).toBe("true");
  });

  it.skipIf(!target.faults)(
    "converges when a restore is cut off by a dropped connection and run again",
    async () => {
      const names = tenantNames(spec.slug);
      await writeFiles(tenant, "three");
      await load(tenant, "redis", names.redis, randomBytes(500));
      await target.faults?.dropNth(1, {
        when: "before",
        match: new RegExp(`^postgres:import ${names.postgres}$`),
      });
      await expect(restoreTenant(deps, tenant)).rejects.toThrow(/connection dropped/);
      // Cut off mid-way: storage back, the databases not yet, the apps still stopped.
      expect(await running(names.runtimeApp)).toBe("false");
      await restoreTenant(deps, tenant);
      expect(await state(tenant)).toEqual(atBackup);
      expect(await running(names.runtimeApp)).toBe("true");
    },
  );

  it("restores the backup from a given time with --at", async () => {
    const names = tenantNames(spec.slug);
    await writeFiles(tenant, "four");
    await load(tenant, "postgres", names.postgres, randomBytes(2000));
    const later = await state(tenant);
    await new Promise((r) => setTimeout(r, 1100));
    await takeBackup(deps, tenant);
    await writeFiles(tenant, "five");
    expect((await listBackups(deps, slug)).filter((b) => b.kind === "storage")).toHaveLength(2);

    await restoreTenant(deps, tenant, { at: new Date(firstBackupAt.getTime() + 500) });
    expect(await state(tenant)).toEqual(atBackup);
    await restoreTenant(deps, tenant);
    expect(await state(tenant)).toEqual(later);
  });

  it("runs from mindroom-ops: backups lists, backup and restore are recorded as operations with audit rows", async () => {
    const db = await testDatabase();
    try {
      const row = await seedInstance(db.pool, slug, { spec });
      const env = {
        ...process.env,
        ...bucket.env,
        DATABASE_URL: db.url,
        MINDROOM_DATA_DIR: mkdtempSync(join(tmpdir(), "mindroom-backups-cli-")),
        MINDROOM_BACKUP_BUCKET: bucket.bucket,
        MINDROOM_ROOT_SECRET: SAMPLE_ROOT_SECRET,
        DOKKU_SSH_KEY: target.keyPath,
        MINDROOM_OPERATOR: "ops@example.com",
      };
      const ops = (args: string[]): Promise<{ code?: number; stdout: string; stderr: string }> =>
        run(join(import.meta.dirname, "..", "bin", "mindroom-ops"), args, { env }).catch(
          (error: { code: number; stdout: string; stderr: string }) => error,
        );
      const listed = await ops(["backups", slug, "--json"]);
      const backups = (JSON.parse(listed.stdout) as { backups: { kind: string; size: number }[] }).backups;
      expect(backups.map((b) => b.kind)).toEqual([
        "storage",
        "postgres",
        "redis",
        "storage",
        "postgres",
        "redis",
      ]);

      const taken = await ops(["backup", slug, "--reason", "before the upgrade", "--json"]);
      expect(taken.stderr).toBe("");
      const refused = await ops(["restore", slug]);
      expect(refused).toMatchObject({ code: 8, stderr: expect.stringMatching(/--yes/) });
      const missing = await ops(["restore", "no-such-tenant", "--yes"]);
      expect(missing.code).toBe(6);
      const restored = await ops(["restore", slug, "--yes", "--json"]);
      expect(JSON.parse(restored.stdout)).toMatchObject({ from: slug, restored: expect.any(Array) });

      const operations = (await operationsForInstance(db.pool, row.id)).map((o) => [
        o.kind,
        o.status,
        o.requestedBy,
      ]);
      expect(operations.reverse()).toEqual([
        ["backup", "succeeded", "operator:ops@example.com"],
        ["restore", "succeeded", "operator:ops@example.com"],
      ]);
      const trail = (await auditForInstance(db.pool, row.id))
        .map((a) => [a.action, a.actor, a.reason])
        .reverse();
      expect(trail).toEqual([
        ["instance.backup", "operator:ops@example.com", "before the upgrade"],
        ["instance.restore", "operator:ops@example.com", "restore"],
      ]);
    } finally {
      await db.close();
    }
  });

  it("restores a deleted tenant's last backup into a new tenant", async () => {
    const expected = await state(tenant);
    await takeBackup(deps, tenant);
    const destroyed = await engine.stack.destroy();
    expect(destroyed.summary.result).toBe("succeeded");

    const newSlug = unique("reborn");
    const input = hostSpec(target, newSlug, { homeserver: "synapse" });
    const reborn = await tenantStack(target, input);
    try {
      expect((await reborn.stack.up()).summary.result).toBe("succeeded");
      const fresh = tenantData(parseTenantSpec(input), privateKey);
      expect((await state(fresh)).files).not.toEqual(expected.files);
      await restoreTenant(deps, fresh, { from: slug });
      expect(await state(fresh)).toEqual(expected);
    } finally {
      await reborn.stack.destroy().catch(() => undefined);
      reborn.dispose();
    }
  });
});
