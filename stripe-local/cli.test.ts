/**
 * bin/mindroom-stripe against a running local Stripe API with a webhook that
 * verifies signatures: the journeys' output and exit codes (Stripe only,
 * `--no-wait`: no platform behind the webhook here; journeys that wait for the
 * platform run in journey.engine.test.ts), and send-event.
 */
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import type Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type LocalStripe,
  stripeLocal,
  type WebhookReceiver,
  webhookReceiver,
} from "../testing/stripeLocal.ts";

const run = promisify(execFile);
const BIN = join(import.meta.dirname, "..", "bin", "mindroom-stripe");

let local: LocalStripe;
let receiver: WebhookReceiver;

beforeAll(async () => {
  local = await stripeLocal({ fresh: true });
  receiver = await webhookReceiver(local.webhookSecret);
  local.addWebhook(receiver.url);
});

afterAll(async () => {
  await local.stop();
  await receiver.close();
});

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(BIN, args, {
      env: { ...process.env, STRIPE_API_BASE: "" },
      timeout: 90_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

interface JourneyOutput {
  ok: boolean;
  steps: {
    step: string;
    ok: boolean;
    status?: string;
    subscription?: string;
    events: string[];
    undelivered: string[];
  }[];
}

describe("journey", () => {
  it("runs every step against the local API, and the webhook receives each event signed", async () => {
    const { code, stdout } = await cli([
      "journey",
      "all",
      "--stripe",
      local.url,
      "--email",
      "all@example.com",
      "--json",
      "--no-wait",
    ]);
    expect(code).toBe(0);
    const out = JSON.parse(stdout) as JourneyOutput;
    expect(out.steps.map((s) => [s.step, s.ok, s.status])).toEqual([
      ["checkout", true, "active"],
      ["upgrade", true, "active"],
      ["payment-failure", true, "unpaid"],
      ["resubscribe", true, "active"],
      ["cancel", true, "canceled"],
    ]);
    expect(out.steps[0]?.events).toContain("checkout.session.completed");
    expect(out.steps[2]?.events).toContain("invoice.payment_failed");
    expect(out.steps[4]?.events).toContain("customer.subscription.deleted");
    const received = new Set(receiver.events().map((e) => e.id));
    const all = (await local.stripe.events.list({ limit: 100 })).data;
    expect(all.every((e) => received.has(e.id))).toBe(true);
  });

  it("prints readable steps, and fails (exit 1) when a step cannot run", async () => {
    const ok = await cli([
      "journey",
      "checkout",
      "--stripe",
      local.url,
      "--email",
      "text@example.com",
      "--no-wait",
    ]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^✓ checkout: paid price_mindroom_starter on the hosted page/);
    expect(ok.stdout).toContain("delivered to 1 endpoint(s)");
    const none = await cli([
      "journey",
      "cancel",
      "--stripe",
      local.url,
      "--email",
      "nobody@example.com",
      "--no-wait",
    ]);
    expect(none.code).toBe(1);
    expect(none.stdout).toContain(
      "✗ cancel: cancel: nobody@example.com has no live subscription; run the checkout journey first",
    );
  });

  it("fails when the webhook does not accept the events", async () => {
    receiver.failNext(1000, 500);
    try {
      const { code, stdout } = await cli([
        "journey",
        "checkout",
        "--stripe",
        local.url,
        "--email",
        "refused@example.com",
        "--json",
        "--no-wait",
      ]);
      expect(code).toBe(1);
      const out = JSON.parse(stdout) as JourneyOutput;
      expect(out.steps[0]?.undelivered.length).toBeGreaterThan(0);
    } finally {
      receiver.failNext(0);
    }
  });

  it("says how to start the platform when nothing behind the webhook answers, and changes nothing", async () => {
    const before = (await local.stripe.customers.list({ email: "early@example.com" })).data.length;
    const { code, stderr } = await cli([
      "journey",
      "checkout",
      "--stripe",
      local.url,
      "--email",
      "early@example.com",
    ]);
    expect(code).toBe(1);
    expect(stderr).toContain("no platform answers at the Stripe API's webhook endpoints");
    expect(stderr).toContain("start it with ./platform start, or pass --no-wait");
    expect((await local.stripe.customers.list({ email: "early@example.com" })).data.length).toBe(before);
  });

  it("answers usage errors with exit code 2", async () => {
    const { code, stderr } = await cli(["journey", "sideways", "--email", "x@example.com"]);
    expect(code).toBe(2);
    expect(stderr).toContain(
      "journey needs one of checkout, upgrade, payment-failure, resubscribe, cancel, all",
    );
    expect((await cli(["--help"])).stdout).toContain(
      "mindroom-stripe: the local Stripe API and customer journeys",
    );
  });
});

describe("send-event", () => {
  it("sends one signed event built from the current subscription", async () => {
    const customer = await local.stripe.customers.create({ email: "send@example.com" });
    const sub = await local.stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_mindroom_starter" }],
    });
    await local.idle();
    const base = ["--subscription", sub.id, "--webhook", receiver.url, "--stripe", local.url, "--json"];
    const sent = await cli([
      "send-event",
      "customer.subscription.updated",
      ...base,
      "--secret",
      local.webhookSecret,
      "--previous",
      '{"status":"past_due"}',
    ]);
    expect(sent.code).toBe(0);
    const { event: id } = JSON.parse(sent.stdout) as { event: string };
    const event = receiver.events().find((e) => e.id === id);
    expect((event?.data.object as Stripe.Subscription | undefined)?.id).toBe(sub.id);
    expect(event?.data.previous_attributes).toEqual({ status: "past_due" });

    const invoice = await cli(["send-event", "invoice.paid", ...base, "--secret", local.webhookSecret]);
    expect(invoice.code).toBe(0);
    const invoiceEvent = receiver
      .events()
      .find((e) => e.id === (JSON.parse(invoice.stdout) as { event: string }).event);
    expect((invoiceEvent?.data.object as Stripe.Invoice | undefined)?.id).toBe(sub.latest_invoice);

    const forged = await cli(["send-event", "invoice.paid", ...base, "--secret", "whsec_wrong"]);
    expect(forged.code).toBe(1);
    expect((JSON.parse(forged.stdout) as { status: number }).status).toBe(400);
  });
});
