/**
 * Time to first value (issue 12): from payment to "you can sign in", over N customers on the local
 * platform (portal/tests/environment.ts with the real pipeline: local Stripe → webhook service →
 * worker → Pulumi engine → Dokku test host). Each customer signs up and pays in headless Chromium;
 * the clock starts when they press "Subscribe" on the hosted Checkout page and stops at the first
 * poll (every 500 ms) at which both hold:
 *   - single sign-on: the portal's "Open MindRoom" (`GET /sso/mindroom` with their session)
 *     redirects to their tenant's `/api/auth/platform-sso` with a ticket;
 *   - a Matrix account is creatable: the homeserver's configuration the stack wrote on the host
 *     holds the registration secret the portal derives for that tenant.
 * Both are then proven for real, untimed: the ticket is presented to the runtime's sign-in checks
 * (testing/runtime/platform_auth.py, PyJWT, started from the runtime app's environment on the
 * host), and a real Synapse started from the tenant's homeserver files accepts the portal's
 * registration of an account, with which a Matrix client logs in. Synapse's own start-up (in
 * production the homeserver container's start, which the Dokku test host does not run) is
 * reported beside the figures, not in them.
 *
 *   npm run bench -- sign-in [--customers 10] [--no-matrix-check]
 *
 * Customers go one after another (the figure is latency, not throughput). Progress on stderr, one
 * JSON summary on stdout. Exit 0 done, 1 a step or check failed, 2 usage error.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseSlug, tenantNames } from "../components/tenantNames.ts";
import { deriveAccessSecret, tenantAccessKey } from "../components/tenantSecrets.ts";
import { startDokkuHost } from "../dokku-double/host.ts";
import { registerAccount } from "../portal/src/server/matrixRegistration.ts";
import { openBrowser, type Session } from "../portal/tests/browser.ts";
import { type PortalEnvironment, startPortalEnvironment } from "../portal/tests/environment.ts";
import { fillCheckout, instanceOf, signUp } from "../portal/tests/journey.ts";
import { runDokku } from "../testing/dokkuClient.ts";
import { dokkuTarget } from "../testing/dokkuTarget.ts";
import { freePort } from "../testing/freePort.ts";
import { startRuntimeAuth } from "../testing/runtimeAuth.ts";
import { startTenantSynapse } from "../testing/synapse.ts";
import { SAMPLE_ROOT_SECRET } from "../testing/tenantSamples.ts";
import { waitFor } from "../testing/waitFor.ts";
import { median, percentile, seconds } from "./stats.ts";

const USAGE = `Usage: npm run bench -- sign-in [--customers N] [--no-matrix-check]

Time from payment to "you can sign in" (single sign-on into the MindRoom dashboard and a Matrix
account creatable) on the local platform, p50 and p95 over N customers (default 10), one after
another. Needs the toolchain with the tests' Python venv (./platform setup test) and root for the
Dokku test host. --no-matrix-check skips the untimed proof with a real Synapse per customer.
`;

const PASSWORD = "copper-lantern-orchard-48";

export interface SignInRun {
  readonly slug: string;
  /** Payment → the portal's single sign-on redirect to the tenant. */
  readonly ssoMs: number;
  /** Payment → the homeserver's configuration holds the tenant's registration secret. */
  readonly matrixMs: number;
  /** Payment → both. */
  readonly signInMs: number;
  /** Synapse's start from the tenant's files (untimed proof; undefined with --no-matrix-check). */
  readonly homeserverStartMs: number | undefined;
}

const log = (line: string) => process.stderr.write(`sign-in: ${line}\n`);

class SignInCheckFailed extends Error {
  override readonly name = "SignInCheckFailed";
}

/** Where the portal's "Open MindRoom" sends this session now (its Location), or undefined. */
async function ssoLocation(env: PortalEnvironment, session: Session): Promise<string | undefined> {
  const answer = await session.context.request.get(`${env.url}/sso/mindroom`, { maxRedirects: 0 });
  return answer.headers().location;
}

/** The host folder of the tenant's homeserver storage, once the stack made it. */
async function homeserverFolder(slug: string): Promise<string | undefined> {
  const storage = tenantNames(parseSlug(slug)).homeserverStorage;
  const info = await runDokku(dokkuTarget(), `storage:info ${storage} --format json`, { quiet: true });
  if (info.code !== 0) return undefined;
  return (JSON.parse(info.stdout) as { host_path?: string }).host_path;
}

/** The homeserver would accept the portal's shared-secret registration: its config holds the secret. */
async function matrixReady(slug: string, registrationSecret: string): Promise<boolean> {
  const folder = await homeserverFolder(slug);
  if (!folder) return false;
  try {
    return readFileSync(join(folder, "homeserver.yaml"), "utf8").includes(registrationSecret);
  } catch {
    return false;
  }
}

/** Presents the ticket to the runtime's own sign-in checks, from the env the stack gave the runtime app. */
async function proveTicket(slug: string, location: string): Promise<void> {
  const exported = await runDokku(
    dokkuTarget(),
    `config:export --format json ${tenantNames(parseSlug(slug)).runtimeApp}`,
    { quiet: true },
  );
  if (exported.code !== 0) throw new SignInCheckFailed(`${slug}: config:export failed: ${exported.stderr}`);
  const runtime = await startRuntimeAuth(JSON.parse(exported.stdout) as Record<string, string>);
  try {
    const url = new URL(location);
    const answer = await fetch(`${runtime.url}${url.pathname}${url.search}`, { redirect: "manual" });
    if (answer.status !== 307 || !answer.headers.get("set-cookie"))
      throw new SignInCheckFailed(`${slug}: the runtime refused the portal's ticket (${answer.status})`);
  } finally {
    await runtime.stop();
  }
}

/** A real Synapse from the tenant's files takes the portal's registration, and the account logs in. */
async function proveMatrixAccount(slug: string, accessKey: string, work: string): Promise<number> {
  const folder = await homeserverFolder(slug);
  if (!folder) throw new SignInCheckFailed(`${slug}: no homeserver storage`);
  const started = performance.now();
  const synapse = await startTenantSynapse({
    storageDir: folder,
    port: await freePort(),
    workDir: join(work, slug),
  });
  const startMs = performance.now() - started;
  try {
    const serverName = `${slug}.mindroom.test`;
    const userId = await registerAccount({ kind: "synapse", url: synapse.url, serverName, slug }, accessKey, {
      username: "bench",
      password: PASSWORD,
    });
    const login = await fetch(`${synapse.url}/_matrix/client/v3/login`, {
      method: "POST",
      body: JSON.stringify({
        type: "m.login.password",
        identifier: { type: "m.id.user", user: "bench" },
        password: PASSWORD,
      }),
    });
    if (login.status !== 200 || userId !== `@bench:${serverName}`)
      throw new SignInCheckFailed(`${slug}: Matrix login after registration answered ${login.status}`);
  } finally {
    await synapse.stop();
  }
  return startMs;
}

async function oneCustomer(
  env: PortalEnvironment,
  index: number,
  options: { readonly accessKey: string; readonly matrixCheck: boolean; readonly work: string },
): Promise<SignInRun> {
  const email = `bench-signin-${index}-${randomBytes(3).toString("hex")}@example.com`;
  const session = await openBrowser();
  try {
    const { page } = session;
    await signUp(page, env.url, email, PASSWORD);
    await page.getByRole("button", { name: "Choose the Starter plan" }).click();
    await fillCheckout(page, email);
    const paid = performance.now();
    await page.getByRole("button", { name: "Subscribe" }).click();
    await page.waitForURL(/\/dashboard\?checkout=success/);

    // First poll (waitFor's, every 500 ms) at which each condition held.
    const seen: { slug?: string; secret?: string; ssoAt?: number; ticketUrl?: string; matrixAt?: number } =
      {};
    const run = await waitFor(
      `${email} to be able to sign in`,
      async () => {
        const polled = performance.now();
        if (!seen.slug) {
          seen.slug = (await instanceOf(env, email))?.slug;
          if (!seen.slug) return undefined;
          seen.secret = deriveAccessSecret(options.accessKey, seen.slug, "matrix-registration");
        }
        const { slug } = seen;
        if (seen.ssoAt === undefined) {
          const location = (await ssoLocation(env, session)) ?? "";
          if (location.startsWith(`https://${slug}.mindroom.test/api/auth/platform-sso?`)) {
            seen.ssoAt = polled;
            seen.ticketUrl = location;
          }
        }
        if (seen.matrixAt === undefined && (await matrixReady(slug, seen.secret ?? "")))
          seen.matrixAt = polled;
        if (seen.ssoAt === undefined || seen.matrixAt === undefined || !seen.ticketUrl) return undefined;
        return {
          slug,
          ticketUrl: seen.ticketUrl,
          ssoMs: seen.ssoAt - paid,
          matrixMs: seen.matrixAt - paid,
          signInMs: Math.max(seen.ssoAt, seen.matrixAt) - paid,
        };
      },
      { timeoutMs: 600_000 },
    );
    // The proofs are untimed: the figure above is the platform's, these show it was real.
    const { ticketUrl, ...timed } = run;
    await proveTicket(run.slug, ticketUrl);
    const homeserverStartMs = options.matrixCheck
      ? await proveMatrixAccount(run.slug, options.accessKey, options.work)
      : undefined;
    return { ...timed, homeserverStartMs };
  } finally {
    await session.close();
  }
}

export interface SignInSummary {
  readonly customers: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  readonly ssoP50Ms: number;
  readonly matrixP50Ms: number;
  readonly homeserverStartMedianMs: number | undefined;
  readonly runs: readonly SignInRun[];
}

export function summarize(runs: readonly SignInRun[]): SignInSummary {
  const sorted = (pick: (r: SignInRun) => number) => runs.map(pick).sort((a, b) => a - b);
  const signIn = sorted((r) => r.signInMs);
  const starts = runs.flatMap((r) => (r.homeserverStartMs === undefined ? [] : [r.homeserverStartMs]));
  return {
    customers: runs.length,
    p50Ms: percentile(signIn, 50),
    p95Ms: percentile(signIn, 95),
    maxMs: signIn.at(-1) ?? Number.NaN,
    ssoP50Ms: percentile(
      sorted((r) => r.ssoMs),
      50,
    ),
    matrixP50Ms: percentile(
      sorted((r) => r.matrixMs),
      50,
    ),
    homeserverStartMedianMs: starts.length > 0 ? median(starts) : undefined,
    runs,
  };
}

export async function signInCli(argv: string[]): Promise<number> {
  let customers: number;
  let matrixCheck: boolean;
  try {
    const { values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        customers: { type: "string", default: "10" },
        "no-matrix-check": { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    });
    if (values.help) {
      process.stdout.write(USAGE);
      return 0;
    }
    customers = Number(values.customers);
    if (!Number.isInteger(customers) || customers < 1)
      throw new Error(`--customers must be a positive integer, got ${values.customers}`);
    matrixCheck = !values["no-matrix-check"];
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const work = mkdtempSync(join(tmpdir(), "mindroom-bench-signin-"));
  // Outside vitest nobody starts the Dokku test host: this run starts its own and points the test
  // target (testing/dokkuTarget.ts) at it, as for an external host.
  const host = process.env.MINDROOM_TEST_DOKKU ? undefined : await startDokkuHost();
  if (host)
    Object.assign(process.env, {
      MINDROOM_TEST_DOKKU: host.url,
      MINDROOM_TEST_DOKKU_SHELL: host.shellUrl,
      MINDROOM_TEST_DOKKU_KEY: host.keyPath,
      MINDROOM_TEST_DOKKU_KNOWN_HOSTS: host.knownHostsPath,
    });
  log("starting the local platform (database, auth, Stripe, webhook service and worker, portal)");
  const env = await startPortalEnvironment({
    pipeline: { deletionGrace: "1h", env: { MINDROOM_HOMESERVER: "synapse" } },
  }).catch(async (error: unknown) => {
    await host?.stop();
    throw error;
  });
  const runs: SignInRun[] = [];
  try {
    // The portal of this environment holds the access key derived from the sample root secret.
    const accessKey = tenantAccessKey(SAMPLE_ROOT_SECRET);
    for (let i = 1; i <= customers; i += 1) {
      const run = await oneCustomer(env, i, { accessKey, matrixCheck, work });
      runs.push(run);
      log(
        `${i}/${customers} ${run.slug}: can sign in ${seconds(run.signInMs)} after payment (single sign-on ${seconds(run.ssoMs)}, Matrix ${seconds(run.matrixMs)})${run.homeserverStartMs === undefined ? "" : `; proven, Synapse started in ${seconds(run.homeserverStartMs)}`}`,
      );
    }
    const summary = summarize(runs);
    log(
      `payment → you can sign in over ${runs.length}: p50 ${seconds(summary.p50Ms)}, p95 ${seconds(summary.p95Ms)}`,
    );
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  } catch (error) {
    const e = error as Error;
    process.stderr.write(
      `\nsign-in benchmark failed: ${e instanceof SignInCheckFailed ? e.message : (e.stack ?? e.message)}\n`,
    );
    return 1;
  } finally {
    await env.stop();
    await host?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}
