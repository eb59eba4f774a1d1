/**
 * Where tenant stacks keep their state and secrets, chosen by configuration
 * (the names the Pulumi CLI itself reads), with embedded defaults for one
 * machine: a file backend and a generated passphrase in the data folder.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import {
  ENVIRONMENTS,
  type Environment,
  isEnvironment,
  isProduction,
  productionRefusal,
  unset,
} from "../components/environments.ts";
import type { KnownHost } from "../components/hostPool.ts";
import { isHostAddress } from "../components/tenantSpec.ts";
import {
  LOCAL_STATE_BUCKET,
  objectStoreDir,
  objectStoreEnv,
  objectStoreIn,
  s3BackendUrl,
} from "../object-store/endpoint.ts";

export interface AutomationSettings {
  /** Everything the embedded defaults keep (`MINDROOM_DATA_DIR`, default `./.data`). */
  readonly dataDir: string;
  /**
   * `file://…`, `s3://…`, `https://api.pulumi.com`, … (`PULUMI_BACKEND_URL`); unset: the
   * data folder's local object store when `./platform start` made one, else a file backend.
   */
  readonly backendUrl: string;
  /** Environment every pulumi process gets for the backend (the local object store's AWS_* credentials). */
  readonly backendEnv: Readonly<Record<string, string>>;
  /** The folder of the local object store holding the state, when that is the backend. */
  readonly localObjectStore: string | undefined;
  /** `passphrase` (default) or a KMS URL like `awskms://alias/x?region=…` (`PULUMI_SECRETS_PROVIDER`). */
  readonly secretsProvider: string;
  /** Environment every pulumi process gets for secrets (the passphrase, when that provider is used). */
  readonly secretsEnv: Readonly<Record<string, string>>;
  /** Per-tenant workspace folders (each with its stack's config file): never shared, so parallel stack selection cannot race. */
  readonly workspacesDir: string;
  /**
   * The platform Postgres (`DATABASE_URL`; a caller that started the embedded one sets it): where
   * tenant leases and shared stack config live. Operations need it; reads of stacks do not.
   */
  readonly databaseUrl: string | undefined;
  /** A tenant lease not renewed for this long is over (`MINDROOM_TENANT_LEASE_TTL`, seconds, default 30). */
  readonly leaseTtlMs: number;
  /** Child processes running operations at once (`MINDROOM_AUTOMATION_WORKERS`). */
  readonly poolSize: number;
  /** Longest an operation may run before it is cancelled (`MINDROOM_OPERATION_TIMEOUT`, seconds). */
  readonly operationTimeoutMs: number;
  /** The secret every tenant secret derives from (`MINDROOM_ROOT_SECRET`; generated in the data folder otherwise). */
  readonly rootSecret: string;
  /** Private key for the Dokku hosts (`DOKKU_SSH_KEY`, a path; default: the local Dokku host's key). */
  readonly sshKeyPath: string | undefined;
  /** The Dokku host pool (`DOKKU_HOSTS`; default: the local Dokku host started by `./platform start`). */
  readonly hosts: readonly KnownHost[];
  /** Tenants get `<slug>.<base>` (`MINDROOM_BASE_DOMAIN`, default `mindroom.test`). */
  readonly baseDomain: string;
  /** `production`, `staging` or `test` (`MINDROOM_ENVIRONMENT`, default `test`): production rules apply to production. */
  readonly environment: Environment;
  /** Apply the policy pack to every preview and up (`MINDROOM_POLICIES=off` turns it off, for diagnosis only). */
  readonly policies: boolean;
}

/** The pool kills a worker this long after its operation's timeout, if the graceful cancel did not end it. */
export const HARD_KILL_GRACE_MS = 60_000;

/** The longest one operation can occupy a worker: its timeout, then the pool's hard kill. */
export function operationDeadlineMs(settings: Pick<AutomationSettings, "operationTimeoutMs">): number {
  return settings.operationTimeoutMs + HARD_KILL_GRACE_MS;
}

/**
 * How long a reconcile waits for a tenant whose lease another holder has: a
 * holder that died lets its lease expire within one ttl; one more renewal
 * interval of margin.
 */
export function leaseWaitMs(settings: Pick<AutomationSettings, "leaseTtlMs">): number {
  return Math.ceil((settings.leaseTtlMs * 7) / 6);
}

export class SettingsError extends Error {
  override readonly name = "SettingsError";
}

/** About 1 GiB per concurrent operation (CLI, provider plugins, the worker), at most two per core. */
export function defaultPoolSize(memoryBytes = totalmem(), cores = cpus().length): number {
  return Math.max(1, Math.min(Math.floor(memoryBytes / 2 ** 30 / 2), cores * 2, 8));
}

function positiveInt(
  name: string,
  raw: string | undefined,
  fallback: number,
  range: { readonly min?: number; readonly max?: number } = {},
): number {
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  const { min = 1, max = Number.MAX_SAFE_INTEGER } = range;
  if (!Number.isInteger(value) || value < min || value > max)
    throw new SettingsError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  return value;
}

/**
 * The longest operation timeout: a reconcile job (two operations and a lease
 * wait, webhooks/reconcile/settings.ts) must fit in pg-boss's longest expiry
 * of 24 h, or the queue would run it a second time while it still runs.
 */
export const MAX_OPERATION_TIMEOUT_SECONDS = 10 * 3600;
/** Lease ttl bounds: short enough that a dead holder's tenant is free soon, long enough for a slow database. */
const LEASE_TTL_SECONDS = { min: 3, max: 600 };

/** A random secret kept in the data folder, created (0600) on first use. */
function embeddedSecret(dataDir: string, file: string): string {
  const path = join(dataDir, file);
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(path, randomBytes(32).toString("hex"), { mode: 0o600, flag: "wx" });
  }
  chmodSync(path, 0o600);
  return readFileSync(path, "utf8").trim();
}

/**
 * `DOKKU_HOSTS`: comma-separated `ssh://user@host:port`, each optionally with
 * `?address=…&memoryMb=…&cpus=…&proxied=true` (defaults: the URL's host, this
 * machine's memory and cores, not proxied).
 */
export function parseHosts(raw: string): KnownHost[] {
  const hostAddress = (address: string) => {
    if (!isHostAddress(address))
      throw new SettingsError(
        `DOKKU_HOSTS address ${JSON.stringify(address)} must be an IP address or a lowercase DNS name`,
      );
    return address;
  };
  return raw
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "")
    .map((entry) => {
      const [url = "", query = ""] = entry.split("?");
      const match = /^ssh:\/\/[a-z_][a-z0-9_-]*@([^@:/]+):([0-9]{1,5})$/.exec(url);
      if (!match)
        throw new SettingsError(
          `DOKKU_HOSTS entry ${JSON.stringify(entry)} must be ssh://user@host:port[?options]`,
        );
      const params = new URLSearchParams(query);
      const number = (key: string, fallback: number) => {
        const value = params.get(key);
        if (value === null) return fallback;
        const n = Number(value);
        if (!(n > 0)) throw new SettingsError(`DOKKU_HOSTS ${key} must be a positive number, got ${value}`);
        return n;
      };
      return {
        url,
        address: hostAddress(params.get("address") ?? match[1] ?? ""),
        memoryMb: Math.floor(number("memoryMb", totalmem() / 2 ** 20)),
        cpus: number("cpus", cpus().length),
        proxied: params.get("proxied") === "true",
      };
    });
}

/** A file in the data folder naming the local host's directory (see platform.ts). */
export const LOCAL_HOST_POINTER = "dokku-host.path";

/** The host `./platform start` keeps for this data folder, if it was ever started. */
function localHost(dataDir: string): { host: KnownHost; keyPath: string } | undefined {
  const pointer = join(dataDir, LOCAL_HOST_POINTER);
  const dir = existsSync(pointer) ? readFileSync(pointer, "utf8").trim() : join(dataDir, "dokku-host");
  if (!existsSync(join(dir, "port"))) return undefined;
  const port = readFileSync(join(dir, "port"), "utf8").trim();
  return {
    // Containers do not run on the local host (a Dokku double), so its capacity is
    // nominal: sized for a few tenants of every tier rather than this machine's cores.
    host: parseHosts(`ssh://root@127.0.0.1:${port}?memoryMb=65536&cpus=32`)[0] as KnownHost,
    keyPath: join(dir, "ssh", "client_key"),
  };
}

const LOCAL_DOMAIN = /(^|\.)(test|local|localhost|invalid|example)$/;

/**
 * What production refuses among the automation settings: every default that is
 * generated, kept in this machine's data folder, or only good for the local
 * Dokku host. Each problem names its variable and what to do.
 */
export function automationProductionProblems(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const rootSecret = env.MINDROOM_ROOT_SECRET?.trim() ?? "";
  if (rootSecret === "")
    problems.push(
      "MINDROOM_ROOT_SECRET is unset: production never generates the root secret; set 64 random hex characters (openssl rand -hex 32) from your secret store",
    );
  else if (rootSecret.length < 32)
    problems.push("MINDROOM_ROOT_SECRET is shorter than 32 characters: use openssl rand -hex 32");
  const backend = env.PULUMI_BACKEND_URL?.trim() ?? "";
  if (backend === "" || backend.startsWith("file://"))
    problems.push(
      `PULUMI_BACKEND_URL is ${backend === "" ? "unset (the data folder's object store or file backend)" : "a file backend"}: production keeps stack state in object storage (s3://bucket?region=…) or Pulumi Cloud, where another machine can take over`,
    );
  const provider = env.PULUMI_SECRETS_PROVIDER?.trim() || "passphrase";
  if (
    provider === "passphrase" &&
    unset(env, "PULUMI_CONFIG_PASSPHRASE") &&
    unset(env, "PULUMI_CONFIG_PASSPHRASE_FILE")
  )
    problems.push(
      "PULUMI_SECRETS_PROVIDER is passphrase but no passphrase is set: production never generates it; use a KMS key (PULUMI_SECRETS_PROVIDER=awskms://…) or set PULUMI_CONFIG_PASSPHRASE(_FILE)",
    );
  if (env.MINDROOM_POLICIES?.trim() === "off")
    problems.push(
      "MINDROOM_POLICIES=off: production runs every preview and up through the policy pack; unset it",
    );
  if (unset(env, "DOKKU_SSH_KEY"))
    problems.push(
      "DOKKU_SSH_KEY is unset: production does not use the local Dokku host's key; point it at the key your hosts accept",
    );
  const domain = env.MINDROOM_BASE_DOMAIN?.trim() ?? "";
  if (domain === "" || LOCAL_DOMAIN.test(domain))
    problems.push(
      `MINDROOM_BASE_DOMAIN is ${domain === "" ? "unset (mindroom.test)" : `${domain}, a domain that does not resolve`}: set the domain tenants live under`,
    );
  return problems;
}

export function loadAutomationSettings(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): AutomationSettings {
  if (isProduction(env)) {
    const problems = automationProductionProblems(env);
    if (problems.length > 0) throw new SettingsError(productionRefusal(problems));
  }
  const dataDir = resolve(cwd, env.MINDROOM_DATA_DIR || ".data");
  const storeDir = objectStoreDir(dataDir);
  const localStore = env.PULUMI_BACKEND_URL ? undefined : objectStoreIn(storeDir);
  const backendUrl =
    env.PULUMI_BACKEND_URL ||
    (localStore ? s3BackendUrl(localStore, LOCAL_STATE_BUCKET) : `file://${join(dataDir, "pulumi")}`);
  if (!/^(file|s3|gs|azblob|postgres|https?):\/\//.test(backendUrl)) {
    throw new SettingsError(
      `PULUMI_BACKEND_URL must be file://, s3://, gs://, azblob://, postgres:// or a Pulumi Cloud URL, got ${backendUrl}`,
    );
  }
  if (backendUrl.startsWith("file://")) mkdirSync(backendUrl.slice("file://".length), { recursive: true });
  const secretsProvider = env.PULUMI_SECRETS_PROVIDER || "passphrase";
  let secretsEnv: Record<string, string> = {};
  if (secretsProvider === "passphrase") {
    secretsEnv = env.PULUMI_CONFIG_PASSPHRASE_FILE
      ? { PULUMI_CONFIG_PASSPHRASE_FILE: env.PULUMI_CONFIG_PASSPHRASE_FILE }
      : {
          PULUMI_CONFIG_PASSPHRASE:
            env.PULUMI_CONFIG_PASSPHRASE ?? embeddedSecret(dataDir, "pulumi-passphrase"),
        };
  } else if (!/^(awskms|azurekeyvault|gcpkms|hashivault):\/\//.test(secretsProvider)) {
    throw new SettingsError(
      `PULUMI_SECRETS_PROVIDER must be passphrase or a KMS URL, got ${secretsProvider}`,
    );
  }
  const timeoutSeconds = positiveInt("MINDROOM_OPERATION_TIMEOUT", env.MINDROOM_OPERATION_TIMEOUT, 15 * 60, {
    max: MAX_OPERATION_TIMEOUT_SECONDS,
  });
  const local = env.DOKKU_HOSTS ? undefined : localHost(dataDir);
  const environment = env.MINDROOM_ENVIRONMENT || "test";
  if (!isEnvironment(environment)) {
    throw new SettingsError(`MINDROOM_ENVIRONMENT must be ${ENVIRONMENTS.join(", ")}, got ${environment}`);
  }
  return {
    dataDir,
    backendUrl,
    backendEnv: localStore ? objectStoreEnv(localStore) : {},
    localObjectStore: localStore ? storeDir : undefined,
    secretsProvider,
    secretsEnv,
    workspacesDir: join(dataDir, "workspaces"),
    databaseUrl: env.DATABASE_URL?.trim() || undefined,
    leaseTtlMs:
      positiveInt("MINDROOM_TENANT_LEASE_TTL", env.MINDROOM_TENANT_LEASE_TTL, 30, LEASE_TTL_SECONDS) * 1000,
    poolSize: positiveInt("MINDROOM_AUTOMATION_WORKERS", env.MINDROOM_AUTOMATION_WORKERS, defaultPoolSize()),
    operationTimeoutMs: timeoutSeconds * 1000,
    rootSecret: env.MINDROOM_ROOT_SECRET || embeddedSecret(dataDir, "root-secret"),
    sshKeyPath: env.DOKKU_SSH_KEY || local?.keyPath,
    hosts: env.DOKKU_HOSTS ? parseHosts(env.DOKKU_HOSTS) : local ? [local.host] : [],
    baseDomain: env.MINDROOM_BASE_DOMAIN || "mindroom.test",
    environment,
    policies: env.MINDROOM_POLICIES !== "off",
  };
}
