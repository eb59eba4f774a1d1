/** State kept in the state file across a restart; the client's STRIPE_API_BASE mapping. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  apiBaseToHost,
  LOCAL_SECRET_KEY,
  STRIPE_API_VERSION,
  StripeApiBaseError,
  stripeClient,
} from "../billing/stripeClient.ts";
import { startLocalStripeInstance } from "./localInstance.ts";
import { startStripeLocal } from "./server.ts";
import { StateFileError } from "./state.ts";

const dir = mkdtempSync(join(tmpdir(), "stripe-local-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("state file", () => {
  it("keeps customers, subscriptions, sessions, events and endpoints across a restart", async () => {
    const stateFile = join(dir, "state.json");
    const first = await startStripeLocal({
      stateFile,
      webhooks: [{ url: "http://127.0.0.1:9/hook", secret: "whsec_kept" }],
      autoDeliver: false,
    });
    const stripe = stripeClient({ secretKey: first.secretKey, apiBase: first.url, maxNetworkRetries: 0 });
    const customer = await stripe.customers.create({ email: "kept@example.com" });
    const sub = await stripe.subscriptions.create({
      customer: customer.id,
      items: [{ price: "price_mindroom_starter" }],
    });
    const events = (await stripe.events.list({ limit: 100 })).data.map((e) => e.id);
    await first.stop();
    expect(JSON.parse(readFileSync(stateFile, "utf8")).customers[customer.id].email).toBe("kept@example.com");

    const second = await startStripeLocal({
      stateFile,
      port: first.port,
      webhooks: [{ url: "http://127.0.0.1:9/hook", secret: "whsec_kept" }],
      autoDeliver: false,
    });
    try {
      const again = stripeClient({ secretKey: second.secretKey, apiBase: second.url, maxNetworkRetries: 0 });
      expect((await again.customers.list({ email: "kept@example.com" })).data.map((c) => c.id)).toEqual([
        customer.id,
      ]);
      const kept = await again.subscriptions.retrieve(sub.id);
      expect(kept.status).toBe("active");
      expect(kept.items.data[0]?.current_period_end).toBe(sub.items.data[0]?.current_period_end);
      expect((await again.events.list({ limit: 100 })).data.map((e) => e.id)).toEqual(events);
      expect(second.endpoints()).toEqual([
        { id: first.endpoints()[0]?.id, url: "http://127.0.0.1:9/hook", secret: "whsec_kept" },
      ]);
      // New objects continue beside the old ones.
      const other = await again.customers.create({ email: "new@example.com" });
      expect((await again.customers.list()).data.map((c) => c.id)).toEqual([other.id, customer.id]);
    } finally {
      await second.stop();
    }
  });

  it("refuses a corrupt state file with a message that says what to do", async () => {
    const stateFile = join(dir, "corrupt.json");
    writeFileSync(stateFile, "{not json");
    await expect(startStripeLocal({ stateFile })).rejects.toThrow(StateFileError);
    await expect(startStripeLocal({ stateFile })).rejects.toThrow(/move it away to start empty/);
  });
});

describe("startLocalStripeInstance", () => {
  it("keeps its port and state in the data folder", async () => {
    const dataDir = join(dir, "data");
    const first = await startLocalStripeInstance({ dataDir });
    const stripe = stripeClient({ secretKey: first.secretKey, apiBase: first.url, maxNetworkRetries: 0 });
    const customer = await stripe.customers.create({ email: "instance@example.com" });
    await first.stop();
    const second = await startLocalStripeInstance({ dataDir });
    try {
      expect(second.url).toBe(first.url);
      const again = stripeClient({ secretKey: second.secretKey, apiBase: second.url, maxNetworkRetries: 0 });
      expect((await again.customers.retrieve(customer.id)).id).toBe(customer.id);
    } finally {
      await second.stop();
    }
  });
});

describe("stripeClient", () => {
  it("maps STRIPE_API_BASE to host, port and protocol and pins the API version", () => {
    expect(apiBaseToHost("http://127.0.0.1:12111")).toEqual({
      host: "127.0.0.1",
      port: 12111,
      protocol: "http",
    });
    expect(apiBaseToHost("https://stripe.internal")).toEqual({
      host: "stripe.internal",
      port: 443,
      protocol: "https",
    });
    expect(apiBaseToHost("http://[::1]:8080/")).toEqual({ host: "::1", port: 8080, protocol: "http" });
    expect(() => apiBaseToHost("127.0.0.1:12111")).toThrow(StripeApiBaseError);
    expect(() => apiBaseToHost("http://127.0.0.1:12111/v1")).toThrow(/without a path/);
    const local = stripeClient({ secretKey: LOCAL_SECRET_KEY, apiBase: "http://127.0.0.1:12111" });
    expect(local.getApiField("host")).toBe("127.0.0.1");
    expect(local.getApiField("port")).toBe(12111);
    expect(local.getApiField("protocol")).toBe("http");
    expect(local.getApiField("version")).toBe(STRIPE_API_VERSION);
    const production = stripeClient({ secretKey: "sk_live_x", apiBase: undefined });
    expect(production.getApiField("host")).toBe("api.stripe.com");
    expect(production.getApiField("protocol")).toBe("https");
    expect(production.getMaxNetworkRetries()).toBe(2);
  });
});
