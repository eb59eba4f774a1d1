/**
 * The real `bin/mindroom-ops move` between two Dokku test hosts that accept
 * one operator key, with the platform database (hosts table, instance row,
 * operations, audit, the move's journal), the local object store and the real
 * engine: refusals change nothing; a move brings files and database contents
 * over byte for byte, records the new host for the next reconcile, leaves the
 * old host without the tenant (observed through Dokku's own commands), and an
 * up afterwards changes nothing.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { retiredStackName } from "../automation/retiredCheckpoint.ts";
import { tenantData } from "../backups/tenantData.ts";
import { tenantNames } from "../components/tenantNames.ts";
import { parseTenantSpec } from "../components/tenantSpec.ts";
import { auditForInstance } from "../database/auditLog.ts";
import { saveHost } from "../database/hosts.ts";
import { findInstanceById, type Instance } from "../database/instances.ts";
import { operationsForInstance } from "../database/operations.ts";
import { findMove } from "../database/tenantMoves.ts";
import { type DokkuHost, startDokkuHost } from "../dokku-double/host.ts";
import { testDatabase } from "../testing/database.ts";
import type { DokkuConnection } from "../testing/dokkuClient.ts";
import { dokkuTarget } from "../testing/dokkuTarget.ts";
import { hostKeyOf } from "../testing/engineStack.ts";
import { seedInstance } from "../testing/instanceRows.ts";
import { type TestBucket, testBucket } from "../testing/objectStore.ts";
import {
  ABSENT,
  appRunning,
  load,
  tenantPresence,
  tenantState,
  writeFiles,
} from "../testing/tenantDataProbe.ts";
import { SAMPLE_ROOT_SECRET } from "../testing/tenantSamples.ts";
import { hostSpec } from "../testing/tenantStacks.ts";

const target = dokkuTarget();
const bin = resolve(import.meta.dirname, "..", "bin", "mindroom-ops");
const privateKey = readFileSync(target.keyPath, "utf8");
const slug = `mvc-${process.pid.toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const names = tenantNames(slug as never);

describe("mindroom-ops move", { timeout: 1_800_000 }, () => {
  const dataDir = mkdtempSync(join(tmpdir(), "mindroom-move-cli-"));
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let bucket: TestBucket;
  let hostB: DokkuHost;
  let onB: DokkuConnection;
  let instance: Instance;
  let env: NodeJS.ProcessEnv;

  const ops = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((done) => {
      const child = execFile(bin, args, { env, maxBuffer: 32 << 20 }, (error, stdout, stderr) =>
        done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end();
    });

  beforeAll(async () => {
    [db, bucket, hostB] = await Promise.all([
      testDatabase(),
      testBucket(),
      startDokkuHost({ clientKey: target.keyPath }),
    ]);
    onB = { ...hostB, keyPath: target.keyPath };
    for (const [host, memoryMb] of [
      [target, 16_384],
      [hostB, 16_384],
    ] as const)
      await saveHost(db.pool, {
        url: host.shellUrl,
        address: host.host,
        hostKey: hostKeyOf(host),
        memoryMb,
        cpus: 8,
        addedBy: "test",
      });
    env = {
      ...process.env,
      ...bucket.env,
      DATABASE_URL: db.url,
      MINDROOM_DATA_DIR: dataDir,
      MINDROOM_BACKUP_BUCKET: bucket.bucket,
      MINDROOM_ROOT_SECRET: SAMPLE_ROOT_SECRET,
      DOKKU_SSH_KEY: target.keyPath,
      MINDROOM_AUTOMATION_WORKERS: "1",
      MINDROOM_OPERATOR: "ops@example.com",
    };
    const spec = hostSpec(target, slug, { homeserver: "synapse" });
    instance = await seedInstance(db.pool, slug, { spec: parseTenantSpec(spec) });
    const specFile = join(dataDir, "spec.json");
    writeFileSync(specFile, JSON.stringify(spec));
    const applied = await ops("apply", specFile, "--json");
    expect(applied.code, applied.stderr).toBe(0);
  });
  afterAll(async () => {
    await ops("destroy", slug, "--yes").catch(() => undefined);
    await Promise.allSettled([db?.close(), bucket?.dispose(), hostB?.stop()]);
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("refuses an unknown host, the tenant's own host, and a move without --yes off a terminal, changing nothing", async () => {
    const operationsBefore = (await operationsForInstance(db.pool, instance.id)).length;
    const help = await ops("move", "--help");
    expect(help).toMatchObject({ code: 0, stdout: expect.stringContaining("Usage: mindroom-ops move") });
    expect((await ops("move", slug)).code).toBe(2);
    const unknown = await ops("move", slug, "ssh://root@192.0.2.7:22", "--yes");
    expect(unknown).toMatchObject({ code: 6, stderr: expect.stringContaining("is not a known host") });
    const same = await ops("move", slug, target.shellUrl, "--yes");
    expect(same).toMatchObject({ code: 5, stderr: expect.stringContaining("already: nothing to move") });
    expect((await ops("move", "no-such-tenant", hostB.shellUrl, "--yes")).code).toBe(6);
    const unconfirmed = await ops("move", slug, hostB.shellUrl);
    expect(unconfirmed).toMatchObject({ code: 8, stderr: expect.stringContaining("--yes") });

    expect(await findMove(db.pool, instance.id)).toBeNull();
    expect(await operationsForInstance(db.pool, instance.id)).toHaveLength(operationsBefore);
    expect((await findInstanceById(db.pool, instance.id))?.host).toBe(target.shellUrl);
    expect(await tenantPresence(onB, slug)).toEqual(ABSENT);
  });

  it("moves the tenant with its data intact, records it, and leaves nothing on the old host", async () => {
    const dataA = tenantData(parseTenantSpec(hostSpec(target, slug, { homeserver: "synapse" })), privateKey);
    const dataB = tenantData(parseTenantSpec(hostSpec(hostB, slug, { homeserver: "synapse" })), privateKey);
    await writeFiles(dataA, "cli-move");
    await load(dataA, "postgres", names.postgres, Buffer.from(`PGDMP rows of ${slug}\n`.repeat(300)));
    await load(dataA, "redis", names.redis, Buffer.from(`REDIS0011 keys of ${slug}\n`.repeat(100)));
    const before = await tenantState(dataA, target);

    const retiredFolder = join(dataDir, "workspaces", retiredStackName(slug));
    // Caught while host A is cleared (its apps' destroys held): the temporary stack that does it is
    // there, and still no tenant to `list` (nor to drift or preview --all, which list the same way).
    const clearing = await target.faults?.hold(new RegExp(`^apps:destroy .*${names.runtimeApp}`));
    const moving = ops("move", slug, hostB.shellUrl, "--yes", "--json", "--reason", "host A retires");
    if (clearing) {
      try {
        await expect.poll(() => clearing.reached(), { timeout: 600_000, interval: 200 }).toBeGreaterThan(0);
        expect(existsSync(retiredFolder)).toBe(true);
        const listed = JSON.parse((await ops("list", "--json")).stdout) as { tenant: string }[];
        expect(listed.map((row) => row.tenant)).toEqual([slug]);
      } finally {
        await clearing.release();
      }
    }
    const moved = await moving;
    expect(moved.code, moved.stderr).toBe(0);
    expect(JSON.parse(moved.stdout)).toMatchObject({
      from: target.shellUrl,
      to: hostB.shellUrl,
      steps: ["backup", "checkpoint", "switch", "restore", "cleanup"],
    });
    // Progress on stderr, one line per step.
    expect(moved.stderr).toContain(`${slug}: restoring the backup of`);

    expect(await tenantState(dataB, onB)).toEqual(before);
    expect(await appRunning(onB, names.runtimeApp)).toBe("true");
    expect(await tenantPresence(target, slug)).toEqual(ABSENT);
    const outputs = JSON.parse((await ops("outputs", slug, "--json")).stdout) as { host: string };
    expect(outputs.host).toBe(`${hostB.host}:${hostB.port}`);
    const up = await ops("up", slug, "--expect-no-changes", "--json");
    expect(up.code, up.stdout + up.stderr).toBe(0);

    const row = await findInstanceById(db.pool, instance.id);
    expect(row?.host).toBe(hostB.shellUrl);
    expect(parseTenantSpec(row?.spec).host.url).toBe(hostB.shellUrl);
    expect(await findMove(db.pool, instance.id)).toBeNull();
    // The temporary stack that retired host A left no workspace behind, and is no tenant.
    expect(existsSync(join(dataDir, "workspaces", retiredStackName(slug)))).toBe(false);
    expect(JSON.parse((await ops("list", "--json")).stdout)).toEqual([
      expect.objectContaining({ tenant: slug }),
    ]);
    expect(
      (await operationsForInstance(db.pool, instance.id))
        .filter((o) => o.kind === "move")
        .map((o) => [o.kind, o.status, o.requestedBy]),
    ).toEqual([["move", "succeeded", "operator:ops@example.com"]]);
    expect(
      (await auditForInstance(db.pool, instance.id))
        .filter((a) => a.action.startsWith("instance.move"))
        .map((a) => [a.action, a.actor, a.reason]),
    ).toEqual([["instance.move", "operator:ops@example.com", "host A retires"]]);
  });
});
