/**
 * The tenant component's Matrix side: Synapse's own config files, the Matrix
 * bridges as apps of the tenant registered with its homeserver, and MindRoom's
 * config template (component level, under Pulumi's mocks; the engine and the
 * Dokku host in portal/tests/intoMindRoom.test.ts).
 */
import { describe, expect, it } from "vitest";
import { isSecret, type RecordedResource, recordResources, reveal } from "../testing/pulumiMocks.ts";
import { pyyaml } from "../testing/pyyaml.ts";
import { SAMPLE_IMAGES, SAMPLE_ROOT_SECRET, sampleSpec } from "../testing/tenantSamples.ts";
import type { BRIDGES } from "./bridges.ts";
import { MindRoomTenant, type TenantOutputs } from "./tenant.ts";
import { deriveAccessSecret, deriveSecret, tenantAccessKey } from "./tenantSecrets.ts";
import type { TenantSpec, TenantSpecInput } from "./tenantSpec.ts";

const BRIDGE_IMAGE = (c: string) => `dock.mau.dev/mautrix/${c}@sha256:${"d".repeat(64)}`;

async function build(spec: TenantSpec) {
  let outputs: TenantOutputs | undefined;
  const resources = await recordResources(() => {
    outputs = new MindRoomTenant("tenant", { spec, rootSecret: SAMPLE_ROOT_SECRET, sshPrivateKey: "key" })
      .outputs;
  });
  return { resources, outputs: outputs as TenantOutputs };
}

const byName = (rs: readonly RecordedResource[], name: string) => {
  const found = rs.find((r) => r.name === name);
  if (!found) throw new Error(`no resource ${name}; have ${rs.map((r) => r.name).join(", ")}`);
  return found;
};
const text = (r: RecordedResource, key: string) => String(reveal(r.inputs[key]));
const yaml = (r: RecordedResource) => pyyaml(text(r, "stdin")) as Record<string, unknown>;

function withBridges(kinds: (keyof typeof BRIDGES)[], overrides: Partial<TenantSpecInput> = {}) {
  return sampleSpec({
    tier: "professional",
    bridges: kinds.map((kind) => ({ kind, image: BRIDGE_IMAGE(kind) })),
    ...overrides,
  });
}

describe("a Synapse tenant's homeserver files", () => {
  it("writes homeserver.yaml and the signing key into the homeserver's storage, as secrets", async () => {
    const { resources } = await build(sampleSpec({ homeserver: "synapse" }));
    const config = byName(resources, "tenant-homeserver-file-homeserver-yaml");
    expect(isSecret(config.inputs.stdin)).toBe(true);
    // Where the entry lives is asked of Dokku, never assumed.
    expect(text(config, "create")).toContain(
      "dir=$(dokku --quiet storage:info 'data-mx-acme' --format json | jq -r '.host_path // empty')",
    );
    expect(text(config, "create")).not.toContain(
      deriveSecret(SAMPLE_ROOT_SECRET, sampleSpec().slug, "synapse-form"),
    );
    const access = tenantAccessKey(SAMPLE_ROOT_SECRET);
    expect(yaml(config)).toMatchObject({
      server_name: "acme.mindroom.test",
      public_baseurl: "https://acme.matrix.mindroom.test/",
      registration_shared_secret: deriveAccessSecret(access, "acme", "matrix-registration"),
      macaroon_secret_key: deriveSecret(SAMPLE_ROOT_SECRET, sampleSpec().slug, "synapse-macaroon"),
      database: {
        name: "psycopg2",
        args: {
          host: "dokku-postgres-pg-acme",
          database: "pg_acme",
          password: deriveSecret(SAMPLE_ROOT_SECRET, sampleSpec().slug, "postgres-password"),
        },
      },
      enable_registration: false,
      app_service_config_files: [],
    });
    const key = text(byName(resources, "tenant-homeserver-file-signing-key"), "stdin");
    expect(key).toMatch(/^ed25519 a_mindroom [A-Za-z0-9+/]{43}\n$/);
  });

  it("gives the runtime MindRoom's config template, from the tier", async () => {
    const { resources } = await build(sampleSpec({ tier: "professional" }));
    const template = byName(resources, "tenant-runtime-file-platform-config-template-yaml");
    const config = pyyaml(text(template, "stdin")) as { agents: Record<string, unknown> };
    expect(Object.keys(config.agents)).toHaveLength(10);
    const env = JSON.parse(text(byName(resources, "tenant-runtime-config"), "stdin")) as Record<
      string,
      string
    >;
    expect(env.MINDROOM_CONFIG_TEMPLATE).toBe("/mindroom_data/platform/config.template.yaml");
  });
});

describe("Matrix bridges", () => {
  it("runs each enabled bridge as an app on the tenant network with its own storage and config", async () => {
    const { resources, outputs } = await build(withBridges(["telegram", "slack"], { homeserver: "synapse" }));
    expect(outputs.bridges).toEqual([
      { kind: "telegram", app: "br-tg-acme" },
      { kind: "slack", app: "br-sl-acme" },
    ]);
    for (const [kind, app] of [
      ["telegram", "br-tg-acme"],
      ["slack", "br-sl-acme"],
    ] as const) {
      const component = byName(resources, `tenant-bridge-${kind}`);
      expect(component.inputs).toMatchObject({
        app,
        network: "net-acme",
        storage: [{ entry: `data-${app}`, containerDir: "/data" }],
        image: BRIDGE_IMAGE(kind),
        files: [{ entry: `data-${app}`, path: "config.yaml" }],
      });
      expect(text(byName(resources, `tenant-bridge-${kind}-settings`), "create")).toContain(
        `dokku network:set ${app} initial-network net-acme`,
      );
      expect(isSecret(byName(resources, `tenant-bridge-${kind}-file-config-yaml`).inputs.stdin)).toBe(true);
    }
    expect(resources.some((r) => r.name.startsWith("tenant-bridge-whatsapp"))).toBe(false);
  });

  it("registers each bridge with the homeserver, with tokens the bridge shares and nobody else does", async () => {
    const { resources } = await build(withBridges(["telegram", "slack"], { homeserver: "synapse" }));
    const registration = byName(resources, "tenant-homeserver-file-appservices-telegram-yaml");
    expect(isSecret(registration.inputs.stdin)).toBe(true);
    const reg = yaml(registration) as Record<string, unknown> & {
      namespaces: { users: { regex: string }[] };
    };
    expect(reg).toMatchObject({
      id: "telegram",
      url: "http://br-tg-acme.web:29317",
      sender_localpart: "telegrambot",
      rate_limited: false,
    });
    expect(reg.namespaces.users.map((u) => u.regex)).toEqual([
      "^@telegrambot:acme\\.mindroom\\.test$",
      "^@telegram_.*:acme\\.mindroom\\.test$",
    ]);
    const bridge = yaml(byName(resources, "tenant-bridge-telegram-file-config-yaml")) as {
      appservice: { as_token: string; hs_token: string };
      homeserver: { address: string };
    };
    expect([bridge.appservice.as_token, bridge.appservice.hs_token]).toEqual([reg.as_token, reg.hs_token]);
    expect(bridge.homeserver.address).toBe("http://mx-acme.web:8008");
    const slack = yaml(byName(resources, "tenant-homeserver-file-appservices-slack-yaml"));
    expect(slack.as_token).not.toBe(reg.as_token);
    expect(reg.as_token).not.toBe(reg.hs_token);
    // Tokens never in script text; a removed registration restarts the homeserver.
    expect(text(registration, "create")).not.toContain(String(reg.as_token));
    expect(text(registration, "delete")).toContain("then dokku ps:restart mx-acme; fi");
    // Synapse loads exactly the enabled bridges.
    expect(
      yaml(byName(resources, "tenant-homeserver-file-homeserver-yaml")).app_service_config_files,
    ).toEqual(["/data/appservices/telegram.yaml", "/data/appservices/slack.yaml"]);
  });

  it("points Tuwunel at the registrations' folder", async () => {
    const { resources } = await build(withBridges(["whatsapp"]));
    const env = JSON.parse(text(byName(resources, "tenant-homeserver-config"), "stdin")) as Record<
      string,
      string
    >;
    expect(env.TUWUNEL_APPSERVICE_DIR).toBe("/var/lib/tuwunel/appservices");
    expect(byName(resources, "tenant-homeserver-file-appservices-whatsapp-yaml")).toBeDefined();
    const plain = JSON.parse(
      text(byName((await build(sampleSpec())).resources, "tenant-homeserver-config"), "stdin"),
    );
    expect(plain.TUWUNEL_APPSERVICE_DIR).toBeUndefined();
  });

  it("allows no more bridges than the tier does, and each at most once", () => {
    expect(() => withBridges(["telegram"], { tier: "free" })).toThrow(
      /the free tier allows 0 bridges, not 1/,
    );
    expect(() => withBridges(["telegram", "slack"], { tier: "starter" })).toThrow(
      /the starter tier allows 1 bridge, not 2/,
    );
    expect(() => withBridges(["telegram", "telegram"])).toThrow(/lists a bridge twice/);
    expect(withBridges(["telegram", "whatsapp", "discord", "slack"]).bridges).toHaveLength(4);
    expect(() => withBridges(["telegram"], { images: { ...SAMPLE_IMAGES } })).not.toThrow();
  });
});
