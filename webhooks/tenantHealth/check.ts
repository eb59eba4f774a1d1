/**
 * The scheduled tenant health check: every running tenant's apps as its Dokku
 * host reports them (one SSH session per host, read-only Dokku commands) and,
 * where turned on, an HTTP probe of each readiness URL. The verdict
 * (assess.ts) is recorded on the instance row, which the customer's dashboard
 * and the operator console read; a change of verdict is audited. Tenants that
 * are not running (suspended, provisioning, waiting) are not judged: their
 * health goes back to `unknown`.
 */
import type pg from "pg";
import type { ProbeResult } from "../../automation/driftProbes.ts";
import { type HostAccess, runDokkuReads } from "../../automation/hostShell.ts";
import { tenantDomains, tenantNames } from "../../components/tenantNames.ts";
import { parseTenantSpec, type TenantSpec } from "../../components/tenantSpec.ts";
import { audit } from "../../database/auditLog.ts";
import type { Logger } from "../../logging/logger.ts";
import {
  type AppExpectation,
  type AppObservation,
  assessTenant,
  type CertsReport,
  type HealthReport,
  type HttpProbe,
  type PsReport,
} from "./assess.ts";

export interface HealthCheckSettings {
  /** Probe each app's readiness URL over HTTPS (`MINDROOM_HEALTH_HTTP_PROBE`). */
  readonly httpProbe: boolean;
  readonly httpTimeoutMs: number;
  /** Hosts checked at once. */
  readonly hostConcurrency?: number;
}

export interface HealthCheckDeps {
  readonly db: { readonly pool: pg.Pool };
  /** The Dokku hosts' private key (read when a run starts, so a rotated key is picked up). */
  readonly privateKey: () => string;
  readonly settings: HealthCheckSettings;
  readonly log: Logger;
  /** Read-only Dokku commands over one SSH session (default: automation/hostShell.ts). */
  readonly reads?: (access: HostAccess, commands: readonly string[]) => Promise<ProbeResult[]>;
  readonly fetch?: typeof fetch;
}

export interface CheckedTenant {
  readonly instanceId: string;
  readonly slug: string;
  readonly report: HealthReport;
}

export interface HealthRun {
  readonly startedAt: Date;
  readonly durationMs: number;
  readonly tenants: readonly CheckedTenant[];
  /** Tenants whose verdict changed, and to what. */
  readonly changed: readonly { readonly slug: string; readonly health: HealthReport["health"] }[];
}

interface RunningTenant {
  readonly id: string;
  readonly customerId: string;
  readonly slug: string;
  readonly health: string;
  readonly spec: TenantSpec;
}

/** Why readiness URLs were not probed, as the report and the portal say it. */
export const HTTP_PROBE_OFF =
  "readiness URLs are not probed here (MINDROOM_HEALTH_HTTP_PROBE=off): the Dokku test host runs no containers, so only Dokku's own reports are checked";

async function runningTenants(pool: pg.Pool, log: Logger): Promise<RunningTenant[]> {
  // Not running as far as the platform knows: no verdict (a suspended tenant runs nothing on purpose).
  await pool.query(
    `update public.instances set health = 'unknown', health_report = null, health_checked_at = null
      where health <> 'unknown' and not (desired_state = 'running' and actual_state = 'running')`,
  );
  const { rows } = await pool.query<{
    id: string;
    customer_id: string;
    slug: string;
    health: string;
    spec: unknown;
  }>(
    `select id, customer_id, slug, health, spec from public.instances
      where desired_state = 'running' and actual_state = 'running' and spec is not null
      order by slug`,
  );
  const tenants: RunningTenant[] = [];
  for (const row of rows) {
    try {
      tenants.push({
        id: row.id,
        customerId: row.customer_id,
        slug: row.slug,
        health: row.health,
        spec: parseTenantSpec(row.spec),
      });
    } catch (error) {
      log.warn("tenant spec unreadable, not health-checked", { tenant: row.slug, error });
    }
  }
  return tenants;
}

function expectations(spec: TenantSpec): AppExpectation[] {
  const names = tenantNames(spec.slug);
  const domains = tenantDomains(spec.slug, spec.baseDomain);
  const processes = spec.suspended ? 0 : 1;
  return [
    {
      role: "runtime",
      app: names.runtimeApp,
      processes,
      readinessUrl: `https://${domains.app}/api/ready`,
    },
    {
      role: "homeserver",
      app: names.homeserverApp,
      processes,
      readinessUrl: `https://${domains.matrix}/_matrix/client/versions`,
    },
  ];
}

function parsedReport(result: ProbeResult | undefined): PsReport {
  if (!result) return { ok: false, code: -1 };
  if (result.code !== 0) return { ok: false, code: result.code };
  try {
    const report = JSON.parse(result.stdout) as unknown;
    if (report && typeof report === "object" && !Array.isArray(report))
      return { ok: true, report: report as Record<string, unknown> };
  } catch {
    // fall through: unreadable output counts as a failed read
  }
  return { ok: false, code: -1 };
}

async function probe(url: string, settings: HealthCheckSettings, get: typeof fetch): Promise<HttpProbe> {
  if (!settings.httpProbe) return { probed: false, reason: HTTP_PROBE_OFF };
  const started = performance.now();
  try {
    const response = await get(url, {
      redirect: "manual",
      signal: AbortSignal.timeout(settings.httpTimeoutMs),
    });
    await response.body?.cancel();
    return { probed: true, status: response.status, ms: Math.round(performance.now() - started) };
  } catch (error) {
    return {
      probed: true,
      status: null,
      error:
        (error as Error).name === "TimeoutError"
          ? `no answer within ${settings.httpTimeoutMs} ms`
          : (error as Error).message,
      ms: Math.round(performance.now() - started),
    };
  }
}

/** All tenants of one host in one SSH session: `ps:report` and `certs:report` of each app. */
async function observeHost(
  deps: HealthCheckDeps,
  tenants: readonly RunningTenant[],
  privateKey: string,
): Promise<Map<string, AppObservation>> {
  const first = tenants[0] as RunningTenant;
  const access: HostAccess = { url: first.spec.host.url, hostKey: first.spec.host.hostKey, privateKey };
  const apps = tenants.flatMap((t) => expectations(t.spec));
  const commands = apps.flatMap((a) => [
    `ps:report ${a.app} --format json`,
    `certs:report ${a.app} --format json`,
  ]);
  const reads = deps.reads ?? runDokkuReads;
  let results: ProbeResult[] | undefined;
  try {
    results = await reads(access, commands);
  } catch (error) {
    deps.log.warn("health check could not read the host", { host: access.url, error });
  }
  const get = deps.fetch ?? fetch;
  const observations = new Map<string, AppObservation>();
  await Promise.all(
    apps.map(async (app, i) => {
      const http = await probe(app.readinessUrl, deps.settings, get);
      // An unreachable host: every app on it unreported (exit 255, like ssh's own failure).
      const ps = results ? parsedReport(results[2 * i]) : ({ ok: false, code: 255 } as const);
      const certs: CertsReport = results ? parsedReport(results[2 * i + 1]) : { ok: false, code: 255 };
      observations.set(app.app, { ps, certs, http });
    }),
  );
  return observations;
}

async function inBatches<T>(items: readonly T[], size: number, each: (item: T) => Promise<void>) {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(each));
}

async function record(pool: pg.Pool, tenant: RunningTenant, report: HealthReport): Promise<boolean> {
  const { rowCount } = await pool.query(
    `update public.instances
        set health = $2, health_report = $3, health_checked_at = now()
      where id = $1 and desired_state = 'running' and actual_state = 'running'`,
    [tenant.id, report.health, JSON.stringify(report)],
  );
  const changed = (rowCount ?? 0) > 0 && tenant.health !== report.health;
  // The first verdict of a healthy tenant is not news; becoming degraded, or recovering, is.
  if (changed && (report.health === "degraded" || tenant.health === "degraded")) {
    await audit(pool, {
      actor: "worker",
      customerId: tenant.customerId,
      instanceId: tenant.id,
      action: report.health === "degraded" ? "instance.degraded" : "instance.recovered",
      reason:
        report.health === "degraded"
          ? report.findings.map((f) => f.message).join("; ")
          : "every health check passes again",
      // The probes' own errors are for operators: the findings shown to the customer leave them out.
      details: {
        findings: report.findings.map((f) => ({ ...f })),
        readiness: report.readiness.map((r) => ({ ...r })),
      },
    });
  }
  return changed;
}

export async function checkTenantHealth(deps: HealthCheckDeps): Promise<HealthRun> {
  const startedAt = new Date();
  const tenants = await runningTenants(deps.db.pool, deps.log);
  const byHost = new Map<string, RunningTenant[]>();
  for (const t of tenants) byHost.set(t.spec.host.url, [...(byHost.get(t.spec.host.url) ?? []), t]);
  const privateKey = tenants.length > 0 ? deps.privateKey() : "";
  const checked: CheckedTenant[] = [];
  const changed: HealthRun["changed"][number][] = [];
  await inBatches([...byHost.values()], deps.settings.hostConcurrency ?? 4, async (onHost) => {
    const observations = await observeHost(deps, onHost, privateKey);
    for (const tenant of onHost) {
      const report = assessTenant(
        expectations(tenant.spec).map((expected) => ({
          expected,
          observed: observations.get(expected.app) as AppObservation,
        })),
      );
      checked.push({ instanceId: tenant.id, slug: tenant.slug, report });
      if (await record(deps.db.pool, tenant, report))
        changed.push({ slug: tenant.slug, health: report.health });
    }
  });
  const run = { startedAt, durationMs: Date.now() - startedAt.getTime(), tenants: checked, changed };
  deps.log.info("tenant health checked", {
    tenants: checked.length,
    degraded: checked.filter((t) => t.report.health === "degraded").length,
    changed: changed.length,
    durationMs: run.durationMs,
  });
  return run;
}
