/**
 * End to end in real headless Chromium against the built portal and the real pipeline behind it:
 * the local auth server (Kratos), the local Stripe API delivering signed events to the webhook
 * service, whose reconcile worker runs the Pulumi engine against the Dokku test host, all on a real
 * Postgres. The test clicks through the portal and checks the result where it lands: the page, the
 * platform database and the Dokku host (through Dokku's own commands), and the emails the customer
 * gets where they land: the run's Mailpit, read through its API (welcome with working links, usage
 * and its quota warning, payment failure, suspensions, resumes, the deletion notice; each once, none
 * with a secret). Fails on any console or page error; saves screenshots of the main pages to
 * .test-data/screenshots/ (docs/screenshots/ with `npm run screenshots`).
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthClient } from "../../auth-server/client.ts";
import { stripeClient } from "../../billing/stripeClient.ts";
import { formatBytes } from "../../components/byteSize.ts";
import { parseSlug, tenantNames } from "../../components/tenantNames.ts";
import { deriveSecret, SECRET_PURPOSES } from "../../components/tenantSecrets.ts";
import { parseTenantSpec } from "../../components/tenantSpec.ts";
import type { Instance } from "../../database/instances.ts";
import { operationsForInstance } from "../../database/operations.ts";
import { silentLogger } from "../../logging/logger.ts";
import { formatDate as mailDate } from "../../mail/messages.ts";
import { localControls } from "../../stripe-local/controls.ts";
import { runDokku } from "../../testing/dokkuClient.ts";
import { dokkuTarget, parseDokkuUrl } from "../../testing/dokkuTarget.ts";
import { type Inbox, testMailpit } from "../../testing/mailpit.ts";
import { processHoldings } from "../../testing/processHoldings.ts";
import { expectTenant, observeTenant } from "../../testing/tenantObserver.ts";
import { SAMPLE_ROOT_SECRET } from "../../testing/tenantSamples.ts";
import { collectUsage } from "../../webhooks/usage/collector.ts";
import { formatDate } from "../src/components/format.ts";
import { accessibilityProblems } from "./accessibility.ts";
import { openBrowser, type Session } from "./browser.ts";
import { type PortalEnvironment, startPortalEnvironment } from "./environment.ts";
import {
  instanceOf,
  OPERATION_TIMEOUT,
  payForStarter,
  settled,
  instanceSettledAs as settledAs,
  untilWorker,
} from "./journey.ts";

const target = dokkuTarget();
let env: PortalEnvironment;
let customer: Session;
let inbox: Inbox;
const tag = randomBytes(3).toString("hex");
const email = `ada-${tag}@example.com`;
const password = "violet-harbor-lantern-91";

/** The customer's instance row, as the worker recorded it. */
const instance = () => instanceOf(env, email);

const instanceSettledAs = (state: Instance["actualState"]) => settledAs(env, email, state);

/** Waits (as long as an operation may take) for a button that appears once the worker has acted. */
async function buttonAppears(page: Page, name: string) {
  await expect.poll(() => page.getByRole("button", { name }).count(), { timeout: OPERATION_TIMEOUT }).toBe(1);
}

/** Dokku's own view of the tenant matches the spec the worker applied. */
async function expectHostMatches(row: Instance) {
  expectTenant(await observeTenant(target, tenantNames(parseSlug(row.slug))), parseTenantSpec(row.spec));
}

beforeAll(async () => {
  // Long enough to see the deletion date on the dashboard before the deletion runs.
  env = await startPortalEnvironment({ pipeline: { deletionGrace: "1h" } });
  customer = await openBrowser();
  inbox = (await testMailpit()).inbox;
});

/** Hrefs of an email's HTML links, in order. */
function links(html: string): string[] {
  return [...html.matchAll(/href="([^"]+)"/g)].map((m) => (m[1] ?? "").replaceAll("&amp;", "&"));
}

/** The customer's Stripe subscription id, as the worker projected it. */
async function subscriptionId(): Promise<string> {
  const { rows } = await env.db.pool.query<{ id: string }>(
    `select s.id from public.subscriptions s join public.customers c on c.id = s.customer_id
      where c.email = $1 order by s.created_at desc limit 1`,
    [email],
  );
  return rows[0]?.id ?? "";
}

/** A command in the Dokku host's shell (`ssh root@host …`): files in a tenant's storage, as the runtime writes them. */
function hostShell(command: string) {
  const { user } = parseDokkuUrl(target.shellUrl);
  return runDokku({ ...target, user }, command);
}

/** The usage collection the worker runs every hour, now: the tenant measured on the Dokku test host. */
async function measureUsage() {
  return collectUsage({
    pool: env.db.pool,
    secrets: () => ({ sshPrivateKey: readFileSync(target.keyPath, "utf8") }),
    log: silentLogger,
  });
}

afterAll(async () => {
  await customer?.close();
  await env?.stop();
});

describe("a customer", () => {
  it("signs up and lands on plans", async () => {
    const page = customer.page;
    await page.goto(`${env.url}/signup`);
    await settled(page);
    // Validation messages from the server's schema, next to the fields.
    await page.getByRole("button", { name: "Create account" }).click();
    await expect.poll(() => page.getByText("Enter your email address.").count()).toBe(1);
    await page.getByLabel("Email").fill(email);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByLabel("Repeat password").fill(`${password}x`);
    await page.getByRole("button", { name: "Create account" }).click();
    await expect.poll(() => page.getByText("The two passwords do not match.").count()).toBe(1);
    await customer.screenshot("signup-validation");
    expect(await accessibilityProblems(page), "/signup").toEqual([]);
    await page.getByLabel("Repeat password").fill(password);
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL(/\/billing/);
    await expect.poll(() => page.getByRole("heading", { name: "Plans" }).count()).toBe(1);
    const cookies = await customer.context.cookies();
    const session = cookies.find((c) => c.name === "mr_session");
    expect(session).toMatchObject({ httpOnly: true, secure: true, sameSite: "Lax" });
    // Nothing readable by scripts.
    expect(await page.evaluate(() => document.cookie)).toBe("");
    await customer.screenshot("billing-plans");
  });

  it("chooses a plan in Checkout and watches the instance go from provisioning to running", async () => {
    const page = customer.page;
    // On the project's test host a first up takes about as long as two of the page's refreshes, so
    // the apps' deploys are held until the page has shown a step: what is checked never depends on
    // when the page happened to refresh. (A real Dokku host deploys slowly enough by itself.) The
    // match needs no tenant in it: the portal suite runs one file at a time, and this customer's is
    // the only instance being set up.
    const deploys = await target.faults?.hold(/^git:from-image /);
    const stepLine = /^Step \d+ of \d+ \((\d+)%\)$/;
    const shown = new Set<string>();
    const open = page.getByRole("link", { name: "Open MindRoom ↗" });
    try {
      await payForStarter(page, email, "Ada Lovelace");

      // Stripe → webhook → worker → Pulumi: the page refreshes itself through provisioning, showing
      // the operation's progress as the worker records it.
      const heading = page.getByRole("heading", { name: "Setting up your instance" });
      await expect.poll(() => heading.count(), { timeout: OPERATION_TIMEOUT }).toBe(1);
      await customer.screenshot("dashboard-provisioning");
      await untilWorker("the dashboard to show the running instance", async () => {
        // Read without waiting: the line is gone once the instance runs, between a count and a read.
        for (const text of await page.locator("[aria-live=polite]").allTextContents()) shown.add(text.trim());
        if ([...shown].some((text) => stepLine.test(text))) await deploys?.release();
        return (await open.count()) > 0 ? true : undefined;
      });
    } finally {
      await deploys?.release();
    }
    // Even a first up (a new stack on the object-store backend) knows its total from the engine's
    // plan: the line counts steps against it, its percentage climbs and stays within 100.
    const percentages = [...shown].flatMap((text) => {
      const pct = stepLine.exec(text)?.[1];
      return pct === undefined ? [] : [Number(pct)];
    });
    expect(percentages.length, `a percentage was shown: ${[...shown].join(" | ")}`).toBeGreaterThan(0);
    expect(Math.min(...percentages), [...shown].join(" | ")).toBeLessThan(100);
    expect(Math.max(...percentages)).toBeLessThanOrEqual(100);
    expect(percentages, "the percentage never goes back").toEqual([...percentages].sort((a, b) => a - b));

    // The links are the stack's outputs, as the worker recorded them.
    const row = await instanceSettledAs("running");
    const urls = (row.outputs?.urls ?? {}) as { app?: string; matrix?: string };
    expect(urls.app).toMatch(/^https:\/\//);
    // "Open MindRoom" signs in through the portal (single sign-on, portal/tests/intoMindRoom.test.ts).
    expect(await open.getAttribute("href")).toBe("/sso/mindroom");
    expect(
      await page
        .locator("dd")
        .filter({ hasText: urls.matrix ?? "-" })
        .count(),
    ).toBe(1);
    expect(row.tier).toBe("starter");
    expect(await page.getByTestId("limits").textContent()).toContain("1,000");
    await expectHostMatches(row);
    await customer.screenshot("dashboard-running");
  });

  it("gets a welcome email whose links work: the dashboard, the sign-in, their MindRoom", async () => {
    const row = await instanceSettledAs("running");
    const welcome = await inbox.waitFor(email, /^Welcome to MindRoom Cloud/);
    expect(welcome.from).toMatch(/^no-reply@/);
    expect(welcome.text).toContain(`use ${email} with the password you chose`);
    const urls = (row.outputs?.urls ?? {}) as { app?: string; matrix?: string };
    const hrefs = links(welcome.html);
    expect(hrefs).toEqual([`${env.url}/dashboard`, `${env.url}/login`, urls.app]);
    expect(welcome.text).toContain(urls.matrix);

    // Followed as the customer would: the dashboard (signed in) shows this instance…
    const page = customer.page;
    await page.goto(hrefs[0] as string);
    await settled(page);
    expect(await page.getByRole("heading", { name: "Your MindRoom" }).count()).toBe(1);
    // (through the portal's single sign-on, which sends them on to urls.app: intoMindRoom.test.ts)
    expect(await page.getByRole("link", { name: "Open MindRoom ↗" }).getAttribute("href")).toBe(
      "/sso/mindroom",
    );
    // …and the sign-in link opens the sign-in page for someone signed out.
    const stranger = await openBrowser();
    try {
      const answer = await stranger.page.goto(hrefs[1] as string);
      expect(answer?.status()).toBe(200);
      await settled(stranger.page);
      expect(await stranger.page.getByRole("button", { name: "Sign in", exact: true }).count()).toBe(1);
    } finally {
      await stranger.close();
    }
  });

  it("sees its storage measured on the host: files written into its storage change the figure; 80 % warns by email", async () => {
    const row = await instanceSettledAs("running");
    const names = tenantNames(parseSlug(row.slug));
    const info = await runDokku(target, `storage:info ${names.runtimeStorage} --format json`);
    const storage = (JSON.parse(info.stdout) as { host_path: string }).host_path;
    const page = customer.page;
    const storageShown = async () => {
      await page.goto(`${env.url}/usage`);
      await settled(page);
      return (await page.getByTestId("usage-now").textContent()) ?? "";
    };

    expect((await hostShell(`head -c 5242880 /dev/zero > ${storage}/uploads.bin`)).code).toBe(0);
    const [first] = (await measureUsage()).filter((m) => m.slug === row.slug);
    expect(first?.error).toBeNull();
    const before = first?.usage?.storageBytes ?? 0;
    expect(before).toBeGreaterThanOrEqual(5 * 1024 * 1024);
    expect(await storageShown()).toContain(`${formatBytes(before)} of 10 GB`);
    // Messages cannot be read from the host: said so, not shown as 0.
    expect(await page.getByTestId("usage-now").textContent()).toContain("not measured");
    expect(await page.getByRole("img", { name: /Storage used per day, last 30 days/ }).count()).toBe(1);
    expect(await page.getByTestId("storage-chart").locator("rect.bar").count()).toBe(1);
    expect(await page.getByTestId("storage-chart").locator("rect.bar-missing").count()).toBe(29);
    await customer.screenshot("usage");
    expect(await accessibilityProblems(page), "/usage").toEqual([]);

    expect((await hostShell(`head -c 3145728 /dev/zero > ${storage}/more.bin`)).code).toBe(0);
    await measureUsage();
    expect(await storageShown()).toContain(`${formatBytes(before + 3 * 1024 * 1024)} of 10 GB`);
    const today = new Date().toISOString().slice(0, 10);
    expect(await page.getByTestId("usage-table").locator("tr", { hasText: today }).textContent()).toContain(
      formatBytes(before + 3 * 1024 * 1024),
    );

    // 8.5 GB of the plan's 10 GB (a sparse file: its size, without the disk it would take).
    expect((await hostShell(`truncate -s 8704M ${storage}/archive.tar`)).code).toBe(0);
    await measureUsage();
    await measureUsage(); // measured again the same period: still one warning
    const warning = await inbox.waitFor(email, /used 80 % of its storage/);
    expect(warning.text).toContain("of the 10 GB of storage in your Starter plan (80 %)");
    expect(links(warning.html)).toContain(`${env.url}/usage`);
    expect(await storageShown()).toContain("of 10 GB");
    expect(
      (await hostShell(`rm ${storage}/archive.tar ${storage}/more.bin ${storage}/uploads.bin`)).code,
    ).toBe(0);
    await measureUsage();
  });

  it("changes plan and sees the new limits once the worker has applied them", async () => {
    const page = customer.page;
    await page.goto(`${env.url}/billing`);
    await settled(page);
    await page.getByRole("button", { name: "Switch to the Professional plan" }).click();
    await expect.poll(() => page.getByText("Changing your plan to professional").count()).toBe(1);
    await buttonAppears(page, "Professional is your current plan");
    const row = await instanceSettledAs("running");
    expect(row.tier).toBe("professional");
    await expectHostMatches(row);
    await page.goto(`${env.url}/dashboard`);
    await settled(page);
    expect(await page.getByTestId("limits").textContent()).toContain("10,000");
    expect(await page.getByRole("heading", { name: "Professional plan" }).count()).toBe(1);
  });

  it("is told when a payment fails, when the instance is suspended for it, and when it runs again", async () => {
    const page = customer.page;
    const controls = localControls(env.stripe.url, env.stripe.secretKey);
    const sub = await subscriptionId();
    const failed = await controls.paymentFailed(sub);
    const failedAt = new Date();
    const mail = await inbox.waitFor(email, /^Your payment for MindRoom Cloud failed/);
    const periodEnd = new Date((failed.items.data[0]?.current_period_end ?? 0) * 1000).toISOString();
    expect(mail.text).toContain(`billing period ending ${mailDate(periodEnd)}`);
    expect(mail.text).toContain(mailDate(failedAt.toISOString()).split(" at ")[0] as string);
    expect(links(mail.html)).toEqual([`${env.url}/billing`]);
    await page.goto(`${env.url}/dashboard`);
    await settled(page);
    await expect.poll(() => page.getByText("Review billing").count()).toBe(1);

    await controls.retriesExhausted(sub);
    const suspended = await instanceSettledAs("suspended");
    const told = await inbox.waitFor(email, /^Your MindRoom has been suspended/);
    expect(told.text).toContain(`Your MindRoom (${suspended.slug}) was suspended on`);
    expect(told.text).toContain("its payment could not be taken");

    await controls.paymentSucceeded(sub);
    await instanceSettledAs("running");
    const back = await inbox.waitFor(email, /^Your MindRoom is running again/);
    expect(back.text).toContain(`(${suspended.slug}, Professional plan) is running again since`);
  });

  /** The restart's slice of the host's command log (the project's own host only). */
  let restartLog: { slug: string; commands: string[] } | undefined;

  it("restarts the instance through the queue", async () => {
    const page = customer.page;
    const before = (await target.commandLog?.())?.length ?? 0;
    await page.getByRole("button", { name: "Restart instance" }).click();
    await expect.poll(() => page.getByText("Restart queued.").count()).toBe(1);
    const row = await untilWorker("the restart to be applied", async () => {
      const r = await instanceSettledAs("running");
      return r.restartGeneration === 1 && r.appliedSpecHash === r.specHash ? r : undefined;
    });
    const ops = await operationsForInstance(env.db.pool, row.id);
    expect(ops[0]).toMatchObject({ trigger: "customer", status: "succeeded", kind: "up" });
    // Through Dokku's own commands, on any host: both apps are deployed and running again.
    const names = tenantNames(parseSlug(row.slug));
    for (const app of [names.runtimeApp, names.homeserverApp]) {
      const report = await runDokku(target, `ps:report ${app} --running`, { quiet: true });
      expect([app, report.stdout.trim()]).toEqual([app, "true"]);
    }
    if (target.commandLog)
      restartLog = {
        slug: row.slug,
        commands: (await target.commandLog()).slice(before).map((c) => c.argv.join(" ")),
      };
  });

  it.skipIf(!target.commandLog)(
    `restarted each app exactly once${target.commandLog ? "" : " (skipped: counting restarts needs the project test host's command log; MINDROOM_TEST_DOKKU points elsewhere)"}`,
    () => {
      if (!restartLog) throw new Error("the restart test did not run");
      const names = tenantNames(parseSlug(restartLog.slug));
      for (const app of [names.runtimeApp, names.homeserverApp])
        expect(restartLog.commands.filter((c) => c === `ps:restart ${app}`)).toHaveLength(1);
    },
  );

  it("can use every page with the keyboard alone, every control labelled", async () => {
    const page = customer.page;
    for (const path of ["/dashboard", "/billing", "/account"]) {
      await page.goto(`${env.url}${path}`);
      await settled(page);
      expect(await accessibilityProblems(page), path).toEqual([]);
    }
  });

  it("keeps the console free of errors", () => {
    // Only the portal's pages count: the local Stripe's hosted Checkout is not ours.
    expect(customer.errors.filter((e) => e.includes(env.url))).toEqual([]);
  });
});

describe("an operator", () => {
  let operator: Session;
  const operatorEmail = `ops-${tag}@example.com`;

  beforeAll(async () => {
    const auth = new AuthClient({ authUrl: env.auth.authUrl });
    const signed = await auth.signUp(operatorEmail, password);
    await env.db.pool.query("insert into public.operators (user_id) values ($1)", [
      signed.session.identity.id,
    ]);
    operator = await openBrowser();
  });

  afterAll(async () => {
    await operator?.close();
  });

  it("finds the tenant, sees its outputs and operations, and triggers an audited reconcile", {
    timeout: 600_000,
  }, async () => {
    const row = await instanceSettledAs("running");
    const page = operator.page;
    await page.goto(`${env.url}/operator`);
    await page.waitForURL(/\/login/);
    await settled(page);
    expect(await accessibilityProblems(page), "/login").toEqual([]);
    await page.getByLabel("Email", { exact: true }).fill(operatorEmail);
    await page.getByLabel("Password", { exact: true }).fill(password);
    await page.getByRole("button", { name: "Sign in", exact: true }).click();
    await page.waitForURL(/\/operator/);
    await settled(page);
    await operator.screenshot("operator-tenants");
    expect(await accessibilityProblems(page), "/operator").toEqual([]);

    await page.getByLabel("Search").fill(row.slug);
    await page.getByRole("button", { name: "Filter" }).click();
    await page.waitForURL(/q=/);
    await settled(page);
    await page.getByRole("link", { name: row.slug }).click();
    await page.waitForURL(/\/operator\/tenants\//);
    await settled(page);
    const urls = (row.outputs?.urls ?? {}) as { app?: string };
    expect(await page.getByTestId("recorded-outputs").textContent()).toContain(urls.app);
    expect(await page.getByRole("heading", { name: "Operations" }).count()).toBe(1);
    // Live outputs and a preview: the portal asks, the worker runs the automation layer and answers.
    await page.getByRole("button", { name: "Read live outputs" }).click();
    await expect
      .poll(async () => (await page.getByTestId("live-outputs").textContent()) ?? "", {
        timeout: OPERATION_TIMEOUT,
      })
      .toContain(urls.app);
    await page.getByRole("tab", { name: "Preview" }).click();
    await page.getByLabel("Reason (recorded in the audit log)").fill("checking before the upgrade");
    await page.getByRole("button", { name: "Run preview" }).click();
    await expect
      .poll(async () => (await page.getByTestId("preview-diff").textContent()) ?? "", {
        timeout: OPERATION_TIMEOUT,
      })
      .toContain("No changes: the tenant matches its spec.");
    const asked = await env.db.pool.query<{ kind: string; status: string; requested_by: string }>(
      "select kind, status, requested_by from public.operator_requests order by created_at",
    );
    // The action revalidates the page's queries, so live outputs may be asked for again.
    expect(new Set(asked.rows.map((r) => JSON.stringify(r)))).toEqual(
      new Set(
        ["outputs", "preview"].map((kind) =>
          JSON.stringify({ kind, status: "succeeded", requested_by: `operator:${operatorEmail}` }),
        ),
      ),
    );
    // …while the portal process holds none of the worker's credentials, in its environment or open files.
    const passphraseFile = join(env.dataDir, "pulumi-passphrase");
    const credentials = {
      values: [
        SAMPLE_ROOT_SECRET,
        readFileSync(target.keyPath, "utf8").trim(),
        target.keyPath,
        ...(existsSync(passphraseFile) ? [readFileSync(passphraseFile, "utf8").trim()] : []),
      ],
      files: [target.keyPath, passphraseFile],
    };
    expect(processHoldings(env.pid, credentials)).toEqual({ secretsFound: [], keyFilesOpen: [] });
    // The check itself sees credentials where they are: the worker's process holds them.
    expect(processHoldings(env.pipeline?.pid as number, credentials).secretsFound).toContain(
      "variable MINDROOM_ROOT_SECRET",
    );
    await page.getByRole("tab", { name: "Reconcile" }).click();
    // Provision, plan change, suspension for an unpaid invoice, resume, restart: each an operation the worker recorded.
    const ops = await operationsForInstance(env.db.pool, row.id);
    expect(ops.map((o) => o.trigger).reverse()).toEqual(["stripe", "stripe", "stripe", "stripe", "customer"]);
    expect(await page.getByText("restart requested by the customer").count()).toBeGreaterThan(0);

    // The reason is required, with the schema's message.
    await page.getByRole("button", { name: "Reconcile now" }).click();
    await expect.poll(() => page.getByText("Say why in a few words").count()).toBe(1);
    await page
      .getByLabel("Reason (recorded in the audit log)")
      .fill("customer asked us to re-check their homeserver");
    await page.getByRole("button", { name: "Reconcile now" }).click();
    await expect.poll(() => page.getByText("Reconcile queued.").count()).toBe(1);
    // The worker took the job: nothing had changed, so no operation.
    await untilWorker("the operator's job to complete", async () => {
      const { rows } = await env.db.pool.query(
        "select state from pgboss.job where name = 'reconcile' and data->>'trigger' = 'operator'",
      );
      return rows.length === 1 && rows[0]?.state === "completed" ? true : undefined;
    });
    expect(await operationsForInstance(env.db.pool, row.id)).toHaveLength(ops.length);
    await page.reload();
    await settled(page);
    await expect.poll(() => page.getByText("operator.reconcile").count()).toBe(1);
    await operator.screenshot("operator-tenant");
    expect(await accessibilityProblems(page), "/operator/tenants/:id").toEqual([]);

    const audit = await env.db.pool.query(
      "select actor, reason from public.audit_log where action = 'operator.reconcile' and instance_id = $1",
      [row.id],
    );
    expect(audit.rows).toEqual([
      { actor: `operator:${operatorEmail}`, reason: "customer asked us to re-check their homeserver" },
    ]);

    await page.getByRole("link", { name: "Platform" }).click();
    await page.waitForURL(/\/operator\/platform/);
    await settled(page);
    expect(await page.getByText("Failed operations (24 h)").count()).toBe(1);
    await operator.screenshot("operator-platform");
    expect(await accessibilityProblems(page), "/operator/platform").toEqual([]);
  });

  it("suspends the tenant with a reason the customer sees, then resumes it", async () => {
    const page = operator.page;
    await page.goBack();
    await page.waitForURL(/\/operator\/tenants\//);
    await settled(page);
    await page.getByRole("tab", { name: "Suspend" }).click();
    await page.getByLabel("Reason (recorded in the audit log)").fill("payment dispute under review");
    await page.getByRole("button", { name: "Suspend tenant" }).click();
    // The hold is recorded at once (the panel turns into "Resume"); the worker then applies it.
    await expect
      .poll(async () => (await page.getByTestId("hold").textContent()) ?? "")
      .toContain("payment dispute under review");
    const held = await instanceSettledAs("suspended");
    expect(held.hold?.reason).toBe("payment dispute under review");
    expect(held.spec?.suspended).toBe(true);
    await expectHostMatches(held);

    await customer.page.goto(`${env.url}/dashboard`);
    await settled(customer.page);
    expect(await customer.page.getByTestId("hold").textContent()).toContain("payment dispute under review");
    await customer.screenshot("dashboard-held");

    await page.reload();
    await settled(page);
    await page.getByRole("tab", { name: "Resume" }).click();
    await page.getByLabel("Reason (recorded in the audit log)").fill("dispute resolved");
    await page.getByRole("button", { name: "Resume tenant" }).click();
    await expect.poll(() => page.getByRole("tab", { name: "Suspend" }).count()).toBe(1);
    const resumed = await instanceSettledAs("running");
    expect(resumed.hold).toBeNull();
    await expectHostMatches(resumed);
    // The customer was told both, the hold with its reason.
    await expect
      .poll(async () => (await inbox.messagesTo(email)).filter((m) => /on hold/.test(m.text)).length, {
        timeout: OPERATION_TIMEOUT,
      })
      .toBe(1);
    const hold = (await inbox.messagesTo(email)).find((m) => /on hold/.test(m.text));
    expect(hold?.text).toContain("our operators put it on hold (payment dispute under review)");
    await expect
      .poll(
        async () => (await inbox.messagesTo(email)).filter((m) => /running again/.test(m.subject)).length,
        {
          timeout: OPERATION_TIMEOUT,
        },
      )
      .toBe(2);
    const trail = await env.db.pool.query<{ action: string }>(
      "select action from public.audit_log where instance_id = $1 and action like 'operator.%' order by at",
      [resumed.id],
    );
    expect(trail.rows.map((r) => r.action)).toEqual([
      "operator.preview",
      "operator.reconcile",
      "operator.suspend",
      "operator.resume",
    ]);
    expect(operator.errors.filter((e) => e.includes(env.url))).toEqual([]);
  });
});

describe("a customer who leaves", () => {
  it("cancels and sees when the subscription ends, then the deletion date", async () => {
    const page = customer.page;
    await page.goto(`${env.url}/billing`);
    await settled(page);
    // The Stripe Billing Portal (hosted by the local Stripe API), and back.
    await page.getByRole("button", { name: "Invoices and payment methods ↗" }).click();
    await page.waitForURL(/\/billing_portal\/bps_/);
    await page.getByRole("link", { name: "Return to MindRoom Cloud" }).click();
    await page.waitForURL(/\/billing/);
    await settled(page);

    // Cancel, change one's mind, cancel again: each lands in Stripe and comes back through the worker.
    await page.getByRole("button", { name: "Cancel subscription" }).click();
    await buttonAppears(page, "Reactivate subscription");
    await page.getByRole("button", { name: "Reactivate subscription" }).click();
    await buttonAppears(page, "Cancel subscription");
    await page.getByRole("button", { name: "Cancel subscription" }).click();
    await expect.poll(() => page.getByText("Your subscription will end at the close").count()).toBe(1);
    await buttonAppears(page, "Reactivate subscription");
    expect(await page.getByTestId("subscription").textContent()).toContain("Ends on");
    await customer.screenshot("billing-cancelled");

    // The period ends: Stripe ends the subscription, the worker suspends the tenant (data kept) and
    // schedules its deletion after the grace.
    const stripe = stripeClient({ secretKey: env.stripe.secretKey, apiBase: env.stripe.url });
    const { rows } = await env.db.pool.query<{ id: string }>(
      "select s.id from public.subscriptions s join public.customers c on c.id = s.customer_id where c.email = $1",
      [email],
    );
    await stripe.subscriptions.cancel(rows[0]?.id ?? "");
    const suspended = await untilWorker("the deletion to be scheduled", async () => {
      const row = await instanceSettledAs("suspended");
      return row.deletionDueAt ? row : undefined;
    });
    await expectHostMatches(suspended);
    await page.goto(`${env.url}/dashboard`);
    await settled(page);
    const due = formatDate(suspended.deletionDueAt?.toISOString());
    await expect.poll(() => page.getByText(`Scheduled for deletion on ${due}`).count()).toBe(1);
    await customer.screenshot("dashboard-scheduled-deletion");

    // The deletion notice: when the subscription ended and the very date the dashboard shows.
    const dueAt = suspended.deletionDueAt?.toISOString() ?? "";
    const notice = await inbox.waitFor(email, /^Your MindRoom will be deleted on /);
    expect(notice.text).toContain(`Its data is kept until ${mailDate(dueAt)}`);
    const endedAt = new Date(new Date(dueAt).getTime() - 3600_000).toISOString();
    expect(notice.text).toContain(`Your subscription ended on ${mailDate(endedAt)}`);
    expect(links(notice.html)).toEqual([`${env.url}/billing`, `${env.url}/account`]);
    expect(customer.errors.filter((e) => e.includes(env.url))).toEqual([]);
  });
});

describe("a customer who deletes their account", () => {
  it("downloads their data, then deletes the account: signed out for good, deletion still scheduled", async () => {
    const page = customer.page;
    await page.goto(`${env.url}/account`);
    await settled(page);
    const download = page.waitForEvent("download");
    await page.getByRole("link", { name: "Download my data (JSON)" }).click();
    const exported = readFileSync(await (await download).path(), "utf8");
    const row = await instance();
    expect(JSON.parse(exported)).toBeTypeOf("object");
    expect(exported).toContain(row?.slug ?? "no instance");
    expect(exported).toContain(email);

    await page.getByRole("button", { name: "Delete my account" }).click();
    await expect.poll(() => page.getByText("Type DELETE in capitals to confirm.").count()).toBe(1);
    await page.getByLabel("Type DELETE to confirm").fill("DELETE");
    await page.getByRole("button", { name: "Delete my account" }).click();
    await page.waitForURL(/\/goodbye/);
    expect((await customer.context.cookies()).find((c) => c.name === "mr_session")).toBeUndefined();
    // The sign-in is gone; the instance keeps its scheduled deletion.
    await expect(
      new AuthClient({ authUrl: env.auth.authUrl }).signInWithPassword(email, password),
    ).rejects.toThrow();
    expect((await instance())?.deletionDueAt).toEqual(row?.deletionDueAt);
    expect(customer.errors.filter((e) => e.includes(env.url))).toEqual([]);
  });

  it("got each email once, in order, and none carries a secret", async () => {
    // Any email still on its way (there should be none) has a moment to land before counting.
    await new Promise((done) => setTimeout(done, 3000));
    const messages = await inbox.messagesTo(email);
    expect(messages.map((m) => m.subject)).toEqual([
      "Welcome to MindRoom Cloud: your MindRoom is ready",
      "Your MindRoom has used 80 % of its storage",
      "Your payment for MindRoom Cloud failed",
      "Your MindRoom has been suspended",
      "Your MindRoom is running again",
      "Your MindRoom has been suspended",
      "Your MindRoom is running again",
      expect.stringMatching(/^Your MindRoom will be deleted on /),
    ]);
    expect(new Set(messages.map((m) => m.messageId)).size).toBe(messages.length);
    const slug = parseSlug((await instance())?.slug ?? "");
    const secrets = [
      ...SECRET_PURPOSES.map((purpose) => deriveSecret(SAMPLE_ROOT_SECRET, slug, purpose)),
      SAMPLE_ROOT_SECRET,
      env.stripe.secretKey,
      password,
    ];
    for (const message of messages)
      for (const secret of secrets)
        expect(`${message.raw}${message.text}${message.html}`).not.toContain(secret);
  });
});
