/**
 * The real pipeline for end-to-end tests: the webhook service with its reconcile
 * worker (webhooks/reconcile/testService.ts) as a child process on a fixed port,
 * configured from the environment like `mindroom-webhooks serve`, against a test
 * database, a local Stripe API and the Dokku test host; its emails go to the
 * run's Mailpit. The worker runs the real Pulumi engine. `stop("SIGKILL")` then `start()` is a crash and restart on the
 * same port, so Stripe's registered endpoint keeps working.
 */
import { join } from "node:path";
import { createInterface } from "node:readline";
import { type Supervised, supervise } from "../processes/supervisor.ts";
import type { DokkuTarget } from "./dokkuTarget.ts";
import { freePort } from "./freePort.ts";
import { testMailpit } from "./mailpit.ts";
import { SAMPLE_ROOT_SECRET } from "./tenantSamples.ts";

export interface WebhookServiceOptions {
  readonly databaseUrl: string;
  readonly stripe: { readonly url: string; readonly secretKey: string };
  /** `whsec_` + hex (the service's setting check refuses base64url's "-"). */
  readonly webhookSecret: string;
  /** Where tenant stacks and the worker's files live. */
  readonly dataDir: string;
  readonly target: DokkuTarget;
  /** `MINDROOM_DELETION_GRACE`, e.g. `30s`. */
  readonly deletionGrace: string;
  /** `PORTAL_PUBLIC_URL`, where the links in its emails point (default a placeholder). */
  readonly portalUrl?: string;
  /** `SMTP_URL` (default the run's Mailpit). */
  readonly smtpUrl?: string;
  /** More environment for every start (a shared state backend, lease timings, pool size, single sign-on, the homeserver new tenants run, …). */
  readonly env?: Readonly<Record<string, string>>;
}

export interface WebhookServiceChild {
  /** Where it listens (the same port across restarts); Stripe delivers to `${url}/stripe/webhook`. */
  readonly url: string;
  /** The running service program's pid (undefined while stopped). */
  readonly pid: number | undefined;
  /** Starts it again (after `stop`), with `env` added to its environment for this run. */
  start(env?: Readonly<Record<string, string>>): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** What the service (and the engine under it) wrote to stderr so far: its logs. */
  logs(): string;
}

/**
 * What the automation layer reads (tenant stacks' folder, root secret, the Dokku test host): the
 * same for the worker and for anything else that opens the worker's stacks (the operator CLI).
 */
export function automationEnvironment(
  options: Pick<WebhookServiceOptions, "dataDir" | "target">,
): Record<string, string> {
  return {
    MINDROOM_DATA_DIR: options.dataDir,
    MINDROOM_ROOT_SECRET: SAMPLE_ROOT_SECRET,
    // The test host declares room for a professional tenant (the policy pack checks cores per tier).
    DOKKU_HOSTS: `${options.target.shellUrl}?memoryMb=32768&cpus=8`,
    DOKKU_SSH_KEY: options.target.keyPath,
    DOKKU_KNOWN_HOSTS: options.target.knownHostsPath,
  };
}

/**
 * How the service is configured from the environment for a test, as `mindroom-webhooks serve` and
 * `./platform serve` read it: the test database, the local Stripe API, the Dokku test host.
 */
export function webhookServiceEnvironment(
  options: WebhookServiceOptions,
  port: number,
  defaultSmtpUrl: string,
): Record<string, string> {
  return {
    DATABASE_URL: options.databaseUrl,
    STRIPE_SECRET_KEY: options.stripe.secretKey,
    STRIPE_API_BASE: options.stripe.url,
    STRIPE_WEBHOOK_SECRET: options.webhookSecret,
    // A redelivery may carry a signature from hours ago (raised from Stripe's 300 s).
    STRIPE_WEBHOOK_TOLERANCE: String(24 * 3600),
    MINDROOM_WEBHOOKS_PORT: String(port),
    MINDROOM_METRICS_PORT: "0",
    MINDROOM_WEBHOOKS_RATE: "0",
    ...automationEnvironment(options),
    MINDROOM_AUTOMATION_WORKERS: "1",
    MINDROOM_DELETION_GRACE: options.deletionGrace,
    // The sweep, health and drift checks have their own tests; here they would only add noise.
    MINDROOM_SWEEP_INTERVAL: "0s",
    MINDROOM_HEALTH_INTERVAL: "0s",
    MINDROOM_DRIFT_INTERVAL: "0s",
    // Usage is collected on demand (mindroom-ops usage) where a test needs it.
    MINDROOM_USAGE_INTERVAL: "0s",
    // Its emails go to the run's Mailpit.
    SMTP_URL: options.smtpUrl ?? defaultSmtpUrl,
    PORTAL_PUBLIC_URL: options.portalUrl ?? "http://portal.invalid",
    ...options.env,
  };
}

export async function webhookServiceChild(options: WebhookServiceOptions): Promise<WebhookServiceChild> {
  const port = await freePort();
  const mailpit = await testMailpit();
  let child: Supervised | undefined;
  let url = "";
  const echo = process.env.MINDROOM_TEST_SERVICE_LOGS === "1";
  let logs = "";

  async function start(env: Readonly<Record<string, string>> = {}): Promise<void> {
    // Supervised: it dies with this test process, however that ends.
    const started = supervise(
      "webhook-service",
      process.execPath,
      [join(import.meta.dirname, "webhookServiceProcess.ts")],
      {
        env: { ...process.env, ...webhookServiceEnvironment(options, port, mailpit.smtpUrl), ...env },
        // Its stderr (and the engine's): kept for tests that check the logs, shown only on request.
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    child = started;
    started.child.stderr?.on("data", (chunk: Buffer) => {
      logs = (logs + chunk.toString()).slice(-2_000_000);
      if (echo) process.stderr.write(chunk);
    });
    const lines = createInterface({ input: started.child.stdout as NodeJS.ReadableStream });
    url = await new Promise<string>((resolve, reject) => {
      void started.exited.then(({ code }) =>
        reject(
          new Error(`the webhook service exited with ${code} before it was ready:\n${logs.slice(-4000)}`),
        ),
      );
      lines.once("line", (line) => resolve((JSON.parse(line) as { url: string }).url));
    });
  }

  async function stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    const running = child;
    const pid = running?.programPid();
    if (!running?.running || pid === undefined) return;
    // The service itself, not its tether: SIGKILL is the crash under test.
    process.kill(pid, signal);
    await running.exited;
    child = undefined;
  }

  await start();
  return {
    get url() {
      return url;
    },
    get pid() {
      return child?.running ? child.programPid() : undefined;
    },
    start,
    stop,
    logs: () => logs,
  };
}
