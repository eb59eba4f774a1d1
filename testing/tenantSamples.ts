/**
 * Sample tenant specs for tests and policy checks: valid by default, every
 * option reachable through overrides.
 */
import { parseTenantSpec, type TenantSpec, type TenantSpecInput } from "../components/tenantSpec.ts";

const digest = (c: string) => `sha256:${c.repeat(64)}`;

export const SAMPLE_IMAGES = {
  runtime: `ghcr.io/mindroom-ai/mindroom@${digest("a")}`,
  homeserver: `ghcr.io/mindroom-ai/mindroom-tuwunel@${digest("b")}`,
  backup: `docker.io/offen/docker-volume-backup@${digest("c")}`,
} as const;

export const SAMPLE_HOST_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockHostKeyForUnitTestsOnly0000000000000";
export const SAMPLE_ROOT_SECRET = "root-secret-for-tests-0123456789abcdef0123456789";
export const SAMPLE_ZONE = "0123456789abcdef0123456789abcdef";

export function sampleSpecInput(overrides: Partial<TenantSpecInput> = {}): TenantSpecInput {
  return {
    slug: "acme",
    tier: "starter",
    environment: "test",
    baseDomain: "mindroom.test",
    images: { ...SAMPLE_IMAGES },
    host: { url: "ssh://root@127.0.0.1:2222", hostKey: SAMPLE_HOST_KEY, address: "203.0.113.10" },
    tls: { mode: "letsencrypt", email: "ops@mindroom.test" },
    dns: { enabled: false },
    backups: { enabled: false },
    ...overrides,
  };
}

export function sampleSpec(overrides: Partial<TenantSpecInput> = {}): TenantSpec {
  return parseTenantSpec(sampleSpecInput(overrides));
}
