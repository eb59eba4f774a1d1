/**
 * The portal's configuration, read from the environment once per process and validated with zod.
 * Names are the platform's stable names (design.md); secrets have no defaults, so a missing key is
 * an error that names the variable instead of a portal that silently talks to the wrong place.
 * Nothing here is ever sent to the browser: only server modules import it.
 */
import { z } from "zod";
import { DEFAULT_PRICE_TIERS, parsePriceTiers } from "../../../billing/priceTiers.ts";
import { LOCAL_SECRET_KEY } from "../../../billing/stripeClient.ts";
import { isProduction, productionRefusal, unset } from "../../../components/environments.ts";
import type { TierId } from "../../../components/tiers.ts";
import { parseTrustedProxies, type TrustedProxies } from "../../../net/clientAddress.ts";
import { parseRateLimits, type Rules } from "./rateLimitRules.ts";

export type AuthProviderName = "local" | "supabase";

export interface PortalSettings {
  /**
   * Which identity server signs people in (`MINDROOM_AUTH_PROVIDER`): `local`, the local auth
   * server (auth-server/, Ory Kratos behind a gateway; development and tests), or `supabase`,
   * Supabase Auth through supabase-js (production; needs `SUPABASE_ANON_KEY`).
   */
  readonly authProvider: AuthProviderName;
  /** Postgres with the platform schema (`DATABASE_URL`). */
  readonly databaseUrl: string;
  /** Supabase project URL (the local auth server's gateway in tests), `SUPABASE_URL`. */
  readonly supabaseUrl: string;
  /** Browser-safe key; RLS applies to it. */
  readonly supabaseAnonKey: string | undefined;
  /** Server-only key for the admin API (account deletion, test helpers); optional. */
  readonly supabaseServiceRoleKey: string | undefined;
  readonly stripeSecretKey: string;
  /** `http://127.0.0.1:<port>` for the local Stripe API; unset means api.stripe.com. */
  readonly stripeApiBase: string | undefined;
  /** Stripe price id → tier id. */
  readonly priceTiers: ReadonlyMap<string, TierId>;
  /** Public base URL of the portal, for Stripe return URLs and magic links. */
  readonly publicUrl: string;
  /** Its origin (`https://portal.example`): the only one whose pages may change anything. */
  readonly publicOrigin: string;
  /** Session cookies carry `Secure` unless this is turned off for plain-http hosts other than localhost. */
  readonly secureCookies: boolean;
  /**
   * `MINDROOM_TRUSTED_PROXIES`: the proxies in front of the portal; the client address is what
   * they recorded in `X-Forwarded-For` (net/clientAddress.ts). Unset: the connection's peer.
   */
  readonly trustedProxies: TrustedProxies;
  /** `PORTAL_RATE_LIMITS`: the rate-limit budgets (rateLimitRules.ts). */
  readonly rateLimits: Rules;
  /**
   * `MINDROOM_TENANT_ACCESS_KEY`: derives each tenant's single sign-on key and Matrix registration
   * secret (components/tenantSecrets.ts) and nothing else; unset, "Open MindRoom" and Matrix
   * accounts are unavailable. Never the root secret.
   */
  readonly tenantAccessKey: string | undefined;
  /**
   * `MINDROOM_TENANT_HOMESERVER_URL`: where the portal reaches a tenant's homeserver, `{slug}`
   * replaced (e.g. a private network path); unset, the tenant's public Matrix URL.
   */
  readonly tenantHomeserverUrl: string | undefined;
  /**
   * `MINDROOM_PROVIDER_KEYS_PUBLIC_KEY`: the reconcile worker's public key (base64url X25519), to
   * which customers' model keys are sealed; the portal can seal but never open them. Unset, model
   * keys cannot be entered.
   */
  readonly providerKeysPublicKey: string | undefined;
  /** `MINDROOM_MATRIX_CLIENT_URL`: the Matrix web client to link to, `{homeserver}` replaced (default app.element.io). */
  readonly matrixClientUrl: string;
}

export class PortalSettingsError extends Error {
  override readonly name = "PortalSettingsError";
}

const url = z.string().regex(/^https?:\/\/[^\s]+$/, "must be an http(s) URL");

const schema = z
  .object({
    MINDROOM_AUTH_PROVIDER: z
      .enum(["local", "supabase"], { error: 'must be "local" or "supabase"' })
      .default("local"),
    DATABASE_URL: z.string().regex(/^postgres(ql)?:\/\/\S+$/, "must be a postgres:// URL"),
    SUPABASE_URL: url,
    SUPABASE_ANON_KEY: z.string().min(1).optional(),
    SUPABASE_SERVICE_ROLE_KEY: z.string().min(1).optional(),
    STRIPE_SECRET_KEY: z.string().min(1).default(LOCAL_SECRET_KEY),
    STRIPE_API_BASE: url.optional(),
    STRIPE_PRICE_TIERS: z.string().default(DEFAULT_PRICE_TIERS),
    PORTAL_PUBLIC_URL: url.optional(),
    PORT: z.string().optional(),
    PORTAL_COOKIE_SECURE: z.enum(["true", "false"]).default("true"),
    MINDROOM_TENANT_ACCESS_KEY: z
      .string()
      .regex(/^[0-9a-f]{64}$/, "must be 64 hex characters (bin/mindroom-ops keys portal prints it)")
      .optional(),
    MINDROOM_PROVIDER_KEYS_PUBLIC_KEY: z
      .string()
      .regex(
        /^[A-Za-z0-9_-]{43}$/,
        "must be the worker's public key (bin/mindroom-ops keys portal prints it)",
      )
      .optional(),
    MINDROOM_MATRIX_CLIENT_URL: z
      .string()
      .regex(/^https?:\/\/[^\s]+$/, "must be an http(s) URL, {homeserver} standing for the homeserver's URL")
      .default("https://app.element.io/#/login"),
    MINDROOM_TENANT_HOMESERVER_URL: z
      .string()
      .regex(/^https?:\/\/[^\s]+$/, "must be an http(s) URL, {slug} standing for the tenant")
      .optional(),
  })
  .superRefine((e, ctx) => {
    if (e.MINDROOM_AUTH_PROVIDER === "supabase" && !e.SUPABASE_ANON_KEY)
      ctx.addIssue({
        code: "custom",
        path: ["SUPABASE_ANON_KEY"],
        message: "is required when MINDROOM_AUTH_PROVIDER=supabase",
      });
  });

/** Another module's configuration error, as ours (its message names the variable). */
function ours<T>(read: () => T): T {
  try {
    return read();
  } catch (error) {
    throw new PortalSettingsError((error as Error).message, { cause: error });
  }
}

/** What production refuses among the portal's settings: local sign-in and plain-http links and cookies. */
export function portalProductionProblems(env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  if (env.MINDROOM_AUTH_PROVIDER?.trim() !== "supabase")
    problems.push(
      "MINDROOM_AUTH_PROVIDER is not supabase (the local auth server signs people in): set it to supabase",
    );
  for (const name of ["SUPABASE_URL", "SUPABASE_ANON_KEY", "SUPABASE_SERVICE_ROLE_KEY"] as const)
    if (unset(env, name))
      problems.push(
        `${name} is unset: copy it from the Supabase project's API settings (docs/production.md)`,
      );
  const publicUrl = env.PORTAL_PUBLIC_URL?.trim() ?? "";
  if (publicUrl === "")
    problems.push(
      "PORTAL_PUBLIC_URL is unset: set the portal's public https URL (links in emails, Stripe returns, sign-in)",
    );
  else if (!publicUrl.startsWith("https://"))
    problems.push("PORTAL_PUBLIC_URL is not https: production serves the portal over TLS only");
  if (env.PORTAL_COOKIE_SECURE?.trim() === "false")
    problems.push("PORTAL_COOKIE_SECURE=false: production session cookies are Secure; unset it");
  return problems;
}

export function loadPortalSettings(env: NodeJS.ProcessEnv = process.env): PortalSettings {
  if (isProduction(env)) {
    const problems = portalProductionProblems(env);
    if (problems.length > 0) throw new PortalSettingsError(productionRefusal(problems));
  }
  const blank = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ""));
  const parsed = schema.safeParse(blank);
  if (!parsed.success) {
    // Name every bad variable at once; values may be secrets, so they are never echoed.
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ");
    throw new PortalSettingsError(`portal configuration is incomplete: ${problems}`);
  }
  const e = parsed.data;
  const publicUrl = (e.PORTAL_PUBLIC_URL ?? `http://localhost:${e.PORT ?? "3000"}`).replace(/\/$/, "");
  return {
    authProvider: e.MINDROOM_AUTH_PROVIDER,
    databaseUrl: e.DATABASE_URL,
    supabaseUrl: e.SUPABASE_URL.replace(/\/$/, ""),
    supabaseAnonKey: e.SUPABASE_ANON_KEY,
    supabaseServiceRoleKey: e.SUPABASE_SERVICE_ROLE_KEY,
    stripeSecretKey: e.STRIPE_SECRET_KEY,
    stripeApiBase: e.STRIPE_API_BASE,
    priceTiers: ours(() => parsePriceTiers(e.STRIPE_PRICE_TIERS)),
    publicUrl,
    publicOrigin: new URL(publicUrl).origin,
    secureCookies: e.PORTAL_COOKIE_SECURE === "true",
    trustedProxies: ours(() => parseTrustedProxies(env.MINDROOM_TRUSTED_PROXIES)),
    rateLimits: ours(() => parseRateLimits(env.PORTAL_RATE_LIMITS)),
    tenantAccessKey: e.MINDROOM_TENANT_ACCESS_KEY,
    tenantHomeserverUrl: e.MINDROOM_TENANT_HOMESERVER_URL,
    providerKeysPublicKey: e.MINDROOM_PROVIDER_KEYS_PUBLIC_KEY,
    matrixClientUrl: e.MINDROOM_MATRIX_CLIENT_URL,
  };
}

let cached: PortalSettings | undefined;

/** The process's settings, parsed on first use (never at import time). */
export function portalSettings(): PortalSettings {
  cached ??= loadPortalSettings();
  return cached;
}
