/**
 * The life of tenant stacks through the Automation API: one stack per tenant,
 * its whole config applied from a TenantSpec, and typed operations (preview,
 * up, refresh, drift, destroy, outputs, history, list) that stream progress.
 * Every operation holds the tenant's lock. Stack access is tenantWorkspaces.ts,
 * per-operation plumbing operationContext.ts, what callers get back
 * operationResult.ts.
 */
import { mkdirSync } from "node:fs";
import type { Stack } from "@pulumi/pulumi/automation/index.js";
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
import type { AutomationSettings } from "./settings.ts";
import { fileBackendResourceCount } from "./stackAccess.ts";
import { clearStaleLocks, recoverTornCheckpoint } from "./stackRecovery.ts";
import { observeDrift, recordRepairs } from "./tenantDrift.ts";
import { withTenantLock } from "./tenantLock.ts";
import { PROJECT, type TenantSecrets, TenantWorkspaces } from "./tenantWorkspaces.ts";

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

export class TenantStacks {
  private readonly settings: AutomationSettings;
  private readonly policy: PolicyPackOptions | undefined;
  private readonly workspaces: TenantWorkspaces;

  private constructor(settings: AutomationSettings, policy: PolicyPackOptions | undefined) {
    this.settings = settings;
    this.policy = policy;
    this.workspaces = new TenantWorkspaces(settings);
  }

  static async open(settings: AutomationSettings, policy?: PolicyPackOptions): Promise<TenantStacks> {
    await pulumiCommand();
    for (const dir of [settings.stackConfigDir, settings.workspacesDir, settings.locksDir])
      mkdirSync(dir, { recursive: true });
    return new TenantStacks(settings, policy);
  }

  /** Selects or creates the tenant's stack and applies its whole config (idempotent). */
  async ensure(input: TenantSpecInput, secrets: TenantSecrets): Promise<void> {
    const spec = parseTenantSpec(input);
    await withTenantLock(this.settings.locksDir, spec.slug, "ensure", () =>
      this.workspaces.writeConfig(spec.slug, input, secrets),
    );
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
      const observed = await observeDrift(stack);
      if (observed.drift.length > 0) await recordRepairs(stack, observed.config, observed.drift);
    }
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
      const [refresh, observed] = await Promise.all([
        stack.previewRefresh(ctx.engine(true)),
        observeDrift(stack),
      ]);
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

  /** Destroys every resource (final backup first, by the component's ordering) and removes the stack. */
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
        this.workspaces.forgetConfig(stack.name);
      }
      return { changes: result.summary.resourceChanges ?? {} };
    });
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
    const stacks = await workspace.listStacks();
    return stacks.map((s) => ({
      tenant: s.name,
      ...(s.lastUpdate ? { lastUpdate: s.lastUpdate } : {}),
      updateInProgress: s.updateInProgress ?? false,
      ...(s.resourceCount !== undefined ? { resourceCount: s.resourceCount } : {}),
    }));
  }

  /** Runs one operation under the tenant's lock, with the timeout, stale-lock recovery and a typed result. */
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
    const backendUrl = this.settings.backendUrl;
    try {
      return await withTenantLock(this.settings.locksDir, slug, operation, async () => {
        ctx.throwIfAborted(operation);
        // A tenant whose DNS or backups need a provider plugin that is not installed fails here,
        // before the engine starts, not half-way through an up.
        const spec = how.spec ?? this.workspaces.recordedSpec(slug);
        if (spec) assertProviderPlugins(spec);
        await recoverTornCheckpoint(backendUrl, PROJECT, slug, options);
        const stack = await (how.acquire ? how.acquire() : this.workspaces.stack(slug, false));
        await clearStaleLocks(backendUrl, PROJECT, stack);
        // The plan's size, for done/total progress: what the stack holds now (a new stack: unknown).
        const total =
          operation === "preview" ? undefined : fileBackendResourceCount(backendUrl, PROJECT, slug);
        if (total) options.onProgress?.({ type: "plan", total });
        ctx.throwIfAborted(operation);
        const partial = await body(stack, ctx);
        return ctx.result(slug, operation, ctx.completedStatus, started, partial);
      });
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
