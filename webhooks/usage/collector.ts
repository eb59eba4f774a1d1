/**
 * Usage collection: every provisioned tenant (running or suspended) measured
 * on its Dokku host (automation/tenantUsage.ts) and the day's figures recorded
 * in `usage`, with the quota warnings they reach queued as emails in the same
 * transaction (once per metric, threshold and period). Runs on a schedule in
 * the worker process (webhooks/schedules.ts, `MINDROOM_USAGE_INTERVAL`, one
 * collection at a time across workers), or now with `mindroom-ops usage`.
 */
import type pg from "pg";
import type { HostAccess } from "../../automation/hostShell.ts";
import { measureTenantUsage, type TenantUsage } from "../../automation/tenantUsage.ts";
import type { TenantSecrets } from "../../automation/tenantWorkspaces.ts";
import { parseSlug, type Slug } from "../../components/tenantNames.ts";
import { parseTenantSpec } from "../../components/tenantSpec.ts";
import { isTierId, tier as tierOf } from "../../components/tiers.ts";
import { findCustomerById } from "../../database/customers.ts";
import { type Instance, listInstances } from "../../database/instances.ts";
import { subscriptionsForCustomer } from "../../database/subscriptions.ts";
import { transaction } from "../../database/transaction.ts";
import { recordUsage } from "../../database/usage.ts";
import type { Logger } from "../../logging/logger.ts";
import { queueCustomerEmails, quotaWarningEmails } from "../notifications/customerEmails.ts";
import { quotaWarnings } from "./quotaWarnings.ts";

export interface UsageCollectorDeps {
  readonly pool: pg.Pool;
  /** The Dokku hosts' private key (automation/operations.ts `Operations.secrets`). */
  readonly secrets: () => Pick<TenantSecrets, "sshPrivateKey">;
  readonly log: Pick<Logger, "info" | "warn">;
  /** The host adapter (tests may count calls); automation/tenantUsage.ts by default. */
  readonly measure?: (access: HostAccess, slug: Slug) => Promise<TenantUsage>;
  readonly now?: () => Date;
}

export interface TenantMeasurement {
  readonly slug: string;
  readonly day: string;
  readonly usage: TenantUsage | null;
  /** Why it could not be measured (the host did not answer, …). */
  readonly error: string | null;
  /** Quota warning emails newly queued. */
  readonly warnings: number;
}

async function* provisioned(pool: pg.Pool): AsyncGenerator<Instance> {
  let cursor: string | null = null;
  do {
    const page = await listInstances(pool, { actualState: ["running", "suspended"], limit: 200, cursor });
    yield* page.instances;
    cursor = page.nextCursor;
  } while (cursor);
}

/** Measures one tenant and records the day's figures with the warnings they reach. */
async function collectOne(
  deps: UsageCollectorDeps,
  instance: Instance,
  day: string,
): Promise<TenantMeasurement> {
  const spec = parseTenantSpec(instance.spec);
  const access = { url: spec.host.url, hostKey: spec.host.hostKey, privateKey: deps.secrets().sshPrivateKey };
  const usage = await (deps.measure ?? measureTenantUsage)(access, parseSlug(instance.slug));
  const warnings = await transaction(deps.pool, async (tx) => {
    await recordUsage(tx, {
      instanceId: instance.id,
      day,
      storageBytes: usage.storageBytes,
      agents: usage.agents,
      messages: usage.messages,
    });
    const customer = await findCustomerById(tx, instance.customerId);
    if (!customer || !isTierId(instance.tier)) return 0;
    const [subscription] = await subscriptionsForCustomer(tx, customer.id);
    const reached = quotaWarnings(tierOf(instance.tier), usage);
    return queueCustomerEmails(
      tx,
      customer,
      instance.id,
      quotaWarningEmails(customer, instance, reached, {
        day,
        periodEnd: subscription?.currentPeriodEnd ?? null,
      }),
    );
  });
  return { slug: instance.slug, day, usage, error: null, warnings };
}

/** One collection over every provisioned tenant; a tenant that cannot be measured does not stop the others. */
export async function collectUsage(deps: UsageCollectorDeps): Promise<TenantMeasurement[]> {
  const day = (deps.now?.() ?? new Date()).toISOString().slice(0, 10);
  const results: TenantMeasurement[] = [];
  for await (const instance of provisioned(deps.pool)) {
    try {
      results.push(await collectOne(deps, instance, day));
    } catch (error) {
      deps.log.warn("usage not measured", { tenant: instance.slug, error });
      results.push({ slug: instance.slug, day, usage: null, error: (error as Error).message, warnings: 0 });
    }
  }
  deps.log.info("usage collected", {
    tenants: results.length,
    failed: results.filter((r) => r.error).length,
    warnings: results.reduce((n, r) => n + r.warnings, 0),
  });
  return results;
}

/** The queue of the periodic collection (webhooks/schedules.ts). */
export const USAGE_QUEUE = "usage-collection";
