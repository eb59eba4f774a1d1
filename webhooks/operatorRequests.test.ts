/**
 * Operator requests on real Postgres and pg-boss: the portal's side (record and
 * queue in one transaction, then wait in the database) against the worker's side
 * (claim, answer, record), with a fake automation layer: the real one is
 * exercised by the portal's end-to-end test.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { OperationResult } from "../automation/operationResult.ts";
import { createInstance, updateDesired } from "../database/instances.ts";
import { silentLogger } from "../logging/logger.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import {
  awaitOperatorRequest,
  operatorRequestHandler,
  type RequestOperations,
  startOperatorRequestWorker,
  submitOperatorRequest,
} from "./operatorRequests.ts";
import { openReconcileQueue, type ReconcileQueue } from "./queue.ts";

let db: TestDatabase;
let queue: ReconcileQueue;
let instanceId: string;
let unprovisioned: string;
const previews: { tenant: string; policy: unknown }[] = [];

const preview = (status: OperationResult["status"]): OperationResult => ({
  tenant: "acme",
  operation: "preview",
  status,
  changes: { same: 12 },
  durationMs: 5,
  steps: [],
  policyViolations:
    status === "failed" ? [{ policy: "tier-fits-host", level: "mandatory", message: "too big" }] : [],
  ...(status === "failed" ? { error: { kind: "CommandError", message: "preview failed" } } : {}),
});

let nextPreview: OperationResult["status"] = "succeeded";
const operations: RequestOperations = {
  stacks: {
    outputs: async (tenant) => {
      if (tenant === "ghost") throw new Error("stack ghost not found");
      return { urls: { app: `https://${tenant}.mindroom.test` }, tier: "starter" };
    },
  },
  pool: {
    run: async (_kind, tenant, options) => {
      previews.push({ tenant, policy: options?.policy });
      return preview(nextPreview);
    },
  },
  policyFor: (hosts) => ({ policyPacks: ["/pack"], policyPackConfigs: [`/config-${hosts.length}`] }),
};

async function customer(email: string) {
  const { rows } = await db.pool.query<{ id: string }>(
    "insert into public.customers (email) values ($1) returning id",
    [email],
  );
  return rows[0]?.id as string;
}

beforeAll(async () => {
  db = await testDatabase();
  queue = await openReconcileQueue({ url: db.url }, { pollingIntervalSeconds: 0.5 });
  const acme = await createInstance(db.pool, {
    customerId: await customer("acme@example.com"),
    slug: "acme",
    stackName: "acme",
    tier: "starter",
    desiredState: "running",
  });
  instanceId = acme.id;
  const ghost = await createInstance(db.pool, {
    customerId: await customer("ghost@example.com"),
    slug: "ghost",
    stackName: "ghost",
    tier: "free",
    desiredState: "running",
  });
  await updateDesired(db.pool, ghost.id, { stackName: null });
  unprovisioned = ghost.id;
  await startOperatorRequestWorker({ boss: queue.boss, pool: db.pool, operations, log: silentLogger });
});

afterAll(async () => {
  await queue?.stop({ timeoutMs: 2000 });
  await db?.close();
});

const ask = (kind: "outputs" | "preview", id = instanceId) =>
  submitOperatorRequest(
    { pool: db.pool, boss: queue.boss },
    { instanceId: id, kind, requestedBy: "operator:ops@example.com", reason: "checking" },
  ).then((r) => awaitOperatorRequest(db.pool, r.id, { timeoutMs: 30_000, intervalMs: 100 }));

describe("operator requests", () => {
  it("answers live outputs through the worker", async () => {
    const answered = await ask("outputs");
    expect(answered).toMatchObject({
      status: "succeeded",
      result: { urls: { app: "https://acme.mindroom.test" }, tier: "starter" },
      error: null,
      requestedBy: "operator:ops@example.com",
    });
    expect(answered.startedAt).toBeInstanceOf(Date);
    expect(answered.finishedAt).toBeInstanceOf(Date);
  });

  it("runs a preview with the policy pack for the hosts table, and keeps a refused plan's violations", async () => {
    await db.pool.query(
      "insert into public.hosts (url, address, host_key, memory_mb, cpus, added_by) values ('ssh://root@h1:22', 'h1', 'ssh-ed25519 AAAA', 1024, 1, 'x')",
    );
    nextPreview = "succeeded";
    expect(await ask("preview")).toMatchObject({ status: "succeeded", result: { changes: { same: 12 } } });
    expect(previews.at(-1)).toEqual({
      tenant: "acme",
      policy: { policyPacks: ["/pack"], policyPackConfigs: ["/config-1"] },
    });
    nextPreview = "failed";
    const refused = await ask("preview");
    expect(refused.status).toBe("failed");
    expect(refused.error).toBe("policy tier-fits-host: too big\nCommandError: preview failed");
    expect(refused.result?.policyViolations).toHaveLength(1);
  });

  it("fails a request it cannot answer, saying why", async () => {
    expect(await ask("outputs", unprovisioned)).toMatchObject({
      status: "failed",
      error: "this tenant has no stack yet: nothing was ever provisioned",
    });
  });

  it("answers a request once, whoever else picks it up", async () => {
    const request = await submitOperatorRequest(
      { pool: db.pool, boss: queue.boss },
      { instanceId, kind: "outputs", requestedBy: "operator:ops@example.com" },
    );
    const handle = operatorRequestHandler({ pool: db.pool, operations, log: silentLogger });
    await Promise.all([handle(request.id), handle(request.id)]);
    const answered = await awaitOperatorRequest(db.pool, request.id, { timeoutMs: 10_000, intervalMs: 100 });
    expect(answered.status).toBe("succeeded");
  });

  it("reports a request nobody answered as it stands when the wait runs out", async () => {
    // Recorded but never queued: no worker will ever see it.
    const { rows } = await db.pool.query<{ id: string }>(
      "insert into public.operator_requests (instance_id, kind, requested_by) values ($1, 'outputs', 'operator:x') returning id",
      [instanceId],
    );
    const waited = await awaitOperatorRequest(db.pool, rows[0]?.id as string, {
      timeoutMs: 300,
      intervalMs: 50,
    });
    expect(waited.status).toBe("queued");
  });
});
