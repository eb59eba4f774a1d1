/**
 * The life of tenant stacks through the Automation API: one stack per tenant,
 * its whole config applied from a TenantSpec, and typed operations (preview,
 * up, refresh, drift, destroy, outputs, history, list) that stream progress.
 * Every operation runs under the tenant's lease (tenantLease.ts, taken by the
 * worker pool), on the stack config every machine shares (stackConfigStore.ts),
 * after clearing what a holder that is gone left behind (stackRecovery.ts).
 * Stack access is tenantWorkspaces.ts, per-operation plumbing
 * operationContext.ts, what callers get back operationResult.ts.
 */
import { mkdirSync } from "node:fs";
import type { Deployment, Stack } from "@pulumi/pulumi/automation/index.js";
import { parseSlug } from "../components/tenantNames.ts";
import { parseTenantSpec, type TenantSpec, type TenantSpecInput } from "../components/tenantSpec.ts";
import { classify, OperationContext, retryConcurrent } from "./operationContext.ts";
import {
  type OperationKind,
  type OperationOptions,
  type OperationResult,
  plainOutputs,
  type UpOptions,
} from "./operationResult.ts";
import { assertProviderPlugins } from "./providerPlugins.ts";
import { pulumiCommand } from "./pulumiToolchain.ts";
import { destroyCheckpoint, isRetiredStack, retiredStackName } from "./retiredCheckpoint.ts";
import { type AutomationSettings, leaseWaitMs } from "./settings.ts";
import { stateResourceCount } from "./stackAccess.ts";
import { StackConfigStore } from "./stackConfigStore.ts";
import { assertEmptyStack, assertRebuildable, COMMAND_ADOPT_ENV } from "./stackRebuild.ts";
import { clearStaleLocks, recoverTornCheckpoint } from "./stackRecovery.ts";
import { observeDrift, recordRepairs } from "./tenantDrift.ts";
import { leaseTimings, TenantLeases } from "./tenantLease.ts";
import { canonicalSettings, PROJECT, type TenantSecrets, TenantWorkspaces } from "./tenantWorkspaces.ts";

/** What operations share with other processes and machines: leases and stack config, in the platform database. */
export interface Coordination {
  readonly leases: TenantLeases;
  readonly configs: StackConfigStore;
}

/** Coordination through the database at `settings.databaseUrl` (the worker processes open one each). */
export function openCoordination(settings: AutomationSettings): Coordination {
  if (!settings.databaseUrl)
    throw new Error(
      "tenant operations need the platform database (tenant leases, shared stack config): set DATABASE_URL",
    );
  return {
    leases: TenantLeases.open(settings.databaseUrl, leaseTimings(settings.leaseTtlMs)),
    configs: StackConfigStore.open(settings.databaseUrl),
  };
}

/** An operation was started outside the worker pool, without the tenant's lease. */
export class NoLeaseError extends Error {
  override readonly name = "NoLeaseError";
}

export interface PolicyPackOptions {
  readonly policyPacks: string[];
  readonly policyPackConfigs: string[];
}

export interface StackSummary {
  readonly tenant: string;
  readonly lastUpdate?: string;
  readonly updateInProgress: boolean;
  readonly resourceCount?: number;
}

/** Operations that take one step per resource the stack holds. */
const STATE_SIZED: ReadonlySet<OperationKind> = new Set(["refresh", "drift", "destroy"]);

export class TenantStacks {
  private readonly settings: AutomationSettings;
  private readonly policy: PolicyPackOptions | undefined;
  private readonly workspaces: TenantWorkspaces;
  private readonly coordination: Coordination | undefined;

  private constructor(
    settings: AutomationSettings,
    policy: PolicyPackOptions | undefined,
    coordination: Coordination | undefined,
  ) {
    this.settings = settings;
    this.policy = policy;
    this.coordination = coordination;
    this.workspaces = new TenantWorkspaces(settings);
  }

  /**
   * Stack access; with `coordination`, operations too (the worker processes). Without it only
   * the reads (outputs, history, list) work.
   */
  static async open(
    settings: AutomationSettings,
    policy?: PolicyPackOptions,
    coordination?: Coordination,
  ): Promise<TenantStacks> {
    await pulumiCommand();
    mkdirSync(settings.workspacesDir, { recursive: true });
    return new TenantStacks(settings, policy, coordination);
  }
  /**
   * Writes the tenant's whole config from a spec without running anything (an operator's pending
   * change), under the tenant's lease and into the config every machine shares, so the next
   * operation on any machine runs with it. Needs coordination.
   */
  async ensure(input: TenantSpecInput, secrets: TenantSecrets): Promise<void> {
    const spec = parseTenantSpec(input);
    const coordination = this.coordination;
    if (!coordination) throw new NoLeaseError(`ensure of ${spec.slug} needs the platform database`);
    const lease = await coordination.leases.acquire(spec.slug, "ensure", {
      waitMs: leaseWaitMs(this.settings),
    });
    try {
      const shared = await coordination.configs.load(spec.slug);
      if (shared) await this.workspaces.adoptSettings(spec.slug, shared);
      await this.workspaces.writeConfig(spec.slug, input, secrets);
      const now = await this.workspaces.localSettings(spec.slug);
      if (now) await coordination.configs.save(spec.slug, now, lease.holder);
    } finally {
      await lease.release();
    }
  }

  /**
   * `ensure` then `up` under one hold of the tenant's lock, on one `Stack`: what
   * the worker runs for an apply. A failure of either is the result's error.
   */
  apply(input: TenantSpecInput, secrets: TenantSecrets, options: UpOptions = {}): Promise<OperationResult> {
    const spec = parseTenantSpec(input);
    return this.operate(spec.slug, "up", options, (stack, ctx) => this.upLocked(stack, ctx, options), {
      spec,
      acquire: () => this.workspaces.writeConfig(spec.slug, input, secrets),
    });
  }

  preview(slug: string, options: OperationOptions = {}): Promise<OperationResult> {
    return this.operate(slug, "preview", options, async (stack, ctx) => {
      const result = await stack.preview({ ...ctx.engine(true), ...this.policyOptions() });
      return { changes: result.changeSummary, steps: ctx.steps };
    });
  }

  /**
   * Brings the stack up to its spec, repairing the drift recorded by the last
   * `drift` (or, with `probeDrift`, found by checking the host first; see
   * driftProbes.ts).
   */
  up(slug: string, options: UpOptions = {}): Promise<OperationResult> {
    return this.operate(slug, "up", options, (stack, ctx) => this.upLocked(stack, ctx, options));
  }

  private async upLocked(stack: Stack, ctx: OperationContext, options: UpOptions) {
    if (options.probeDrift === true && options.repairDrift !== false) {
      const observed = await observeDrift(stack, ctx.signal);
      if (observed.drift.length > 0) await recordRepairs(stack, observed.config, observed.drift);
    }
    return this.runUp(stack, ctx);
  }

  private async runUp(stack: Stack, ctx: OperationContext): Promise<Partial<OperationResult>> {
    await ctx.plan(stack);
    const result = await retryConcurrent(() => {
      const run = ctx.engineRun("update");
      return run.stack(stack).up({ ...run.options, ...this.policyOptions() });
    });
    return { changes: result.summary.resourceChanges ?? {}, outputs: plainOutputs(result.outputs) };
  }

  refresh(slug: string, options: OperationOptions = {}): Promise<OperationResult> {
    return this.operate(slug, "refresh", options, async (stack, ctx) => {
      const result = await retryConcurrent(() => {
        const run = ctx.engineRun("refresh");
        return run.stack(stack).refresh(run.options);
      });
      return { changes: result.summary.resourceChanges ?? {} };
    });
  }

  /**
   * What changed outside Pulumi: a refresh preview (resources whose providers can
   * read them back) plus read-only checks of everything on the Dokku host, run
   * side by side. What the checks find is recorded as repair tokens in the
   * stack's config, so the next `up` (and a `preview` before it) repairs it.
   */
  drift(slug: string, options: OperationOptions = {}): Promise<OperationResult> {
    return this.operate(slug, "drift", options, async (stack, ctx) => {
      const refreshing = stack.previewRefresh(ctx.engine(true));
      const observing = observeDrift(stack, ctx.signal);
      // Both settle before the operation ends: a failed or cancelled read leaves no refresh running on.
      await Promise.allSettled([refreshing, observing]);
      const [refresh, observed] = [await refreshing, await observing];
      const drift = observed.drift;
      if (drift.length > 0) await recordRepairs(stack, observed.config, drift);
      const changes: Record<string, number> = { ...(refresh.changeSummary ?? {}) };
      delete changes.same;
      if (drift.length > 0) changes.drifted = new Set(drift.flatMap((d) => d.repair)).size;
      // A refresh step without property changes found nothing: leave it out.
      const steps = ctx.steps.filter(
        (s) => !((s.op === "refresh" || s.op === "same") && s.changes.length === 0),
      );
      return { changes, steps, drift };
    });
  }

  /**
   * Re-adopts a running tenant into its empty (lost) stack without touching the host: the
   * program runs with the config the tenant was last run with, and the command provider records
   * every create without running it (stackRebuild.ts says why this way).
   */
  rebuild(slugInput: string, options: OperationOptions = {}): Promise<OperationResult> {
    const slug = parseSlug(slugInput);
    return this.operate(
      slug,
      "rebuild",
      options,
      async (stack, ctx) => {
        assertEmptyStack(slug, await stack.exportStack());
        const env = stack.workspace.envVars;
        env[COMMAND_ADOPT_ENV] = "1";
        try {
          return await this.runUp(stack, ctx);
        } finally {
          // The workspace serves the tenant's next operations, which must run their commands.
          delete env[COMMAND_ADOPT_ENV];
        }
      },
      {
        acquire: () => {
          assertRebuildable(slug, this.workspaces.recordedSpec(slug));
          return this.workspaces.stack(slug, true);
        },
      },
    );
  }

  /**
   * Destroys every resource (final backup first, by the component's ordering), then removes
   * the stack and this machine's workspace folder for it.
   */
  destroy(
    slug: string,
    options: OperationOptions & { removeStack?: boolean } = {},
  ): Promise<OperationResult> {
    return this.operate(slug, "destroy", options, async (stack, ctx) => {
      const result = await retryConcurrent(() => {
        const run = ctx.engineRun("destroy");
        return run.stack(stack).destroy(run.options);
      });
      if (options.removeStack !== false) {
        await stack.workspace.removeStack(stack.name);
        await this.coordination?.configs.remove(stack.name);
        // With the stack gone its folder holds nothing worth keeping; churn must not pile folders up.
        await this.workspaces.dropWorkspace(stack.name);
      }
      return { changes: result.summary.resourceChanges ?? {} };
    });
  }

  /** The stack's checkpoint (`pulumi stack export`); the caller holds the tenant's lease. */
  async exportCheckpoint(slug: string): Promise<Deployment> {
    return (await this.workspaces.stack(parseSlug(slug), false)).exportStack();
  }

  /**
   * Destroys what a checkpoint of the tenant's stack holds, in a temporary stack beside it
   * (retiredCheckpoint.ts), its own workspace folder removed after; the caller holds the lease.
   */
  async destroyCheckpoint(slug: string, checkpoint: Deployment): Promise<void> {
    const name = retiredStackName(parseSlug(slug));
    await destroyCheckpoint(await this.workspaces.workspace(name), name, checkpoint);
    await this.workspaces.dropWorkspace(name);
  }

  async outputs(slug: string): Promise<Record<string, unknown>> {
    const stack = await this.workspaces.stack(parseSlug(slug), false);
    return plainOutputs(await stack.outputs());
  }

  async history(slug: string, pageSize = 20) {
    const stack = await this.workspaces.stack(parseSlug(slug), false);
    return stack.history(pageSize, 1);
  }

  async list(): Promise<StackSummary[]> {
    const workspace = await this.workspaces.workspace("_list");
    // A move's temporary stack is listed only while it retires the old host; it is no tenant.
    const stacks = (await workspace.listStacks()).filter((s) => !isRetiredStack(s.name));
    return stacks.map((s) => ({
      tenant: s.name,
      ...(s.lastUpdate ? { lastUpdate: s.lastUpdate } : {}),
      updateInProgress: s.updateInProgress ?? false,
      ...(s.resourceCount !== undefined ? { resourceCount: s.resourceCount } : {}),
    }));
  }

  /**
   * Runs one operation under the tenant's lease: the shared stack config
   * written here first, what a holder that is gone left behind cleared, the
   * body with its timeout, the config it changed stored back for every machine,
   * and a typed result.
   */
  private async operate(
    slugInput: string,
    operation: OperationKind,
    options: OperationOptions,
    body: (stack: Stack, ctx: OperationContext) => Promise<Partial<OperationResult>>,
    how: { spec?: TenantSpec; acquire?: () => Promise<Stack> } = {},
  ): Promise<OperationResult> {
    const slug = parseSlug(slugInput);
    const started = Date.now();
    const ctx = new OperationContext(options, this.settings.operationTimeoutMs);
    const access = { backendUrl: this.settings.backendUrl, env: this.settings.backendEnv };
    try {
      // A tenant whose DNS or backups need a provider plugin that is not installed fails here,
      // before the engine starts, not half-way through an up.
      if (how.spec) assertProviderPlugins(how.spec);
      ctx.throwIfAborted(operation);
      const lease = options.lease;
      const coordination = this.coordination;
      if (!lease || !coordination)
        throw new NoLeaseError(
          `${operation} of ${slug} must run under the tenant's lease: use the worker pool`,
        );
      const shared = await coordination.configs.load(slug);
      if (shared) await this.workspaces.adoptSettings(slug, shared);
      const recorded = how.spec ? undefined : this.workspaces.recordedSpec(slug);
      if (recorded) assertProviderPlugins(recorded);
      const tenures = await coordination.leases.tenures(slug);
      await recoverTornCheckpoint(access, PROJECT, slug, tenures, options);
      const stack = await (how.acquire ? how.acquire() : this.workspaces.stack(slug, false));
      await clearStaleLocks(access, PROJECT, stack, tenures, options);
      // A refresh's (and drift's) or destroy's steps are the resources the stack holds; an up's (and a rebuild's) plan is a preview (runUp).
      if (options.onProgress && STATE_SIZED.has(operation)) {
        const total = await stateResourceCount(stack, access.backendUrl, PROJECT);
        if (total !== undefined) options.onProgress({ type: "plan", total });
      }
      ctx.throwIfAborted(operation);
      const partial = await body(stack, ctx);
      // What the operation changed (a new spec, repair tokens) is what the next machine must run with.
      const now = await this.workspaces.localSettings(slug);
      if (now && JSON.stringify(now) !== JSON.stringify(shared && canonicalSettings(shared)))
        await coordination.configs.save(slug, now, lease);
      return ctx.result(slug, operation, ctx.completedStatus, started, partial);
    } catch (error) {
      const status = ctx.cancelled ? "cancelled" : "failed";
      return ctx.result(slug, operation, status, started, {}, classify(error));
    } finally {
      ctx.dispose();
    }
  }

  private policyOptions(): Partial<PolicyPackOptions> {
    return this.policy ?? {};
  }
}
