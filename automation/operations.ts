/**
 * The automation layer's front door for callers in other processes' roles (the
 * operator CLI, the reconcile worker): the worker pool for operations that run
 * programs, the tenant leases (operations hold one per tenant: tenantLease.ts),
 * the tenant stack API for reads, the platform's secrets, and the last drift
 * result per tenant.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { KnownHost } from "../components/hostPool.ts";
import { policyPackOptions } from "../policies/packOptions.ts";
import { type BatchedDrift, batchedDrift } from "./fleetDrift.ts";
import type { OperationResult } from "./operationResult.ts";
import { WorkerPool } from "./pool/workerPool.ts";
import { type AutomationSettings, SettingsError } from "./settings.ts";
import { readCheckpoints } from "./stackCheckpoints.ts";
import { leaseTimings, TenantLeases } from "./tenantLease.ts";
import { type PolicyPackOptions, TenantStacks } from "./tenantStacks.ts";
import { PROJECT, type TenantSecrets } from "./tenantWorkspaces.ts";

/** The pack's options for these settings (its config written to the data folder). */
export function defaultPolicyPack(settings: AutomationSettings): PolicyPackOptions | undefined {
  if (!settings.policies) return undefined;
  if (settings.hosts.length === 0) {
    throw new SettingsError(
      "no Dokku hosts: set DOKKU_HOSTS (or start the local host with ./platform start) so the policy pack knows them",
    );
  }
  return policyPackOptions(
    {
      baseDomain: settings.baseDomain,
      environment: settings.environment,
      hosts: settings.hosts,
      rootSecret: settings.rootSecret,
    },
    join(settings.dataDir, "policy"),
  );
}

export interface TenantOverview {
  readonly tenant: string;
  readonly tier?: string;
  readonly status?: string;
  readonly host?: string;
  readonly lastUpdate?: string;
  readonly drift?: string;
}

export class Operations {
  readonly pool: WorkerPool;
  readonly stacks: TenantStacks;
  /** Tenant leases: a caller that records an operation takes the lease first and hands it to the pool. */
  readonly leases: TenantLeases;
  private readonly settings: AutomationSettings;

  private constructor(
    settings: AutomationSettings,
    stacks: TenantStacks,
    pool: WorkerPool,
    leases: TenantLeases,
  ) {
    this.settings = settings;
    this.stacks = stacks;
    this.pool = pool;
    this.leases = leases;
  }

  /**
   * Starts the pool; the policy pack applies to every preview and up unless settings turn it off.
   * `perOperation`: no pool-wide pack, every operation passes its own (see policyFor): for the
   * reconcile worker, whose hosts come from the database and may be none yet.
   */
  static async start(
    settings: AutomationSettings,
    policy: PolicyPackOptions | "perOperation" | undefined = defaultPolicyPack(settings),
  ): Promise<Operations> {
    if (!settings.databaseUrl)
      throw new Error(
        "tenant operations need the platform database (tenant leases, shared stack config): set DATABASE_URL",
      );
    const poolPolicy = policy === "perOperation" ? undefined : policy;
    const stacks = await TenantStacks.open(settings, poolPolicy);
    const leases = TenantLeases.open(settings.databaseUrl, leaseTimings(settings.leaseTtlMs));
    return new Operations(settings, stacks, new WorkerPool(settings, poolPolicy, leases), leases);
  }

  /**
   * The policy pack for operations on these hosts (the hosts table's, which change while the
   * pool runs); undefined when policies are off.
   */
  policyFor(hosts: readonly KnownHost[]): PolicyPackOptions | undefined {
    return defaultPolicyPack({ ...this.settings, hosts });
  }

  /** The platform's secrets for tenant stacks. */
  secrets(): TenantSecrets {
    if (!this.settings.sshKeyPath)
      throw new Error("DOKKU_SSH_KEY is not set: point it at the private key for the Dokku hosts");
    return {
      rootSecret: this.settings.rootSecret,
      sshPrivateKey: readFileSync(this.settings.sshKeyPath, "utf8"),
    };
  }

  /** One row per tenant stack, outputs read four stacks at a time. */
  async overview(): Promise<TenantOverview[]> {
    const stacks = await this.stacks.list();
    const rows: TenantOverview[] = [];
    for (let i = 0; i < stacks.length; i += 4) {
      const batch = stacks.slice(i, i + 4);
      rows.push(
        ...(await Promise.all(
          batch.map(async (s) => {
            const outputs = await this.stacks.outputs(s.tenant).catch(() => ({}) as Record<string, unknown>);
            const drift = this.lastDrift(s.tenant);
            return {
              tenant: s.tenant,
              ...(typeof outputs.tier === "string" ? { tier: outputs.tier } : {}),
              ...(typeof outputs.status === "string" ? { status: outputs.status } : {}),
              ...(typeof outputs.host === "string" ? { host: outputs.host } : {}),
              ...(s.lastUpdate ? { lastUpdate: s.lastUpdate } : {}),
              ...(drift ? { drift } : {}),
            };
          }),
        )),
      );
    }
    return rows;
  }

  /**
   * The batched drift check of `tenants` (fleetDrift.ts): every checkpoint read
   * in one pass, a few SSH sessions per host, no lease (it only reads). What it
   * leaves undecided needs `pool.run("drift", tenant)`.
   */
  async batchedDrift(
    tenants: readonly string[],
    onClean?: (result: OperationResult) => void,
  ): Promise<BatchedDrift> {
    const access = { backendUrl: this.settings.backendUrl, env: this.settings.backendEnv };
    // Without the platform's key (unset, or its file unreadable) or a readable backend, every tenant
    // takes the single-tenant path, which uses the key its stack config holds.
    const privateKey = this.platformKey();
    // A backend that cannot be read now leaves every tenant to the single-tenant drift, which says why.
    const checkpoints = privateKey
      ? await readCheckpoints(access, PROJECT).catch(() => undefined)
      : undefined;
    return batchedDrift(tenants, {
      checkpoints,
      privateKey: privateKey ?? "",
      ...(onClean ? { onClean } : {}),
    });
  }

  private platformKey(): string | undefined {
    try {
      return this.settings.sshKeyPath ? this.secrets().sshPrivateKey : undefined;
    } catch {
      return undefined;
    }
  }

  recordDrift(tenant: string, result: OperationResult): void {
    const dir = join(this.settings.dataDir, "drift");
    mkdirSync(dir, { recursive: true });
    const summary =
      result.status !== "succeeded"
        ? "error"
        : result.drift?.length
          ? `${result.drift.length} drifted`
          : "none";
    writeFileSync(
      join(dir, `${tenant}.json`),
      JSON.stringify({ at: new Date().toISOString(), summary, result }),
    );
  }

  private lastDrift(tenant: string): string | undefined {
    try {
      const { at, summary } = JSON.parse(
        readFileSync(join(this.settings.dataDir, "drift", `${tenant}.json`), "utf8"),
      );
      return `${summary} (${String(at).slice(0, 16)})`;
    } catch {
      return undefined;
    }
  }

  /** Lets running operations finish (for at most `graceMs`, when given), then ends the workers and leases. */
  async close(options: { readonly graceMs?: number } = {}): Promise<void> {
    await this.pool.close(options);
    await this.leases.close();
  }
}
