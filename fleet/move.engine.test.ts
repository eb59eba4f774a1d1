/**
 * The move drill, on the real engine, two Dokku test hosts that accept one
 * operator key, the local object store and the platform database (the move's
 * journal): a Synapse tenant provisioned on host A gets files and database
 * rows, is moved to host B, and B has the same files and database contents
 * byte for byte, the stack's outputs name B, A no longer has the tenant's apps
 * or services, and an up afterwards changes nothing. A move cut off by dropped
 * connections (on the new host while restoring, on the old host while removing
 * the tenant) converges when run again. Hosts are observed only through
 * Dokku's own commands and the tenant's shell login.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { destroyCheckpoint, retiredStackName } from "../automation/retiredCheckpoint.ts";
import { type TenantData, tenantData } from "../backups/tenantData.ts";
import { tenantNames } from "../components/tenantNames.ts";
import { parseTenantSpec, type TenantSpecInput } from "../components/tenantSpec.ts";
import type { Instance } from "../database/instances.ts";
import { findMove, finishMove, saveMove } from "../database/tenantMoves.ts";
import { type DokkuHost, startDokkuHost } from "../dokku-double/host.ts";
import { testDatabase } from "../testing/database.ts";
import type { DokkuConnection } from "../testing/dokkuClient.ts";
import { dokkuTarget } from "../testing/dokkuTarget.ts";
import type { EngineStack } from "../testing/engineStack.ts";
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
import { configure, hostSpec, tenantStack } from "../testing/tenantStacks.ts";
import { type Checkpoint, oldHostCheckpoint, startedMove } from "./movePlan.ts";
import { dataActions, type MoveActions, runMove } from "./tenantMove.ts";

const target = dokkuTarget();
const privateKey = readFileSync(target.keyPath, "utf8");
const slug = `move-${process.pid.toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const names = tenantNames(slug as never);

describe("moving a tenant between hosts", { timeout: 1_800_000 }, () => {
  let hostB: DokkuHost;
  let onB: DokkuConnection;
  let engine: EngineStack;
  let bucket: TestBucket;
  let db: Awaited<ReturnType<typeof testDatabase>>;
  let instance: Instance;
  let specA: TenantSpecInput;
  let specB: TenantSpecInput;
  let dataA: TenantData;
  let dataB: TenantData;

  beforeAll(async () => {
    hostB = await startDokkuHost({ clientKey: target.keyPath });
    onB = { ...hostB, keyPath: target.keyPath };
    [bucket, db] = await Promise.all([testBucket(), testDatabase()]);
    specA = hostSpec(target, slug, { homeserver: "synapse" });
    specB = hostSpec(hostB, slug, { homeserver: "synapse" });
    dataA = tenantData(parseTenantSpec(specA), privateKey);
    dataB = tenantData(parseTenantSpec(specB), privateKey);
    instance = await seedInstance(db.pool, slug, { spec: parseTenantSpec(specA) });
    engine = await tenantStack(target, specA);
    expect((await engine.stack.up()).summary.result).toBe("succeeded");
  });
  afterAll(async () => {
    await engine?.stack.destroy().catch(() => undefined);
    engine?.dispose();
    await Promise.allSettled([bucket?.dispose(), db?.close(), hostB?.stop()]);
  });

  /** The move's steps against the test stack (the CLI's switch goes through the worker pool instead). */
  function actions(): MoveActions {
    const deps = { client: bucket.client, bucket: bucket.bucket, rootSecret: SAMPLE_ROOT_SECRET };
    return {
      ...dataActions(deps, dataA, dataB),
      exportCheckpoint: async () => (await engine.stack.exportStack()) as Checkpoint,
      async switchHost() {
        await configure(engine, target, specB);
        expect((await engine.stack.up()).summary.result).toBe("succeeded");
      },
      removeFromOldHost: (checkpoint) =>
        destroyCheckpoint(
          engine.stack.workspace as never,
          retiredStackName(slug),
          oldHostCheckpoint(checkpoint, { from: slug, into: retiredStackName(slug) }) as never,
        ),
    };
  }
  const store = () => ({
    save: (journal: Parameters<typeof saveMove>[2]) => saveMove(db.pool, instance.id, journal),
    finish: () => finishMove(db.pool, instance.id),
  });

  it("moves files and database contents byte for byte; the outputs name B; A keeps nothing; up changes nothing", async () => {
    await writeFiles(dataA, "before-move");
    await load(dataA, "postgres", names.postgres, Buffer.from(`PGDMP rows of ${slug}\n`.repeat(500)));
    await load(dataA, "redis", names.redis, Buffer.from(`REDIS0011 keys of ${slug}\n`.repeat(200)));
    const before = await tenantState(dataA, target);
    expect(await tenantPresence(onB, slug)).toEqual(ABSENT);

    const journal = startedMove(specA.host?.url as string, specB.host?.url as string);
    if (target.faults) {
      // Cut off twice: restoring on B, then removing the tenant from A.
      await hostB.faults.dropNth(1, {
        when: "before",
        match: new RegExp(`^postgres:import ${names.postgres}$`),
      });
      await expect(runMove(journal, actions(), store())).rejects.toThrow(/connection dropped/);
      expect((await findMove(db.pool, instance.id))?.step).toBe("restore");
      await target.faults.dropNth(1, {
        when: "before",
        match: new RegExp(`^apps:destroy .*${names.runtimeApp}`),
      });
      const resumed = (await findMove(db.pool, instance.id)) ?? journal;
      await expect(runMove(resumed, actions(), store())).rejects.toThrow();
      expect((await findMove(db.pool, instance.id))?.step).toBe("cleanup");
      // Both cuts happened where they were meant to (no rule of this tenant left armed).
      const armed = [...(await target.faults.pending()), ...(await hostB.faults.pending())];
      expect(JSON.stringify(armed)).not.toContain(slug);
    }
    const report = await runMove((await findMove(db.pool, instance.id)) ?? journal, actions(), store());
    expect(report.ran.at(-1)).toBe("cleanup");
    expect(await findMove(db.pool, instance.id)).toBeNull();

    expect(await tenantState(dataB, onB)).toEqual(before);
    expect(await appRunning(onB, names.runtimeApp)).toBe("true");
    expect(await appRunning(onB, names.homeserverApp)).toBe("true");
    expect(await tenantPresence(target, slug)).toEqual(ABSENT);
    const outputs = await engine.stack.outputs();
    expect(outputs.host?.value).toBe(`${hostB.host}:${hostB.port}`);
    expect((await engine.stack.up({ expectNoChanges: true })).summary.result).toBe("succeeded");
    // The temporary stack that retired A is gone.
    expect((await engine.stack.workspace.listStacks()).map((s) => s.name)).toEqual([slug]);
  });
});
