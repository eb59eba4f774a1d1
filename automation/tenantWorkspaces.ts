/**
 * Stack access for tenants: one workspace folder per tenant (so parallel
 * tenants never share workspace settings), the tenant's `Stack` selected or
 * created with as few CLI processes as possible, and its config written from
 * a TenantSpec only when it changed. Callers hold the tenant's lock.
 */
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { LocalWorkspace, Stack, StackNotFoundError } from "@pulumi/pulumi/automation/index.js";
import { parse as parseYaml } from "yaml";
import { parseTenantSpec, type TenantSpec, type TenantSpecInput } from "../components/tenantSpec.ts";
import { CONFIG_KEYS, stackConfigKey, tenantProgram } from "../stacks/tenantProgram.ts";
import { TenantNotFoundError } from "./operationResult.ts";
import { pulumiCommand, pulumiEnv } from "./pulumiToolchain.ts";
import type { AutomationSettings } from "./settings.ts";
import { existingStack, fileBackendHasStack } from "./stackAccess.ts";

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

export class TenantWorkspaces {
  private readonly settings: AutomationSettings;
  private readonly workspaces = new Map<string, Promise<LocalWorkspace>>();

  constructor(settings: AutomationSettings) {
    this.settings = settings;
  }

  /**
   * Writes the config unless exactly this config is what we last wrote and the
   * stack's config file has not changed since (a reconcile pass applies the same
   * spec again and again). The repair tokens are not part of it: `config
   * set-all` leaves other keys alone, so they survive without being read back.
   */
  async writeConfig(slug: string, input: TenantSpecInput, secrets: TenantSecrets): Promise<Stack> {
    // A new stack always gets its config, even if a config file survived an earlier stack of that name.
    const fresh = fileBackendHasStack(this.settings.backendUrl, PROJECT, slug) !== true;
    const stack = await this.stack(slug, true);
    const config: Record<string, { value: string; secret?: boolean }> = {
      [stackConfigKey(CONFIG_KEYS.tenant)]: { value: JSON.stringify(input) },
      [stackConfigKey(CONFIG_KEYS.rootSecret)]: { value: secrets.rootSecret, secret: true },
      [stackConfigKey(CONFIG_KEYS.sshPrivateKey)]: { value: secrets.sshPrivateKey, secret: true },
    };
    if (secrets.originCertificate && secrets.originKey) {
      config[stackConfigKey(CONFIG_KEYS.originCertificate)] = {
        value: secrets.originCertificate,
        secret: true,
      };
      config[stackConfigKey(CONFIG_KEYS.originKey)] = { value: secrets.originKey, secret: true };
    }
    // A digest of secrets that are long random keys and a private key: it gives none of them away.
    const digest = createHash("sha256").update(JSON.stringify(config)).digest("hex");
    if (!fresh && this.writtenConfig(slug) === `${digest} ${this.configFileStamp(slug)}`) return stack;
    await stack.setAllConfig(config);
    writeFileSync(this.configRecord(slug), `${digest} ${this.configFileStamp(slug)}`);
    return stack;
  }

  /**
   * The spec in the stack's config file as last written (undefined without one): read from the
   * file, not through the CLI, because it is asked before every operation.
   */
  recordedSpec(slug: string): TenantSpec | undefined {
    let text: string;
    try {
      text = readFileSync(join(this.settings.stackConfigDir, `Pulumi.${slug}.yaml`), "utf8");
    } catch {
      return undefined;
    }
    const config = (parseYaml(text) as { config?: Record<string, unknown> } | null)?.config ?? {};
    const tenant = config[stackConfigKey(CONFIG_KEYS.tenant)];
    return typeof tenant === "string" ? parseTenantSpec(JSON.parse(tenant)) : undefined;
  }

  /** After the stack is removed: the next config write is a fresh one. */
  forgetConfig(slug: string): void {
    rmSync(this.configRecord(slug), { force: true });
  }

  /**
   * The tenant's stack. On a file backend its existence is read from the
   * backend's files, so no `stack select` runs; a new stack costs one `stack init`.
   */
  async stack(slug: string, create: boolean): Promise<Stack> {
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
  workspace(folder: string): Promise<LocalWorkspace> {
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

  /** Where writeConfig records the digest of the config it last wrote, beside the tenant's workspace. */
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
        ...this.settings.backendEnv,
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
}
