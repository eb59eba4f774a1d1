/**
 * mindroom-stripe: the local Stripe API and customer journeys against it.
 *
 * Exit codes: 0 success, 1 failure (a journey step, a rejected delivery, an
 * error), 2 usage error, 3 the platform did not act on a journey step in time.
 */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { STANDARD_OPTIONS } from "../automation/cli/standardOptions.ts";
import { LOCAL_SECRET_KEY, stripeClient } from "../billing/stripeClient.ts";
import type { TierId } from "../components/tiers.ts";
import { openDatabase } from "../database/connection.ts";
import { loadDatabaseSettings } from "../database/settings.ts";
import { JOURNEYS, type JourneyName, type JourneyStep, runJourney } from "./journey.ts";
import { describeTenant } from "./journeyWatch.ts";
import { localStripeUrl, startLocalStripeInstance } from "./localInstance.ts";
import { sendEvent } from "./sendEvent.ts";
import { startStripeLocal } from "./server.ts";

const HELP: Record<string, string> = {
  "": `mindroom-stripe: the local Stripe API and customer journeys

Usage: mindroom-stripe <command> [options]

Commands:
  start        run the local Stripe API until interrupted
  journey      simulate a customer journey against a running local platform
  send-event   build one signed event from the local API's objects and POST it to a webhook

Options: --json (machine-readable output), --help (per command).
Configuration: STRIPE_SECRET_KEY (default ${LOCAL_SECRET_KEY}), STRIPE_API_BASE (default for --stripe; else the local Stripe API of ./platform start in MINDROOM_DATA_DIR).
Details: stripe-local/README.md.`,
  start: `Usage: mindroom-stripe start [--port P] [--state FILE | --data-dir D] [--webhook-url URL --webhook-secret WHSEC]... [--manual-delivery] [--json]

Runs the local Stripe API on 127.0.0.1 (a free port unless --port). With --state, customers,
subscriptions and events are kept in FILE across restarts; --data-dir D keeps state and port in
D/stripe/ as ./platform start does. Each --webhook-url (paired in order with
--webhook-secret, generated when missing) receives every event, signed. --json prints one line
{"url","port","endpoints"} once listening.`,
  journey: `Usage: mindroom-stripe journey <${JOURNEYS.join("|")}> --email E [--stripe URL] [--tier T] [--timeout S] [--no-wait] [--json]

Drives the local Stripe API as the customer and as Stripe's clock would; the local API sends the
signed events to the platform's webhook. After each step it waits until the platform has acted
(every event handled, the tenant settled with its spec applied; read from the platform's database,
DATABASE_URL or the embedded one in MINDROOM_DATA_DIR) and prints what the customer now has. Steps:
  checkout         create a Checkout Session (tier starter unless --tier) and pay on its hosted page
                   → running, with its URLs
  upgrade          switch the live subscription to the next tier up (or --tier), prorated now → upgraded
  payment-failure  the renewal fails (past_due → running with a warning), then retries run out
                   (unpaid → suspended, data kept)
  resubscribe      pay the open invoice (back to active → resumed), or a new checkout when none is live
  cancel           cancel at period end, then end the period (canceled → suspended, deletion scheduled)
  all              all of the above in order
Options: --timeout S  how long to wait for the platform per step (default 600); --no-wait  drive
Stripe only.
A step fails when Stripe's state is not what it should be or an event was not accepted by every
webhook endpoint (after retries). Exit code 0 when every step passed, 1 when one failed, 3 when the
platform did not act within the timeout.`,
  "send-event": `Usage: mindroom-stripe send-event <type> --subscription ID --webhook URL --secret WHSEC [--stripe URL] [--previous JSON] [--json]

Re-reads the subscription (or its latest invoice, checkout session or customer, by type) from the
local API, wraps it in a new event of <type> (with --previous as data.previous_attributes), signs it
like Stripe and POSTs it to URL. Exit code 0 when the webhook answered 2xx.`,
};

class UsageError extends Error {}

function required(value: string | undefined, flag: string): string {
  if (!value) throw new UsageError(`${flag} is required`);
  return value;
}

async function start(values: Record<string, unknown>): Promise<number> {
  const urls = (values["webhook-url"] as string[] | undefined) ?? [];
  const secrets = (values["webhook-secret"] as string[] | undefined) ?? [];
  const webhooks = urls.map((url, i) => ({ url, ...(secrets[i] ? { secret: secrets[i] } : {}) }));
  const server = values["data-dir"]
    ? await startLocalStripeInstance({ dataDir: String(values["data-dir"]), webhooks })
    : await startStripeLocal({
        ...(values.port ? { port: Number(values.port) } : {}),
        ...(values.state ? { stateFile: String(values.state) } : {}),
        webhooks,
        autoDeliver: !values["manual-delivery"],
      });
  const endpoints = server.endpoints().map((e) => ({ id: e.id, url: e.url }));
  if (values.json)
    process.stdout.write(`${JSON.stringify({ url: server.url, port: server.port, endpoints })}\n`);
  else
    process.stdout.write(
      `local Stripe API on ${server.url} (STRIPE_API_BASE=${server.url})\n${endpoints.map((e) => `  webhook ${e.id} → ${e.url}\n`).join("")}Ctrl-C stops it.\n`,
    );
  await new Promise<void>((resolve) => {
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => resolve());
  });
  await server.stop();
  return 0;
}

function printStep(step: JourneyStep): void {
  const mark = step.ok ? "✓" : "✗";
  const sub = step.subscription ? ` [${step.subscription} ${step.status}]` : "";
  process.stdout.write(`${mark} ${step.step}: ${step.detail}${sub}\n`);
  if (step.events.length) process.stdout.write(`    events: ${step.events.join(", ")}\n`);
  if (step.events.length && step.endpoints === 0)
    process.stdout.write("    warning: no webhook endpoint is registered; nothing was delivered\n");
  else if (step.undelivered.length)
    process.stdout.write(`    NOT accepted by the webhook: ${step.undelivered.join(", ")}\n`);
  else if (step.events.length) process.stdout.write(`    delivered to ${step.endpoints} endpoint(s)\n`);
  for (const report of step.platform)
    process.stdout.write(
      `    now (${report.after}, after ${(report.waitedMs / 1000).toFixed(1)} s): ${describeTenant(report.tenant)}\n`,
    );
}

/**
 * The platform's database, once a webhook endpoint of the local Stripe API answers as ready (the
 * platform runs: its database is up, and nothing here starts one of its own).
 */
async function openPlatformDatabase(stripeUrl: string, secretKey: string) {
  const endpoints = await stripeClient({ secretKey, apiBase: stripeUrl }).webhookEndpoints.list({
    limit: 100,
  });
  const ready = await Promise.all(
    endpoints.data
      .filter((e) => e.status === "enabled")
      .map(async (e) => {
        try {
          return (await fetch(new URL("/readyz", e.url), { signal: AbortSignal.timeout(3000) })).ok;
        } catch {
          return false;
        }
      }),
  );
  if (!ready.includes(true))
    throw new PlatformNotRunningError(
      `no platform answers at the Stripe API's webhook endpoints (${endpoints.data.map((e) => e.url).join(", ") || "none registered"}): start it with ./platform start, or pass --no-wait to drive Stripe only`,
    );
  return openDatabase(loadDatabaseSettings(), { migrate: false, maxConnections: 2 });
}

class PlatformNotRunningError extends Error {}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      ...STANDARD_OPTIONS,
      port: { type: "string" },
      state: { type: "string" },
      "data-dir": { type: "string" },
      "webhook-url": { type: "string", multiple: true },
      "webhook-secret": { type: "string", multiple: true },
      "manual-delivery": { type: "boolean" },
      stripe: { type: "string" },
      email: { type: "string" },
      tier: { type: "string" },
      subscription: { type: "string" },
      webhook: { type: "string" },
      secret: { type: "string" },
      previous: { type: "string" },
      timeout: { type: "string" },
      "no-wait": { type: "boolean" },
    },
  });
  const [command = "", arg] = positionals;
  if (values.help || command === "help" || command === "") {
    process.stdout.write(`${HELP[command === "help" ? (arg ?? "") : command] ?? HELP[""]}\n`);
    return command === "" && !values.help ? 2 : 0;
  }
  const secretKey = process.env.STRIPE_SECRET_KEY || LOCAL_SECRET_KEY;
  // Beside `./platform start`, its local Stripe API is the default.
  const stripeUrl =
    values.stripe ??
    (process.env.STRIPE_API_BASE || localStripeUrl(process.env.MINDROOM_DATA_DIR || resolve(".data")));
  switch (command) {
    case "start":
      return start(values);
    case "journey": {
      if (!arg || !(JOURNEYS as readonly string[]).includes(arg))
        throw new UsageError(`journey needs one of ${JOURNEYS.join(", ")}`);
      if (values.tier && !["free", "starter", "professional", "enterprise"].includes(values.tier))
        throw new UsageError(`--tier must be free, starter, professional or enterprise`);
      const timeout = Number(values.timeout ?? 600);
      if (!Number.isFinite(timeout) || timeout <= 0)
        throw new UsageError("--timeout must be a number of seconds");
      const stripe = required(stripeUrl, "--stripe (or STRIPE_API_BASE)");
      const email = required(values.email, "--email");
      const database = values["no-wait"] ? undefined : await openPlatformDatabase(stripe, secretKey);
      const steps: JourneyStep[] = [];
      try {
        const ok = await runJourney(arg as JourneyName, {
          stripeUrl: stripe,
          secretKey,
          email,
          ...(values.tier ? { tier: values.tier as TierId } : {}),
          ...(database
            ? {
                platform: {
                  db: database.pool,
                  timeoutMs: timeout * 1000,
                  onProgress: (line: string) => {
                    if (!values.json) process.stdout.write(`    … ${line}\n`);
                  },
                },
              }
            : {}),
          onStep: (step) => {
            steps.push(step);
            if (!values.json) printStep(step);
          },
        });
        if (values.json) process.stdout.write(`${JSON.stringify({ journey: arg, email, ok, steps })}\n`);
        return ok ? 0 : steps.some((s) => s.timedOut) ? 3 : 1;
      } finally {
        await database?.close();
      }
    }
    case "send-event": {
      if (!arg) throw new UsageError("send-event needs an event type, e.g. customer.subscription.updated");
      const result = await sendEvent({
        type: arg,
        subscription: required(values.subscription, "--subscription"),
        webhook: required(values.webhook, "--webhook"),
        secret: required(values.secret, "--secret"),
        stripeUrl: required(stripeUrl, "--stripe (or STRIPE_API_BASE)"),
        secretKey,
        ...(values.previous
          ? { previousAttributes: JSON.parse(values.previous) as Record<string, unknown> }
          : {}),
      });
      const ok = result.status >= 200 && result.status < 300;
      if (values.json) process.stdout.write(`${JSON.stringify({ ...result, ok })}\n`);
      else
        process.stdout.write(
          `${ok ? "✓" : "✗"} ${arg} ${result.event} → HTTP ${result.status} ${result.body}\n`,
        );
      return ok ? 0 : 1;
    }
    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const usage =
      error instanceof UsageError || (error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    process.stderr.write(`mindroom-stripe: ${(error as Error).message}\n${usage ? "Try --help.\n" : ""}`);
    process.exitCode = usage ? 2 : 1;
  },
);
