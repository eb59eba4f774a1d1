/**
 * The webhook service's configuration, read once from the environment and validated with zod:
 * Stripe (keys, webhook secret, API base, price → tier map), the deletion grace, the HTTP edge
 * (address, body limit, signature tolerance, rate limit) and logging, composed with the
 * automation layer's and the database's settings. Local runs need no configuration: the local
 * test key and prices, and a webhook secret generated once in the data folder. In production
 * the Stripe secrets have no defaults.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { type AutomationSettings, loadAutomationSettings } from "../automation/settings.ts";
import { DEFAULT_PRICE_TIERS, parsePriceTiers } from "../billing/priceTiers.ts";
import { LOCAL_SECRET_KEY } from "../billing/stripeClient.ts";
import { productionRefusal, unset } from "../components/environments.ts";
import type { TierId } from "../components/tiers.ts";
import { type DatabaseSettings, loadDatabaseSettings } from "../database/settings.ts";
import { LOG_LEVELS, type LogFormat, type LogLevel, logFormatFromEnv } from "../logging/logger.ts";
import { loadMailSettings, type MailSettings } from "../mail/settings.ts";
import { parseTrustedProxies, type TrustedProxies } from "../net/clientAddress.ts";
import type { MetricsListenerSettings } from "./metricsServer.ts";
import type { RateLimitSettings } from "./rateLimit.ts";
import { parseDuration } from "./reconcile/settings.ts";

export interface StripeSettings {
  /** `STRIPE_SECRET_KEY` (default locally: the local Stripe API's `sk_test_mindroom_local`). */
  readonly secretKey: string;
  /** `STRIPE_WEBHOOK_SECRET` (`whsec_…`; default locally: generated once in the data folder). */
  readonly webhookSecret: string;
  /** `STRIPE_API_BASE`: where stripe-node sends API calls; undefined means api.stripe.com. */
  readonly apiBase: string | undefined;
}

export interface HttpSettings {
  /** `MINDROOM_WEBHOOKS_HOST` (default `127.0.0.1`; `0.0.0.0` to take Stripe's calls directly). */
  readonly host: string;
  /** `MINDROOM_WEBHOOKS_PORT` (default 8790; 0 picks a free port). */
  readonly port: number;
  /** `MINDROOM_WEBHOOKS_BODY_LIMIT`: largest accepted body, e.g. `512kb`, `1mb` (default 1 MiB). */
  readonly bodyLimitBytes: number;
  /** `STRIPE_WEBHOOK_TOLERANCE`: seconds a signature's timestamp may be off (default 300, Stripe's). */
  readonly toleranceSeconds: number;
  /**
   * `MINDROOM_WEBHOOKS_RATE` requests per second per source address (default 100, `0` turns the
   * limit off) with bursts of `MINDROOM_WEBHOOKS_BURST` (default twice the rate).
   */
  readonly rateLimit: RateLimitSettings | undefined;
  /**
   * `MINDROOM_TRUSTED_PROXIES`: the proxies in front of the service (addresses, CIDR ranges); the
   * client address is what they recorded in `X-Forwarded-For` (net/clientAddress.ts). Unset: the
   * connection's peer, and the header is ignored.
   */
  readonly trustedProxies: TrustedProxies;
  /** `MINDROOM_WEBHOOKS_DB_CONNECTIONS`: connections for recording events (default 10). */
  readonly databaseConnections: number;
}

export interface WebhookSettings {
  readonly stripe: StripeSettings;
  /** `STRIPE_PRICE_TIERS`: price id → tier, every tier one of components/tiers.ts. */
  readonly priceTiers: ReadonlyMap<string, TierId>;
  /** `MINDROOM_DELETION_GRACE` (`7d`, `12h`, `0s`; default 7 days). */
  readonly deletionGraceMs: number;
  readonly http: HttpSettings;
  /**
   * The internal listener for Prometheus scrapes (webhooks/metricsServer.ts), apart from the port
   * Stripe calls: `MINDROOM_METRICS_HOST` (default `127.0.0.1`) and `MINDROOM_METRICS_PORT`
   * (default 9464; 0 picks a free port).
   */
  readonly metrics: MetricsListenerSettings;
  /** `MINDROOM_LOG_LEVEL` (debug, info, warn, error; default info). */
  readonly logLevel: LogLevel;
  /** `MINDROOM_LOG_FORMAT` (json, pretty, auto; default auto: pretty on a terminal, JSON elsewhere). */
  readonly logFormat: LogFormat;
  readonly automation: AutomationSettings;
  readonly database: DatabaseSettings;
  /** Outgoing mail (`SMTP_URL`, `MAIL_FROM`, `PORTAL_PUBLIC_URL`): the worker's emails. */
  readonly mail: MailSettings;
}

export class WebhookSettingsError extends Error {
  override readonly name = "WebhookSettingsError";
}

/** Where the local webhook secret lives, so the local Stripe API signs with the same one. */
export const WEBHOOK_SECRET_FILE = "stripe-webhook-secret";

/** The data folder's webhook secret (`whsec_…`), created (0600) on first use. */
export function localWebhookSecret(dataDir: string): string {
  const path = join(dataDir, WEBHOOK_SECRET_FILE);
  if (!existsSync(path)) {
    mkdirSync(dataDir, { recursive: true });
    try {
      writeFileSync(path, `whsec_${randomBytes(24).toString("hex")}`, { mode: 0o600, flag: "wx" });
    } catch (error) {
      // Another process created it first: use theirs.
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
  }
  chmodSync(path, 0o600);
  return readFileSync(path, "utf8").trim();
}

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2 };

/** An empty variable counts as unset. */
const optional = <T extends z.ZodType>(schema: T) =>
  z.preprocess((value) => (typeof value === "string" && value.trim() === "" ? undefined : value), schema);

const integer = (min: number, max: number) =>
  z.coerce
    .number({ error: "must be a whole number" })
    .int({ error: "must be a whole number" })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });

const environment = z.object({
  STRIPE_SECRET_KEY: optional(
    z
      .string()
      .regex(
        /^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/,
        "must be a Stripe secret key (sk_test_…, sk_live_…, rk_…)",
      )
      .optional(),
  ),
  STRIPE_WEBHOOK_SECRET: optional(
    z
      .string()
      .regex(/^whsec_[A-Za-z0-9_+/=-]+$/, "must be a webhook signing secret (whsec_…)")
      .optional(),
  ),
  STRIPE_API_BASE: optional(z.url({ protocol: /^https?$/, error: "must be an http(s) URL" }).optional()),
  STRIPE_WEBHOOK_TOLERANCE: optional(integer(1, 24 * 3600).default(300)),
  MINDROOM_WEBHOOKS_HOST: optional(z.string().min(1).default("127.0.0.1")),
  MINDROOM_WEBHOOKS_PORT: optional(integer(0, 65535).default(8790)),
  MINDROOM_WEBHOOKS_BODY_LIMIT: optional(
    z
      .string()
      .regex(/^[0-9]+ *(b|kb|mb)?$/i, "must be a size like 262144, 512kb or 1mb")
      .default("1mb")
      .transform((raw) => {
        const [, amount = "0", unit = "b"] = /^([0-9]+) *([a-z]*)$/i.exec(raw) ?? [];
        return Number(amount) * (SIZE_UNITS[unit.toLowerCase() || "b"] ?? 1);
      })
      .pipe(
        z
          .number()
          .min(1024, "must be at least 1kb")
          .max(64 * 1024 ** 2, "must be at most 64mb"),
      ),
  ),
  MINDROOM_WEBHOOKS_RATE: optional(
    z.coerce.number({ error: "must be a number of requests per second" }).min(0).max(1_000_000).default(100),
  ),
  MINDROOM_WEBHOOKS_BURST: optional(integer(1, 1_000_000).optional()),
  // Replaced: it trusted X-Forwarded-For from anyone, so any client could pick its own address.
  MINDROOM_WEBHOOKS_TRUST_PROXY: optional(
    z
      .undefined({
        error: "is replaced by MINDROOM_TRUSTED_PROXIES (the proxies' addresses or CIDR ranges): unset it",
      })
      .optional(),
  ),
  MINDROOM_WEBHOOKS_DB_CONNECTIONS: optional(integer(1, 200).default(10)),
  MINDROOM_METRICS_HOST: optional(z.string().min(1).default("127.0.0.1")),
  MINDROOM_METRICS_PORT: optional(integer(0, 65535).default(9464)),
  MINDROOM_LOG_LEVEL: optional(z.enum(LOG_LEVELS).default("info")),
});

/** Turns another module's settings error into ours, keeping its message (it names the variable). */
function ours<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new WebhookSettingsError((error as Error).message, { cause: error });
  }
}

/** What production refuses among the Stripe settings: the local test key, prices and a generated webhook secret. */
export function stripeProductionProblems(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const key = env.STRIPE_SECRET_KEY?.trim() ?? "";
  if (key === "")
    problems.push(
      "STRIPE_SECRET_KEY is unset (the local Stripe API's test key): set a live secret or restricted key",
    );
  else if (key.includes("_test_"))
    problems.push(
      "STRIPE_SECRET_KEY is a test key (sk_test_…): production takes live keys (sk_live_…, rk_live_…)",
    );
  if (unset(env, "STRIPE_WEBHOOK_SECRET"))
    problems.push(
      "STRIPE_WEBHOOK_SECRET is unset (a secret generated in the data folder): copy the endpoint's signing secret (whsec_…) from Stripe",
    );
  const tiers = env.STRIPE_PRICE_TIERS?.trim() ?? "";
  if (tiers === "" || tiers.includes("price_mindroom_"))
    problems.push(
      "STRIPE_PRICE_TIERS is unset or names the local test prices (price_mindroom_…): map your live price ids to tiers (docs/production.md)",
    );
  return problems;
}

export function loadWebhookSettings(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
): WebhookSettings {
  const parsed = environment.safeParse(env);
  if (!parsed.success) {
    // Every problem at once, each naming its variable; values are not echoed (some are secrets).
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")} ${issue.message}`);
    throw new WebhookSettingsError(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  const values = parsed.data;
  const automation = ours(() => loadAutomationSettings(env, cwd));
  const database = ours(() => loadDatabaseSettings(env, cwd));
  if (automation.environment === "production") {
    const problems = stripeProductionProblems(env);
    if (problems.length > 0) throw new WebhookSettingsError(productionRefusal(problems));
  }
  const mail = ours(() => loadMailSettings(env, cwd));
  const rate = values.MINDROOM_WEBHOOKS_RATE;
  return {
    stripe: {
      secretKey: values.STRIPE_SECRET_KEY ?? LOCAL_SECRET_KEY,
      webhookSecret: values.STRIPE_WEBHOOK_SECRET ?? localWebhookSecret(automation.dataDir),
      apiBase: values.STRIPE_API_BASE,
    },
    priceTiers: ours(() => parsePriceTiers(env.STRIPE_PRICE_TIERS?.trim() || DEFAULT_PRICE_TIERS)),
    deletionGraceMs: ours(() =>
      parseDuration("MINDROOM_DELETION_GRACE", env.MINDROOM_DELETION_GRACE?.trim() || "7d"),
    ),
    http: {
      host: values.MINDROOM_WEBHOOKS_HOST,
      port: values.MINDROOM_WEBHOOKS_PORT,
      bodyLimitBytes: values.MINDROOM_WEBHOOKS_BODY_LIMIT,
      toleranceSeconds: values.STRIPE_WEBHOOK_TOLERANCE,
      rateLimit:
        rate === 0
          ? undefined
          : { perSecond: rate, burst: values.MINDROOM_WEBHOOKS_BURST ?? Math.ceil(rate * 2) },
      trustedProxies: ours(() => parseTrustedProxies(env.MINDROOM_TRUSTED_PROXIES)),
      databaseConnections: values.MINDROOM_WEBHOOKS_DB_CONNECTIONS,
    },
    metrics: { host: values.MINDROOM_METRICS_HOST, port: values.MINDROOM_METRICS_PORT },
    logLevel: values.MINDROOM_LOG_LEVEL,
    logFormat: ours(() => logFormatFromEnv(env)),
    automation,
    database,
    mail,
  };
}
