/**
 * The alert rules and the dashboard under ops/, checked with the real promtool
 * (built by toolchain/ensure.sh): the rules load, every rule has a firing and a
 * quiet case in alerts.test.yml and `promtool test rules` passes them, and
 * every metric a rule or a dashboard panel reads is one the platform exports.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { load } from "js-yaml";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { toolsDir } from "../automation/pulumiToolchain.ts";
import { registerFleetMetrics } from "../webhooks/fleetMetrics.ts";
import { createMetrics } from "../webhooks/metrics.ts";
import { workerMetrics } from "../webhooks/reconcile/workerMetrics.ts";
import { lastRunGauge } from "../webhooks/tenantHealth/schedule.ts";

const run = promisify(execFile);
const OPS = import.meta.dirname;
const PROMTOOL = join(toolsDir(), "promtool", "bin", "promtool");
const RULES = join(OPS, "prometheus", "alerts.yml");
const RULE_TESTS = join(OPS, "prometheus", "alerts.test.yml");
const DASHBOARD = join(OPS, "grafana", "mindroom.json");

interface RuleFile {
  groups: { name: string; rules: { alert?: string; expr: string }[] }[];
}
interface RuleTests {
  tests: { alert_rule_test?: { alertname: string; exp_alerts?: unknown[] }[] }[];
}
interface Dashboard {
  panels: { title: string; type: string; targets?: { expr: string }[] }[];
}

const rules = load(readFileSync(RULES, "utf8")) as RuleFile;
const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as Dashboard;

function promtool(args: string[], cwd = OPS) {
  if (!existsSync(PROMTOOL))
    throw new Error(`${PROMTOOL} is missing: run toolchain/ensure.sh --only promtool`);
  return run(PROMTOOL, args, { cwd });
}

/** Every metric the platform's processes export, by the names Prometheus stores (histograms as _bucket, _sum, _count). */
async function exportedNames(): Promise<Set<string>> {
  const webhook = createMetrics({ processMetrics: true });
  workerMetrics(webhook.registry);
  // Registering reads nothing; the pool is never used.
  const pool = new pg.Pool({ max: 1 });
  registerFleetMetrics(webhook.registry, { pool, hosts: () => [], operationTimeoutMs: 1 });
  lastRunGauge(webhook.registry);
  await pool.end();
  const { portalMetrics } = await import("../portal/src/server/metrics.ts");
  const names = new Set<string>(["up"]);
  for (const r of [webhook.registry, portalMetrics().registry]) {
    for (const { name, type } of r.getMetricsAsArray()) {
      names.add(name);
      if ((type as unknown) === "histogram")
        for (const suffix of ["_bucket", "_sum", "_count"]) names.add(`${name}${suffix}`);
    }
  }
  return names;
}

/** Metric names a PromQL expression reads (ours all start with `mindroom_`; `up` is Prometheus's own). */
function metricsIn(expr: string): string[] {
  return [
    ...new Set(
      [...expr.matchAll(/\b(mindroom_[a-z0-9_]+|up)\b(?=\s*[{[)\s]|$)/g)].map((m) => m[1] as string),
    ),
  ];
}

describe("alert rules (ops/prometheus)", () => {
  it("load in promtool", async () => {
    const { stdout } = await promtool(["check", "rules", RULES]);
    expect(stdout).toContain(`SUCCESS: ${alerts.length} rules found`);
  });

  it("cover what operators must hear about", () => {
    expect(alerts.map((a) => a.alert).sort()).toEqual(
      [
        "MindroomBackupMissing",
        "MindroomCapacityExhausted",
        "MindroomCertificateExpiringSoon",
        "MindroomDeadLetters",
        "MindroomDriftFound",
        "MindroomHealthChecksStale",
        "MindroomHostHeadroomLow",
        "MindroomProcessDown",
        "MindroomProvisioningFailed",
        "MindroomProvisioningStuck",
        "MindroomReconcileErrorRate",
        "MindroomTenantDegraded",
        "MindroomWebhookErrors",
        "MindroomWebhookLatency",
        "MindroomWebhookRejections",
      ].sort(),
    );
  });

  it("each have a firing and a quiet case in alerts.test.yml", () => {
    const cases = (load(readFileSync(RULE_TESTS, "utf8")) as RuleTests).tests.flatMap(
      (t) => t.alert_rule_test ?? [],
    );
    const missing = alerts.flatMap(({ alert }) => {
      const mine = cases.filter((c) => c.alertname === alert);
      return [
        ...(mine.some((c) => (c.exp_alerts ?? []).length > 0) ? [] : [`${alert}: no firing case`]),
        ...(mine.some((c) => (c.exp_alerts ?? []).length === 0) ? [] : [`${alert}: no quiet case`]),
      ];
    });
    expect(missing).toEqual([]);
  });

  it("pass their unit tests (promtool test rules)", async () => {
    const { stdout } = await promtool(["test", "rules", RULE_TESTS], join(OPS, "prometheus"));
    expect(stdout).toContain("SUCCESS");
  });

  it("and the dashboard read only metrics the platform exports", async () => {
    const names = await exportedNames();
    const read = [
      ...alerts.map((a) => ({ where: `rule ${a.alert}`, expr: a.expr })),
      ...dashboard.panels.flatMap((p) =>
        (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr })),
      ),
    ];
    const unknown = read.flatMap(({ where, expr }) =>
      metricsIn(expr)
        .filter((name) => !names.has(name))
        .map((name) => `${where}: ${name}`),
    );
    expect(unknown).toEqual([]);
    expect(read.every(({ expr }) => metricsIn(expr).length > 0)).toBe(true);
  });
});

describe("Grafana dashboard (ops/grafana)", () => {
  it("has panels for the pipeline, tenants, hosts and backups, each query valid PromQL", async () => {
    const titles = dashboard.panels.map((p) => p.title);
    for (const wanted of [
      "Stripe events",
      "Reconcile queue",
      "Tenants by state",
      "Degraded tenants",
      "Host memory headroom",
      "Oldest backup",
    ])
      expect(titles).toContain(wanted);
    for (const panel of dashboard.panels) {
      for (const target of panel.targets ?? []) {
        // promtool's formatter parses the expression and fails on a syntax error.
        await expect(
          promtool(["promql", "format", "--experimental", target.expr]),
          panel.title,
        ).resolves.toBeTruthy();
      }
    }
  });
});
