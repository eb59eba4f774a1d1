/**
 * The batched drift through the real engine and the Dokku test host: several
 * tenants, some changed behind the platform's back. The batch reads every
 * checkpoint in one pass and probes the host in one SSH session whatever the
 * tenant count; it leaves exactly the drifted tenants to the single-tenant
 * drift, and finds the others clean as the single-tenant drift does.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tenantNames } from "../components/tenantNames.ts";
import { parseTenantSpec } from "../components/tenantSpec.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { runDokku } from "../testing/dokkuClient.ts";
import { dokkuTarget } from "../testing/dokkuTarget.ts";
import { SAMPLE_ROOT_SECRET } from "../testing/tenantSamples.ts";
import { hostSpec } from "../testing/tenantStacks.ts";
import { driftProbes } from "./driftProbes.ts";
import { batchedDrift } from "./fleetDrift.ts";
import { type HostAccess, runDokkuReads } from "./hostShell.ts";
import { Operations } from "./operations.ts";
import { loadAutomationSettings } from "./settings.ts";
import { readCheckpoints } from "./stackCheckpoints.ts";
import { PROJECT } from "./tenantWorkspaces.ts";

const target = dokkuTarget();
const unique = (base: string) =>
  `${base}-${process.pid.toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
const dataDir = mkdtempSync(join(tmpdir(), "mindroom-fleet-drift-"));
const settings = loadAutomationSettings({
  MINDROOM_DATA_DIR: dataDir,
  MINDROOM_AUTOMATION_WORKERS: "3",
  MINDROOM_ROOT_SECRET: SAMPLE_ROOT_SECRET,
  DOKKU_SSH_KEY: target.keyPath,
  DOKKU_HOSTS: target.shellUrl,
});
const specs = ["fleet-a", "fleet-b", "fleet-c"].map((s) => hostSpec(target, unique(s)));
const [limited, configured, untouched] = specs.map((s) => String(s.slug)) as [string, string, string];
let ops: Operations | undefined;
let db: TestDatabase | undefined;

beforeAll(async () => {
  db = await testDatabase();
  ops = await Operations.start({ ...settings, databaseUrl: db.url });
}, 600_000);
afterAll(async () => {
  if (ops) await Promise.all(specs.map((s) => ops?.pool.destroy(String(s.slug))));
  await ops?.close();
  await db?.close();
  rmSync(dataDir, { recursive: true, force: true });
}, 600_000);

describe("batched drift", { timeout: 900_000 }, () => {
  it("probes the host in one session for any number of tenants and leaves exactly the drifted ones to the single-tenant drift", async () => {
    if (!ops) throw new Error("the automation layer did not start");
    const live = ops;
    const applied = await Promise.all(specs.map((s) => live.pool.apply(s, live.secrets())));
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
    const reads = (access: HostAccess, commands: readonly string[]) => {
      sessions.push([...commands]);
      return runDokkuReads(access, commands);
    };
    const privateKey = live.secrets().sshPrivateKey;
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
    const single = await Promise.all([limited, configured, untouched].map((t) => live.pool.run("drift", t)));
    expect(single.map((r) => [r.tenant, r.status, r.drift?.map((d) => d.id)])).toEqual([
      [limited, "succeeded", ["tenant-homeserver: limits"]],
      [configured, "succeeded", ["tenant-runtime: config"]],
      [untouched, "succeeded", []],
    ]);
    const { durationMs: _single, ...clean } = single[2] ?? {};
    const { durationMs: _batched, ...batched } = batch.clean.get(untouched) ?? {};
    expect(batched).toEqual(clean);

    // Through the automation layer's front door, as `drift --all` and the schedule call it.
    const viaOperations = await live.batchedDrift([limited, configured, untouched]);
    expect(viaOperations.undecided).toEqual([limited, configured]);
    expect(viaOperations.sessions).toBe(1);
  });
});
