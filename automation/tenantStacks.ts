/**
 * The life of tenant stacks through the Automation API: one stack per tenant,
 * its whole config applied from a TenantSpec, and typed operations (preview,
 * up, refresh, drift, destroy, outputs, history, list) that stream progress.
 * Every operation holds the tenant's lock; each tenant has its own workspace
 * folder, so parallel tenants never share workspace settings.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  ConcurrentUpdateError,
  type ConfigMap,
  type EngineEvent,
  LocalWorkspace,
  type OutputMap,
  Stack,
  StackNotFoundError,
  type UpdateSummary,
} from "@pulumi/pulumi/automation/index.js";
import { parseSlug } from "../components/tenantNames.ts";
import { parseTenantSpec, type TenantSpecInput } from "../components/tenantSpec.ts";
import { CONFIG_KEYS, CONFIG_NAMESPACE, tenantProgram } from "../stacks/tenantProgram.ts";
import { repairTornCheckpoint } from "./checkpointRecovery.ts";
import {
  type DriftFinding,
  driftProbes,
  findings,
  type RecordedResource,
  repairTokens,
} from "./driftProbes.ts";
import { runDokkuReads } from "./hostShell.ts";
import { type ProgressEvent, ProgressTranslator, type PropertyChange, resourceName } from "./progress.ts";
import { pulumiCommand, pulumiEnv } from "./pulumiToolchain.ts";
import type { AutomationSettings } from "./settings.ts";
import { EngineSummary, existingStack, fileBackendHasStack } from "./stackAccess.ts";
import { withTenantLock } from "./tenantLock.ts";

export const PROJECT = "mindroom-tenant";
const REPO_ROOT = resolve(import.meta.dirname, "..");
/** Writes the policy analyzer's compile cache (see analyzerCompileCache.ts); a URL has no spaces to quote. */
const ANALYZER_PRELOAD = pathToFileURL(join(import.meta.dirname, "analyzerCompileCache.ts")).href;

/** Secrets a tenant stack needs; stored only as Pulumi secrets. */
export interface TenantSecrets {
  readonly rootSecret: string;
  readonly sshPrivateKey: string;
  readonly originCertificate?: string;
  readonly originKey?: string;
}

export type OperationKind = "preview" | "up" | "refresh" | "drift" | "destroy";

export interface PlannedStep {
  readonly resource: string;
  readonly type: string;
  readonly op: string;
  readonly changes: readonly PropertyChange[];
}

export interface PolicyViolation {
  readonly policy: string;
  readonly level: string;
  readonly message: string;
  readonly resource?: string;
}

export interface OperationResult {
  readonly tenant: string;
  readonly operation: OperationKind;
  readonly status: "succeeded" | "failed" | "cancelled";
  readonly changes: Readonly<Record<string, number>>;
  readonly durationMs: number;
  readonly outputs?: Readonly<Record<string, unknown>>;
  /** preview and drift: what would change. */
  readonly steps?: readonly PlannedStep[];
  /** drift: what differs on the Dokku host. */
  readonly drift?: readonly DriftFinding[];
  readonly policyViolations: readonly PolicyViolation[];
  readonly error?: { readonly kind: string; readonly message: string };
}

export interface OperationOptions {
  readonly onProgress?: (event: ProgressEvent) => void;
  readonly signal?: AbortSignal;
}

export interface UpOptions extends OperationOptions {
  /**
   * Check the Dokku host first and repair what differs from the stack (about 20
   * read-only Dokku commands over one SSH session, a few seconds). Without it,
   * `up` repairs the drift that the last `drift` of the tenant found and
   * recorded, and nothing else: run `drift` on a schedule (the reconcile sweep,
   * `mindroom-ops drift --all`) and every `up` after it repairs what it found.
   */
  readonly probeDrift?: boolean;
  /** `false` never probes (the default since `probeDrift`); kept for callers written before it. */
  readonly repairDrift?: boolean;
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

/** The tenant has no stack yet: run `ensure` (or an `up` through the worker) first. */
export class TenantNotFoundError extends Error {
  override readonly name = "TenantNotFoundError";
}

export class TenantStacks {
  private readonly settings: AutomationSettings;
  private readonly policy: PolicyPackOptions | undefined;
  private readonly workspaces = new Map<string, Promise<LocalWorkspace>>();

  private constructor(settings: AutomationSettings, policy: PolicyPackOptions | undefined) {
    this.settings = settings;
    this.policy = policy;
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
      this.ensureLocked(spec.slug, input, secrets),
    );
  }

  /**
   * `ensure` then `up` under one hold of the tenant's lock, on one `Stack`: what
   * the worker runs for an apply. A failure of either is the result's error.
   */
  apply(input: TenantSpecInput, secrets: TenantSecrets, options: UpOptions = {}): Promise<OperationResult> {
    const slug = parseTenantSpec(input).slug;
    return this.operate(slug, "up", options, (stack, ctx) => this.upLocked(stack, ctx, options), {
      acquire: () => this.ensureLocked(slug, input, secrets),
    });
  }

  /**
   * Writes the config unless exactly this config is what we last wrote and the
   * stack's config file has not changed since (a reconcile pass applies the same
   * spec again and again). The repair tokens are not part of it: `config
   * set-all` leaves other keys alone, so they survive without being read back.
   */
  private async ensureLocked(slug: string, input: TenantSpecInput, secrets: TenantSecrets): Promise<Stack> {
    // A new stack always gets its config, even if a config file survived an earlier stack of that name.
    const fresh = fileBackendHasStack(this.settings.backendUrl, PROJECT, slug) !== true;
    const stack = await this.stack(slug, true);
    const config: Record<string, { value: string; secret?: boolean }> = {
      [key(CONFIG_KEYS.tenant)]: { value: JSON.stringify(input) },
      [key(CONFIG_KEYS.rootSecret)]: { value: secrets.rootSecret, secret: true },
      [key(CONFIG_KEYS.sshPrivateKey)]: { value: secrets.sshPrivateKey, secret: true },
    };
    if (secrets.originCertificate && secrets.originKey) {
      config[key(CONFIG_KEYS.originCertificate)] = { value: secrets.originCertificate, secret: true };
      config[key(CONFIG_KEYS.originKey)] = { value: secrets.originKey, secret: true };
    }
    // A digest of secrets that are long random keys and a private key: it gives none of them away.
    const digest = createHash("sha256").update(JSON.stringify(config)).digest("hex");
    if (!fresh && this.writtenConfig(slug) === `${digest} ${this.configFileStamp(slug)}`) return stack;
    await stack.setAllConfig(config);
    writeFileSync(this.configRecord(slug), `${digest} ${this.configFileStamp(slug)}`);
    return stack;
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
      const observed = await this.observeDrift(stack);
      if (observed.drift.length > 0) await this.recordRepairs(stack, observed.config, observed.drift);
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
        this.observeDrift(stack),
      ]);
      const drift = observed.drift;
      if (drift.length > 0) await this.recordRepairs(stack, observed.config, drift);
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
        rmSync(this.configRecord(stack.name), { force: true });
      }
      return { changes: result.summary.resourceChanges ?? {} };
    });
  }

  async outputs(slug: string): Promise<Record<string, unknown>> {
    const stack = await this.stack(parseSlug(slug), false);
    return plainOutputs(await stack.outputs());
  }

  async history(slug: string, pageSize = 20) {
    const stack = await this.stack(parseSlug(slug), false);
    return stack.history(pageSize, 1);
  }

  async list(): Promise<StackSummary[]> {
    const workspace = await this.workspace("_list");
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
    how: { acquire?: () => Promise<Stack> } = {},
  ): Promise<OperationResult> {
    const slug = parseSlug(slugInput);
    const started = Date.now();
    const ctx = new OperationContext(options, this.settings.operationTimeoutMs);
    try {
      return await withTenantLock(this.settings.locksDir, slug, operation, async () => {
        this.recoverTornCheckpoint(slug, options);
        const stack = await (how.acquire ? how.acquire() : this.stack(slug, false));
        await this.clearStaleLocks(stack);
        const partial = await body(stack, ctx);
        return ctx.result(slug, operation, "succeeded", started, partial);
      });
    } catch (error) {
      const status = ctx.cancelled ? "cancelled" : "failed";
      return ctx.result(slug, operation, status, started, {}, classify(error));
    } finally {
      ctx.dispose();
    }
  }

  /**
   * The tenant's stack. On a file backend its existence is read from the
   * backend's files, so no `stack select` runs; a new stack costs one `stack init`.
   */
  private async stack(slug: string, create: boolean): Promise<Stack> {
    const exists = fileBackendHasStack(this.settings.backendUrl, PROJECT, slug);
    const notFound = () => new TenantNotFoundError(`no stack for tenant ${slug}; run up for it first`);
    if (exists === false && !create) throw notFound();
    const workspace = await this.workspace(slug);
    if (exists === true) return existingStack(slug, workspace);
    try {
      if (exists === false) return await Stack.create(slug, workspace);
      return create ? await Stack.createOrSelect(slug, workspace) : await Stack.select(slug, workspace);
    } catch (error) {
      if (error instanceof StackNotFoundError) throw notFound();
      throw error;
    }
  }

  /** One workspace per tenant folder, kept for the process's life (its settings never change). */
  private workspace(folder: string): Promise<LocalWorkspace> {
    let workspace = this.workspaces.get(folder);
    if (!workspace) {
      workspace = this.workspaceOptions(folder).then((o) =>
        LocalWorkspace.create({ ...o, program: tenantProgram }),
      );
      workspace.catch(() => this.workspaces.delete(folder));
      this.workspaces.set(folder, workspace);
    }
    return workspace;
  }

  /** Where ensure records the digest of the config it last wrote, beside the tenant's workspace. */
  private configRecord(slug: string): string {
    return join(this.settings.workspacesDir, slug, ".config-written");
  }

  private writtenConfig(slug: string): string | undefined {
    try {
      return readFileSync(this.configRecord(slug), "utf8");
    } catch {
      return undefined;
    }
  }

  /** The stack config file's size and mtime: any write to it (by us or by hand) changes them. */
  private configFileStamp(slug: string): string {
    try {
      const s = statSync(join(this.settings.stackConfigDir, `Pulumi.${slug}.yaml`));
      return `${s.size} ${s.mtimeMs}`;
    } catch {
      return "none";
    }
  }

  /** The project's own CLI, already version-checked: no `pulumi version` per workspace, no PATH lookup. */
  private async workspaceOptions(folder: string) {
    const workDir = join(this.settings.workspacesDir, folder);
    mkdirSync(workDir, { recursive: true });
    return {
      pulumiCommand: await pulumiCommand(),
      workDir,
      pulumiHome: pulumiEnv().PULUMI_HOME,
      envVars: {
        ...pulumiEnv(),
        ...this.settings.secretsEnv,
        PULUMI_BACKEND_URL: this.settings.backendUrl,
        NODE_OPTIONS: [process.env.NODE_OPTIONS, `--import ${ANALYZER_PRELOAD}`].filter(Boolean).join(" "),
      },
      ...(this.settings.secretsProvider === "passphrase"
        ? {}
        : { secretsProvider: this.settings.secretsProvider }),
      projectSettings: {
        name: PROJECT,
        runtime: { name: "nodejs", options: { typescript: false } },
        main: join(REPO_ROOT, "stacks", "index.ts"),
        stackConfigDir: this.settings.stackConfigDir,
        backend: { url: this.settings.backendUrl },
      },
    };
  }

  private policyOptions(): Partial<PolicyPackOptions> {
    return this.policy ?? {};
  }

  /** New repair tokens for what `drift` names, so the next up re-runs exactly those commands. */
  private async recordRepairs(stack: Stack, config: ConfigMap, drift: readonly DriftFinding[]) {
    const raw = config[key(CONFIG_KEYS.repairs)]?.value;
    const existing = raw ? (JSON.parse(raw) as Record<string, string>) : {};
    const repairs = repairTokens(existing, drift, `repair-${Date.now().toString(36)}`);
    await stack.setConfig(key(CONFIG_KEYS.repairs), { value: JSON.stringify(repairs) });
  }

  /** Read-only checks of the tenant's Dokku host against what its components recorded. */
  private async observeDrift(stack: Stack): Promise<{ drift: DriftFinding[]; config: ConfigMap }> {
    const [deployment, config] = await Promise.all([stack.exportStack(), stack.getAllConfig()]);
    const resources = ((deployment.deployment as { resources?: RecordedResource[] }).resources ??
      []) as RecordedResource[];
    const probes = driftProbes(resources);
    if (probes.length === 0) return { drift: [], config };
    const spec = parseTenantSpec(JSON.parse(config[key(CONFIG_KEYS.tenant)]?.value ?? "null"));
    const privateKey = config[key(CONFIG_KEYS.sshPrivateKey)]?.value ?? "";
    const results = await runDokkuReads(
      { url: spec.host.url, hostKey: spec.host.hostKey, privateKey },
      probes.map((p) => p.command),
    );
    return { drift: findings(probes, results), config };
  }

  /**
   * Pulumi's file locks on a stack, split into those whose holder provably no
   * longer exists (written on this host by a dead process) and the others.
   */
  private pulumiLocks(stackName: string): { stale: number; live: number } {
    if (!this.settings.backendUrl.startsWith("file://")) return { stale: 0, live: 0 };
    const dir = join(this.fileBackendRoot(), "locks", "organization", PROJECT, stackName);
    if (!existsSync(dir)) return { stale: 0, live: 0 };
    let stale = 0;
    let live = 0;
    for (const f of readdirSync(dir).filter((name) => name.endsWith(".json"))) {
      try {
        const lock = JSON.parse(readFileSync(join(dir, f), "utf8")) as { pid?: number; hostname?: string };
        if (lock.hostname === hostname() && typeof lock.pid === "number" && !processAlive(lock.pid)) stale++;
        else live++;
      } catch {
        live++;
      }
    }
    return { stale, live };
  }

  private fileBackendRoot(): string {
    return join(this.settings.backendUrl.slice("file://".length), ".pulumi");
  }

  /**
   * A killed worker leaves Pulumi's file lock behind. Remove it only when it is
   * provably stale: written on this host by a process that no longer exists.
   * (We hold the tenant lock, so no operation of ours is running on the stack.)
   */
  private async clearStaleLocks(stack: Stack): Promise<void> {
    const { stale, live } = this.pulumiLocks(stack.name);
    if (stale > 0 && live === 0) await stack.cancel();
  }

  /**
   * A pulumi killed while saving can leave the stack's checkpoint torn; with no
   * live holder of the stack, put its backup back (see checkpointRecovery.ts).
   */
  private recoverTornCheckpoint(slug: string, options: OperationOptions): void {
    if (!this.settings.backendUrl.startsWith("file://") || this.pulumiLocks(slug).live > 0) return;
    const state = repairTornCheckpoint(join(this.fileBackendRoot(), "stacks", PROJECT), slug);
    if (state === "restored" || state === "unrecoverable")
      options.onProgress?.({
        type: "diagnostic",
        severity: state === "restored" ? "warning" : "error",
        message:
          state === "restored"
            ? `${slug}: the stack's checkpoint was torn by an interrupted update; restored the previous one (the next up re-runs what was lost)`
            : `${slug}: the stack's checkpoint is torn and has no usable backup; restore one from the backend's history before retrying`,
      });
  }
}

/** Per-operation plumbing: progress translation, collected steps, timeout and cancellation. */
class OperationContext {
  readonly steps: PlannedStep[] = [];
  readonly violations: PolicyViolation[] = [];
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly translator = new ProgressTranslator();
  private readonly options: OperationOptions;
  private timedOut = false;

  constructor(options: OperationOptions, timeoutMs: number) {
    this.options = options;
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort();
    }, timeoutMs);
    options.signal?.addEventListener("abort", () => this.controller.abort(), { once: true });
  }

  get cancelled(): boolean {
    return this.controller.signal.aborted && !this.timedOut;
  }

  /**
   * Options for one `up`, `refresh` or `destroy`, and the `Stack` to run it on:
   * it answers the SDK's follow-up calls from this run's events (stackAccess.ts).
   */
  engineRun(kind: UpdateSummary["kind"]) {
    const summary = new EngineSummary(kind);
    const base = this.engine(false);
    return {
      stack: (stack: Stack) => summary.bind(stack),
      options: {
        ...base,
        onEvent: (event: EngineEvent) => {
          summary.observe(event);
          base.onEvent(event);
        },
      },
    };
  }

  engine(preview: boolean) {
    return {
      signal: this.controller.signal,
      color: "never" as const,
      onEvent: (event: EngineEvent) => {
        for (const p of this.translator.translate(event, preview)) {
          if (p.type === "resource.planned") {
            this.steps.push({
              resource: resourceName(p.urn),
              type: p.resourceType,
              op: p.op,
              changes: p.changes,
            });
          }
          if (p.type === "policy.violation") {
            this.violations.push({
              policy: p.policy,
              level: p.level,
              message: p.message,
              ...(p.urn ? { resource: resourceName(p.urn) } : {}),
            });
          }
          this.options.onProgress?.(p);
        }
      },
    };
  }

  result(
    tenant: string,
    operation: OperationKind,
    status: OperationResult["status"],
    started: number,
    partial: Partial<OperationResult>,
    error?: OperationResult["error"],
  ): OperationResult {
    const timeout = this.timedOut
      ? { kind: "Timeout", message: `${operation} exceeded its time limit and was cancelled` }
      : undefined;
    return {
      tenant,
      operation,
      status,
      changes: partial.changes ?? {},
      durationMs: Date.now() - started,
      policyViolations: this.violations,
      ...(partial.outputs ? { outputs: partial.outputs } : {}),
      ...(partial.steps ? { steps: partial.steps } : {}),
      ...(partial.drift ? { drift: partial.drift } : {}),
      ...((timeout ?? error) ? { error: timeout ?? error } : {}),
    };
  }

  dispose(): void {
    clearTimeout(this.timer);
  }
}

function key(name: string): string {
  return `${CONFIG_NAMESPACE}:${name}`;
}

function plainOutputs(outputs: OutputMap): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).map(([k, v]) => [k, v.secret ? "[secret]" : v.value]));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Pulumi's stack lock is the second guard: back off and retry a few times, then report it. */
async function retryConcurrent<T>(fn: () => Promise<T>, attempts = 4): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError) || attempt >= attempts) throw error;
      await new Promise((r) => setTimeout(r, 500 * 3 ** (attempt - 1)));
    }
  }
}

/** The engine's message, without the CLI's boilerplate, and the kind of failure. */
function classify(error: unknown): { kind: string; message: string } {
  if (error instanceof Error) {
    const message = error.message
      .split("\n")
      .filter((l) => !/^\s*(code|stdout|stderr|err\?):/.test(l) && l.trim() !== "")
      .slice(-20)
      .join("\n");
    return { kind: error.name || error.constructor.name, message };
  }
  return { kind: "Error", message: String(error) };
}
