/**
 * The batched drift's decisions: what each tenant's checkpoint allows, one
 * session per host whatever the tenant count, and the same verdict per tenant
 * as its own probes give (drift found or not), so the single-tenant drift runs
 * exactly for the tenants where it finds something or where the batch cannot
 * decide.
 */
import { describe, expect, it } from "vitest";
import { configDigest } from "../components/dokku/configDigest.ts";
import { SAMPLE_HOST_KEY, sampleSpecInput } from "../testing/tenantSamples.ts";
import { driftProbes, findings, type ProbeResult, type RecordedResource } from "./driftProbes.ts";
import {
  batchedDrift,
  cleanResult,
  hostBatches,
  planTenantDrift,
  SESSIONS_PER_HOST,
  sessionBatches,
  TENANTS_PER_SESSION,
} from "./fleetDrift.ts";
import type { HostAccess } from "./hostShell.ts";
import type { StackCheckpoint } from "./stackCheckpoints.ts";

const HOST_A = "ssh://root@127.0.0.1:2222";
const HOST_B = "ssh://root@127.0.0.2:2222";
const CONFIG = { A: "1", B: "secret-value" };
const urn = (slug: string, type: string, name: string) =>
  `urn:pulumi:${slug}::mindroom-tenant::${type}::${name}`;

/** A tenant's recorded resources: its component (with its host), a network, an app with a domain, a command. */
function tenantResources(slug: string, host = HOST_A): RecordedResource[] {
  return [
    { urn: urn(slug, "pulumi:pulumi:Stack", `mindroom-tenant-${slug}`), type: "pulumi:pulumi:Stack" },
    {
      urn: urn(slug, "mindroom:index:MindRoomTenant", "tenant"),
      type: "mindroom:index:MindRoomTenant",
      inputs: {
        spec: sampleSpecInput({
          slug,
          host: { url: host, hostKey: SAMPLE_HOST_KEY, address: "203.0.113.10" },
        }),
      },
    },
    {
      urn: urn(slug, "mindroom:dokku:Network", "tenant-network"),
      type: "mindroom:dokku:Network",
      inputs: { network: `net-${slug}` },
    },
    {
      urn: urn(slug, "mindroom:dokku:App", "tenant-runtime"),
      type: "mindroom:dokku:App",
      inputs: {
        app: `mr-${slug}`,
        network: `net-${slug}`,
        web: { port: 8765, domains: [`${slug}.x.test`], readinessPath: "/api/ready" },
        storage: [],
        foreignMounts: [],
        resources: { memoryMb: 512, cpus: 0.5, reserveMemoryMb: 256 },
        image: "img@sha256:1",
        scale: 1,
        services: [],
        configKeys: ["A", "B"],
        configDigest: configDigest(CONFIG),
      },
    },
    { urn: urn(slug, "pulumi:providers:command", "default"), type: "pulumi:providers:command" },
    {
      urn: urn(slug, "command:remote:Command", "tenant-runtime-app"),
      type: "command:remote:Command",
      inputs: {},
    },
  ];
}
const checkpoint = (resources: readonly RecordedResource[], pendingOperations = 0): StackCheckpoint => ({
  resources,
  pendingOperations,
});

/** A host's apps as Dokku reports them; what an operator changes by hand is a change here. */
interface FakeApp {
  domains: string;
  config: Record<string, string>;
  memory: string;
}

/** Answers a read-only command the way the Dokku double does for these apps (the app is its last word or after the command). */
function answer(apps: ReadonlyMap<string, FakeApp>, command: string): ProbeResult {
  const words = command.split(" ");
  const name = words.find((w) => w.startsWith("mr-") || w.startsWith("net-")) ?? "";
  if (words[0] === "network:exists") return { code: 0, stdout: "" };
  const app = apps.get(name);
  if (!app) return { code: 20, stdout: "" };
  const slug = name.slice(3);
  switch (words[0]) {
    case "apps:exists":
      return { code: 0, stdout: "" };
    case "network:report":
      return { code: 0, stdout: `net-${slug}\n` };
    case "storage:list":
      return { code: 0, stdout: "[]" };
    case "resource:report":
      return {
        code: 0,
        stdout: JSON.stringify({
          "_default_.limit.memory": app.memory,
          "_default_.limit.cpu": "0.5",
          "_default_.reserve.memory": "256",
        }),
      };
    case "config:export":
      return { code: 0, stdout: JSON.stringify({ ...app.config, GIT_REV: "abc" }) };
    case "apps:report":
      return { code: 0, stdout: "img@sha256:1\n" };
    case "ps:scale":
      return { code: 0, stdout: JSON.stringify([{ process_type: "web", quantity: 1 }]) };
    case "domains:report":
      return { code: 0, stdout: `${app.domains}\n` };
    default:
      return { code: 1, stdout: "" };
  }
}

function fakeHost(slugs: readonly string[]) {
  const apps = new Map(
    slugs.map((s) => [`mr-${s}`, { domains: `${s}.x.test`, config: { ...CONFIG }, memory: "512" }]),
  );
  const sessions: { access: HostAccess; commands: readonly string[] }[] = [];
  const reads = async (access: HostAccess, commands: readonly string[]) => {
    sessions.push({ access, commands });
    return commands.map((c) => answer(apps, c));
  };
  return { apps, sessions, reads };
}

describe("planTenantDrift", () => {
  it("probes a tenant whose state is settled and covered by the probes, on the host its component recorded", () => {
    const plan = planTenantDrift("acme", checkpoint(tenantResources("acme", HOST_B)));
    expect(plan).toMatchObject({ kind: "probe", host: { url: HOST_B, hostKey: SAMPLE_HOST_KEY } });
    expect(plan.kind === "probe" && plan.probes.map((p) => p.command)).toEqual(
      driftProbes(tenantResources("acme")).map((p) => p.command),
    );
  });

  it.each([
    ["no checkpoint", undefined, /could not be read/],
    ["an unfinished operation", checkpoint(tenantResources("acme"), 1), /never finished/],
    [
      "a DNS record (its provider can be refreshed)",
      checkpoint([...tenantResources("acme"), { urn: "urn:x", type: "cloudflare:index/record:Record" }]),
      /cloudflare:index\/record:Record needs a refresh/,
    ],
    [
      "no tenant component to name the host",
      checkpoint(tenantResources("acme").filter((r) => r.type !== "mindroom:index:MindRoomTenant")),
      /names no host/,
    ],
  ])("leaves a tenant with %s undecided", (_what, state, why) => {
    const plan = planTenantDrift("acme", state);
    expect(plan.kind).toBe("undecided");
    expect(plan.kind === "undecided" && plan.why).toMatch(why);
  });

  it("finds a stack with nothing on a host clean without probing", () => {
    expect(planTenantDrift("acme", checkpoint([]))).toEqual({ tenant: "acme", kind: "clean" });
  });
});

describe("hostBatches", () => {
  it("groups tenants by host and pinned key, keeping their order", () => {
    const plans = [
      planTenantDrift("alpha", checkpoint(tenantResources("alpha", HOST_A))),
      planTenantDrift("bravo", checkpoint(tenantResources("bravo", HOST_B))),
      planTenantDrift("charlie", checkpoint(tenantResources("charlie", HOST_A))),
      planTenantDrift("delta", undefined),
    ];
    expect(hostBatches(plans).map((b) => [b.host.url, b.tenants.map((t) => t.tenant)])).toEqual([
      [HOST_A, ["alpha", "charlie"]],
      [HOST_B, ["bravo"]],
    ]);
  });
});

describe("sessionBatches", () => {
  const host = { url: HOST_A, hostKey: SAMPLE_HOST_KEY };
  const batchOf = (n: number) => ({
    host,
    tenants: Array.from({ length: n }, (_, i) => ({ tenant: `t-${i}`, probes: [] })),
  });
  it.each([
    [1, [1]],
    [TENANTS_PER_SESSION, [TENANTS_PER_SESSION]],
    [TENANTS_PER_SESSION + 1, [13, 13]],
    [60, [20, 20, 20]],
    [100, [25, 25, 25, 25]],
    [10_000, [2500, 2500, 2500, 2500]],
    [10_001, [2501, 2501, 2501, 2498]],
  ])("splits %i tenants of a host into sessions of %j, in order", (n, sizes) => {
    const sessions = sessionBatches(batchOf(n));
    expect(sessions.map((s) => s.tenants.length)).toEqual(sizes);
    expect(sessions.length).toBeLessThanOrEqual(SESSIONS_PER_HOST);
    expect(sessions.flatMap((s) => s.tenants.map((t) => t.tenant))).toEqual(
      batchOf(n).tenants.map((t) => t.tenant),
    );
    expect(sessions.every((s) => s.host === host)).toBe(true);
  });
});

describe("batchedDrift", () => {
  const slugs = Array.from({ length: 12 }, (_, i) => `tenant-${String(i).padStart(2, "0")}`);
  const checkpoints = new Map(
    slugs.map((s, i) => [s, checkpoint(tenantResources(s, i % 2 ? HOST_B : HOST_A))]),
  );

  it("opens one session per host whatever the tenant count, and finds an untouched fleet clean", async () => {
    const host = fakeHost(slugs);
    const cleanSeen: string[] = [];
    const batch = await batchedDrift(slugs, {
      checkpoints,
      privateKey: "KEY",
      reads: host.reads,
      onClean: (r) => cleanSeen.push(r.tenant),
    });
    expect(batch.sessions).toBe(2);
    expect(host.sessions.map((s) => [s.access.url, s.access.privateKey])).toEqual(
      expect.arrayContaining([
        [HOST_A, "KEY"],
        [HOST_B, "KEY"],
      ]),
    );
    expect(host.sessions.flatMap((s) => s.commands)).toHaveLength(
      slugs.reduce((n, s) => n + driftProbes(tenantResources(s)).length, 0),
    );
    expect(batch.undecided).toEqual([]);
    expect([...batch.clean.keys()].sort()).toEqual([...slugs].sort());
    expect(cleanSeen.sort()).toEqual([...slugs].sort());
    expect(batch.clean.get("tenant-03")).toEqual(
      cleanResult("tenant-03", batch.clean.get("tenant-03")?.durationMs ?? -1),
    );
  });

  it.each([
    ["a missing app", (apps: Map<string, FakeApp>) => apps.delete("mr-tenant-04")],
    [
      "a changed config value",
      (apps: Map<string, FakeApp>) => Object.assign(apps.get("mr-tenant-04")?.config ?? {}, { B: "x" }),
    ],
    ["a removed config key", (apps: Map<string, FakeApp>) => delete apps.get("mr-tenant-04")?.config.A],
    [
      "a missing domain",
      (apps: Map<string, FakeApp>) => Object.assign(apps.get("mr-tenant-04") ?? {}, { domains: "" }),
    ],
    [
      "an extra domain",
      (apps: Map<string, FakeApp>) =>
        Object.assign(apps.get("mr-tenant-04") ?? {}, { domains: "tenant-04.x.test evil.example.com" }),
    ],
    [
      "changed limits",
      (apps: Map<string, FakeApp>) => Object.assign(apps.get("mr-tenant-04") ?? {}, { memory: "77" }),
    ],
  ])("leaves the tenant with %s, and only it, to the single-tenant drift", async (_what, change) => {
    const host = fakeHost(slugs);
    change(host.apps);
    const batch = await batchedDrift(slugs, { checkpoints, privateKey: "KEY", reads: host.reads });
    expect(batch.undecided).toEqual(["tenant-04"]);
    expect(batch.clean.size).toBe(slugs.length - 1);
    // The same verdict as the tenant's own probes on their own give.
    for (const slug of slugs) {
      const probes = driftProbes(tenantResources(slug));
      const own = findings(
        probes,
        probes.map((p) => answer(host.apps, p.command)),
      );
      expect(own.length > 0, slug).toBe(batch.undecided.includes(slug));
    }
  });

  it("spreads a large host over a bounded number of sessions, every tenant's probes in exactly one", async () => {
    const many = Array.from({ length: 130 }, (_, i) => `fleet-${String(i).padStart(3, "0")}`);
    const host = fakeHost(many);
    const batch = await batchedDrift(many, {
      checkpoints: new Map(many.map((s) => [s, checkpoint(tenantResources(s))])),
      privateKey: "KEY",
      reads: host.reads,
    });
    expect(batch.sessions).toBe(SESSIONS_PER_HOST);
    expect(host.sessions).toHaveLength(SESSIONS_PER_HOST);
    expect(host.sessions.flatMap((s) => s.commands).sort()).toEqual(
      many.flatMap((s) => driftProbes(tenantResources(s)).map((p) => p.command)).sort(),
    );
    expect(batch.clean.size).toBe(many.length);
  });

  it("leaves every tenant of a host it cannot reach undecided, and the other host's tenants checked", async () => {
    const host = fakeHost(slugs);
    const batch = await batchedDrift(slugs, {
      checkpoints,
      privateKey: "KEY",
      reads: async (access, commands) => {
        if (access.url === HOST_B) throw new Error("ssh to host B failed");
        return host.reads(access, commands);
      },
    });
    expect(batch.undecided).toEqual(slugs.filter((_, i) => i % 2 === 1));
    expect([...batch.clean.keys()].sort()).toEqual(slugs.filter((_, i) => i % 2 === 0).sort());
  });

  it("leaves everything undecided when the backend cannot be read directly, opening no session", async () => {
    const host = fakeHost(slugs);
    const batch = await batchedDrift(slugs, { checkpoints: undefined, privateKey: "KEY", reads: host.reads });
    expect(batch).toEqual({ clean: new Map(), undecided: slugs, sessions: 0 });
    expect(host.sessions).toEqual([]);
  });
});
