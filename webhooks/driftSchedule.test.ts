/**
 * The scheduled drift check against a real platform database: the batched
 * check first, the worker pool only for what it found or could not decide, a
 * recorded `drift` operation for every tenant either way, and a busy tenant
 * left for the next round.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BatchedDrift } from "../automation/fleetDrift.ts";
import { cleanResult } from "../automation/fleetDrift.ts";
import type { OperationResult } from "../automation/operationResult.ts";
import { TenantBusyError, type TenantLease } from "../automation/tenantLease.ts";
import { createLogger } from "../logging/logger.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { seedInstance } from "../testing/instanceRows.ts";
import { checkDrift } from "./driftSchedule.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await testDatabase();
});
afterAll(async () => {
  await db?.close();
});

const finding = {
  id: "tenant-runtime: limits",
  expected: "memory=512",
  observed: "memory=77",
  repair: ["x"],
};

describe("checkDrift", () => {
  it("records the batch's clean tenants without the pool, checks the rest through it, and skips busy ones", async () => {
    const tenants = ["sched-clean", "sched-drifted", "sched-busy", "sched-failing"];
    for (const slug of tenants) {
      const row = await seedInstance(db.pool, slug);
      await db.pool.query("update public.instances set applied_spec_hash = 'h1' where id = $1", [row.id]);
    }
    // Not provisioned: never checked.
    await seedInstance(db.pool, "sched-pending", { state: "provisioning" });

    const batchedFor: string[][] = [];
    const pooled: string[] = [];
    const recorded = new Map<string, OperationResult>();
    const released: string[] = [];
    const lines: string[] = [];
    const holders = new Map(tenants.map((t) => [t, randomUUID()]));
    const run = await checkDrift({
      db,
      log: createLogger({ stream: { write: (l: string) => lines.push(l) }, format: "json" }),
      operations: {
        async batchedDrift(slugs): Promise<BatchedDrift> {
          batchedFor.push([...slugs]);
          return {
            clean: new Map([["sched-clean", cleanResult("sched-clean", 5)]]),
            undecided: slugs.filter((s) => s !== "sched-clean"),
            sessions: 1,
          };
        },
        pool: {
          async run(_kind, tenant, options) {
            expect(options.lease.tenant).toBe(tenant);
            pooled.push(tenant);
            if (tenant === "sched-failing") throw new Error("host unreachable");
            return { ...cleanResult(tenant, 9), changes: { drifted: 1 }, drift: [finding] };
          },
        },
        leases: {
          async acquire(tenant): Promise<TenantLease> {
            if (tenant === "sched-busy") throw new TenantBusyError(tenant, undefined);
            return {
              holder: holders.get(tenant) ?? "",
              tenant,
              lost: new AbortController().signal,
              release: async () => {
                released.push(tenant);
              },
            };
          },
        },
        recordDrift: (tenant, result) => recorded.set(tenant, result),
      },
    });

    expect(run).toEqual({
      checked: 4,
      drifted: ["sched-drifted"],
      failed: ["sched-failing"],
      busy: ["sched-busy"],
    });
    expect(batchedFor).toEqual([["sched-busy", "sched-clean", "sched-drifted", "sched-failing"]]);
    expect(pooled.sort()).toEqual(["sched-drifted", "sched-failing"]);
    expect([...recorded.keys()].sort()).toEqual(["sched-clean", "sched-drifted"]);
    expect(released.sort()).toEqual(["sched-clean", "sched-drifted", "sched-failing"]);

    const { rows } = await db.pool.query<{
      slug: string;
      status: string;
      changes: unknown;
      lease_holder: string;
    }>(
      `select i.slug, o.status, o.changes, o.lease_holder from public.operations o
         join public.instances i on i.id = o.instance_id
        where o.kind = 'drift' and o."trigger" = 'schedule' order by i.slug`,
    );
    expect(rows).toEqual([
      {
        slug: "sched-clean",
        status: "succeeded",
        changes: { drift: [] },
        lease_holder: holders.get("sched-clean"),
      },
      {
        slug: "sched-drifted",
        status: "succeeded",
        changes: { drifted: 1, drift: [finding] },
        lease_holder: holders.get("sched-drifted"),
      },
      { slug: "sched-failing", status: "failed", changes: null, lease_holder: holders.get("sched-failing") },
    ]);
    expect(lines.join("")).toMatch(/"batched":1/);
  });
});
