/**
 * Stack access for tenants: one workspace folder per tenant (so parallel
 * tenants never share workspace settings), the tenant's `Stack` selected or
 * created with as few CLI processes as possible, and its config written from
 * a TenantSpec only when it changed. The stack's config file lives in the
 * tenant's workspace folder (`Pulumi.<tenant>.yaml`); what every machine
 * shares is its copy in the database (stackConfigStore.ts), which
 * `adoptSettings` writes here before an operation. Callers hold the tenant's
 * lease.
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  LocalWorkspace,
  Stack,
  StackNotFoundError,
  type StackSettings,
} from "@pulumi/pulumi/automation/index.js";
import { parse as parseYaml } from "yaml";
import { parseTenantSpec, type TenantSpec, type TenantSpecInput } from "../components/tenantSpec.ts";
import { CONFIG_KEYS, stackConfigKey, tenantProgram } from "../stacks/tenantProgram.ts";
import { TenantNotFoundError } from "./operationResult.ts";
import { pulumiCommand, pulumiEnv } from "./pulumiToolchain.ts";
import type { AutomationSettings } from "./settings.ts";
import { existingStack, fileBackendHasStack } from "./stackAccess.ts";
import { setStackConfig } from "./stackSecrets.ts";

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
  /**
   * Model provider keys by the runtime's variable name (components/modelProviders.ts): `{}`
   * removes them from the stack, undefined leaves whatever the stack has (an operator's apply).
   */
  readonly providerKeys?: Readonly<Record<string, string>>;
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
   * spec again and again). The repair tokens are not part of it: writing config
   * leaves other keys alone, so they survive without being read back.
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
    const keys = secrets.providerKeys;
    const keysKey = stackConfigKey(CONFIG_KEYS.providerKeys);
    if (keys && Object.keys(keys).length > 0) {
      const sorted = Object.fromEntries(Object.entries(keys).sort(([a], [b]) => (a < b ? -1 : 1)));
      config[keysKey] = { value: JSON.stringify(sorted), secret: true };
    }
    const removeKeys = keys !== undefined && Object.keys(keys).length === 0;
    // A digest of secrets that are long random keys and a private key: it gives none of them away.
    const digest = createHash("sha256").update(JSON.stringify({ config, removeKeys })).digest("hex");
    if (!fresh && this.writtenConfig(slug) === `${digest} ${this.configFileStamp(slug)}`) return stack;
    await setStackConfig(stack, config);
    if (removeKeys && (await stack.getAllConfig())[keysKey]) await stack.removeConfig(keysKey);
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
      text = readFileSync(this.configFile(slug), "utf8");
    } catch {
      return undefined;
    }
    const config = (parseYaml(text) as { config?: Record<string, unknown> } | null)?.config ?? {};
    const tenant = config[stackConfigKey(CONFIG_KEYS.tenant)];
    return typeof tenant === "string" ? parseTenantSpec(JSON.parse(tenant)) : undefined;
  }

  /**
   * The stack's settings file as this machine has it (undefined when there is
   * none), canonically ordered so two can be compared as text.
   */
  async localSettings(slug: string): Promise<StackSettings | undefined> {
    if (!existsSync(this.configFile(slug))) return undefined;
    return canonical(await (await this.workspace(slug)).stackSettings(slug));
  }

  /**
   * Makes this machine's settings file the shared one (written by whichever
   * machine ran the tenant last). Returns whether it had to change it.
   */
  async adoptSettings(slug: string, shared: StackSettings): Promise<boolean> {
    const local = await this.localSettings(slug);
    if (local && JSON.stringify(local) === JSON.stringify(canonical(shared))) return false;
    await (await this.workspace(slug)).saveStackSettings(slug, shared);
    // What writeConfig recorded described the file it replaced.
    this.forgetConfig(slug);
    return true;
  }

  /** The next config write is a fresh one. */
  private forgetConfig(slug: string): void {
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

  /**
   * Forgets a folder's workspace and deletes the folder (with the config record in it), once
   * its stack is removed from the backend: a destroyed tenant, or the temporary stack that
   * retired a moved tenant's old host, leaves nothing behind.
   */
  async dropWorkspace(folder: string): Promise<void> {
    const workspace = this.workspaces.get(folder);
    this.workspaces.delete(folder);
    await workspace?.catch(() => undefined);
    rmSync(join(this.settings.workspacesDir, folder), { recursive: true, force: true });
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

  /** Where the CLI and the SDK both keep the stack's settings: the tenant's workspace folder. */
  private configFile(slug: string): string {
    return join(this.settings.workspacesDir, slug, `Pulumi.${slug}.yaml`);
  }

  /** The stack config file's size and mtime: any write to it (by us or by hand) changes them. */
  private configFileStamp(slug: string): string {
    try {
      const s = statSync(this.configFile(slug));
      return `${s.size} ${s.mtimeMs}`;
    } catch {
      return "none";
    }
  }

  /** The project's own CLI, already version-checked: no `pulumi version` per workspace, no PATH lookup. */
  private async workspaceOptions(folder: string) {
    const workDir = join(this.settings.workspacesDir, folder);
    mkdirSync(workDir, { recursive: true });
    // Projects used to name an absolute stackConfigDir, which the CLI resolved below the workspace.
    const legacy = join(workDir, this.settings.dataDir, "stacks", `Pulumi.${folder}.yaml`);
    if (existsSync(legacy) && !existsSync(this.configFile(folder)))
      renameSync(legacy, this.configFile(folder));
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
        backend: { url: this.settings.backendUrl },
      },
    };
  }
}

/** The same settings with every object's keys sorted, so equal settings print equal. */
export function canonicalSettings(settings: StackSettings): StackSettings {
  return canonical(settings);
}

function canonical<T>(value: T): T {
  if (Array.isArray(value)) return value.map(canonical) as T;
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => [k, canonical(v)]),
  ) as T;
}
