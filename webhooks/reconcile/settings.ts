/**
 * What the reconcile worker and the sweep need beyond the automation layer's
 * settings, read once from the environment: the price → tier map, the deletion
 * grace, the intervals of its schedules (sweep, health checks, drift checks,
 * capacity retries), the images tenants run, the Dokku hosts' public keys, and
 * the TLS / DNS / backup choices every tenant spec carries.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type AutomationSettings,
  LOCAL_HOST_POINTER,
  leaseWaitMs,
  operationDeadlineMs,
} from "../../automation/settings.ts";
import { DEFAULT_PRICE_TIERS, parsePriceTiers } from "../../billing/priceTiers.ts";
import { BRIDGE_KINDS, type BridgeKind } from "../../components/bridges.ts";
import { productionRefusal, unset } from "../../components/environments.ts";
import { EXAMPLE_BRIDGE_IMAGES, EXAMPLE_IMAGES } from "../../components/exampleTenant.ts";
import { isTierId, type TierId } from "../../components/tiers.ts";
import { type ManagedProviderKeys, parseManagedProviderKeys } from "./modelKeys.ts";

export interface TenantImages {
  readonly runtime: string;
  readonly homeserver: string;
  readonly backup: string;
}

export interface ReconcileSettings {
  /** `STRIPE_PRICE_TIERS`: price id → tier (default: the local Stripe API's test prices, so local runs need none). */
  readonly priceTiers: ReadonlyMap<string, TierId>;
  /** `MINDROOM_DELETION_GRACE` (`7d`, `12h`, `5s`, `0s`; default 7 days). */
  readonly deletionGraceMs: number;
  /** `MINDROOM_SWEEP_INTERVAL` (same units; default 10 minutes, `0s` turns the periodic sweep off). */
  readonly sweepIntervalMs: number;
  /** `MINDROOM_USAGE_INTERVAL`: how often usage is measured on the hosts (default 1 hour, `0s` turns it off). */
  readonly usageIntervalMs: number;
  /** `MINDROOM_RUNTIME_IMAGE`, `MINDROOM_HOMESERVER_IMAGE`, `MINDROOM_BACKUP_IMAGE`, pinned by digest. */
  readonly images: TenantImages;
  /** Public key per host URL of the pool, from `DOKKU_KNOWN_HOSTS` (an OpenSSH known_hosts file). */
  readonly hostKeys: ReadonlyMap<string, string>;
  /** `MINDROOM_TLS_EMAIL`: the Let's Encrypt account (default `ops@<base domain>`). */
  readonly tlsEmail: string;
  /** `CLOUDFLARE_ZONE_ID`: DNS records in this zone; unset means no DNS records. */
  readonly cloudflareZoneId: string | undefined;
  /** `MINDROOM_BACKUP_BUCKET` and `MINDROOM_BACKUP_REGION`: backups to S3; unset means none. */
  readonly backup: { readonly bucket: string; readonly region: string } | undefined;
  /** `MINDROOM_WORKER_CONCURRENCY`: reconciles at once in this process (default: the pool size). */
  readonly concurrency: number;
  /** `MINDROOM_HEALTH_INTERVAL`: between tenant health checks (default 1 minute; `0s` turns them off). */
  readonly healthIntervalMs: number;
  /**
   * `MINDROOM_HEALTH_HTTP_PROBE` (`on`/`off`): probe each app's readiness URL too. Default on,
   * except in the test environment, whose Dokku test host runs no containers.
   */
  readonly healthHttpProbe: boolean;
  /** `MINDROOM_DRIFT_INTERVAL`: between scheduled drift checks of every tenant (default 6 hours; `0s`: off). */
  readonly driftIntervalMs: number;
  /** `MINDROOM_CAPACITY_RETRY_INTERVAL`: how often tenants waiting for capacity are tried again (default 15 s). */
  readonly capacityRetryMs: number;
  /**
   * `MINDROOM_BACKUP_CHECK_INTERVAL`: how often the backup bucket's retention is enforced and each
   * tenant's newest backup recorded (default 15 minutes; `0s`: off).
   */
  readonly backupCheckIntervalMs: number;
  /** `MINDROOM_HOMESERVER`: what new tenants run (`tuwunel`, the default, or `synapse`); a tenant keeps its own. */
  readonly homeserver: "tuwunel" | "synapse";
  /**
   * Single sign-on into tenants' dashboards: on when `SUPABASE_URL` or `SUPABASE_ANON_KEY` is set,
   * and then both and `PORTAL_PUBLIC_URL` are needed (required in production). `PORTAL_PUBLIC_URL`
   * alone does not turn it on: the worker's emails use it too. Off, tenants run in API-key mode:
   * only operators get in.
   */
  readonly platformAuth:
    | { readonly supabaseUrl: string; readonly supabaseAnonKey: string; readonly portalUrl: string }
    | undefined;
  /** `MINDROOM_BRIDGE_IMAGES`: `telegram=<image>,…`, each pinned by digest (required in production). */
  readonly bridgeImages: Readonly<Record<BridgeKind, string>>;
  /** `MINDROOM_MANAGED_PROVIDER_KEYS`: keys the operator provides per tier (`starter:openrouter=sk-…`). */
  readonly managedProviderKeys: ManagedProviderKeys;
}

export class ReconcileSettingsError extends Error {
  override readonly name = "ReconcileSettingsError";
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `7d`, `12h`, `30m`, `5s`, `250ms`, or a bare number of seconds. */
export function parseDuration(name: string, raw: string): number {
  const match = /^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!match)
    throw new ReconcileSettingsError(`${name} must be a duration like 7d, 12h, 30m or 5s, got ${raw}`);
  return Math.round(Number(match[1]) * (UNITS[match[2] ?? "s"] ?? 1000));
}

function onOff(name: string, raw: string | undefined, fallback: boolean): boolean {
  const value = raw?.trim().toLowerCase();
  if (!value) return fallback;
  if (["on", "true", "1", "yes"].includes(value)) return true;
  if (["off", "false", "0", "no"].includes(value)) return false;
  throw new ReconcileSettingsError(`${name} must be on or off, got ${JSON.stringify(raw)}`);
}

/** Host keys for the pool from known_hosts lines (`[host]:port type key` or `host type key`). */
export function hostKeysFor(hosts: AutomationSettings["hosts"], knownHosts: string): Map<string, string> {
  const keys = new Map<string, string>();
  const lines = knownHosts
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("#"));
  for (const host of hosts) {
    const match = /^ssh:\/\/[^@]+@([^:]+):([0-9]+)$/.exec(host.url);
    if (!match) continue;
    const [, name = "", port = ""] = match;
    const wanted = port === "22" ? name : `[${name}]:${port}`;
    for (const line of lines) {
      const [names = "", type = "", key = ""] = line.split(/\s+/);
      if (names.split(",").includes(wanted) && type && key) {
        keys.set(host.url, `${type} ${key}`);
        break;
      }
    }
  }
  return keys;
}

/** The local Dokku host's known_hosts (written by `./platform start` beside its keys). */
function localKnownHosts(dataDir: string): string | undefined {
  const pointer = join(dataDir, LOCAL_HOST_POINTER);
  const dir = existsSync(pointer) ? readFileSync(pointer, "utf8").trim() : join(dataDir, "dokku-host");
  const path = join(dir, "ssh", "known_hosts");
  return existsSync(path) ? path : undefined;
}

const IMAGE_VARIABLES = [
  "MINDROOM_RUNTIME_IMAGE",
  "MINDROOM_HOMESERVER_IMAGE",
  "MINDROOM_BACKUP_IMAGE",
] as const;

/** What production refuses among the tenant settings: example images (bridges' too), no DNS, no backups. */
export function tenantProductionProblems(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = IMAGE_VARIABLES.filter((name) => unset(env, name)).map(
    (name) => `${name} is unset (an example image): set the image tenants run, pinned by digest (…@sha256:…)`,
  );
  if (unset(env, "MINDROOM_BRIDGE_IMAGES"))
    problems.push(
      `MINDROOM_BRIDGE_IMAGES is unset (example images): pin each bridge's image by digest, ${BRIDGE_KINDS.map((kind) => `${kind}=…@sha256:…`).join(",")}`,
    );
  if (unset(env, "CLOUDFLARE_ZONE_ID"))
    problems.push("CLOUDFLARE_ZONE_ID is unset: production tenants need DNS records in your Cloudflare zone");
  if (unset(env, "CLOUDFLARE_API_TOKEN"))
    problems.push(
      "CLOUDFLARE_API_TOKEN is unset: the Cloudflare provider needs a token with DNS edit on the zone",
    );
  if (unset(env, "MINDROOM_BACKUP_BUCKET"))
    problems.push("MINDROOM_BACKUP_BUCKET is unset: production tenants are backed up every 6 hours to S3");
  else if (unset(env, "MINDROOM_BACKUP_REGION") && unset(env, "AWS_REGION"))
    problems.push("MINDROOM_BACKUP_REGION (or AWS_REGION) is unset: name the backup bucket's region");
  return problems;
}

const PLATFORM_AUTH_NAMES = ["SUPABASE_URL", "SUPABASE_ANON_KEY", "PORTAL_PUBLIC_URL"] as const;

function platformAuthSettings(
  env: NodeJS.ProcessEnv,
  production: boolean,
): ReconcileSettings["platformAuth"] {
  const [supabaseUrl, supabaseAnonKey, portalUrl] = PLATFORM_AUTH_NAMES.map(
    (name) => env[name]?.trim() ?? "",
  );
  const missing = PLATFORM_AUTH_NAMES.filter((name) => !env[name]?.trim());
  // The Supabase pair is the switch: PORTAL_PUBLIC_URL is also the emails' setting.
  const switchedOn = !missing.includes("SUPABASE_URL") || !missing.includes("SUPABASE_ANON_KEY");
  if (!switchedOn && !production) return undefined;
  if (missing.length > 0)
    throw new ReconcileSettingsError(
      `single sign-on into tenants needs ${PLATFORM_AUTH_NAMES.join(", ")}; missing ${missing.join(", ")}`,
    );
  return {
    supabaseUrl: supabaseUrl ?? "",
    supabaseAnonKey: supabaseAnonKey ?? "",
    portalUrl: portalUrl ?? "",
  };
}

export function loadReconcileSettings(
  automation: AutomationSettings,
  env: NodeJS.ProcessEnv = process.env,
): ReconcileSettings {
  const production = automation.environment === "production";
  if (production) {
    const problems = tenantProductionProblems(env);
    if (problems.length > 0) throw new ReconcileSettingsError(productionRefusal(problems));
  }
  const image = (name: string, fallback: string) => env[name]?.trim() || fallback;
  const knownHostsPath = env.DOKKU_KNOWN_HOSTS?.trim() || localKnownHosts(automation.dataDir);
  const hostKeys = knownHostsPath
    ? hostKeysFor(automation.hosts, readFileSync(knownHostsPath, "utf8"))
    : new Map();
  const bucket = env.MINDROOM_BACKUP_BUCKET?.trim();
  const region = env.MINDROOM_BACKUP_REGION?.trim() || env.AWS_REGION?.trim();
  if (bucket && !region)
    throw new ReconcileSettingsError(
      "MINDROOM_BACKUP_BUCKET is set: set MINDROOM_BACKUP_REGION (or AWS_REGION) too",
    );
  const concurrency = Number(env.MINDROOM_WORKER_CONCURRENCY || automation.poolSize);
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new ReconcileSettingsError(
      `MINDROOM_WORKER_CONCURRENCY must be a positive integer, got ${env.MINDROOM_WORKER_CONCURRENCY}`,
    );
  const homeserver = env.MINDROOM_HOMESERVER?.trim() || "tuwunel";
  if (homeserver !== "tuwunel" && homeserver !== "synapse")
    throw new ReconcileSettingsError(`MINDROOM_HOMESERVER must be tuwunel or synapse, got ${homeserver}`);
  return {
    homeserver,
    priceTiers: parsePriceTiers(env.STRIPE_PRICE_TIERS?.trim() || DEFAULT_PRICE_TIERS),
    deletionGraceMs: parseDuration("MINDROOM_DELETION_GRACE", env.MINDROOM_DELETION_GRACE || "7d"),
    sweepIntervalMs: parseDuration("MINDROOM_SWEEP_INTERVAL", env.MINDROOM_SWEEP_INTERVAL || "10m"),
    usageIntervalMs: parseDuration("MINDROOM_USAGE_INTERVAL", env.MINDROOM_USAGE_INTERVAL || "1h"),
    images: {
      runtime: image("MINDROOM_RUNTIME_IMAGE", EXAMPLE_IMAGES.runtime),
      homeserver: image("MINDROOM_HOMESERVER_IMAGE", EXAMPLE_IMAGES.homeserver),
      backup: image("MINDROOM_BACKUP_IMAGE", EXAMPLE_IMAGES.backup),
    },
    hostKeys,
    tlsEmail: env.MINDROOM_TLS_EMAIL?.trim() || `ops@${automation.baseDomain}`,
    cloudflareZoneId: env.CLOUDFLARE_ZONE_ID?.trim() || undefined,
    backup: bucket && region ? { bucket, region } : undefined,
    concurrency,
    healthIntervalMs: parseDuration("MINDROOM_HEALTH_INTERVAL", env.MINDROOM_HEALTH_INTERVAL || "1m"),
    healthHttpProbe: onOff(
      "MINDROOM_HEALTH_HTTP_PROBE",
      env.MINDROOM_HEALTH_HTTP_PROBE,
      automation.environment !== "test",
    ),
    driftIntervalMs: parseDuration("MINDROOM_DRIFT_INTERVAL", env.MINDROOM_DRIFT_INTERVAL || "6h"),
    capacityRetryMs: parseDuration(
      "MINDROOM_CAPACITY_RETRY_INTERVAL",
      env.MINDROOM_CAPACITY_RETRY_INTERVAL || "15s",
    ),
    backupCheckIntervalMs: parseDuration(
      "MINDROOM_BACKUP_CHECK_INTERVAL",
      env.MINDROOM_BACKUP_CHECK_INTERVAL || "15m",
    ),
    platformAuth: platformAuthSettings(env, production),
    bridgeImages: bridgeImages(env.MINDROOM_BRIDGE_IMAGES?.trim() ?? "", production),
    managedProviderKeys: parseManagedProviderKeys(env.MINDROOM_MANAGED_PROVIDER_KEYS ?? "", isTierId),
  };
}

function bridgeImages(raw: string, production: boolean): Record<BridgeKind, string> {
  const images: Partial<Record<BridgeKind, string>> = production ? {} : { ...EXAMPLE_BRIDGE_IMAGES };
  for (const entry of raw
    .split(",")
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [kind = "", image = ""] = entry.split("=", 2);
    if (!(BRIDGE_KINDS as readonly string[]).includes(kind) || !image.includes("@sha256:"))
      throw new ReconcileSettingsError(
        `MINDROOM_BRIDGE_IMAGES entry ${JSON.stringify(entry)} must be <${BRIDGE_KINDS.join("|")}>=<image pinned by digest>`,
      );
    images[kind as BridgeKind] = image;
  }
  const missing = BRIDGE_KINDS.filter((kind) => !images[kind]);
  if (missing.length > 0)
    throw new ReconcileSettingsError(
      `MINDROOM_BRIDGE_IMAGES must pin an image for ${missing.join(", ")} in production`,
    );
  return images as Record<BridgeKind, string>;
}

/**
 * How long a reconcile job may stay active before the queue fails it and runs
 * it again: always longer than the longest job the automation settings allow,
 * so a slow operation is never run twice. A job waits for the tenant's lease
 * at most once, then runs at most two operations (a production deletion is an
 * up lifting data protection, then the destroy), each bounded by its timeout
 * and the pool's hard kill; five more minutes cover Stripe and the database.
 */
export function reconcileJobExpirySeconds(
  automation: Pick<AutomationSettings, "operationTimeoutMs" | "leaseTtlMs">,
): number {
  const longestJobMs = leaseWaitMs(automation) + 2 * operationDeadlineMs(automation);
  return Math.ceil(longestJobMs / 1000) + 5 * 60;
}
