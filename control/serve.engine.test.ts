/**
 * `./platform serve` with a production-shaped configuration and every part started apart from
 * the platform, as an operator runs it: a Postgres of its own (the test run's), MinIO as the
 * Pulumi state backend, the local Stripe API reached as if it were remote, the Dokku test host
 * added with `mindroom-ops hosts add` (no DOKKU_HOSTS), explicit secrets. It serves, and a
 * checkout becomes a running tenant; serve generated nothing local on the way.
 *
 * The environment is staging: production's own rules need live Stripe keys, a Cloudflare zone and
 * an S3 backup bucket, whose providers cannot be installed here. The test first shows that the
 * very same configuration under MINDROOM_ENVIRONMENT=production is refused for exactly those.
 */
import { execFile } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, expect, test } from "vitest";
import { fingerprint } from "../automation/hostProbe.ts";
import { providerPluginProblems } from "../automation/providerPlugins.ts";
import { type DokkuHost, startDokkuHost } from "../dokku-double/host.ts";
import { type Supervised, supervise } from "../processes/supervisor.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { freePort } from "../testing/freePort.ts";
import { testMailpit } from "../testing/mailpit.ts";
import { type TestBucket, testBucket } from "../testing/objectStore.ts";
import { PRODUCTION_SERVICES } from "../testing/productionConfig.ts";
import { type LocalStripe, stripeLocal } from "../testing/stripeLocal.ts";
import { productionProblems } from "./productionCheck.ts";

const ROOT = resolve(import.meta.dirname, "..");
/** A Dokku test host of its own: `hosts up` changes host-wide settings (global domain, renewal cron). */
let host: DokkuHost;
let hostDir: string;
const dataDir = mkdtempSync(join(tmpdir(), "mindroom-serve-"));
const WEBHOOK_SECRET = `whsec_${randomBytes(24).toString("hex")}`;
let db: TestDatabase;
let state: TestBucket;
let local: LocalStripe;
let served: Supervised | undefined;

/** The operator's configuration: nothing left to a local default. */
function configuration(): Record<string, string> {
  return {
    MINDROOM_ENVIRONMENT: "staging",
    MINDROOM_BASE_DOMAIN: "mindroom.test",
    MINDROOM_DATA_DIR: dataDir,
    MINDROOM_ROOT_SECRET: randomBytes(32).toString("hex"),
    PULUMI_BACKEND_URL: state.backendUrl,
    ...state.env,
    PULUMI_CONFIG_PASSPHRASE: randomBytes(24).toString("hex"),
    DOKKU_SSH_KEY: host.keyPath,
    DATABASE_URL: db.url,
    STRIPE_SECRET_KEY: local.secretKey,
    STRIPE_API_BASE: local.url,
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    STRIPE_PRICE_TIERS: "price_mindroom_starter=starter,price_mindroom_professional=professional",
    PORTAL_PUBLIC_URL: "https://app.mindroom.test",
    MAIL_FROM: "MindRoom <no-reply@mindroom.test>",
    MINDROOM_AUTOMATION_WORKERS: "1",
    MINDROOM_METRICS_PORT: "0",
    MINDROOM_HEALTH_INTERVAL: "0s",
    MINDROOM_DRIFT_INTERVAL: "0s",
    MINDROOM_USAGE_INTERVAL: "0s",
    MINDROOM_SWEEP_INTERVAL: "0s",
  };
}

/** The runner's own variables without any of the platform's (a test run sets some). */
function bareEnvironment(): Record<string, string> {
  const keep = ["PATH", "HOME", "LANG", "TMPDIR", "MINDROOM_TEST_RUN"];
  return Object.fromEntries(keep.filter((k) => process.env[k]).map((k) => [k, process.env[k] as string]));
}

function bin(
  name: string,
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      join(ROOT, "bin", name),
      args,
      { env: { ...bareEnvironment(), ...env }, timeout: 1_200_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  db = await testDatabase();
  state = await testBucket();
  local = await stripeLocal({ fresh: true });
  mkdirSync("/run/dokku-double", { recursive: true, mode: 0o755 });
  hostDir = mkdtempSync("/run/dokku-double/serve-");
  host = await startDokkuHost({ dir: hostDir });
});

afterAll(async () => {
  await served?.stop();
  await local?.stop();
  await state?.dispose();
  await db?.close();
  await host?.stop();
  rmSync(hostDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

test("with a production-shaped configuration serve runs, and a checkout becomes a running tenant", {
  timeout: 1_500_000,
}, async () => {
  const mailpit = await testMailpit();
  const config = { ...configuration(), SMTP_URL: mailpit.smtpUrl };

  // Under production's rules, only what this machine cannot provide is left.
  expect(
    productionProblems({ ...config, MINDROOM_ENVIRONMENT: "production" }).map((p) => p.split(" ")[0]),
  ).toEqual([
    "MINDROOM_BASE_DOMAIN",
    "STRIPE_SECRET_KEY",
    "STRIPE_PRICE_TIERS",
    ...PRODUCTION_SERVICES,
    ...(providerPluginProblems().length > 0 ? ["the"] : []), // the provider plugins
  ]);

  // The host is data: pinned by its fingerprint, measured and checked, then made ready by its
  // host stack (plugins, renewal cron, global settings) through the real engine.
  const url = `ssh://root@127.0.0.1:${host.port}`;
  const operator = { ...config, MINDROOM_OPERATOR: "ops@example.com" };
  const added = await bin(
    "mindroom-ops",
    [
      "hosts",
      "add",
      url,
      "--fingerprint",
      fingerprint(host.hostPublicKey),
      "--memory-mb",
      "32768",
      "--cpus",
      "8",
    ],
    operator,
  );
  expect(added.code, added.stderr).toBe(0);
  const up = await bin("mindroom-ops", ["hosts", "up", url], operator);
  expect(up.code, up.stderr).toBe(0);
  const [listed] = JSON.parse((await bin("mindroom-ops", ["hosts", "list", "--json"], operator)).stdout);
  expect(listed).toMatchObject({ url, schedulable: true });

  const port = await freePort();
  served = supervise("platform-serve", join(ROOT, "platform"), ["serve", "--only", "webhooks"], {
    env: { ...bareEnvironment(), ...config, MINDROOM_WEBHOOKS_PORT: String(port) },
    stdio: ["ignore", "pipe", process.env.MINDROOM_TEST_SERVICE_LOGS === "1" ? "inherit" : "ignore"],
  });
  const started = served;
  const endpoint = await new Promise<string>((resolveUrl, reject) => {
    void started.exited.then(({ code }) =>
      reject(new Error(`serve exited with ${code} before it was ready`)),
    );
    const lines = createInterface({ input: started.child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      const match = /^webhook service\s+(\S+\/stripe\/webhook)/.exec(line);
      if (match?.[1]) resolveUrl(match[1]);
    });
  });
  expect(endpoint).toBe(`http://127.0.0.1:${port}/stripe/webhook`);
  local.addWebhook(endpoint, WEBHOOK_SECRET);

  const email = `live-${randomUUID().slice(0, 6)}@example.com`;
  const checkout = await bin("mindroom-stripe", ["journey", "checkout", "--email", email, "--json"], config);
  expect(checkout.code, checkout.stderr).toBe(0);
  const report = JSON.parse(checkout.stdout) as {
    steps: { platform: { tenant: { slug: string; actualState: string; urls?: { app?: string } } }[] }[];
  };
  const tenant = report.steps[0]?.platform[0]?.tenant;
  expect(tenant?.actualState).toBe("running");
  expect(tenant?.urls?.app).toBe(`https://${tenant?.slug}.mindroom.test`);
  const stack = await state.client.send(new ListObjectsV2Command({ Bucket: state.bucket }));
  expect((stack.Contents ?? []).some((o) => o.Key?.includes(`${tenant?.slug}.json`))).toBe(true);

  // Nothing local was made: only the worker's stack configs, workspaces, locks and policy pack config are in the data
  // folder; no embedded Postgres, object store, file backend or generated secret.
  expect(
    readdirSync(dataDir).filter((f) => !["stacks", "workspaces", "locks", "policy"].includes(f)),
  ).toEqual([]);

  // The tenant stack commands of the operator CLI still take their policy pack's hosts from
  // DOKKU_HOSTS (not the hosts table): give it this host to clean up.
  const destroyed = await bin("mindroom-ops", ["destroy", tenant?.slug as string, "--yes"], {
    ...config,
    DOKKU_HOSTS: `${url}?memoryMb=32768&cpus=8`,
    DOKKU_KNOWN_HOSTS: host.knownHostsPath,
  });
  expect(destroyed.code, destroyed.stderr).toBe(0);
});
