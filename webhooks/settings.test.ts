import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  loadWebhookSettings,
  localWebhookSecret,
  WEBHOOK_SECRET_FILE,
  WebhookSettingsError,
} from "./settings.ts";

const fresh = () => mkdtempSync(join(tmpdir(), "webhook-settings-"));

describe("loadWebhookSettings", () => {
  it("needs no configuration locally: test key, local prices, a webhook secret kept in the data folder", () => {
    const dir = fresh();
    const s = loadWebhookSettings({ MINDROOM_DATA_DIR: dir });
    expect(s.stripe.secretKey).toBe("sk_test_mindroom_local");
    expect(s.stripe.webhookSecret).toMatch(/^whsec_[0-9a-f]{48}$/);
    expect(s.stripe.apiBase).toBeUndefined();
    expect(statSync(join(dir, WEBHOOK_SECRET_FILE)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, WEBHOOK_SECRET_FILE), "utf8")).toBe(s.stripe.webhookSecret);
    expect(loadWebhookSettings({ MINDROOM_DATA_DIR: dir }).stripe.webhookSecret).toBe(s.stripe.webhookSecret);
    expect(localWebhookSecret(dir)).toBe(s.stripe.webhookSecret);
    expect([...s.priceTiers]).toEqual([
      ["price_mindroom_free", "free"],
      ["price_mindroom_starter", "starter"],
      ["price_mindroom_professional", "professional"],
      ["price_mindroom_enterprise", "enterprise"],
    ]);
    expect(s.deletionGraceMs).toBe(7 * 24 * 3600 * 1000);
    expect(s.http).toEqual({
      host: "127.0.0.1",
      port: 8790,
      bodyLimitBytes: 1024 * 1024,
      toleranceSeconds: 300,
      rateLimit: { perSecond: 100, burst: 200 },
      trustedProxies: expect.objectContaining({ entries: [] }),
      databaseConnections: 10,
    });
    expect(s.logLevel).toBe("info");
    expect(s.database).toEqual({ databaseUrl: undefined, dataDir: dir });
    expect(s.automation.dataDir).toBe(dir);
  });

  it("reads the contract's names and the service's own", () => {
    const s = loadWebhookSettings({
      MINDROOM_DATA_DIR: fresh(),
      STRIPE_SECRET_KEY: "sk_test_abc",
      STRIPE_WEBHOOK_SECRET: "whsec_given",
      STRIPE_API_BASE: "http://127.0.0.1:12111",
      STRIPE_PRICE_TIERS: "price_1A=starter, price_1B=professional",
      MINDROOM_DELETION_GRACE: "12h",
      STRIPE_WEBHOOK_TOLERANCE: "600",
      MINDROOM_WEBHOOKS_HOST: "0.0.0.0",
      MINDROOM_WEBHOOKS_PORT: "0",
      MINDROOM_WEBHOOKS_BODY_LIMIT: "256kb",
      MINDROOM_WEBHOOKS_RATE: "5",
      MINDROOM_WEBHOOKS_BURST: "7",
      MINDROOM_TRUSTED_PROXIES: "10.0.0.0/8, 192.0.2.7",
      MINDROOM_WEBHOOKS_DB_CONNECTIONS: "20",
      MINDROOM_LOG_LEVEL: "debug",
      DATABASE_URL: "postgres://u:p@db:5432/platform",
    });
    expect(s.stripe).toEqual({
      secretKey: "sk_test_abc",
      webhookSecret: "whsec_given",
      apiBase: "http://127.0.0.1:12111",
    });
    expect([...s.priceTiers]).toEqual([
      ["price_1A", "starter"],
      ["price_1B", "professional"],
    ]);
    expect(s.deletionGraceMs).toBe(12 * 3600 * 1000);
    expect(s.http).toEqual({
      host: "0.0.0.0",
      port: 0,
      bodyLimitBytes: 256 * 1024,
      toleranceSeconds: 600,
      rateLimit: { perSecond: 5, burst: 7 },
      trustedProxies: expect.objectContaining({ entries: ["10.0.0.0/8", "192.0.2.7"] }),
      databaseConnections: 20,
    });
    expect(s.http.trustedProxies.has("10.1.2.3")).toBe(true);
    expect(s.logLevel).toBe("debug");
    expect(s.database.databaseUrl).toBe("postgres://u:p@db:5432/platform");
  });

  it("refuses the old MINDROOM_WEBHOOKS_TRUST_PROXY, which believed any client's X-Forwarded-For, and a bad proxy list", () => {
    expect(() =>
      loadWebhookSettings({ MINDROOM_DATA_DIR: fresh(), MINDROOM_WEBHOOKS_TRUST_PROXY: "true" }),
    ).toThrow(/MINDROOM_WEBHOOKS_TRUST_PROXY is replaced by MINDROOM_TRUSTED_PROXIES/);
    expect(() =>
      loadWebhookSettings({ MINDROOM_DATA_DIR: fresh(), MINDROOM_TRUSTED_PROXIES: "proxy.internal" }),
    ).toThrow(/MINDROOM_TRUSTED_PROXIES: "proxy.internal" is not an IP address or CIDR range/);
  });

  it("treats MINDROOM_WEBHOOKS_RATE=0 as no limit and MINDROOM_DELETION_GRACE=0s as none", () => {
    const s = loadWebhookSettings({
      MINDROOM_DATA_DIR: fresh(),
      MINDROOM_WEBHOOKS_RATE: "0",
      MINDROOM_DELETION_GRACE: "0s",
    });
    expect(s.http.rateLimit).toBeUndefined();
    expect(s.deletionGraceMs).toBe(0);
  });

  it("lists every invalid variable by name, without echoing values", () => {
    let error: unknown;
    try {
      loadWebhookSettings({
        MINDROOM_DATA_DIR: fresh(),
        STRIPE_SECRET_KEY: "not-a-key-but-maybe-secret",
        STRIPE_WEBHOOK_SECRET: "wrong",
        STRIPE_API_BASE: "ftp://x",
        MINDROOM_WEBHOOKS_PORT: "http",
        MINDROOM_WEBHOOKS_BODY_LIMIT: "1gb",
        MINDROOM_LOG_LEVEL: "loud",
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WebhookSettingsError);
    const message = (error as Error).message;
    for (const name of [
      "STRIPE_SECRET_KEY",
      "STRIPE_WEBHOOK_SECRET",
      "STRIPE_API_BASE",
      "MINDROOM_WEBHOOKS_PORT",
      "MINDROOM_WEBHOOKS_BODY_LIMIT",
      "MINDROOM_LOG_LEVEL",
    ])
      expect(message).toContain(name);
    expect(message).not.toContain("not-a-key-but-maybe-secret");
  });

  it("validates price tiers against the tier catalog and durations by unit", () => {
    expect(() =>
      loadWebhookSettings({ MINDROOM_DATA_DIR: fresh(), STRIPE_PRICE_TIERS: "price_x=gold" }),
    ).toThrow(/STRIPE_PRICE_TIERS .*price_x=gold/);
    expect(() =>
      loadWebhookSettings({ MINDROOM_DATA_DIR: fresh(), MINDROOM_DELETION_GRACE: "a week" }),
    ).toThrow(WebhookSettingsError);
    expect(() =>
      loadWebhookSettings({ MINDROOM_DATA_DIR: fresh(), MINDROOM_DELETION_GRACE: "a week" }),
    ).toThrow(/MINDROOM_DELETION_GRACE/);
  });

  it("has no Stripe defaults in production, and lists every refused default at once", () => {
    const production = {
      MINDROOM_DATA_DIR: fresh(),
      MINDROOM_ENVIRONMENT: "production",
      PULUMI_CONFIG_PASSPHRASE: "p",
      PULUMI_BACKEND_URL: "s3://state?region=eu-central-1",
      MINDROOM_ROOT_SECRET: "r".repeat(64),
      DOKKU_SSH_KEY: "/etc/mindroom/key",
      MINDROOM_BASE_DOMAIN: "mindroom.chat",
      DATABASE_URL: "postgres://u:p@db.example.com/postgres",
    };
    expect(() => loadWebhookSettings({ ...production, MINDROOM_POLICIES: "off", DATABASE_URL: "" })).toThrow(
      /refuses a local default:\n {2}- MINDROOM_POLICIES=off/,
    );
    expect(() => loadWebhookSettings(production)).toThrow(
      /refuses 3 local defaults:\n {2}- STRIPE_SECRET_KEY is unset.*\n {2}- STRIPE_WEBHOOK_SECRET is unset.*\n {2}- STRIPE_PRICE_TIERS is unset/,
    );
    expect(() =>
      loadWebhookSettings({
        ...production,
        STRIPE_SECRET_KEY: "sk_test_x",
        STRIPE_WEBHOOK_SECRET: "whsec_x",
        STRIPE_PRICE_TIERS: "price_1=starter",
      }),
    ).toThrow(/STRIPE_SECRET_KEY is a test key/);
    expect(() =>
      loadWebhookSettings({
        ...production,
        STRIPE_SECRET_KEY: "sk_live_x",
        STRIPE_WEBHOOK_SECRET: "whsec_x",
        STRIPE_PRICE_TIERS: "price_1=starter",
      }),
    ).toThrow(/needs SMTP_URL, MAIL_FROM, PORTAL_PUBLIC_URL set/);
  });
});
