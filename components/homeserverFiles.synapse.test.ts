/**
 * The files the tenant component writes for a Synapse homeserver, served by a real Synapse
 * (testing/synapse.ts): it starts from them, takes registrations signed with the tenant's derived
 * registration secret, and loads exactly the appservice registrations they list.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { registerAccount, resetPassword } from "../portal/src/server/matrixRegistration.ts";
import { freePort } from "../testing/freePort.ts";
import { type LocalSynapse, startTenantSynapse } from "../testing/synapse.ts";
import { SAMPLE_ROOT_SECRET } from "../testing/tenantSamples.ts";
import { appserviceRegistration, synapseHomeserverConfig, synapseSigningKey } from "./homeserverFiles.ts";
import { parseSlug, tenantDomains, tenantNames } from "./tenantNames.ts";
import { deriveAccessSecret, deriveSecret, tenantAccessKey } from "./tenantSecrets.ts";

const slug = parseSlug("acme");
const names = tenantNames(slug);
const domains = tenantDomains(slug, "mindroom.test");
const access = tenantAccessKey(SAMPLE_ROOT_SECRET);
const tokens = {
  asToken: deriveSecret(SAMPLE_ROOT_SECRET, slug, "bridge-as-token", "telegram"),
  hsToken: deriveSecret(SAMPLE_ROOT_SECRET, slug, "bridge-hs-token", "telegram"),
};
const dir = mkdtempSync(join(tmpdir(), "mindroom-synapse-files-"));
const storage = join(dir, "storage");
let synapse: LocalSynapse;

function writeStack(bridges: "telegram"[]) {
  mkdirSync(join(storage, "appservices"), { recursive: true });
  writeFileSync(
    join(storage, "homeserver.yaml"),
    synapseHomeserverConfig({
      names,
      domains,
      secrets: {
        registration: deriveAccessSecret(access, slug, "matrix-registration"),
        macaroon: deriveSecret(SAMPLE_ROOT_SECRET, slug, "synapse-macaroon"),
        form: deriveSecret(SAMPLE_ROOT_SECRET, slug, "synapse-form"),
        postgresPassword: "unused-here",
      },
      bridges,
    }),
  );
  writeFileSync(
    join(storage, "signing.key"),
    synapseSigningKey(deriveSecret(SAMPLE_ROOT_SECRET, slug, "synapse-signing-key")),
  );
  if (bridges.length)
    writeFileSync(
      join(storage, "appservices", "telegram.yaml"),
      appserviceRegistration("telegram", names, domains, tokens),
    );
  else rmSync(join(storage, "appservices", "telegram.yaml"), { force: true });
}

const whoami = (token: string) =>
  fetch(`${synapse.url}/_matrix/client/v3/account/whoami`, { headers: { authorization: `Bearer ${token}` } });

beforeAll(async () => {
  writeStack(["telegram"]);
  synapse = await startTenantSynapse({
    storageDir: storage,
    port: await freePort(),
    workDir: join(dir, "work"),
  });
}, 180_000);
afterAll(async () => {
  await synapse?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("a tenant's Synapse from the component's files", { timeout: 180_000 }, () => {
  it("registers with the derived secret, logs in, and resets a password through its admin API", async () => {
    const server = { kind: "synapse" as const, url: synapse.url, serverName: domains.app, slug };
    const userId = await registerAccount(server, access, {
      username: "ada",
      password: "correct-horse-battery",
    });
    expect(userId).toBe("@ada:acme.mindroom.test");
    const login = async (password: string) =>
      fetch(`${synapse.url}/_matrix/client/v3/login`, {
        method: "POST",
        body: JSON.stringify({
          type: "m.login.password",
          identifier: { type: "m.id.user", user: "ada" },
          password,
        }),
      });
    expect((await login("correct-horse-battery")).status).toBe(200);
    await resetPassword(server, access, userId, "a-brand-new-password");
    expect((await login("correct-horse-battery")).status).toBe(403);
    expect((await login("a-brand-new-password")).status).toBe(200);
    // Another tenant's secret registers nothing here.
    await expect(
      registerAccount({ ...server, slug: "zeta" }, access, {
        username: "eve",
        password: "correct-horse-battery",
      }),
    ).rejects.toThrow(/Registration failed/);
  });

  it("loads the registrations it lists, and forgets one once it is no longer listed", async () => {
    const loaded = await whoami(tokens.asToken);
    expect(loaded.status).toBe(200);
    expect(await loaded.json()).toMatchObject({ user_id: "@telegrambot:acme.mindroom.test" });
    writeStack([]);
    await synapse.restart();
    expect((await whoami(tokens.asToken)).status).toBe(401);
  });
});
