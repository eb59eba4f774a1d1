import { describe, expect, it } from "vitest";
import type { KnownHost } from "../components/hostPool.ts";
import { parseTenantSpec } from "../components/tenantSpec.ts";
import { sampleSpecInput } from "../testing/tenantSamples.ts";
import {
  type Checkpoint,
  MOVE_STEPS,
  type MoveJournal,
  MoveRefusedError,
  type MoveRequest,
  moveTarget,
  nextStep,
  oldHostCheckpoint,
  retarget,
  startedMove,
  stepsLeft,
} from "./movePlan.ts";
import { type MoveActions, MoveJournalError, runMove } from "./tenantMove.ts";

const host = (port: number, memoryMb = 8192, cpus = 4): KnownHost => ({
  url: `ssh://root@10.0.0.${port % 250}:${port}`,
  address: `10.0.0.${port % 250}`,
  memoryMb,
  cpus,
  proxied: false,
});
const A = host(2201);
const B = host(2202);
const C = host(2203, 1024, 1);

const request = (overrides: Partial<MoveRequest> = {}): MoveRequest => ({
  slug: "acme",
  current: A.url,
  target: B.url,
  known: [A, B, C],
  schedulable: [A, B, C],
  placed: [{ host: A.url, memoryMb: 1500, cpus: 1.5 }],
  demand: { memoryMb: 1500, cpus: 1.5 },
  unfinished: null,
  ...overrides,
});

/** The refusal `request` meets: its kind and message. */
function refusal(r: MoveRequest): { refusal: string; message: string } {
  try {
    moveTarget(r);
  } catch (error) {
    expect(error).toBeInstanceOf(MoveRefusedError);
    return { refusal: (error as MoveRefusedError).refusal, message: (error as Error).message };
  }
  throw new Error("the move was not refused");
}

describe("moveTarget: refused before anything changes", () => {
  it("accepts a known, schedulable host with room, however the operator wrote its URL", () => {
    expect(moveTarget(request())).toBe(B);
    expect(moveTarget(request({ target: "ssh://deploy@10.0.0.202:2202" }))).toBe(B);
  });

  it("refuses an unknown host", () => {
    expect(refusal(request({ target: "ssh://root@10.9.9.9:22" }))).toEqual({
      refusal: "unknownHost",
      message:
        "ssh://root@10.9.9.9:22 is not a known host (mindroom-ops hosts list shows them): add it first with mindroom-ops hosts add",
    });
  });

  it("refuses the tenant's current host", () => {
    expect(refusal(request({ target: A.url }))).toEqual({
      refusal: "sameHost",
      message: "tenant acme is on ssh://root@10.0.0.201:2201 already: nothing to move",
    });
  });

  it("refuses a host that takes no tenants (cordoned, draining, not ready)", () => {
    expect(refusal(request({ schedulable: [A] }))).toMatchObject({ refusal: "noTenants" });
  });

  it("refuses a host without the memory the tenant's processes take, counting the tenants on it", () => {
    const full = request({
      placed: [
        { host: B.url, memoryMb: 7000, cpus: 2 },
        { host: A.url, memoryMb: 1500, cpus: 1.5 },
      ],
    });
    expect(refusal(full)).toEqual({
      refusal: "noRoom",
      message: `${B.url} has no room for tenant acme: 1192 MB of 8192 MB and 4 CPU free, 1500 MB and 1.5 CPU needed`,
    });
    // Exactly the room it needs is enough.
    expect(moveTarget(request({ placed: [{ host: B.url, memoryMb: 6692, cpus: 2 }] }))).toBe(B);
  });

  it("refuses a host with too few cores", () => {
    expect(refusal(request({ target: C.url, demand: { memoryMb: 512, cpus: 2 } }))).toMatchObject({
      refusal: "noRoom",
    });
  });

  it("resumes an unfinished move only towards its own target, whatever the tenant's row says now", () => {
    const unfinished: MoveJournal = { ...startedMove(A.url, B.url), step: "restore" };
    // After the switch the row names B, and B may look full: the move still finishes.
    expect(
      moveTarget(request({ current: B.url, unfinished, placed: [{ host: B.url, memoryMb: 8192, cpus: 4 }] })),
    ).toBe(B);
    expect(refusal(request({ target: C.url, unfinished }))).toEqual({
      refusal: "otherMove",
      message:
        "tenant acme is being moved to ssh://root@10.0.0.202:2202 (stopped at its restore step): run mindroom-ops move acme ssh://root@10.0.0.202:2202 to finish that move first",
    });
    expect(refusal(request({ known: [A, C], unfinished }))).toMatchObject({ refusal: "unknownHost" });
  });
});

describe("retarget", () => {
  it("points the connection, the DNS address and its proxying at the new host, nothing else", () => {
    const spec = parseTenantSpec(
      sampleSpecInput({
        slug: "acme",
        host: { url: A.url, hostKey: "ssh-ed25519 AAAAold", address: A.address },
      }),
    );
    const dnsSpec = parseTenantSpec({
      ...spec,
      dns: { enabled: true, zoneId: "0123456789abcdef0123456789abcdef", proxied: false },
    });
    const proxiedB = { ...B, proxied: true };
    const moved = retarget(dnsSpec, proxiedB, "ssh-ed25519 AAAAnew");
    expect(moved).toEqual({
      ...dnsSpec,
      host: { url: B.url, hostKey: "ssh-ed25519 AAAAnew", address: B.address },
      dns: { enabled: true, zoneId: "0123456789abcdef0123456789abcdef", proxied: true },
    });
    expect(retarget(spec, proxiedB, "ssh-ed25519 AAAAnew").dns).toEqual({ enabled: false });
  });
});

describe("step planning", () => {
  it("a new move runs every step in order; a resumed one from where it stopped", () => {
    expect(stepsLeft(startedMove(A.url, B.url))).toEqual([
      "backup",
      "checkpoint",
      "switch",
      "restore",
      "cleanup",
    ]);
    for (const [i, step] of MOVE_STEPS.entries()) {
      expect(stepsLeft({ ...startedMove(A.url, B.url), step })).toEqual(MOVE_STEPS.slice(i));
      expect(nextStep(step)).toBe(MOVE_STEPS[i + 1] ?? null);
    }
  });
});

/** Actions that record what ran and fail once at `failAt`. */
function recording(failAt?: string) {
  const ran: string[] = [];
  let failed = false;
  const act = async <T>(name: string, value: T): Promise<T> => {
    ran.push(name);
    if (name === failAt && !failed) {
      failed = true;
      throw new Error(`${name}: the connection dropped`);
    }
    return value;
  };
  const checkpoint: Checkpoint = { version: 3, deployment: { resources: [] } };
  const actions: MoveActions = {
    backup: () => act("backup", new Date("2026-12-05T10:00:00Z")),
    exportCheckpoint: () => act("checkpoint", checkpoint),
    switchHost: () => act("switch", undefined),
    restore: (at) => act(`restore ${at.toISOString()}`, undefined),
    removeFromOldHost: (c) => act(c === checkpoint ? "cleanup" : "cleanup of another checkpoint", undefined),
  };
  return { ran, actions };
}

function memoryStore() {
  const saved: MoveJournal[] = [];
  let finished = false;
  return {
    saved,
    get finished() {
      return finished;
    },
    last: () => saved.at(-1) as MoveJournal,
    save: async (j: MoveJournal) => {
      saved.push(j);
    },
    finish: async () => {
      finished = true;
    },
  };
}

describe("runMove", () => {
  it("runs the steps in order, recording each before the next, and finishes the journal", async () => {
    const { ran, actions } = recording();
    const store = memoryStore();
    const report = await runMove(startedMove(A.url, B.url), actions, store);
    expect(ran).toEqual(["backup", "checkpoint", "switch", "restore 2026-12-05T10:00:00.000Z", "cleanup"]);
    expect(store.saved.map((j) => j.step)).toEqual(["backup", "checkpoint", "switch", "restore", "cleanup"]);
    expect(store.finished).toBe(true);
    expect(report).toEqual({
      from: A.url,
      to: B.url,
      backupAt: new Date("2026-12-05T10:00:00Z"),
      ran: ["backup", "checkpoint", "switch", "restore", "cleanup"],
    });
  });

  for (const failAt of ["backup", "checkpoint", "switch", "restore 2026-12-05T10:00:00.000Z", "cleanup"]) {
    it(`a run cut off at ${failAt.split(" ")[0]} resumes there with what the journal kept`, async () => {
      const { ran, actions } = recording(failAt);
      const store = memoryStore();
      await expect(runMove(startedMove(A.url, B.url), actions, store)).rejects.toThrow(/connection dropped/);
      expect(store.finished).toBe(false);
      const stopped = store.last();
      expect(stopped.step).toBe(failAt.split(" ")[0]);
      const before = ran.length;
      await runMove(stopped, actions, store);
      // The failed step runs again; none before it does.
      const all = ["backup", "checkpoint", "switch", "restore 2026-12-05T10:00:00.000Z", "cleanup"];
      expect(ran.slice(before)).toEqual(all.slice(all.indexOf(failAt)));
      expect(ran.filter((r) => r === "backup")).toHaveLength(failAt === "backup" ? 2 : 1);
      expect(ran.at(-1)).toBe("cleanup");
      expect(store.finished).toBe(true);
    });
  }

  it("refuses to go on when the journal lost what an earlier step recorded", async () => {
    const { actions } = recording();
    const store = memoryStore();
    await expect(runMove({ ...startedMove(A.url, B.url), step: "restore" }, actions, store)).rejects.toThrow(
      new MoveJournalError("the move's journal has no backup at its restore step"),
    );
    await expect(
      runMove({ ...startedMove(A.url, B.url), step: "cleanup", backupAt: new Date() }, actions, store),
    ).rejects.toThrow(/no checkpoint at its cleanup step/);
    expect(store.finished).toBe(false);
  });

  it("stops between steps when cancelled", async () => {
    const { ran, actions } = recording();
    const controller = new AbortController();
    const store = memoryStore();
    const cancelling: MoveActions = {
      ...actions,
      exportCheckpoint: async () => {
        controller.abort();
        return actions.exportCheckpoint();
      },
    };
    await expect(
      runMove(startedMove(A.url, B.url), cancelling, store, undefined, controller.signal),
    ).rejects.toThrow();
    expect(ran).toEqual(["backup", "checkpoint"]);
    expect(store.last().step).toBe("switch");
  });
});

describe("oldHostCheckpoint", () => {
  const stack = "urn:pulumi:acme::mindroom-tenant::pulumi:pulumi:Stack::mindroom-tenant-acme";
  const tenant = "urn:pulumi:acme::mindroom-tenant::mindroom:index:MindRoomTenant::acme";
  const commandProvider = "urn:pulumi:acme::mindroom-tenant::pulumi:providers:command::default_1_0_0";
  const cloudflareProvider = "urn:pulumi:acme::mindroom-tenant::pulumi:providers:cloudflare::default_5";
  const dns = "urn:pulumi:acme::mindroom-tenant::mindroom:index:MindRoomTenant$mindroom:dns:Record::acme-dns";
  const record =
    "urn:pulumi:acme::mindroom-tenant::mindroom:index:MindRoomTenant$mindroom:dns:Record$cloudflare:index/record:Record::acme";
  const app =
    "urn:pulumi:acme::mindroom-tenant::mindroom:index:MindRoomTenant$mindroom:dokku:App$command:remote:Command::acme-app";
  const finalBackup =
    "urn:pulumi:acme::mindroom-tenant::mindroom:index:MindRoomTenant$command:remote:Command::tenant-final-backup";
  const checkpoint: Checkpoint = {
    version: 3,
    deployment: {
      manifest: { time: "x" },
      secrets_providers: { type: "passphrase", state: { salt: "s" } },
      pending_operations: [{ type: "updating", resource: { urn: app } }],
      resources: [
        { urn: stack, type: "pulumi:pulumi:Stack" },
        { urn: tenant, type: "mindroom:index:MindRoomTenant", parent: stack },
        { urn: commandProvider, type: "pulumi:providers:command", id: "p1" },
        { urn: cloudflareProvider, type: "pulumi:providers:cloudflare", id: "p2" },
        { urn: dns, type: "mindroom:dns:Record", parent: tenant },
        {
          urn: record,
          type: "cloudflare:index/record:Record",
          parent: dns,
          provider: `${cloudflareProvider}::p2`,
        },
        {
          urn: app,
          type: "command:remote:Command",
          parent: tenant,
          provider: `${commandProvider}::p1`,
          retainOnDelete: true,
          dependencies: [record, tenant],
          propertyDependencies: { create: [record], connection: [tenant] },
          deletedWith: record,
        },
        {
          urn: finalBackup,
          type: "command:remote:Command",
          parent: tenant,
          provider: `${commandProvider}::p1`,
          dependencies: [app],
        },
      ],
    },
  };

  it("keeps only what lives on the Dokku host (no cloud resource, no final backup of stale data), with no reference to what it left out and nothing retained", () => {
    const retired = oldHostCheckpoint(checkpoint, { from: "acme", into: "acme" });
    expect(retired.version).toBe(3);
    expect(retired.deployment.secrets_providers).toEqual(checkpoint.deployment.secrets_providers);
    expect(retired.deployment.pending_operations).toEqual([]);
    expect(JSON.parse(JSON.stringify(retired.deployment.resources))).toEqual([
      { urn: stack, type: "pulumi:pulumi:Stack", dependencies: [] },
      { urn: tenant, type: "mindroom:index:MindRoomTenant", parent: stack, dependencies: [] },
      { urn: commandProvider, type: "pulumi:providers:command", id: "p1", dependencies: [] },
      { urn: dns, type: "mindroom:dns:Record", parent: tenant, dependencies: [] },
      {
        urn: app,
        type: "command:remote:Command",
        parent: tenant,
        provider: `${commandProvider}::p1`,
        dependencies: [tenant],
        propertyDependencies: { create: [], connection: [tenant] },
      },
    ]);
    // Every URN names the stack that takes the checkpoint.
    const moved = JSON.stringify(oldHostCheckpoint(checkpoint, { from: "acme", into: "retired.acme" }));
    expect(moved).not.toContain("urn:pulumi:acme::");
    expect(moved.split("urn:pulumi:retired.acme::").length - 1).toBe(11);
    // The original is left as it was.
    expect((checkpoint.deployment.resources as unknown[]).length).toBe(8);
  });
});
