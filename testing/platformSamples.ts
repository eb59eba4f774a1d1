/** A production platform spec for tests (DNS, bucket and key on), with overrides. */
import { type PlatformSpec, type PlatformSpecInput, parsePlatformSpec } from "../components/platformSpec.ts";

export const SAMPLE_CONTROL_IMAGE = `ghcr.io/mindroom-ai/mindroom-cloud@sha256:${"c".repeat(64)}`;
export const SAMPLE_ZONE_ID = "0123456789abcdef0123456789abcdef";

export function samplePlatformSpec(overrides: Partial<PlatformSpecInput> = {}): PlatformSpec {
  return parsePlatformSpec({
    environment: "production",
    host: {
      url: "ssh://root@control.example.com:22",
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockMockMockMockMockMockMockMockMockMockMock",
      address: "203.0.113.10",
    },
    image: SAMPLE_CONTROL_IMAGE,
    domains: { webhooks: "hooks.example.com", portal: "app.example.com" },
    tlsEmail: "ops@example.com",
    dns: { enabled: true, zoneId: SAMPLE_ZONE_ID, proxied: false },
    storage: {
      enabled: true,
      bucket: "mindroom-backups",
      region: "eu-central-1",
      retentionDays: 30,
      secretsKeyAlias: "mindroom-secrets",
    },
    ...overrides,
  });
}
