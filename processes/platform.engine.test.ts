/**
 * The whole platform (`./platform start`: embedded Postgres, sshd, Kratos,
 * Mailpit, MinIO, the portal, the webhook service and its pool worker running
 * the real Pulumi engine) stopped and killed the way the world does it while a
 * paying customer's tenant is being provisioned. Every check of what is still
 * running goes through /proc: a snapshot of the platform's process tree taken
 * at the moment of the kill (pid + start time) and the run's marker variable,
 * which everything the platform starts inherits however deep.
 *
 * - SIGKILL of the pool worker mid-up: nothing it started is alive 20 s later,
 *   the platform carries on.
 * - SIGKILL of the platform mid-up: nothing it started is alive 20 s later; a
 *   restart says the earlier run did not stop cleanly and converges the tenant.
 * - SIGTERM and SIGINT mid-up: the platform stops within 30 s, nothing survives
 *   it, and the next start converges the tenant.
 * - SIGKILL mid-up with a child that cannot act on its owner's death (its tether
 *   stopped, as a hung process would be): everything else is gone 20 s later;
 *   the next start ends that child, reports it and converges the tenant.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOCAL_SECRET_KEY, stripeClient } from "../billing/stripeClient.ts";
import { tenantNames } from "../components/tenantNames.ts";
import { parseTenantSpec } from "../components/tenantSpec.ts";
import { type Instance, listInstances } from "../database/instances.ts";
import { createFaultControl, type FaultControl } from "../dokku-double/faultControl.ts";
import { runJourney } from "../stripe-local/journey.ts";
import { localStripeUrl } from "../stripe-local/localInstance.ts";
import type { DokkuTarget } from "../testing/dokkuTarget.ts";
import { freePort } from "../testing/freePort.ts";
import {
  embeddedDatabaseUrl,
  localHostDir,
  type PlatformProcess,
  startPlatform,
} from "../testing/platformProcess.ts";
import { ANALYZER_PROCESS, type ProcessSnapshot, snapshotTree, survivors } from "../testing/processTree.ts";
import { expectTenant, observeTenant } from "../testing/tenantObserver.ts";
import { endProcesses, markedProcesses } from "./leftovers.ts";
import { RUN_MARKER } from "./markers.ts";
import { isRunning } from "./procfs.ts";

const EMAIL = "grace.hopper@example.com";
const dataDir = mkdtempSync(join(tmpdir(), "mindroom-platform-processes-"));
let env: Record<string, string>;
let platform: PlatformProcess;
let folder = "";
let db: pg.Pool | undefined;
let faults: FaultControl;
let host: DokkuTarget;

beforeAll(async () => {
  // Fixed across restarts: Stripe's endpoint and the portal's URL are recorded with them.
  const [portal, webhooks, auth] = [await freePort(), await freePort(), await freePort()];
  writeFileSync(join(dataDir, "auth.port"), String(auth));
  env = { PORT: String(portal), MINDROOM_WEBHOOKS_PORT: String(webhooks), MINDROOM_AUTOMATION_WORKERS: "1" };
  platform = await startPlatform({ dataDir, env });
  folder = platform.marker()?.split(":")[0] ?? "";
  const hostDir = localHostDir(dataDir) ?? "";
  const port = Number(readFileSync(join(hostDir, "port"), "utf8"));
  faults = createFaultControl(join(hostDir, "state"));
  host = {
    host: "127.0.0.1",
    port,
    user: "dokku",
    keyPath: join(hostDir, "ssh", "client_key"),
    knownHostsPath: join(hostDir, "ssh", "known_hosts"),
    url: `ssh://dokku@127.0.0.1:${port}`,
    shellUrl: `ssh://root@127.0.0.1:${port}`,
    isProjectHost: false,
    faults,
    faultsUnavailable: undefined,
    commandLog: undefined,
    execTrace: undefined,
  };
});

afterAll(async () => {
  if (platform && isRunning(platform.pid)) {
    platform.child.kill("SIGTERM");
    await platform.exited;
  }
  await db?.end();
  // Whatever a failed assertion left behind.
  if (folder)
    await endProcesses(
      markedProcesses(RUN_MARKER, (v) => v.startsWith(`${folder}:`)),
      5_000,
    );
  const hostDir = localHostDir(dataDir);
  if (hostDir?.startsWith("/var/lib/mindroom-cloud/"))
    rmSync(dirname(hostDir), { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, ms = 240_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}\n${platform.output().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const commands = (tree: readonly ProcessSnapshot[]) => tree.map((p) => p.command).join("\n");

/** The pid of the process of `tree` that `is` picks; failing here, never signalling pid 0 (this test's own group). */
function pick(tree: readonly ProcessSnapshot[], what: string, is: (p: ProcessSnapshot) => boolean): number {
  const found = tree.find(is);
  if (!found) throw new Error(`no ${what} in the platform's tree:\n${commands(tree)}`);
  return found.pid;
}

/** The platform's tree once an up is under way: the pool worker runs pulumi, the analyzer and the command provider. */
function midUp(): Promise<ProcessSnapshot[]> {
  return waitFor("an up under way", () => {
    const tree = platform.tree();
    const text = commands(tree);
    return /pulumi-resource-command/.test(text) && ANALYZER_PROCESS.test(text) ? tree : undefined;
  });
}

/** Nothing of the run is alive: neither a process of the snapshot nor one carrying its marker. */
async function expectNothingLeft(
  tree: readonly ProcessSnapshot[],
  marker: string | undefined,
): Promise<void> {
  expect(marker).toMatch(new RegExp(`^${folder}:`));
  expect(await survivors(tree, 20_000)).toEqual([]);
  expect(markedProcesses(RUN_MARKER, (v) => v === marker)).toEqual([]);
}

async function instance(): Promise<Instance | undefined> {
  if (!db) {
    db = new pg.Pool({ connectionString: embeddedDatabaseUrl(dataDir), max: 1 });
    // These tests stop and kill the platform's Postgres under this pool: an idle connection ending
    // then is expected (the next query connects again), not an error of the test run.
    db.on("error", () => undefined);
  }
  return (await listInstances(db)).instances[0];
}

/** The tenant running with its desired spec applied, checked on the Dokku host through Dokku's own commands. */
async function converged(tier: string): Promise<Instance> {
  const done = await waitFor(`the tenant to converge on ${tier}`, async () => {
    const i = await instance().catch(() => undefined);
    return i?.actualState === "running" && i.appliedSpecHash === i.specHash && i.tier === tier
      ? i
      : undefined;
  });
  const spec = parseTenantSpec(done.spec);
  expectTenant(await observeTenant(host, tenantNames(spec.slug)), spec);
  return done;
}

async function restart(): Promise<void> {
  await db?.end();
  db = undefined;
  platform = await startPlatform({ dataDir, env });
}

async function changeTier(price: string): Promise<void> {
  const stripe = stripeClient({ secretKey: LOCAL_SECRET_KEY, apiBase: localStripeUrl(dataDir) ?? "" });
  const [customer] = (await stripe.customers.list({ email: EMAIL, limit: 1 })).data;
  const [subscription] = (await stripe.subscriptions.list({ customer: customer?.id ?? "", limit: 1 })).data;
  await stripe.subscriptions.update(subscription?.id ?? "", {
    items: [{ id: subscription?.items.data[0]?.id ?? "", price }],
  });
}

describe("no process outlives the platform", { timeout: 1_200_000 }, () => {
  it("SIGKILL of the pool worker, then of the platform, in the middle of provisioning", async () => {
    // Every host command slowed down, so provisioning lasts long enough to be interrupted.
    await faults.setDelay(300);
    expect(
      await runJourney("checkout", {
        stripeUrl: localStripeUrl(dataDir) ?? "",
        secretKey: LOCAL_SECRET_KEY,
        email: EMAIL,
      }),
    ).toBe(true);

    const worker = pick(
      await midUp(),
      "pool worker",
      (p) => p.comm !== "tether" && /pool\/worker\.ts/.test(p.command),
    );
    const workerTree = snapshotTree(worker);
    expect(commands(workerTree)).toMatch(/pulumi-resource-command/);
    expect(commands(workerTree)).toMatch(ANALYZER_PROCESS);
    process.kill(worker, "SIGKILL");
    expect(await survivors(workerTree, 20_000)).toEqual([]);
    expect(isRunning(platform.pid)).toBe(true);

    // The reconcile is retried on a new worker; the platform is killed in the middle of that up.
    const tree = await midUp();
    const marker = platform.marker();
    const killed = platform.pid;
    platform.child.kill("SIGKILL");
    await platform.exited;
    await expectNothingLeft(tree, marker);

    await faults.setDelay(0);
    await restart();
    expect(platform.output()).toContain(`The earlier run of this data folder (pid ${killed}, started`);
    expect(platform.output()).toContain("did not stop cleanly; none of its processes was left running.");
    await converged("starter");
  });

  it.each([
    ["SIGTERM", "price_mindroom_professional", "professional"],
    ["SIGINT", "price_mindroom_starter", "starter"],
  ] as const)(
    "%s in the middle of an up: stopped within 30 s, nothing left, converged by the next start",
    async (signal, price, tier) => {
      await faults.setDelay(300);
      await changeTier(price);
      const tree = await midUp();
      const marker = platform.marker();
      const began = Date.now();
      platform.child.kill(signal);
      const exit = await platform.exited;
      const stopMs = Date.now() - began;
      console.info(`${signal} mid-up: the platform stopped in ${(stopMs / 1000).toFixed(1)} s`);
      expect(stopMs).toBeLessThan(30_000);
      expect(exit).toEqual({ code: 0, signal: null });
      expect(platform.output()).toContain(`stopping (${signal})`);
      await expectNothingLeft(tree, marker);

      await faults.setDelay(0);
      await restart();
      expect(platform.output()).not.toContain("did not stop cleanly");
      await converged(tier);
    },
  );

  it("SIGKILL mid-up with a child that outlives it: the next start ends and reports it, and converges the tenant", async () => {
    await faults.setDelay(300);
    await changeTier("price_mindroom_professional");
    const tree = await midUp();
    // Mailpit's tether stopped, as a hung process would be: it cannot act on the platform's death.
    const tether = pick(
      tree,
      "tethered Mailpit",
      (p) => p.comm === "tether" && / -- \S*mailpit /.test(p.command),
    );
    const stranded = snapshotTree(tether);
    expect(commands(stranded)).toMatch(/mailpit/);
    process.kill(tether, "SIGSTOP");
    const killed = platform.pid;
    platform.child.kill("SIGKILL");
    await platform.exited;
    // All the rest, the up in flight included, ends as always; the stranded child is left for the next start.
    const strandedPids = new Set(stranded.map((p) => p.pid));
    expect(
      await survivors(
        tree.filter((p) => !strandedPids.has(p.pid)),
        20_000,
      ),
    ).toEqual([]);
    expect(stranded.every((p) => isRunning(p.pid, p.startTicks))).toBe(true);

    await faults.setDelay(0);
    await restart();
    expect(platform.output()).toMatch(
      new RegExp(
        `The earlier run of this data folder \\(pid ${killed}, started [^)]+\\) did not stop cleanly; ended \\d+ process(es)? it left running:\\n  mailpit \\(pid ${tether}, running since `,
      ),
    );
    expect(await survivors(stranded, 1_000)).toEqual([]);
    await converged("professional");
  });
});
