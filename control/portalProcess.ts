/**
 * The portal as a process of its own, holding only what it needs: the
 * database, sign-in, Stripe and its own settings. Never the Dokku SSH key, the
 * root secret, the Pulumi state backend or its passphrase, or cloud
 * credentials: operator actions, live outputs and previews are requests the
 * worker carries out (control/ and webhooks/operatorRequests.ts), so an
 * internet-facing process that is compromised holds no infrastructure keys.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { supervise } from "../processes/supervisor.ts";

/** The variables the portal reads (portal/src/server/settings.ts), and what Node and Nitro need. */
const PORTAL_KEYS = [
  "MINDROOM_ENVIRONMENT",
  "MINDROOM_AUTH_PROVIDER",
  "MINDROOM_BASE_DOMAIN",
  "MINDROOM_LOG_LEVEL",
  "DATABASE_URL",
  "SUPABASE_URL",
  "SUPABASE_ANON_KEY",
  "SUPABASE_SERVICE_ROLE_KEY",
  "STRIPE_SECRET_KEY",
  "STRIPE_API_BASE",
  "STRIPE_PRICE_TIERS",
  // The proxies in front of it: the client address its rate limits count.
  "MINDROOM_TRUSTED_PROXIES",
  // Single sign-on and Matrix accounts: the tenant-access key derives tenants' sign-on keys and
  // registration secrets, never the root secret; model keys are sealed to the worker's public key.
  "MINDROOM_TENANT_ACCESS_KEY",
  "MINDROOM_PROVIDER_KEYS_PUBLIC_KEY",
  "MINDROOM_TENANT_HOMESERVER_URL",
  "MINDROOM_MATRIX_CLIENT_URL",
  "PORT",
  "HOST",
  "NODE_ENV",
  "PATH",
  "HOME",
  "LANG",
  "TZ",
] as const;

/** Only the portal's own variables (and every `PORTAL_…` one) from `env`. */
export function portalEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(
    Object.entries(env).filter(
      ([name, value]) =>
        value !== undefined &&
        ((PORTAL_KEYS as readonly string[]).includes(name) || name.startsWith("PORTAL_")),
    ),
  );
}

/** The built portal server (`npm run build -w portal`, which `./platform start|serve` run). */
export const PORTAL_ENTRY = resolve(import.meta.dirname, "..", "portal", ".output", "server", "index.mjs");

export interface PortalProcess {
  /** The portal program's pid, once started (its tether's pid before that). */
  pid(): number;
  /** Resolves when the portal exits: its exit code (a stop included). */
  readonly exited: Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts the portal, supervised (processes/supervisor.ts: it dies with this
 * process), with `portalEnvironment(env)`; undefined when it is not built.
 */
export function startPortalProcess(env: NodeJS.ProcessEnv): PortalProcess | undefined {
  if (!existsSync(PORTAL_ENTRY)) return undefined;
  const portal = supervise("portal", process.execPath, [PORTAL_ENTRY], { env: portalEnvironment(env) });
  return {
    pid: () => portal.programPid() ?? portal.pid,
    exited: portal.exited.then((exit) => exit.code ?? (exit.signal ? 1 : 0)),
    stop: async () => {
      await portal.stop();
    },
  };
}
