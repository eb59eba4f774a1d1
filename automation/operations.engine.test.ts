/**
 * The automation layer through the real engine and the Dokku test host: the
 * worker pool, per-tenant serialisation, crash recovery, Pulumi's lock as the
 * second guard, drift detection and repair, and the batched drift of several
 * tenants (a few SSH sessions per host, whatever the tenant count).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantNames } from "../components/tenantNames.ts";
import { parseTenantSpec } from "../components/tenantSpec.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { runDokku } from "../testing/dokkuClient.ts";
import { dokkuTarget } from "../testing/dokkuTarget.ts";
import { ANALYZER_PROCESS, type ProcessSnapshot, snapshotTree, survivors } from "../testing/processTree.ts";
import { expectGone, expectTenant, observeTenant } from "../testing/tenantObserver.ts";
import { SAMPLE_ROOT_SECRET } from "../testing/tenantSamples.ts";
import { hostSpec } from "../testing/tenantStacks.ts";
import { driftProbes } from "./driftProbes.ts";
import { batchedDrift } from "./fleetDrift.ts";
import { type HostAccess, runDokkuReads } from "./hostShell.ts";
import { Operations } from "./operations.ts";
import type { ProgressEvent } from "./progress.ts";
import { loadAutomationSettings } from "./settings.ts";
import { readCheckpoints } from "./stackCheckpoints.ts";
import { PROJECT } from "./tenantWorkspaces.ts";

const target = dokkuTarget();
const unique = (base: string) =>
  `${base}-${process.pid.toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const dataDir = mkdtempSync(join(tmpdir(), "mindroom-ops-"));
const settings = loadAutomationSettings({
  MINDROOM_DATA_DIR: dataDir,
  MINDROOM_AUTOMATION_WORKERS: "3",
  MINDROOM_ROOT_SECRET: SAMPLE_ROOT_SECRET,
  DOKKU_SSH_KEY: target.keyPath,
  DOKKU_HOSTS: target.shellUrl,
});
let ops: Operations;
let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
  ops = await Operations.start({ ...settings, databaseUrl: db.url });
});
afterAll(async () => {
  await ops?.close();
  await db?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function destroyAll(tenants: string[]) {
  await Promise.all(tenants.map((t) => ops.pool.destroy(t)));
}

describe("the worker pool", { timeout: 600_000 }, () => {
  it("brings several tenants up in parallel", { timeout: 600_000 }, async () => {
    const specs = ["par-a", "par-b", "par-c"].map((s) => hostSpec(target, unique(s)));
    try {
      const results = await Promise.all(specs.map((s) => ops.pool.apply(s, ops.secrets())));
      expect(results.map((r) => [r.status, r.error?.message])).toEqual(
        specs.map(() => ["succeeded", undefined]),
      );
      for (const spec of specs) {
        const parsed = parseTenantSpec(spec);
        expectTenant(await observeTenant(target, tenantNames(parsed.slug)), parsed);
      }
      expect((await ops.stacks.list()).map((s) => s.tenant)).toEqual(
        expect.arrayContaining(specs.map((s) => String(s.slug))),
      );
    } finally {
      await destroyAll(specs.map((s) => String(s.slug)));
    }
    // Destroyed tenants leave no workspace folder behind on this machine.
    for (const spec of specs) expect(existsSync(join(settings.workspacesDir, String(spec.slug)))).toBe(false);
  });

  it("serialises operations on one tenant: they never interleave", async () => {
    const spec = hostSpec(target, unique("serial"));
    const tenant = String(spec.slug);
    try {
      expect((await ops.pool.apply(spec, ops.secrets())).status).toBe("succeeded");
      const spans: { op: string; first: number; last: number }[] = [];
      const track = (op: string) => {
        const span = { op, first: Number.POSITIVE_INFINITY, last: 0 };
        spans.push(span);
        return (_e: ProgressEvent) => {
          const now = performance.now();
          span.first = Math.min(span.first, now);
          span.last = Math.max(span.last, now);
        };
      };
      const results = await Promise.all([
        ops.pool.run("up", tenant, { onProgress: track("up-1") }),
        ops.pool.run("preview", tenant, { onProgress: track("preview") }),
        ops.pool.run("up", tenant, { onProgress: track("up-2") }),
      ]);
      expect(results.map((r) => r.status)).toEqual(["succeeded", "succeeded", "succeeded"]);
      const ordered = [...spans].sort((a, b) => a.first - b.first);
      for (let i = 1; i < ordered.length; i++) {
        expect(
          ordered[i]?.first,
          `${ordered[i]?.op} started after ${ordered[i - 1]?.op} ended`,
        ).toBeGreaterThan(ordered[i - 1]?.last ?? 0);
      }
    } finally {
      await destroyAll([tenant]);
    }
  });
});

describe("recovery", { timeout: 600_000 }, () => {
  it.skipIf(!target.faults)(
    "converges when the worker is killed in the middle of an up, leaving no process behind",
    async () => {
      const faults = target.faults;
      if (!faults) throw new Error("unreachable");
      const spec = hostSpec(target, unique("killed"));
      const tenant = String(spec.slug);
      const names = tenantNames(parseTenantSpec(spec).slug);
      // Slow this tenant's host commands down so the kill lands mid-update.
      const slow = new RegExp(`\\b(${names.runtimeApp}|${names.homeserverApp}|${names.network})\\b`);
      await faults.setDelay(400, { match: slow });
      try {
        let killed: ProcessSnapshot[] | undefined;
        const first = await ops.pool.apply(spec, ops.secrets(), {
          onProgress: (e) => {
            if (killed || e.type !== "resource.done") return;
            // Everything the worker started: the tenant lock's holder, the pulumi CLI, the policy
            // analyzer and (once a remote command runs) the command provider.
            const pid = ops.pool.workerPid(tenant) ?? 0;
            const tree = snapshotTree(pid);
            if (!tree.some((p) => p.command.includes("pulumi-resource-command"))) return;
            killed = tree;
            process.kill(pid, "SIGKILL");
          },
        });
        expect(first.status).toBe("failed");
        expect(first.error?.kind).toBe("WorkerCrashed");
        const commands = (killed ?? []).map((p) => p.command).join("\n");
        expect(commands).toMatch(/worker\.ts/);
        expect(commands).toMatch(/pulumi-resource-command/);
        expect(commands).toMatch(ANALYZER_PROCESS);
        expect(await survivors(killed ?? [], 20_000)).toEqual([]);
        await faults.setDelay(0, { match: slow });
        const second = await ops.pool.run("up", tenant);
        expect([second.status, second.error?.message]).toEqual(["succeeded", undefined]);
        expectTenant(await observeTenant(target, names), parseTenantSpec(spec));
      } finally {
        await faults.setDelay(0, { match: slow });
        await destroyAll([tenant]);
      }
      expectGone(await observeTenant(target, names));
    },
  );

  it("clears a stale Pulumi lock from a dead process and respects a live one", async () => {
    const spec = hostSpec(target, unique("locks"));
    const tenant = String(spec.slug);
    try {
      expect((await ops.pool.apply(spec, ops.secrets())).status).toBe("succeeded");
      const lockDir = join(
        settings.backendUrl.slice("file://".length),
        ".pulumi",
        "locks",
        "organization",
        PROJECT,
        tenant,
      );
      mkdirSync(lockDir, { recursive: true });
      const deadPid = Number(execFileSync("sh", ["-c", "sh -c 'echo $$' "]).toString().trim());
      const lock = (pid: number) =>
        JSON.stringify({ pid, username: "test", hostname: hostname(), timestamp: new Date().toISOString() });
      writeFileSync(join(lockDir, "00000000-dead-4000-8000-000000000000.json"), lock(deadPid));
      const afterStale = await ops.pool.run("up", tenant);
      expect([afterStale.status, afterStale.error?.message]).toEqual(["succeeded", undefined]);

      const live = join(lockDir, "00000000-live-4000-8000-000000000000.json");
      writeFileSync(live, lock(process.pid));
      const blocked = await ops.pool.run("up", tenant);
      expect(blocked.status).toBe("failed");
      expect(blocked.error?.kind).toBe("ConcurrentUpdateError");
      rmSync(live);
    } finally {
      await destroyAll([tenant]);
    }
  });
});

describe("drift", { timeout: 600_000 }, () => {
  it("finds changes made behind Pulumi's back, and up repairs exactly those", async () => {
    // drift records what it finds; the next up repairs it (or an up that probes the host itself).
    const spec = hostSpec(target, unique("drift"));
    const tenant = String(spec.slug);
    const names = tenantNames(parseTenantSpec(spec).slug);
    try {
      expect((await ops.pool.apply(spec, ops.secrets())).status).toBe("succeeded");
      expect((await ops.pool.run("drift", tenant)).drift).toEqual([]);

      for (const cmd of [
        `resource:limit --memory 99 ${names.runtimeApp}`,
        `domains:set ${names.homeserverApp} evil.example.com`,
        `config:set --no-restart ${names.runtimeApp} MINDROOM_TIER=enterprise`,
        `ps:scale ${names.homeserverApp} web=3`,
      ]) {
        expect((await runDokku(target, cmd, { quiet: true })).code, cmd).toBe(0);
      }
      const drift = await ops.pool.run("drift", tenant);
      expect(drift.status).toBe("succeeded");
      expect(drift.drift?.map((d) => d.id).sort()).toEqual(
        [
          "tenant-homeserver: domains",
          "tenant-homeserver: scale",
          "tenant-runtime: config",
          "tenant-runtime: limits",
        ].sort(),
      );
      expect(JSON.stringify(drift)).not.toContain(SAMPLE_ROOT_SECRET);

      const repaired = await ops.pool.run("up", tenant);
      expect(repaired.status).toBe("succeeded");
      expect(repaired.changes.update).toBe(4);
      expectTenant(await observeTenant(target, names), parseTenantSpec(spec));
      expect((await ops.pool.run("drift", tenant)).drift).toEqual([]);
      expect(Object.keys((await ops.pool.run("up", tenant)).changes)).toEqual(["same"]);

      // Without a drift check since, an up repairs what it finds when asked to check the host first.
      const limit = `resource:limit --memory 99 ${names.runtimeApp}`;
      expect((await runDokku(target, limit, { quiet: true })).code).toBe(0);
      const probed = await ops.pool.run("up", tenant, { probeDrift: true });
      expect([probed.status, probed.changes.update]).toEqual(["succeeded", 1]);
      expectTenant(await observeTenant(target, names), parseTenantSpec(spec));
    } finally {
      await destroyAll([tenant]);
    }
  });
});

describe("batched drift (drift --all, the scheduled check)", { timeout: 900_000 }, () => {
  it("probes the host in one session for three tenants as for one, and leaves exactly the drifted ones to the single-tenant drift", async () => {
    const specs = ["fleet-a", "fleet-b", "fleet-c"].map((s) => hostSpec(target, unique(s)));
    const [limited, configured, untouched] = specs.map((s) => String(s.slug)) as [string, string, string];
    try {
      const applied = await Promise.all(specs.map((s) => ops.pool.apply(s, ops.secrets())));
      expect(applied.map((r) => [r.tenant, r.status, r.error?.message])).toEqual(
        specs.map((s) => [String(s.slug), "succeeded", undefined]),
      );
      const names = (slug: string) => tenantNames(parseTenantSpec(specs.find((s) => s.slug === slug)).slug);
      for (const cmd of [
        `resource:limit --memory 77 ${names(limited).homeserverApp}`,
        `config:set --no-restart ${names(configured).runtimeApp} MINDROOM_TIER=enterprise`,
      ]) {
        expect((await runDokku(target, cmd, { quiet: true })).code, cmd).toBe(0);
      }

      const checkpoints = await readCheckpoints(
        { backendUrl: settings.backendUrl, env: settings.backendEnv },
        PROJECT,
      );
      const sessions: string[][] = [];
      const reads = (access: HostAccess, commands: readonly string[], options: { timeoutMs: number }) => {
        sessions.push([...commands]);
        return runDokkuReads(access, commands, options);
      };
      const privateKey = ops.secrets().sshPrivateKey;
      const before = (await target.commandLog?.())?.length ?? 0;
      const batch = await batchedDrift([limited, configured, untouched], { checkpoints, privateKey, reads });
      const logged = (await target.commandLog?.())?.slice(before) ?? [];

      expect(batch.sessions).toBe(1);
      expect(sessions).toHaveLength(1);
      expect(batch.undecided).toEqual([limited, configured]);
      expect([...batch.clean.keys()]).toEqual([untouched]);
      // Every probe of every tenant ran in that one session, each once (other test files share the host's log).
      const probes = [limited, configured, untouched].flatMap((t) =>
        driftProbes(checkpoints?.get(t)?.resources ?? []).map((p) => p.command),
      );
      expect(sessions[0]).toEqual(probes);
      if (target.commandLog) {
        const ours = logged
          .map((c) => c.argv.join(" "))
          .filter((line) => [limited, configured, untouched].some((t) => line.includes(t)));
        expect(ours.sort()).toEqual([...probes].sort());
      }
      // The same tenant count or fewer: still one session.
      const alone = await batchedDrift([untouched], { checkpoints, privateKey, reads });
      expect(alone.sessions).toBe(1);
      expect(sessions).toHaveLength(2);

      // What the single-tenant drift says of each: drift exactly where the batch left it, the same clean result elsewhere.
      const single = await Promise.all([limited, configured, untouched].map((t) => ops.pool.run("drift", t)));
      expect(single.map((r) => [r.tenant, r.status, r.drift?.map((d) => d.id)])).toEqual([
        [limited, "succeeded", ["tenant-homeserver: limits"]],
        [configured, "succeeded", ["tenant-runtime: config"]],
        [untouched, "succeeded", []],
      ]);
      const { durationMs: _single, ...clean } = single[2] ?? {};
      const { durationMs: _batched, ...batched } = batch.clean.get(untouched) ?? {};
      expect(batched).toEqual(clean);

      // Through the automation layer's front door, as `drift --all` and the schedule call it.
      const viaOperations = await ops.batchedDrift([limited, configured, untouched]);
      expect(viaOperations.undecided).toEqual([limited, configured]);
      expect(viaOperations.sessions).toBe(1);
    } finally {
      await destroyAll(specs.map((s) => String(s.slug)));
    }
  });
});
