/**
 * Sample tenant specs for tests and policy checks: valid by default, every
 * option reachable through overrides.
 */
import { EXAMPLE_IMAGES, exampleTenant } from "../components/exampleTenant.ts";
import { parseTenantSpec, type TenantSpec, type TenantSpecInput } from "../components/tenantSpec.ts";

export const SAMPLE_IMAGES = EXAMPLE_IMAGES;

export const SAMPLE_HOST_KEY =
  "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMockHostKeyForUnitTestsOnly0000000000000";
export const SAMPLE_ROOT_SECRET = "root-secret-for-tests-0123456789abcdef0123456789";
export const SAMPLE_ZONE = "0123456789abcdef0123456789abcdef";

export function sampleSpecInput(overrides: Partial<TenantSpecInput> = {}): TenantSpecInput {
  return exampleTenant({
    slug: "acme",
    host: { url: "ssh://root@127.0.0.1:2222", hostKey: SAMPLE_HOST_KEY, address: "203.0.113.10" },
    ...overrides,
  });
}

export function sampleSpec(overrides: Partial<TenantSpecInput> = {}): TenantSpec {
  return parseTenantSpec(sampleSpecInput(overrides));
}
