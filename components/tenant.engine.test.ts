/**
 * MindRoomTenant through the real engine against the Dokku test host (DNS and
 * backups off). Host state is read only through Dokku's own commands.
 */
import type { EngineEvent } from "@pulumi/pulumi/automation/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { dokkuTarget } from "../testing/dokkuTarget.ts";
import type { EngineStack } from "../testing/engineStack.ts";
import { expectGone, expectTenant, observeTenant } from "../testing/tenantObserver.ts";
import { configure, hostSpec, tenantStack } from "../testing/tenantStacks.ts";
import { tenantNames } from "./tenantNames.ts";
import { parseTenantSpec, type TenantSpecInput } from "./tenantSpec.ts";

const target = dokkuTarget();
const unique = (base: string) =>
  `${base}-${process.pid.toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;

/**
 * Real resources a preview would change, by operation. Components are left out:
 * their recorded inputs change with the spec, but they do nothing on the host.
 */
async function previewSteps(engine: EngineStack): Promise<{ op: string; name: string }[]> {
  const steps: { op: string; name: string }[] = [];
  await engine.stack.preview({
    onEvent: (e: EngineEvent) => {
      const m = e.resourcePreEvent?.metadata;
      const component = m?.type.startsWith("mindroom:") || m?.type === "pulumi:pulumi:Stack";
      if (m && !component && m.op !== "same")
        steps.push({ op: m.op, name: m.urn.split("::").pop() ?? m.urn });
    },
  });
  return steps.sort((a, b) => a.name.localeCompare(b.name));
}

async function upOk(engine: EngineStack) {
  const result = await engine.stack.up();
  expect(result.summary.result).toBe("succeeded");
  return result;
}

describe("one tenant's life on the Dokku test host", { timeout: 600_000 }, () => {
  const slug = unique("life");
  const names = tenantNames(parseTenantSpec(hostSpec(target, slug)).slug);
  let spec: TenantSpecInput;
  let engine: EngineStack;

  beforeAll(async () => {
    spec = hostSpec(target, slug, { tier: "starter" });
    engine = await tenantStack(target, spec);
  });
  afterAll(async () => {
    await engine?.stack.destroy().catch(() => undefined);
    engine?.dispose();
  });

  it("up creates exactly the expected tenant", async () => {
    const result = await upOk(engine);
    expect(result.outputs.urls?.value).toEqual({
      app: `https://${slug}.mindroom.test`,
      api: `https://${slug}.api.mindroom.test`,
      matrix: `https://${slug}.matrix.mindroom.test`,
    });
    expectTenant(await observeTenant(target, names), parseTenantSpec(spec));
  });

  it("changes nothing on a second up", async () => {
    const again = await upOk(engine);
    expect(Object.keys(again.summary.resourceChanges ?? {})).toEqual(["same"]);
  });

  it("changes a tier in place: only limits and tier config, and nothing else on the host", async () => {
    const before = await observeTenant(target, names);
    spec = { ...spec, tier: "professional" };
    await configure(engine, target, spec);
    // The config template is the tier's (more agents); the runtime reads it only on a first start.
    expect(await previewSteps(engine)).toEqual(
      [
        "homeserver-limits",
        "runtime-config",
        "runtime-file-platform-config-template-yaml",
        "runtime-limits",
      ].map((n) => ({
        op: "update",
        name: `tenant-${n}`,
      })),
    );
    await upOk(engine);
    const after = await observeTenant(target, names);
    expectTenant(after, parseTenantSpec(spec));
    for (const app of [names.runtimeApp, names.homeserverApp]) {
      const { limits: _l, config: _c, ...rest } = after.byApp[app] ?? ({} as never);
      const { limits: _bl, config: _bc, ...restBefore } = before.byApp[app] ?? ({} as never);
      expect(rest, `${app} beyond limits and config`).toEqual(restBefore);
    }
  });

  it("redeploys only the app whose image changed", async () => {
    const image = `ghcr.io/mindroom-ai/mindroom@sha256:${"d".repeat(64)}`;
    spec = {
      ...spec,
      images: { ...(spec.images as { runtime: string; homeserver: string; backup: string }), runtime: image },
    };
    await configure(engine, target, spec);
    expect(await previewSteps(engine)).toEqual([{ op: "update", name: "tenant-runtime-deploy" }]);
    await upOk(engine);
    expectTenant(await observeTenant(target, names), parseTenantSpec(spec));
  });

  it("suspends by scaling to zero, keeping all data, and resumes", async () => {
    const running = await observeTenant(target, names);
    await configure(engine, target, { ...spec, suspended: true });
    await upOk(engine);
    const suspended = await observeTenant(target, names);
    expectTenant(suspended, parseTenantSpec({ ...spec, suspended: true }));
    expect(suspended.storage).toEqual(running.storage);
    expect(suspended.byApp[names.runtimeApp]?.config).toEqual(running.byApp[names.runtimeApp]?.config);
    await configure(engine, target, spec);
    await upOk(engine);
    expect(await observeTenant(target, names)).toEqual(running);
  });

  it("leaves nothing of the tenant on the host after destroy", async () => {
    const result = await engine.stack.destroy();
    expect(result.summary.result).toBe("succeeded");
    expectGone(await observeTenant(target, names));
  });
});

describe("a Synapse tenant", { timeout: 600_000 }, () => {
  it("gets its own Postgres and Redis, linked before the deploy, and removes them on destroy", async () => {
    const spec = hostSpec(target, unique("syn"), { homeserver: "synapse", tier: "free" });
    const names = tenantNames(parseTenantSpec(spec).slug);
    const engine = await tenantStack(target, spec);
    try {
      await upOk(engine);
      expectTenant(await observeTenant(target, names), parseTenantSpec(spec));
      await engine.stack.destroy();
      expectGone(await observeTenant(target, names));
    } finally {
      engine.dispose();
    }
  });
});

describe("two tenants on one host", { timeout: 600_000 }, () => {
  it("share nothing: names, networks, services and config are their own", async () => {
    const specs = [unique("one"), unique("two")].map((slug) =>
      hostSpec(target, slug, { homeserver: "synapse" }),
    );
    const engines = await Promise.all(specs.map((s) => tenantStack(target, s)));
    try {
      await Promise.all(engines.map(upOk));
      const [a, b] = await Promise.all(
        specs.map((s) => observeTenant(target, tenantNames(parseTenantSpec(s).slug))),
      );
      if (!a || !b) throw new Error("unreachable");
      expectTenant(a, parseTenantSpec(specs[0] as TenantSpecInput));
      expectTenant(b, parseTenantSpec(specs[1] as TenantSpecInput));
      const namesOf = (o: typeof a) => [...o.apps, ...o.storage, ...o.services];
      expect(namesOf(a).filter((n) => namesOf(b).includes(n))).toEqual([]);
      const networks = [a, b].map((o) => new Set(Object.values(o.byApp).map((x) => x.initialNetwork)));
      expect(networks.map((n) => n.size)).toEqual([1, 1]);
      expect([...(networks[0] ?? [])]).not.toEqual([...(networks[1] ?? [])]);
      const dbs = [a, b].map((o) =>
        Object.values(o.byApp)
          .map((x) => x.config.DATABASE_URL)
          .find(Boolean),
      );
      expect(dbs[0]).not.toEqual(dbs[1]);
    } finally {
      await Promise.all(engines.map((e) => e.stack.destroy().catch(() => undefined)));
      for (const e of engines) e.dispose();
    }
  });
});

describe("hostile values", { timeout: 600_000 }, () => {
  it("reach the host byte for byte when they are free text", async () => {
    // Control characters are refused at the edge (tenantSpec.test.ts); every other byte is free text.
    const displayName = `-n it's "quoted" $(id) \`uname\` ; rm -rf / & | > a\\b`;
    const spec = hostSpec(target, unique("odd"), { displayName });
    const names = tenantNames(parseTenantSpec(spec).slug);
    const engine = await tenantStack(target, spec);
    try {
      await upOk(engine);
      const observed = await observeTenant(target, names);
      expect(observed.byApp[names.runtimeApp]?.config.MINDROOM_INSTANCE_NAME).toBe(displayName);
    } finally {
      await engine.stack.destroy().catch(() => undefined);
      engine.dispose();
    }
  });

  it.each([`ac'me`, "ac me", "$(id)", "acme\nx", "-acme", "ACME"])(
    "refuse a slug like %j before anything runs",
    async (slug) => {
      const before = (await target.commandLog?.())?.length ?? 0;
      const spec = hostSpec(target, "placeholder");
      const engine = await tenantStack(target, { ...spec, slug }, unique("bad"));
      try {
        await expect(engine.stack.up()).rejects.toThrow(/invalid slug/);
        // Other test files share the host: look only for commands about this tenant.
        const mine = ((await target.commandLog?.()) ?? [])
          .slice(before)
          .filter((c) => c.argv.some((a) => a.includes(slug)));
        expect(mine).toEqual([]);
      } finally {
        engine.dispose();
      }
    },
  );
});

/**
 * A fault at each remote step, then a re-run: the tenant converges to exactly
 * the expected state. Dropping the connection after the host applied a
 * non-idempotent create is the case probe-then-act exists for.
 */
const FAULT_STEPS: { step: string; kind: "drop-after" | "drop-before" | "fail" }[] = [
  { step: "network:create", kind: "drop-after" },
  { step: "storage:create", kind: "fail" },
  { step: "apps:create", kind: "drop-after" },
  { step: "network:set", kind: "fail" },
  { step: "storage:mount", kind: "drop-before" },
  { step: "ports:set", kind: "fail" },
  { step: "domains:set", kind: "drop-after" },
  { step: "docker-options:add", kind: "drop-after" },
  { step: "config:import", kind: "drop-after" },
  { step: "resource:limit", kind: "fail" },
  { step: "resource:reserve", kind: "drop-before" },
  { step: "git:from-image", kind: "drop-after" },
  { step: "ps:scale", kind: "fail" },
  { step: "letsencrypt:enable", kind: "drop-after" },
];

describe.skipIf(!target.faults)(
  `a fault at each remote step (${target.faultsUnavailable ?? "project host"})`,
  () => {
    // The host runs one command at a time, so concurrent cases queue behind each other: allow for it.
    // One retry (on a new tenant): under heavy load, concurrent inline programs in this one test
    // process occasionally end a finished run with the SDK's "Resource monitor is terminating".
    it.concurrent.each(FAULT_STEPS)(
      "converges after $step ($kind)",
      { timeout: 600_000, retry: 1 },
      async ({ step, kind }) => {
        const faults = target.faults;
        if (!faults) throw new Error("unreachable");
        const spec = hostSpec(target, unique("fault"));
        const names = tenantNames(parseTenantSpec(spec).slug);
        // Only this tenant's commands match, so concurrent cases do not interfere.
        const match = new RegExp(
          `^${step} .*\\b(${names.runtimeApp}|${names.network}|${names.runtimeStorage})\\b`,
        );
        const engine = await tenantStack(target, spec);
        try {
          if (kind === "fail")
            await faults.failNext(match, { exitCode: 1, stderr: " !     injected failure" });
          else await faults.dropNth(1, { when: kind === "drop-after" ? "after" : "before", match });
          await expect(engine.stack.up()).rejects.toThrow();
          const mine = (await faults.pending()).filter((rule) => rule.match?.source === match.source);
          expect(mine, "the fault fired").toEqual([]);
          await upOk(engine);
          expectTenant(await observeTenant(target, names), parseTenantSpec(spec));
          await engine.stack.destroy();
          expectGone(await observeTenant(target, names));
        } finally {
          await engine.stack.destroy().catch(() => undefined);
          engine.dispose();
        }
      },
    );
  },
);
