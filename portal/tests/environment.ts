/**
 * Everything the portal talks to, real and local, for tests and the benchmark: a fresh platform
 * database (testing/database.ts), the local auth server (auth-server/, Kratos + gateway + mail sink),
 * the local Stripe API (stripe-local/), and the built portal server (`.output/server/index.mjs`,
 * built once with `vite build` when missing) as a child process on a free port. With `pipeline`,
 * also the real pipeline behind it: Stripe delivers signed events to the webhook service, whose
 * reconcile worker runs the Pulumi engine against the Dokku test host (testing/webhookService.ts).
 */
import { type ChildProcess, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { type AuthServer, startAuthServer } from "../../auth-server/server.ts";
import { providerKeySealingSeed, tenantAccessKey } from "../../components/tenantSecrets.ts";
import { portalEnvironment } from "../../control/portalProcess.ts";
import { sealingKeyPair } from "../../database/sealedSecrets.ts";
import { supervise } from "../../processes/supervisor.ts";
import { type StripeLocal, startStripeLocal } from "../../stripe-local/server.ts";
import { type TestDatabase, testDatabase } from "../../testing/database.ts";
import { dokkuTarget } from "../../testing/dokkuTarget.ts";
import { freePort } from "../../testing/freePort.ts";
import { SAMPLE_ROOT_SECRET } from "../../testing/tenantSamples.ts";
import {
  automationEnvironment,
  type WebhookServiceChild,
  webhookServiceChild,
} from "../../testing/webhookService.ts";

export const PORTAL_DIR = resolve(import.meta.dirname, "..");
const SERVER_ENTRY = join(PORTAL_DIR, ".output", "server", "index.mjs");

export interface PortalEnvironment {
  /** `http://localhost:<port>` */
  readonly url: string;
  readonly db: TestDatabase;
  readonly auth: AuthServer;
  readonly stripe: StripeLocal;
  /** The webhook service and worker, when started with `pipeline`. */
  readonly pipeline: WebhookServiceChild | undefined;
  /** This run's private copy of the build (`.output`): a rebuild elsewhere cannot pull it away. */
  readonly buildDir: string;
  /** What the portal process printed (for failure messages). */
  output(): string;
  /** The portal process's pid (for checks of what it holds, through /proc). */
  readonly pid: number;
  /** The data folder the pipeline's worker keeps its state in. */
  readonly dataDir: string;
  stop(): Promise<void>;
}

/** Builds the portal unless a build exists (set PORTAL_REBUILD=1 to force one). */
export function ensurePortalBuilt(): void {
  if (existsSync(SERVER_ENTRY) && !process.env.PORTAL_REBUILD) return;
  execFileSync(
    process.execPath,
    [join(PORTAL_DIR, "..", "node_modules", "vite", "bin", "vite.js"), "build"],
    {
      cwd: PORTAL_DIR,
      stdio: "ignore",
      // vitest runs with NODE_ENV=test, with which SolidStart writes a dev manifest into the build
      // (its server then imports `/@manifest/ssr/…` and answers 500 to every page).
      env: { ...process.env, NODE_ENV: "production" },
    },
  );
}

async function waitForHttp(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the portal exited (${child.exitCode}):\n${output()}`);
    try {
      const answer = await fetch(url, { redirect: "manual" });
      if (answer.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((done) => setTimeout(done, 150));
  }
  throw new Error(`the portal did not answer at ${url} within 60 s:\n${output()}`);
}

export interface PortalEnvironmentOptions {
  readonly env?: Record<string, string>;
  /**
   * Start the real pipeline; `deletionGrace` is its MINDROOM_DELETION_GRACE (e.g. `90s`), `env` more
   * of its settings. Its tenants run in platform auth mode (single sign-on from this portal).
   */
  readonly pipeline?: { readonly deletionGrace: string; readonly env?: Record<string, string> };
}

export async function startPortalEnvironment(
  options: PortalEnvironmentOptions = {},
): Promise<PortalEnvironment> {
  ensurePortalBuilt();
  const dataDir = mkdtempSync(join(tmpdir(), "mindroom-portal-"));
  const port = await freePort();
  const url = `http://localhost:${port}`;
  const buildDir = join(dataDir, "output");
  cpSync(join(PORTAL_DIR, ".output"), buildDir, { recursive: true });
  const db = await testDatabase();
  const cleanups: (() => Promise<unknown>)[] = [
    () => db.close(),
    async () => rmSync(dataDir, { recursive: true, force: true }),
  ];
  try {
    const auth = await startAuthServer({ databaseUrl: db.url, dataDir, siteUrl: url });
    cleanups.unshift(() => auth.stop());
    const stripe = await startStripeLocal({ host: "127.0.0.1" });
    cleanups.unshift(() => stripe.stop());
    let pipeline: WebhookServiceChild | undefined;
    if (options.pipeline) {
      const webhookSecret = `whsec_${randomBytes(24).toString("hex")}`;
      const service = await webhookServiceChild({
        databaseUrl: db.url,
        stripe,
        webhookSecret,
        dataDir,
        target: dokkuTarget(),
        deletionGrace: options.pipeline.deletionGrace,
        portalUrl: url,
        env: {
          SUPABASE_URL: auth.url,
          SUPABASE_ANON_KEY: auth.anonKey,
          ...options.pipeline.env,
        },
      });
      pipeline = service;
      cleanups.unshift(() => service.stop());
      stripe.addWebhookEndpoint({ url: `${service.url}/stripe/webhook`, secret: webhookSecret });
    }
    let log = "";
    // The portal gets what the platform's launcher lets through (control/portalProcess.ts): the
    // worker's automation settings are offered and must be dropped (checked by the e2e in /proc).
    const server = supervise("portal", process.execPath, [join(buildDir, "server", "index.mjs")], {
      cwd: PORTAL_DIR,
      env: portalEnvironment({
        PATH: process.env.PATH ?? "",
        NODE_ENV: "production",
        PORT: String(port),
        DATABASE_URL: db.url,
        SUPABASE_URL: auth.url,
        SUPABASE_ANON_KEY: auth.anonKey,
        SUPABASE_SERVICE_ROLE_KEY: auth.serviceRoleKey,
        STRIPE_SECRET_KEY: stripe.secretKey,
        STRIPE_API_BASE: stripe.url,
        PORTAL_PUBLIC_URL: url,
        PORTAL_METRICS_PORT: "0",
        MINDROOM_DATA_DIR: dataDir,
        // What the portal holds instead of the root secret: it derives tenants' sign-on keys and nothing else.
        MINDROOM_TENANT_ACCESS_KEY: tenantAccessKey(SAMPLE_ROOT_SECRET),
        MINDROOM_PROVIDER_KEYS_PUBLIC_KEY: sealingKeyPair(providerKeySealingSeed(SAMPLE_ROOT_SECRET))
          .publicKey,
        ...(pipeline ? automationEnvironment({ dataDir, target: dokkuTarget() }) : {}),
        ...options.env,
      }),
      stdio: ["ignore", "pipe", "pipe"],
      // Open keep-alive sockets or pools can hold a graceful shutdown; give it 5 s.
      graceMs: 5000,
    });
    const { child } = server;
    child.stdout?.on("data", (chunk) => {
      log += chunk;
    });
    child.stderr?.on("data", (chunk) => {
      log += chunk;
    });
    cleanups.unshift(async () => {
      await server.stop();
    });
    await waitForHttp(`${url}/login`, child, () => log);
    return {
      url,
      db,
      pipeline,
      buildDir,
      auth,
      stripe,
      output: () => log,
      pid: server.programPid() ?? (child.pid as number),
      dataDir,
      stop: async () => {
        for (const cleanup of cleanups) await cleanup().catch(() => undefined);
      },
    };
  } catch (error) {
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    throw error;
  }
}
