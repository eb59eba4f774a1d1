import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  leaseWaitMs,
  loadAutomationSettings,
  MAX_OPERATION_TIMEOUT_SECONDS,
  operationDeadlineMs,
} from "../../automation/settings.ts";
import { EXAMPLE_IMAGES } from "../../components/exampleTenant.ts";
import { MAX_EXPIRY_SECONDS } from "../queue.ts";
import { hostKeysFor, loadReconcileSettings, parseDuration, reconcileJobExpirySeconds } from "./settings.ts";

const dataDir = mkdtempSync(join(tmpdir(), "mindroom-reconcile-settings-"));
const automation = (env: NodeJS.ProcessEnv = {}) =>
  loadAutomationSettings({
    MINDROOM_DATA_DIR: dataDir,
    MINDROOM_ROOT_SECRET: "x".repeat(40),
    DOKKU_HOSTS: "ssh://root@10.0.0.1:22,ssh://root@127.0.0.1:2222",
    ...env,
  });

describe("reconcile settings", () => {
  it("lets a reconcile job expire only after the longest job its operation timeout allows", () => {
    for (const [timeout, ttl] of [
      [undefined, undefined],
      ["60", "3"],
      ["1800", "30"],
      ["3600", "600"],
      [String(MAX_OPERATION_TIMEOUT_SECONDS), "600"],
    ]) {
      const settings = automation({ MINDROOM_OPERATION_TIMEOUT: timeout, MINDROOM_TENANT_LEASE_TTL: ttl });
      const expiry = reconcileJobExpirySeconds(settings) * 1000;
      // A lease wait, then two operations (a production deletion), each killed at its deadline.
      expect(expiry).toBeGreaterThan(leaseWaitMs(settings) + 2 * operationDeadlineMs(settings));
      expect(expiry).toBeLessThanOrEqual(MAX_EXPIRY_SECONDS * 1000);
    }
    // The default timeout of 15 minutes: more than the 1800 s pg-boss expiry it replaces.
    expect(reconcileJobExpirySeconds(automation())).toBe(35 + 2 * 960 + 300);
    // A timeout whose job could not fit pg-boss's longest expiry is refused where it is set.
    expect(() =>
      automation({ MINDROOM_OPERATION_TIMEOUT: String(MAX_OPERATION_TIMEOUT_SECONDS + 1) }),
    ).toThrow(`MINDROOM_OPERATION_TIMEOUT must be an integer from 1 to ${MAX_OPERATION_TIMEOUT_SECONDS}`);
    expect(() => automation({ MINDROOM_TENANT_LEASE_TTL: "1" })).toThrow(
      "MINDROOM_TENANT_LEASE_TTL must be an integer from 3 to 600",
    );
  });

  it("parses durations in the units operators write", () => {
    expect(["7d", "12h", "30m", "5s", "0s", "250ms", "90", "1.5h"].map((d) => parseDuration("X", d))).toEqual(
      [604_800_000, 43_200_000, 1_800_000, 5000, 0, 250, 90_000, 5_400_000],
    );
    expect(() => parseDuration("MINDROOM_DELETION_GRACE", "a week")).toThrow(
      "MINDROOM_DELETION_GRACE must be a duration like 7d, 12h, 30m or 5s, got a week",
    );
  });

  it("turns single sign-on on with the Supabase settings, needs all three then, and requires them in production", () => {
    const sso = {
      SUPABASE_URL: "https://auth.example.com",
      SUPABASE_ANON_KEY: "anon",
      PORTAL_PUBLIC_URL: "https://app.example.com",
    };
    expect(loadReconcileSettings(automation(), sso).platformAuth).toEqual({
      supabaseUrl: "https://auth.example.com",
      supabaseAnonKey: "anon",
      portalUrl: "https://app.example.com",
    });
    expect(loadReconcileSettings(automation(), {}).platformAuth).toBeUndefined();
    // The portal's URL alone (the worker's emails need it) leaves single sign-on off.
    expect(
      loadReconcileSettings(automation(), { PORTAL_PUBLIC_URL: sso.PORTAL_PUBLIC_URL }).platformAuth,
    ).toBeUndefined();
    expect(() => loadReconcileSettings(automation(), { SUPABASE_ANON_KEY: "anon" })).toThrow(
      "single sign-on into tenants needs SUPABASE_URL, SUPABASE_ANON_KEY, PORTAL_PUBLIC_URL; missing SUPABASE_URL, PORTAL_PUBLIC_URL",
    );
    expect(() => loadReconcileSettings(automation(), { SUPABASE_URL: sso.SUPABASE_URL })).toThrow(
      "single sign-on into tenants needs SUPABASE_URL, SUPABASE_ANON_KEY, PORTAL_PUBLIC_URL; missing SUPABASE_ANON_KEY, PORTAL_PUBLIC_URL",
    );
  });

  it("chooses the homeserver new tenants run", () => {
    expect(loadReconcileSettings(automation(), {}).homeserver).toBe("tuwunel");
    expect(loadReconcileSettings(automation(), { MINDROOM_HOMESERVER: "synapse" }).homeserver).toBe(
      "synapse",
    );
    expect(() => loadReconcileSettings(automation(), { MINDROOM_HOMESERVER: "dendrite" })).toThrow(
      "MINDROOM_HOMESERVER must be tuwunel or synapse, got dendrite",
    );
  });

  it("finds each pool host's key in known_hosts lines", () => {
    const hosts = automation().hosts;
    const keys = hostKeysFor(
      hosts,
      "# comment\n10.0.0.1 ssh-ed25519 AAAAone\n[127.0.0.1]:2222,[localhost]:2222 ssh-ed25519 AAAAtwo\n",
    );
    expect([...keys]).toEqual([
      ["ssh://root@10.0.0.1:22", "ssh-ed25519 AAAAone"],
      ["ssh://root@127.0.0.1:2222", "ssh-ed25519 AAAAtwo"],
    ]);
  });

  it("has embedded defaults outside production and insists on images in production", () => {
    const knownHosts = join(dataDir, "known_hosts");
    writeFileSync(knownHosts, "10.0.0.1 ssh-ed25519 AAAAone\n");
    const s = loadReconcileSettings(automation(), { DOKKU_KNOWN_HOSTS: knownHosts });
    expect(s.deletionGraceMs).toBe(7 * 86_400_000);
    expect(s.sweepIntervalMs).toBe(600_000);
    expect(s.usageIntervalMs).toBe(3_600_000);
    expect(
      loadReconcileSettings(automation(), { DOKKU_KNOWN_HOSTS: knownHosts, MINDROOM_USAGE_INTERVAL: "0s" })
        .usageIntervalMs,
    ).toBe(0);
    expect(s.priceTiers.get("price_mindroom_professional")).toBe("professional");
    expect(s.images).toEqual(EXAMPLE_IMAGES);
    expect(s.tlsEmail).toBe("ops@mindroom.test");
    expect(s.hostKeys.get("ssh://root@10.0.0.1:22")).toBe("ssh-ed25519 AAAAone");
    expect(s.backup).toBeUndefined();
    const production = {
      ...automation(),
      environment: "production" as const,
    };
    let refusal = "";
    try {
      loadReconcileSettings(production, { DOKKU_KNOWN_HOSTS: knownHosts, MINDROOM_HOMESERVER_IMAGE: "x" });
    } catch (error) {
      refusal = (error as Error).message;
    }
    expect(refusal.split("\n")).toEqual([
      "MINDROOM_ENVIRONMENT=production refuses 6 local defaults:",
      "  - MINDROOM_RUNTIME_IMAGE is unset (an example image): set the image tenants run, pinned by digest (…@sha256:…)",
      "  - MINDROOM_BACKUP_IMAGE is unset (an example image): set the image tenants run, pinned by digest (…@sha256:…)",
      "  - MINDROOM_BRIDGE_IMAGES is unset (example images): pin each bridge's image by digest, telegram=…@sha256:…,whatsapp=…@sha256:…,discord=…@sha256:…,slack=…@sha256:…",
      "  - CLOUDFLARE_ZONE_ID is unset: production tenants need DNS records in your Cloudflare zone",
      "  - CLOUDFLARE_API_TOKEN is unset: the Cloudflare provider needs a token with DNS edit on the zone",
      "  - MINDROOM_BACKUP_BUCKET is unset: production tenants are backed up every 6 hours to S3",
    ]);
    expect(() =>
      loadReconcileSettings(automation(), { DOKKU_KNOWN_HOSTS: knownHosts, MINDROOM_BACKUP_BUCKET: "b" }),
    ).toThrow(/MINDROOM_BACKUP_REGION/);
  });
});
