/**
 * `./platform start`: the whole platform on embedded defaults, for one machine,
 * each part swapped for the real thing by its configuration (design.md):
 * - the local Dokku host (`DOKKU_HOSTS` unset): a real sshd in front of the Dokku
 *   CLI double, kept in the data folder so its keys, port and state survive restarts;
 * - the platform Postgres (`DATABASE_URL` unset): embedded, in the data folder, migrated;
 * - the local Stripe API (`STRIPE_API_BASE` unset), delivering signed events to the
 *   webhook service like Stripe does, its state kept in the data folder;
 * - the local auth server (`SUPABASE_URL` unset);
 * - the local mail server, Mailpit, with its web inbox (`SMTP_URL` unset);
 * - the local object store (`AWS_ENDPOINT_URL_S3` unset): MinIO in the data folder, with a
 *   versioned bucket for the Pulumi state (the default backend then) and one for backups;
 * - the webhook service with the reconcile worker, and the portal.
 * Every process it starts dies with it, however it ends; a start after a crash ends what the
 * crashed run left running; SIGINT or SIGTERM stops it within 30 s (processes/README.md).
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { startAuthServer } from "./auth-server/server.ts";
import { LOCAL_HOST_POINTER, loadAutomationSettings } from "./automation/settings.ts";
import { exampleTenant } from "./components/exampleTenant.ts";
import { providerKeySealingSeed, tenantAccessKey } from "./components/tenantSecrets.ts";
import { startPortalProcess } from "./control/portalProcess.ts";
import { openDatabase } from "./database/connection.ts";
import { sealingKeyPair } from "./database/sealedSecrets.ts";
import { loadDatabaseSettings } from "./database/settings.ts";
import { startDokkuHost } from "./dokku-double/host.ts";
import { startMailpit } from "./mail/mailpit.ts";
import { freePort, portIsFree } from "./net/loopbackPort.ts";
import { LOCAL_BACKUP_BUCKET, LOCAL_STATE_BUCKET, objectStoreDir } from "./object-store/endpoint.ts";
import { startObjectStore } from "./object-store/server.ts";
import { describeStart, startRun } from "./processes/run.ts";
import {
  DRAIN_GRACE_MS,
  describeStop,
  STOP_DEADLINE_MS,
  stopWithin,
  untilStopSignal,
} from "./processes/shutdown.ts";
import { startLocalStripeInstance } from "./stripe-local/localInstance.ts";
import { startWebhookService } from "./webhooks/main.ts";
import { loadWebhookSettings, localWebhookSecret } from "./webhooks/settings.ts";

const HELP = `Usage: ./platform start [--help]

Starts MindRoom Cloud on embedded defaults (data in MINDROOM_DATA_DIR, default ./.data)
and runs until interrupted (Ctrl-C).`;

/**
 * Where the local host lives: in the data folder, unless that sits below a
 * group/world-writable directory (a checkout in /tmp), where sshd's StrictModes
 * would refuse its keys; then in a root-owned folder named after the data folder.
 */
function localHostDir(dataDir: string): string {
  const inData = join(dataDir, "dokku-host");
  for (let dir = dataDir; dir !== dirname(dir); dir = dirname(dir)) {
    if (!existsSync(dir)) continue;
    const st = statSync(dir);
    if (st.uid !== 0 || (st.mode & 0o022) !== 0) {
      return join(
        "/var/lib/mindroom-cloud",
        createHash("sha256").update(dataDir).digest("hex").slice(0, 12),
        "dokku-host",
      );
    }
  }
  return inData;
}

/**
 * A port kept in the data folder, so URLs recorded elsewhere (stacks, Stripe endpoints) stay valid;
 * the conventional one for a new folder, or a free one when another platform already holds it.
 */
async function keptPort(file: string, fallback: number): Promise<number> {
  const preferred = existsSync(file) ? Number(readFileSync(file, "utf8")) : fallback;
  return (await portIsFree(preferred)) ? preferred : freePort();
}

async function start(): Promise<void> {
  const run = await startRun(loadAutomationSettings().dataDir);
  process.stdout.write(describeStart(run));
  const stopSignal = untilStopSignal();
  const stops: (() => Promise<void>)[] = [];
  // The object store first: with PULUMI_BACKEND_URL unset, the automation settings take its state bucket.
  let storeNote = `Object store      ${process.env.AWS_ENDPOINT_URL_S3} (AWS_ENDPOINT_URL_S3)`;
  if (!process.env.AWS_ENDPOINT_URL_S3) {
    const dataDir = loadAutomationSettings().dataDir;
    const store = await startObjectStore({
      dir: objectStoreDir(dataDir),
      buckets: [{ name: LOCAL_STATE_BUCKET }, { name: LOCAL_BACKUP_BUCKET }],
    });
    stops.push(() => store.stop());
    Object.assign(process.env, store.env);
    storeNote = `Object store      ${store.endpoint} (local MinIO; buckets ${LOCAL_STATE_BUCKET}, ${LOCAL_BACKUP_BUCKET})`;
  }
  const settings = loadAutomationSettings();
  const fileStacks = join(settings.dataDir, "pulumi", ".pulumi", "stacks");
  if (settings.localObjectStore && existsSync(fileStacks))
    process.stdout.write(
      `note: ${fileStacks} holds stacks from the earlier file backend; the state now lives in the object store (PULUMI_BACKEND_URL=file://${join(settings.dataDir, "pulumi")} keeps using the file backend)\n`,
    );
  const hostDir = localHostDir(settings.dataDir);
  mkdirSync(hostDir, { recursive: true, mode: 0o755 });
  writeFileSync(join(settings.dataDir, LOCAL_HOST_POINTER), `${hostDir}\n`);
  // Keep the port: tenant stacks record the host's address.
  const portFile = join(hostDir, "port");
  const port = existsSync(portFile) ? Number(readFileSync(portFile, "utf8")) : undefined;
  const host = await startDokkuHost({ dir: hostDir, ...(port ? { port } : {}) });
  stops.push(() => host.stop());
  writeFileSync(portFile, String(host.port));
  process.env.DOKKU_SSH_KEY ??= host.keyPath;

  const example = join(settings.dataDir, "examples", "tenant.json");
  mkdirSync(join(settings.dataDir, "examples"), { recursive: true });
  writeFileSync(
    example,
    `${JSON.stringify(exampleTenant({ host: { url: host.shellUrl, hostKey: host.hostPublicKey, address: host.host } }), null, 2)}\n`,
  );

  // The database first: the auth server and the webhook service share it.
  const database = await openDatabase(loadDatabaseSettings(), { maxConnections: 2 });
  stops.push(() => database.close());
  process.env.DATABASE_URL ??= database.url;

  const webhookPort = Number(process.env.MINDROOM_WEBHOOKS_PORT || 8790);
  let stripeNote = "Stripe API        https://api.stripe.com (STRIPE_API_BASE)";
  if (!process.env.STRIPE_API_BASE) {
    const stripe = await startLocalStripeInstance({
      dataDir: settings.dataDir,
      webhooks: [
        {
          url: `http://127.0.0.1:${webhookPort}/stripe/webhook`,
          secret: process.env.STRIPE_WEBHOOK_SECRET || localWebhookSecret(settings.dataDir),
        },
      ],
    });
    stops.push(() => stripe.stop());
    process.env.STRIPE_API_BASE = stripe.url;
    stripeNote = `Stripe API        ${stripe.url} (local, test prices price_mindroom_<tier>)`;
  }

  const portalPort = Number(process.env.PORT || 3000);
  const portalUrl = process.env.PORTAL_PUBLIC_URL || `http://127.0.0.1:${portalPort}`;
  // The links in the platform's emails point at this portal.
  process.env.PORTAL_PUBLIC_URL = portalUrl;
  let mailNote = "Mail              SMTP_URL";
  if (!process.env.SMTP_URL) {
    const mailpit = await startMailpit({ dir: join(settings.dataDir, "mailpit") });
    stops.push(() => mailpit.stop());
    process.env.SMTP_URL = mailpit.smtpUrl;
    mailNote = `Mail inbox        ${mailpit.webUrl} (Mailpit; SMTP ${mailpit.smtpUrl})`;
  }
  if (!process.env.SUPABASE_URL) {
    const auth = await startAuthServer({
      databaseUrl: database.url,
      dataDir: settings.dataDir,
      port: await keptPort(join(settings.dataDir, "auth.port"), 54321),
      siteUrl: portalUrl,
      // Sign-in links and password resets land in the same inbox as the platform's own mail.
      forwardMailTo: process.env.SMTP_URL,
    });
    stops.push(() => auth.stop());
    writeFileSync(join(settings.dataDir, "auth.port"), new URL(auth.url).port);
    process.env.SUPABASE_URL = auth.url;
    process.env.SUPABASE_ANON_KEY = auth.anonKey;
    process.env.SUPABASE_SERVICE_ROLE_KEY = auth.serviceRoleKey;
  }

  // Metrics on a free port unless MINDROOM_METRICS_PORT names one (several local platforms may run).
  const service = await startWebhookService(loadWebhookSettings(), {
    port: webhookPort,
    ...(process.env.MINDROOM_METRICS_PORT ? {} : { metricsPort: 0 }),
    // Reconciles in flight get this long to finish, then as long to cancel (processes/shutdown.ts).
    shutdownGraceMs: DRAIN_GRACE_MS,
  });
  stops.push(() => service.close());

  // Only the portal's own variables: no SSH key, root secret or state backend (control/portalProcess.ts).
  const portal = startPortalProcess({
    ...process.env,
    PORT: String(portalPort),
    PORTAL_PUBLIC_URL: portalUrl,
    PORTAL_COOKIE_SECURE: "false",
    PORTAL_METRICS_PORT: process.env.PORTAL_METRICS_PORT || "0",
    // Derives each tenant's sign-on key and Matrix registration secret, and nothing else.
    MINDROOM_TENANT_ACCESS_KEY:
      process.env.MINDROOM_TENANT_ACCESS_KEY || tenantAccessKey(settings.rootSecret),
    // Customers' model keys are sealed to the worker's key: the portal can seal, never open.
    MINDROOM_PROVIDER_KEYS_PUBLIC_KEY:
      process.env.MINDROOM_PROVIDER_KEYS_PUBLIC_KEY ||
      sealingKeyPair(providerKeySealingSeed(settings.rootSecret)).publicKey,
  });
  if (portal) stops.push(() => portal.stop());

  process.stdout.write(`MindRoom Cloud is running on embedded defaults (data in ${settings.dataDir}).

  Portal            ${portal ? portalUrl : "not built (npm run build -w portal)"}
  Webhook service   ${service.url}/stripe/webhook (health ${service.url}/healthz, metrics ${service.metricsUrl}/metrics)
  ${stripeNote}
  Auth              ${process.env.SUPABASE_URL}/auth/v1
  ${mailNote}
  Postgres          ${database.embedded ? "embedded, in the data folder" : "DATABASE_URL"}
  Dokku host        ${host.url} (shell: ${host.shellUrl})
  ${storeNote}
  Pulumi state      ${settings.backendUrl}

Try it:
  bin/mindroom-stripe journey all --stripe ${process.env.STRIPE_API_BASE} --email you@example.com
  bin/mindroom-ops list
  DOKKU_SSH_KEY=${host.keyPath} bin/mindroom-ops apply ${example}

Ctrl-C stops the platform; its data stays in ${settings.dataDir}.
`);

  const signal = await stopSignal;
  process.stdout.write(`stopping (${signal})…\n`);
  const stopped = await stopWithin(stops.reverse(), STOP_DEADLINE_MS, (error) =>
    process.stderr.write(`platform: while stopping: ${(error as Error).message}\n`),
  );
  run.finish();
  process.stdout.write(describeStop(stopped));
}

const [command = "start", ...rest] = process.argv.slice(2);
if (command === "--help" || rest.includes("--help")) {
  process.stdout.write(`${HELP}\n`);
} else if (command === "start") {
  start().then(
    () => process.exit(0),
    (error: Error) => {
      process.stderr.write(`platform: ${error.message}\n`);
      process.exit(1);
    },
  );
} else {
  process.stderr.write(`${HELP}\n`);
  process.exit(2);
}
