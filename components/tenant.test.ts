import { describe, expect, it } from "vitest";
import { isSecret, type RecordedResource, recordResources, reveal } from "../testing/pulumiMocks.ts";
import { SAMPLE_ROOT_SECRET, SAMPLE_ZONE, sampleSpec } from "../testing/tenantSamples.ts";
import { configDigest } from "./dokku/configDigest.ts";
import { MindRoomTenant, type TenantOutputs } from "./tenant.ts";
import { deriveAccessSecret, deriveSecret, tenantAccessKey } from "./tenantSecrets.ts";
import type { TenantSpec } from "./tenantSpec.ts";
import { TIER_IDS, tier } from "./tiers.ts";

const SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nmock-key-material\n-----END OPENSSH PRIVATE KEY-----";

async function build(spec: TenantSpec, extra: { origin?: boolean; repairs?: Record<string, string> } = {}) {
  let outputs: TenantOutputs | undefined;
  const resources = await recordResources(() => {
    const tenant = new MindRoomTenant("tenant", {
      spec,
      rootSecret: SAMPLE_ROOT_SECRET,
      sshPrivateKey: SSH_KEY,
      ...(extra.origin
        ? { originCertificate: { certificate: "-----CERT-----\n", key: "-----KEY-----\n" } }
        : {}),
      ...(extra.repairs ? { repairs: extra.repairs } : {}),
    });
    outputs = tenant.outputs;
  });
  if (!outputs) throw new Error("no outputs");
  return { resources, outputs };
}

const commands = (rs: readonly RecordedResource[]) => rs.filter((r) => r.type === "command:remote:Command");
const byName = (rs: readonly RecordedResource[], name: string) => {
  const found = rs.find((r) => r.name === name);
  if (!found) throw new Error(`no resource ${name}; have ${rs.map((r) => r.name).join(", ")}`);
  return found;
};
const script = (r: RecordedResource, key: "create" | "update" | "delete" = "create") =>
  String(reveal(r.inputs[key]));

describe("MindRoomTenant: a default tenant (Tuwunel, Let's Encrypt, no DNS, no backups)", () => {
  it("registers the network, two apps with their pieces, and TLS, and nothing from Cloudflare or AWS", async () => {
    const { resources } = await build(sampleSpec());
    expect(
      resources
        .filter((r) => !r.type.startsWith("command:"))
        .map((r) => r.type)
        .sort(),
    ).toEqual(
      [
        "mindroom:dokku:App",
        "mindroom:dokku:App",
        "mindroom:dokku:Network",
        "mindroom:dokku:Tls",
        "mindroom:dokku:Tls",
        "mindroom:index:MindRoomTenant",
      ].sort(),
    );
    expect(
      commands(resources)
        .map((r) => r.name)
        .sort(),
    ).toEqual(
      [
        "tenant-network-network",
        ...["runtime", "homeserver"].flatMap((app) =>
          ["app", "settings", "config", "limits", "deploy", "scale"].map((c) => `tenant-${app}-${c}`),
        ),
        "tenant-runtime-storage-data-mr-acme",
        "tenant-homeserver-storage-data-mx-acme",
        "tenant-runtime-file-platform-config-template-yaml",
        "tenant-runtime-tls-letsencrypt",
        "tenant-homeserver-tls-letsencrypt",
      ].sort(),
    );
  });

  it("probes before every create and tolerates absence on every delete", async () => {
    const { resources } = await build(sampleSpec());
    expect(script(byName(resources, "tenant-network-network"))).toBe(
      "set -e\ndokku --quiet network:exists net-acme >/dev/null 2>&1 || dokku network:create net-acme",
    );
    expect(script(byName(resources, "tenant-network-network"), "delete")).toBe(
      "set -e\nif dokku --quiet network:exists net-acme >/dev/null 2>&1; then dokku --force network:destroy net-acme; fi",
    );
    expect(script(byName(resources, "tenant-runtime-app"))).toContain(
      "dokku --quiet apps:exists mr-acme >/dev/null 2>&1 || dokku apps:create mr-acme",
    );
    expect(script(byName(resources, "tenant-runtime-app"), "delete")).toContain(
      "then dokku --force apps:destroy mr-acme; fi",
    );
    expect(script(byName(resources, "tenant-runtime-deploy"))).toBe(
      `set -e\n[ "$(dokku --quiet apps:report mr-acme --app-deploy-source-metadata 2>/dev/null)" = '${sampleSpec().images.runtime}' ] || dokku git:from-image mr-acme ${sampleSpec().images.runtime}`,
    );
  });

  it("attaches apps only to the tenant network and sets ports, mounts and domains before the deploy", async () => {
    const { resources } = await build(sampleSpec());
    expect(script(byName(resources, "tenant-runtime-settings"))).toBe(
      [
        "set -e",
        "dokku network:set mr-acme initial-network net-acme",
        "dokku storage:mount mr-acme data-mr-acme --container-dir /mindroom_data",
        "dokku ports:set mr-acme http:80:8765",
        "dokku domains:set mr-acme acme.mindroom.test acme.api.mindroom.test",
        "dokku docker-options:remove mr-acme deploy '--health-cmd '\\''curl -fsS http://127.0.0.1:8765/api/ready || exit 1'\\'' --health-interval 10s --health-start-period 120s --health-retries 3'",
        "dokku docker-options:add mr-acme deploy '--health-cmd '\\''curl -fsS http://127.0.0.1:8765/api/ready || exit 1'\\'' --health-interval 10s --health-start-period 120s --health-retries 3'",
      ].join("\n"),
    );
    expect(script(byName(resources, "tenant-homeserver-settings"))).toContain(
      "dokku domains:set mx-acme acme.matrix.mindroom.test",
    );
  });

  it("keeps every secret secret and the root secret out of everything", async () => {
    const { resources } = await build(sampleSpec());
    for (const r of commands(resources)) {
      const connection = r.inputs.connection as Record<string, unknown>;
      expect(isSecret(connection) || isSecret(connection.privateKey), `${r.name} private key`).toBe(true);
    }
    const config = byName(resources, "tenant-runtime-config");
    expect(isSecret(config.inputs.stdin)).toBe(true);
    const env = JSON.parse(String(reveal(config.inputs.stdin))) as Record<string, string>;
    expect(env.MINDROOM_API_KEY).toBe(
      deriveSecret(SAMPLE_ROOT_SECRET, sampleSpec().slug, "dashboard-api-key"),
    );
    const everything = JSON.stringify(resources);
    expect(everything).not.toContain(SAMPLE_ROOT_SECRET);
    // Derived secrets travel only in (secret) stdin, never in script text.
    for (const r of commands(resources)) {
      for (const key of ["create", "update", "delete"] as const) {
        expect(String(reveal(r.inputs[key]))).not.toContain(env.MINDROOM_API_KEY);
      }
    }
    expect(script(config)).toBe(
      "set -e\ndokku --quiet config:import --no-restart --format json mr-acme - >/dev/null",
    );
  });

  it("outputs what the portal needs", async () => {
    const { outputs } = await build(sampleSpec());
    expect(outputs).toMatchObject({
      slug: "acme",
      tier: "starter",
      status: "running",
      urls: {
        app: "https://acme.mindroom.test",
        api: "https://acme.api.mindroom.test",
        matrix: "https://acme.matrix.mindroom.test",
      },
      apps: { runtime: "mr-acme", homeserver: "mx-acme", backup: null },
      services: { postgres: null, redis: null },
      network: "net-acme",
      host: "127.0.0.1:2222",
      backup: null,
      homeserver: "tuwunel",
    });
  });
});

describe.each(TIER_IDS)("MindRoomTenant on the %s tier", (id) => {
  it("sizes both apps from the tier catalog and passes the tier config", async () => {
    const { resources, outputs } = await build(sampleSpec({ tier: id }));
    const t = tier(id);
    expect(script(byName(resources, "tenant-runtime-limits"))).toBe(
      [
        "set -e",
        `dokku resource:limit --memory ${t.runtime.memoryMb} --cpu ${t.runtime.cpus} mr-acme`,
        `dokku resource:reserve --memory ${t.runtime.reserveMemoryMb} mr-acme`,
        "dokku ps:rebuild mr-acme",
      ].join("\n"),
    );
    expect(script(byName(resources, "tenant-homeserver-limits"))).toContain(
      `dokku resource:limit --memory ${t.homeserver.memoryMb} --cpu ${t.homeserver.cpus} mx-acme`,
    );
    const env = JSON.parse(String(reveal(byName(resources, "tenant-runtime-config").inputs.stdin))) as Record<
      string,
      string
    >;
    expect(env).toMatchObject({ MINDROOM_TIER: id, MINDROOM_MAX_AGENTS: String(t.agents) });
    expect(outputs.limits).toEqual({
      agents: t.agents,
      messagesPerDay: t.messagesPerDay,
      storageGb: t.storageGb,
      runtime: t.runtime,
      homeserver: t.homeserver,
    });
  });
});

describe("MindRoomTenant options", () => {
  it("runs Synapse with its own Postgres and Redis on the tenant network, linked without restarts", async () => {
    const { resources, outputs } = await build(sampleSpec({ homeserver: "synapse" }));
    // Its password is derived (homeserver.yaml names it) and arrives on stdin.
    const service = byName(resources, "tenant-postgres-service");
    expect(script(service)).toBe(
      'set -e\nIFS= read -r SERVICE_PASSWORD\ndokku --quiet postgres:exists pg-acme >/dev/null 2>&1 || dokku postgres:create pg-acme --initial-network net-acme --password "$SERVICE_PASSWORD"',
    );
    expect(isSecret(service.inputs.stdin)).toBe(true);
    expect(String(reveal(service.inputs.stdin))).toBe(
      `${deriveSecret(SAMPLE_ROOT_SECRET, sampleSpec().slug, "postgres-password")}\n`,
    );
    expect(script(byName(resources, "tenant-redis-service"))).toContain(
      "dokku redis:create redis-acme --initial-network net-acme",
    );
    expect(script(byName(resources, "tenant-homeserver-link-postgres"))).toBe(
      "set -e\ndokku --quiet postgres:linked pg-acme mx-acme >/dev/null 2>&1 || dokku postgres:link pg-acme mx-acme --no-restart",
    );
    expect(script(byName(resources, "tenant-homeserver-link-redis"), "delete")).toContain(
      "dokku redis:unlink redis-acme mx-acme --no-restart",
    );
    const env = JSON.parse(String(reveal(byName(resources, "tenant-runtime-config").inputs.stdin))) as Record<
      string,
      string
    >;
    expect(env.MATRIX_REGISTRATION_SHARED_SECRET).toMatch(/^[0-9a-f]{64}$/);
    expect(outputs.services).toEqual({ postgres: "pg-acme", redis: "redis-acme" });
  });

  it("scales every app to zero when suspended, keeping everything else", async () => {
    const running = await build(sampleSpec());
    const suspended = await build(sampleSpec({ suspended: true }));
    expect(script(byName(suspended.resources, "tenant-runtime-scale"))).toBe(
      "set -e\ndokku ps:scale mr-acme web=0",
    );
    expect(script(byName(suspended.resources, "tenant-homeserver-scale"))).toBe(
      "set -e\ndokku ps:scale mx-acme web=0",
    );
    expect(suspended.outputs.status).toBe("suspended");
    const differing = commands(suspended.resources).filter(
      (r) => JSON.stringify(r.inputs) !== JSON.stringify(byName(running.resources, r.name).inputs),
    );
    expect(differing.map((r) => r.name).sort()).toEqual(["tenant-homeserver-scale", "tenant-runtime-scale"]);
  });

  it("restarts both apps once per restart generation and changes nothing else", async () => {
    const plain = await build(sampleSpec());
    expect(plain.resources.filter((r) => r.name.endsWith("-restart"))).toEqual([]);
    const first = await build(sampleSpec({ restartGeneration: 1 }));
    const second = await build(sampleSpec({ restartGeneration: 2 }));
    for (const [app, name] of [
      ["mr-acme", "tenant-runtime"],
      ["mx-acme", "tenant-homeserver"],
    ] as const) {
      const restart = byName(first.resources, `${name}-restart`);
      expect(script(restart)).toBe(`set -e\ndokku ps:restart ${app}`);
      expect(script(restart, "update")).toBe(script(restart));
      expect(restart.inputs.triggers).toEqual([1]);
      expect(restart.inputs.delete).toBeUndefined();
      expect(byName(second.resources, `${name}-restart`).inputs.triggers).toEqual([2]);
    }
    const added = commands(first.resources).filter(
      (r) =>
        !plain.resources.some(
          (p) => p.name === r.name && JSON.stringify(p.inputs) === JSON.stringify(r.inputs),
        ),
    );
    expect(added.map((r) => r.name).sort()).toEqual(["tenant-homeserver-restart", "tenant-runtime-restart"]);
  });

  it("points three Cloudflare records at the host when DNS is on", async () => {
    const { resources } = await build(
      sampleSpec({ dns: { enabled: true, zoneId: SAMPLE_ZONE, proxied: true } }),
    );
    const records = resources.filter((r) => r.type === "cloudflare:index/dnsRecord:DnsRecord");
    expect(records.map((r) => r.inputs).sort((a, b) => String(a.name).localeCompare(String(b.name)))).toEqual(
      ["acme.api.mindroom.test", "acme.matrix.mindroom.test", "acme.mindroom.test"].map((name) => ({
        zoneId: SAMPLE_ZONE,
        name,
        type: "A",
        content: "203.0.113.10",
        proxied: true,
        ttl: 1,
        comment: "managed by MindRoom Cloud",
      })),
    );
  });

  it("backs up to the tenant's own prefix with credentials that reach nothing else", async () => {
    const { resources, outputs } = await build(
      sampleSpec({
        homeserver: "synapse",
        backups: { enabled: true, bucket: "mindroom-backups", region: "eu-central-1" },
      }),
    );
    const policy = JSON.parse(
      String(byName(resources, "tenant-backup-credentials-policy").inputs.policy),
    ) as {
      Statement: { Resource: string[]; Condition?: unknown }[];
    };
    expect(policy.Statement.flatMap((s) => s.Resource)).toEqual([
      "arn:aws:s3:::mindroom-backups/tenants/acme/*",
      "arn:aws:s3:::mindroom-backups",
    ]);
    expect(policy.Statement[1]?.Condition).toEqual({ StringLike: { "s3:prefix": ["tenants/acme/*"] } });
    expect(byName(resources, "tenant-backup-credentials-user").inputs.name).toBe("mindroom-backup-acme");

    const auth = byName(resources, "tenant-postgres-backup-auth");
    expect(isSecret(auth.inputs.stdin)).toBe(true);
    expect(script(auth)).toBe(
      [
        "set -e",
        "IFS= read -r AWS_KEY_ID",
        "IFS= read -r AWS_SECRET",
        "dokku postgres:backup-deauth pg-acme",
        'SERVICE_FILES="$(dokku postgres:info pg-acme --service-root)/backup"',
        'install -d -o dokku -g dokku -m 0700 "$SERVICE_FILES"',
        `printf '%s\\n' "$AWS_KEY_ID" | sh -c 'umask 077 && cat >"$1" && chown dokku:dokku "$1"' sh "$SERVICE_FILES/AWS_ACCESS_KEY_ID"`,
        `printf '%s\\n' "$AWS_SECRET" | sh -c 'umask 077 && cat >"$1" && chown dokku:dokku "$1"' sh "$SERVICE_FILES/AWS_SECRET_ACCESS_KEY"`,
        `printf '%s\\n' 'eu-central-1' | sh -c 'umask 077 && cat >"$1" && chown dokku:dokku "$1"' sh "$SERVICE_FILES/AWS_DEFAULT_REGION"`,
      ].join("\n"),
    );
    expect(script(byName(resources, "tenant-postgres-backup-schedule"))).toBe(
      "set -e\ndokku postgres:backup-schedule pg-acme '0 */6 * * *' mindroom-backups/tenants/acme/postgres",
    );
    const job = byName(resources, "tenant-backup-settings");
    expect(script(job)).toContain(
      "dokku storage:mount bk-acme data-mr-acme --container-dir /backup/runtime --volume-readonly",
    );
    expect(script(job)).toContain("dokku domains:disable bk-acme");
    const final = script(byName(resources, "tenant-final-backup"), "delete");
    expect(final).toContain("then dokku postgres:backup pg-acme mindroom-backups/tenants/acme/postgres; fi");
    expect(final).toContain("then dokku run bk-acme backup; fi");
    expect(outputs.backup).toEqual({
      location: "s3://mindroom-backups/tenants/acme",
      schedule: "0 */6 * * *",
    });
  });

  it("uploads a Cloudflare origin certificate as a tar on (secret) stdin", async () => {
    const { resources } = await build(sampleSpec({ tls: { mode: "origin-certificate" } }), { origin: true });
    const cert = byName(resources, "tenant-runtime-tls-certificate");
    expect(script(cert)).toBe("set -e\ndokku certs:add mr-acme");
    expect(isSecret(cert.inputs.stdin)).toBe(true);
    const tar = String(reveal(cert.inputs.stdin));
    expect(tar.slice(0, 10)).toBe("server.crt");
    expect(tar).toContain("ustar\u000000");
    expect(tar.length % 512).toBe(0);
  });

  it("re-runs exactly the commands a repair token names, and only those", async () => {
    const plain = await build(sampleSpec());
    const repaired = await build(sampleSpec(), {
      repairs: { "tenant-runtime-limits": "r1", "tenant-network-network": "r2" },
    });
    const differing = commands(repaired.resources).filter(
      (r) => JSON.stringify(r.inputs) !== JSON.stringify(byName(plain.resources, r.name).inputs),
    );
    expect(differing.map((r) => [r.name, r.inputs.triggers])).toEqual([
      ["tenant-network-network", ["r2"]],
      ["tenant-runtime-limits", ["r1"]],
    ]);
  });

  it("records each app's config keys and digest, never its values", async () => {
    const { resources } = await build(sampleSpec());
    const app = byName(resources, "tenant-runtime");
    const env = JSON.parse(String(reveal(byName(resources, "tenant-runtime-config").inputs.stdin))) as Record<
      string,
      string
    >;
    expect(app.inputs.configKeys).toEqual(Object.keys(env).sort());
    expect(app.inputs.configDigest).toBe(configDigest(env));
    expect(isSecret(app.inputs.configDigest)).toBe(false);
    expect(JSON.stringify(app.inputs)).not.toContain(env.MINDROOM_API_KEY);
  });

  it("runs the runtime in platform auth mode for its owner when the spec has platformAuth", async () => {
    const platformAuth = {
      accountId: "5b0c3c4e-6d1f-4a55-9a3e-0c7f1f3c2b10",
      supabaseUrl: "https://auth.mindroom.test",
      supabaseAnonKey: "eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2lnbmF0dXJl",
      portalUrl: "https://app.mindroom.test/",
    };
    const runtimeEnv = async (spec: TenantSpec) =>
      JSON.parse(
        String(reveal(byName((await build(spec)).resources, "tenant-runtime-config").inputs.stdin)),
      ) as Record<string, string>;
    const env = await runtimeEnv(sampleSpec({ platformAuth }));
    const access = tenantAccessKey(SAMPLE_ROOT_SECRET);
    expect(env).toMatchObject({
      SUPABASE_URL: "https://auth.mindroom.test",
      SUPABASE_ANON_KEY: platformAuth.supabaseAnonKey,
      ACCOUNT_ID: platformAuth.accountId,
      MINDROOM_PUBLIC_URL: "https://acme.mindroom.test",
      MINDROOM_PLATFORM_SSO_SECRET: deriveAccessSecret(access, "acme", "platform-sso"),
      MINDROOM_PLATFORM_SSO_URL: "https://app.mindroom.test/sso/mindroom",
      MINDROOM_PLATFORM_LOGIN_URL: "https://app.mindroom.test/login",
      MATRIX_REGISTRATION_TOKEN: deriveAccessSecret(access, "acme", "matrix-registration"),
      // Operators keep their key: in platform mode it opens only the runtime's operational checks.
      MINDROOM_API_KEY: deriveSecret(SAMPLE_ROOT_SECRET, sampleSpec().slug, "dashboard-api-key"),
    });
    // Another tenant's key signs nothing here.
    expect(env.MINDROOM_PLATFORM_SSO_SECRET).not.toBe(deriveAccessSecret(access, "acme-two", "platform-sso"));
    const apiKeyMode = await runtimeEnv(sampleSpec());
    for (const name of [
      "SUPABASE_URL",
      "ACCOUNT_ID",
      "MINDROOM_PLATFORM_SSO_SECRET",
      "MINDROOM_PLATFORM_SSO_URL",
    ])
      expect(apiKeyMode[name], name).toBeUndefined();
  });

  it("refuses platform auth without a well-formed owner", () => {
    expect(() =>
      sampleSpec({
        platformAuth: {
          accountId: "not-a-uuid",
          supabaseUrl: "https://auth.mindroom.test",
          supabaseAnonKey: "key",
          portalUrl: "https://app.mindroom.test",
        },
      }),
    ).toThrow(/platformAuth.accountId/);
  });

  it("refuses origin-certificate mode without the certificate", async () => {
    await expect(build(sampleSpec({ tls: { mode: "origin-certificate" } }))).rejects.toThrow(
      /originCertificate/,
    );
  });
});
