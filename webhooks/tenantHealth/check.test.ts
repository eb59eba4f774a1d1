/**
 * Tenant health: the verdict (assess.ts) table by table, then the scheduled
 * check (check.ts) against the Dokku test host over SSH and real Postgres: a
 * tenant whose app is scaled to 0 behind the platform's back is degraded at the
 * next check, recorded and audited, and recovers when it runs again.
 */

import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseTenantSpec } from "../../components/tenantSpec.ts";
import { auditForInstance } from "../../database/auditLog.ts";
import { findInstanceById } from "../../database/instances.ts";
import { silentLogger } from "../../logging/logger.ts";
import { type TestDatabase, testDatabase } from "../../testing/database.ts";
import { runDokku } from "../../testing/dokkuClient.ts";
import { dokkuTarget } from "../../testing/dokkuTarget.ts";
import { seedInstance } from "../../testing/instanceRows.ts";
import { hostSpec } from "../../testing/tenantStacks.ts";
import { type AppExpectation, type AppObservation, assessTenant } from "./assess.ts";
import { checkTenantHealth, HTTP_PROBE_OFF } from "./check.ts";

const runtime: AppExpectation = {
  role: "runtime",
  app: "mr-acme",
  processes: 1,
  readinessUrl: "https://acme.mindroom.test/api/ready",
};
const ps = (report: Record<string, string>) => ({ ok: true as const, report });
const running = ps({ deployed: "true", processes: "1", running: "true" });
const noCerts = { ok: true as const, report: { "ssl-enabled": "false", "ssl-expires-at": "" } };
const notProbed = { probed: false as const, reason: HTTP_PROBE_OFF };
const observed = (o: Partial<AppObservation>): AppObservation => ({
  ps: running,
  certs: noCerts,
  http: notProbed,
  ...o,
});

describe("the health verdict", () => {
  it("is healthy when Dokku reports the app deployed and running its processes, and says the HTTP probe did not run", () => {
    const report = assessTenant([{ expected: runtime, observed: observed({}) }]);
    expect(report).toEqual({
      health: "healthy",
      findings: [],
      certificates: [],
      readiness: [{ app: "mr-acme", probed: false, reason: HTTP_PROBE_OFF }],
    });
  });

  it.each([
    [
      ps({ deployed: "true", processes: "0", running: "false" }),
      "the runtime app runs 0 processes, 1 expected",
    ],
    [ps({ deployed: "true", processes: "1", running: "false" }), "the runtime app is stopped"],
    [
      ps({ deployed: "true", processes: "2", running: "mixed" }),
      "some of the runtime app's processes are not running",
    ],
    [ps({ deployed: "false", processes: "0", running: "false" }), "the runtime app is not deployed"],
    [{ ok: false as const, code: 20 }, "the runtime app mr-acme does not exist on its host"],
    [{ ok: false as const, code: 255 }, "the host did not report the runtime app's processes (exit 255)"],
  ])("is degraded by Dokku's report %#", (report, message) => {
    expect(assessTenant([{ expected: runtime, observed: observed({ ps: report }) }])).toMatchObject({
      health: "degraded",
      findings: [{ app: "mr-acme", role: "runtime", check: "process", message }],
    });
  });

  it("judges the readiness URL when it was probed: 2xx passes, anything else or no answer does not", () => {
    const at = (http: AppObservation["http"]) =>
      assessTenant([{ expected: runtime, observed: observed({ http }) }]);
    expect(at({ probed: true, status: 200, ms: 12 }).health).toBe("healthy");
    expect(at({ probed: true, status: 503, ms: 12 }).findings).toEqual([
      {
        app: "mr-acme",
        role: "runtime",
        check: "readiness",
        message: "https://acme.mindroom.test/api/ready answered 503",
      },
    ]);
    const unanswered = at({ probed: true, status: null, error: "connect ECONNREFUSED 10.0.0.7:443", ms: 3 });
    // The finding is shown to the customer; the network error's text is kept for operators only.
    expect(unanswered.findings[0]?.message).toBe("https://acme.mindroom.test/api/ready did not answer");
    expect(unanswered.readiness).toEqual([
      { app: "mr-acme", probed: true, status: null, error: "connect ECONNREFUSED 10.0.0.7:443", ms: 3 },
    ]);
  });

  it("records certificate expiries as Dokku prints them (openssl's date)", () => {
    const certs = { ok: true as const, report: { "ssl-expires-at": "Mar  1 12:00:00 2027 GMT" } };
    expect(assessTenant([{ expected: runtime, observed: observed({ certs }) }]).certificates).toEqual([
      { app: "mr-acme", expiresAt: "2027-03-01T12:00:00.000Z" },
    ]);
  });
});

describe("the scheduled check on the Dokku test host", () => {
  const target = dokkuTarget();
  const slug = `health${process.pid % 100000}`;
  const apps = [`mr-${slug}`, `mx-${slug}`];
  let db: TestDatabase;
  let instanceId = "";
  const dokku = async (command: string) => {
    const result = await runDokku(target, command);
    expect(result.code, `${command}: ${result.stderr}`).toBe(0);
    return result;
  };

  beforeAll(async () => {
    db = await testDatabase();
    // The two apps as a provisioned tenant has them: created and deployed (scale web=1).
    for (const app of apps) {
      await runDokku(target, `--force apps:destroy ${app}`);
      await dokku(`apps:create ${app}`);
      await dokku(`git:from-image ${app} ghcr.io/mindroom-ai/mindroom@sha256:${"a".repeat(64)}`);
    }
    const spec = parseTenantSpec(hostSpec(target, slug));
    instanceId = (await seedInstance(db.pool, slug, { spec })).id;
  });
  afterAll(async () => {
    for (const app of apps) await runDokku(target, `--force apps:destroy ${app}`);
    await db?.close();
  });

  const check = (httpProbe = false, get?: typeof fetch) =>
    checkTenantHealth({
      db,
      privateKey: () => readFileSync(target.keyPath, "utf8"),
      settings: { httpProbe, httpTimeoutMs: 2000 },
      log: silentLogger,
      ...(get ? { fetch: get } : {}),
    });

  it("finds a running tenant healthy from Dokku's reports, the HTTP probe's absence recorded", async () => {
    const run = await check();
    const mine = run.tenants.find((t) => t.slug === slug);
    expect(mine?.report).toMatchObject({ health: "healthy", findings: [] });
    const instance = await findInstanceById(db.pool, instanceId);
    expect(instance?.health).toBe("healthy");
    expect(instance?.healthCheckedAt).toBeInstanceOf(Date);
    expect(instance?.healthReport?.readiness).toEqual(
      apps.map((app) => ({ app, probed: false, reason: HTTP_PROBE_OFF })),
    );
  });

  it("marks a tenant degraded at the next check when its app is scaled to 0 behind the platform's back, and recovered when it runs again", async () => {
    await dokku(`ps:scale mr-${slug} web=0`);
    const run = await check();
    expect(run.changed).toContainEqual({ slug, health: "degraded" });
    const degraded = await findInstanceById(db.pool, instanceId);
    expect(degraded?.health).toBe("degraded");
    expect(degraded?.healthReport?.findings).toEqual([
      {
        app: `mr-${slug}`,
        role: "runtime",
        check: "process",
        message: "the runtime app runs 0 processes, 1 expected",
      },
    ]);
    // A second check of the same state is no news.
    expect((await check()).changed.find((c) => c.slug === slug)).toBeUndefined();

    await dokku(`ps:scale mr-${slug} web=1`);
    expect((await check()).changed).toContainEqual({ slug, health: "healthy" });
    const trail = (await auditForInstance(db.pool, instanceId)).map((a) => [a.action, a.reason]).reverse();
    expect(trail).toEqual([
      ["instance.degraded", "the runtime app runs 0 processes, 1 expected"],
      ["instance.recovered", "every health check passes again"],
    ]);
  });

  it("probes the readiness URLs over HTTP when turned on", async () => {
    const statuses = new Map([
      [`/${slug}/runtime`, 200],
      [`/${slug}/homeserver`, 502],
    ]);
    const server = createServer((req, res) => res.writeHead(statuses.get(req.url ?? "") ?? 404).end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    // The tenant's public names do not resolve here: route each readiness URL to the local server.
    const routed: typeof fetch = (input, init) => {
      const url = new URL(String(input));
      const role = url.pathname === "/api/ready" ? "runtime" : "homeserver";
      return fetch(`http://127.0.0.1:${port}/${slug}/${role}`, init);
    };
    try {
      const run = await check(true, routed);
      const mine = run.tenants.find((t) => t.slug === slug);
      expect(mine?.report.health).toBe("degraded");
      expect(mine?.report.findings).toEqual([
        {
          app: `mx-${slug}`,
          role: "homeserver",
          check: "readiness",
          message: `https://${slug}.matrix.mindroom.test/_matrix/client/versions answered 502`,
        },
      ]);
    } finally {
      server.close();
    }
  });
});
