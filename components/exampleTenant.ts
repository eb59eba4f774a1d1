/**
 * An example tenant spec, for trying the platform on the local Dokku host and
 * for tests. Its images are placeholders pinned by digest: the local host records
 * deploys without pulling anything; a real host needs real digests.
 */
import type { TenantSpecInput } from "./tenantSpec.ts";

const digest = (c: string) => `sha256:${c.repeat(64)}`;

export const EXAMPLE_IMAGES = {
  runtime: `ghcr.io/mindroom-ai/mindroom@${digest("a")}`,
  homeserver: `ghcr.io/mindroom-ai/mindroom-tuwunel@${digest("b")}`,
  backup: `docker.io/offen/docker-volume-backup@${digest("c")}`,
} as const;

/** The mautrix bridges' images, placeholders pinned like the others. */
export const EXAMPLE_BRIDGE_IMAGES = {
  telegram: `dock.mau.dev/mautrix/telegram@${digest("d")}`,
  whatsapp: `dock.mau.dev/mautrix/whatsapp@${digest("e")}`,
  discord: `dock.mau.dev/mautrix/discord@${digest("f")}`,
  slack: `dock.mau.dev/mautrix/slack@${digest("0")}`,
} as const;

export function exampleTenant(
  overrides: Partial<TenantSpecInput> & Pick<TenantSpecInput, "host">,
): TenantSpecInput {
  return {
    slug: "demo",
    tier: "starter",
    environment: "test",
    baseDomain: "mindroom.test",
    images: { ...EXAMPLE_IMAGES },
    tls: { mode: "letsencrypt", email: "ops@mindroom.test" },
    dns: { enabled: false },
    backups: { enabled: false },
    ...overrides,
  };
}
