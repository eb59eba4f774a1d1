/**
 * Sample tenant stacks for the pack: conforming ones of every tier and option,
 * and deliberately non-conforming ones, at least one per policy. A sample is
 * data (a spec, the pack's settings, and, for what no spec can express, a
 * resource transform or extra resources); samplePrograms.ts turns it into the
 * program the real engine or the mocks run.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { EXAMPLE_BRIDGE_IMAGES } from "../../components/exampleTenant.ts";
import type { KnownHost } from "../../components/hostPool.ts";
import type { MindRoomTenant, TenantOutputs } from "../../components/tenant.ts";
import { parseSlug } from "../../components/tenantNames.ts";
import { deriveSecret } from "../../components/tenantSecrets.ts";
import type { TenantSpecInput } from "../../components/tenantSpec.ts";
import {
  SAMPLE_HOST_KEY,
  SAMPLE_ROOT_SECRET,
  SAMPLE_ZONE,
  sampleSpecInput,
} from "../../testing/tenantSamples.ts";
import type { PackConfig } from "../config.ts";
import type { PolicySettings } from "../packOptions.ts";
import { fingerprintOf } from "../secretMaterial.ts";
import type { SampleTransform } from "./mockRun.ts";

/** The sample specs' host (testing/tenantSamples.ts), as the pack's config knows it. */
export const SAMPLE_HOST: KnownHost = {
  url: "ssh://root@127.0.0.1:2222",
  address: "203.0.113.10",
  memoryMb: 16_384,
  cpus: 8,
  proxied: true,
};

export function sampleSettings(overrides: Partial<PolicySettings> = {}): PolicySettings {
  return {
    baseDomain: "mindroom.test",
    environment: "test",
    hosts: [SAMPLE_HOST],
    rootSecret: SAMPLE_ROOT_SECRET,
    ...overrides,
  };
}

/** The pack config a policy run sees for these settings. */
export function packConfigOf(settings: PolicySettings): PackConfig {
  const { rootSecret, ...rest } = settings;
  const { sha256, length } = fingerprintOf(rootSecret);
  return { ...rest, rootSecretSha256: sha256, rootSecretLength: length };
}

/** A private key shaped value; previews never connect. */
export const SAMPLE_SSH_KEY =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nnot-used-by-a-preview\n-----END OPENSSH PRIVATE KEY-----\n";
export const SAMPLE_ORIGIN = {
  certificate: "-----BEGIN CERTIFICATE-----\nsample\n-----END CERTIFICATE-----\n",
  key: "origin-key-sample",
};

export interface TenantSample {
  readonly title: string;
  /** The tenant's spec, as the worker writes it into the stack config. */
  readonly spec: TenantSpecInput;
  /** Bypass the spec schema: a tenant the stack program would refuse, which the pack must refuse on its own. */
  readonly unchecked?: boolean;
  readonly settings: PolicySettings;
  /** Give the tenant a Cloudflare origin certificate (tls.mode origin-certificate). */
  readonly origin?: boolean;
  /** Changes a resource's recorded inputs as it registers (what a faulty component would record). */
  readonly transform?: SampleTransform;
  /** Resources no component creates, added inside the tenant. */
  readonly extra?: (tenant: MindRoomTenant) => void;
  /** Replaces the stack outputs. */
  readonly outputs?: (outputs: TenantOutputs) => Record<string, unknown>;
  /** More tenants in the same stack. */
  readonly moreTenants?: readonly TenantSpecInput[];
  /** False when the sample has Cloudflare or AWS resources, whose providers cannot run here. */
  readonly engine: boolean;
}

export interface ViolatingSample extends TenantSample {
  /** The policy that must reject it. */
  readonly policy: string;
  /** How that policy reports it: advisory samples pass the preview with a warning. */
  readonly level?: "mandatory" | "advisory";
}

const bridges = (...kinds: (keyof typeof EXAMPLE_BRIDGE_IMAGES)[]) =>
  kinds.map((kind) => ({ kind, image: EXAMPLE_BRIDGE_IMAGES[kind] }));

const production = (overrides: Partial<TenantSpecInput> = {}): TenantSpecInput =>
  sampleSpecInput({
    environment: "production",
    dns: { enabled: true, zoneId: SAMPLE_ZONE, proxied: true },
    backups: { enabled: true, bucket: "mindroom-backups", region: "eu-central-1" },
    ...overrides,
  });

export const CONFORMING_SAMPLES: readonly TenantSample[] = [
  {
    title: "free, Tuwunel, Let's Encrypt",
    spec: sampleSpecInput({ tier: "free" }),
    settings: sampleSettings(),
    engine: true,
  },
  {
    title: "starter, Synapse with Postgres and Redis",
    spec: sampleSpecInput({ tier: "starter", homeserver: "synapse" }),
    settings: sampleSettings(),
    engine: true,
  },
  {
    title: "professional, Cloudflare origin certificate",
    spec: sampleSpecInput({ tier: "professional", tls: { mode: "origin-certificate" } }),
    settings: sampleSettings(),
    origin: true,
    engine: true,
  },
  {
    title: "enterprise, suspended, staging, with a display name",
    spec: sampleSpecInput({
      tier: "enterprise",
      environment: "staging",
      suspended: true,
      displayName: 'Acme\'s "AI" team',
    }),
    settings: sampleSettings({ environment: "staging" }),
    engine: true,
  },
  {
    title: "professional, Synapse, Telegram and Slack bridges",
    spec: sampleSpecInput({
      tier: "professional",
      homeserver: "synapse",
      bridges: bridges("telegram", "slack"),
    }),
    settings: sampleSettings(),
    engine: true,
  },
  {
    title: "starter, Tuwunel, a WhatsApp bridge",
    spec: sampleSpecInput({ tier: "starter", bridges: bridges("whatsapp") }),
    settings: sampleSettings(),
    engine: true,
  },
  {
    title: "production starter, Synapse, DNS and backups",
    spec: production({ tier: "starter", homeserver: "synapse" }),
    settings: sampleSettings({ environment: "production" }),
    engine: false,
  },
  {
    title: "production professional, purged after the final backup",
    spec: production({ tier: "professional", homeserver: "synapse", purgeData: true }),
    settings: sampleSettings({ environment: "production" }),
    engine: false,
  },
];

/** `transform` that replaces props of the resource named `name`. */
const patch =
  (name: string, change: (props: Record<string, unknown>) => Record<string, unknown>): SampleTransform =>
  (r) =>
    r.name === name ? change(r.props) : undefined;

/** A remote command inside the tenant, on the sample host. */
function rogueCommand(
  tenant: MindRoomTenant,
  name: string,
  args: { create: string; stdin?: pulumi.Input<string> },
) {
  new command.remote.Command(
    name,
    {
      connection: {
        host: "127.0.0.1",
        port: 2222,
        user: "root",
        privateKey: pulumi.secret(SAMPLE_SSH_KEY),
        hostKey: SAMPLE_HOST_KEY,
      },
      create: args.create,
      ...(args.stdin === undefined ? {} : { stdin: args.stdin }),
    },
    { parent: tenant },
  );
}

const derived = deriveSecret(SAMPLE_ROOT_SECRET, parseSlug("acme"), "dashboard-api-key");
const base = (overrides: Partial<TenantSpecInput> = {}) => sampleSpecInput(overrides);
const settings = sampleSettings();

/** Deliberately non-conforming tenants: each must be rejected by `policy`. */
export const VIOLATING_SAMPLES: readonly ViolatingSample[] = [
  {
    policy: "app-limits-match-tier",
    title: "a starter runtime sized like enterprise",
    spec: base(),
    settings,
    transform: patch("tenant-runtime", (p) => ({
      ...p,
      resources: { memoryMb: 8192, cpus: 4, reserveMemoryMb: 4096 },
    })),
    engine: true,
  },
  {
    policy: "tenant-on-known-host",
    title: "a tenant on a host the platform does not know",
    spec: base({
      host: { url: "ssh://root@198.51.100.7:22", hostKey: SAMPLE_HOST_KEY, address: "198.51.100.7" },
    }),
    settings,
    engine: true,
  },
  {
    policy: "tenant-environment-matches",
    title: "a staging tenant on a test platform",
    spec: base({ environment: "staging" }),
    settings,
    engine: true,
  },
  {
    policy: "tier-fits-host",
    title: "a starter tenant on a 1 GB host",
    spec: base(),
    settings: sampleSettings({ hosts: [{ ...SAMPLE_HOST, memoryMb: 1024 }] }),
    engine: true,
  },
  {
    policy: "tier-host-headroom",
    level: "advisory",
    title: "a starter tenant taking 85% of its host's memory",
    spec: base(),
    settings: sampleSettings({ hosts: [{ ...SAMPLE_HOST, memoryMb: 1800 }] }),
    engine: true,
  },
  {
    policy: "tenant-names-carry-slug",
    title: "a tenant network named for another tenant",
    spec: base(),
    settings,
    transform: patch("tenant-network", (p) => ({ ...p, network: "net-other" })),
    engine: true,
  },
  {
    policy: "apps-on-tenant-network",
    title: "the homeserver attached to another tenant's network",
    spec: base(),
    settings,
    transform: patch("tenant-homeserver", (p) => ({ ...p, network: "net-other" })),
    engine: true,
  },
  {
    policy: "databases-linked-within-tenant",
    title: "Synapse linked to another tenant's Postgres",
    spec: base({ homeserver: "synapse" }),
    settings,
    transform: patch("tenant-homeserver", (p) => ({
      ...p,
      services: [
        { kind: "postgres", service: "pg-other" },
        { kind: "redis", service: "redis-acme" },
      ],
    })),
    engine: true,
  },
  {
    policy: "bridges-within-tier",
    title: "a starter tenant running two bridges",
    spec: base({ bridges: bridges("telegram", "discord") }),
    unchecked: true,
    settings,
    engine: true,
  },
  {
    policy: "bridges-stay-private",
    title: "a bridge served on a public domain",
    spec: base({ bridges: bridges("telegram") }),
    settings,
    transform: patch("tenant-bridge-telegram", (p) => ({
      ...p,
      web: { port: 29317, domains: ["telegram.acme.mindroom.test"], readinessPath: "/" },
    })),
    engine: true,
  },
  {
    policy: "bridges-registered",
    title: "a bridge the homeserver has no registration for",
    spec: base({ bridges: bridges("telegram") }),
    settings,
    transform: patch("tenant-homeserver", ({ files: _files, ...p }) => p),
    engine: true,
  },
  {
    policy: "apps-on-tenant-network",
    title: "a bridge attached to another tenant's network",
    spec: base({ bridges: bridges("slack") }),
    settings,
    transform: patch("tenant-bridge-slack", (p) => ({ ...p, network: "net-other" })),
    engine: true,
  },
  {
    policy: "domains-under-base-domain",
    title: "a tenant under someone else's domain",
    spec: base({ baseDomain: "evil.example" }),
    settings,
    engine: true,
  },
  {
    policy: "tls-on-public-domains",
    title: "the API domain served without a certificate",
    spec: base(),
    settings,
    transform: patch("tenant-runtime-tls", (p) => ({ ...p, domains: ["acme.mindroom.test"] })),
    engine: true,
  },
  {
    policy: "dns-points-at-known-hosts",
    title: "DNS records pointing at an address no known host has",
    spec: production({ host: { url: SAMPLE_HOST.url, hostKey: SAMPLE_HOST_KEY, address: "198.51.100.99" } }),
    settings: sampleSettings({ environment: "production" }),
    engine: false,
  },
  {
    policy: "dns-proxied-as-configured",
    title: "unproxied records for a host behind Cloudflare's proxy",
    spec: production({ dns: { enabled: true, zoneId: SAMPLE_ZONE, proxied: false } }),
    settings: sampleSettings({ environment: "production" }),
    engine: false,
  },
  {
    policy: "images-pinned-by-digest",
    title: "the runtime deployed from :latest",
    spec: base(),
    settings,
    transform: patch("tenant-runtime", (p) => ({ ...p, image: "ghcr.io/mindroom-ai/mindroom:latest" })),
    engine: true,
  },
  {
    policy: "secrets-are-pulumi-secrets",
    title: "a remote command given a secret on plain-text stdin",
    spec: base(),
    settings,
    extra: (tenant) =>
      rogueCommand(tenant, "tenant-leak", {
        create: "cat >/dev/null",
        stdin: "hunter2-but-not-a-pulumi-secret",
      }),
    engine: true,
  },
  {
    policy: "no-plaintext-secret-material",
    title: "a derived secret written into a script",
    spec: base(),
    settings,
    extra: (tenant) =>
      rogueCommand(tenant, "tenant-config-set", {
        create: `dokku config:set mr-acme MINDROOM_API_KEY=${derived}`,
      }),
    engine: true,
  },
  {
    policy: "root-secret-stays-out",
    title: "the root secret handed to the host (even as a Pulumi secret)",
    spec: base(),
    settings,
    extra: (tenant) =>
      rogueCommand(tenant, "tenant-root", {
        create: "cat >/dev/null",
        stdin: pulumi.secret(`ROOT=${SAMPLE_ROOT_SECRET}\n`),
      }),
    engine: true,
  },
  {
    policy: "stack-outputs-carry-no-secrets",
    title: "the dashboard API key in the stack outputs",
    spec: base(),
    settings,
    outputs: (o) => ({ ...o, debug: { apiKey: derived } }),
    engine: true,
  },
  {
    policy: "production-backups-every-6h",
    title: "a production tenant without backups",
    spec: base({ environment: "production" }),
    unchecked: true,
    settings: sampleSettings({ environment: "production" }),
    engine: true,
  },
  {
    policy: "production-backups-every-6h",
    title: "a production tenant backed up once a day",
    spec: production({
      backups: { enabled: true, bucket: "mindroom-backups", region: "eu-central-1", schedule: "0 3 * * *" },
    }),
    settings: sampleSettings({ environment: "production" }),
    engine: false,
  },
  {
    policy: "backup-credentials-scoped",
    title: "backup credentials that reach the whole bucket",
    spec: production(),
    settings: sampleSettings({ environment: "production" }),
    transform: patch("tenant-backup-credentials-policy", (p) => ({
      ...p,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["s3:*"], Resource: ["arn:aws:s3:::mindroom-backups/*"] }],
      }),
    })),
    engine: false,
  },
  {
    policy: "production-data-retained",
    title: "production app storage that a destroy would drop",
    spec: base({ environment: "production" }),
    unchecked: true,
    settings: sampleSettings({ environment: "production" }),
    transform: patch("tenant-runtime", (p) => ({ ...p, retainData: false })),
    engine: true,
  },
  {
    policy: "purge-only-after-final-backup",
    title: "a production purge without backups (no final backup)",
    spec: base({ environment: "production", purgeData: true }),
    unchecked: true,
    settings: sampleSettings({ environment: "production" }),
    engine: true,
  },
  {
    policy: "one-tenant-per-stack",
    title: "two tenants in one stack",
    spec: base(),
    settings,
    moreTenants: [base({ slug: "beta" })],
    engine: true,
  },
  {
    policy: "portal-outputs-present",
    title: "stack outputs without URLs and limits",
    spec: base(),
    settings,
    outputs: ({ urls: _urls, limits: _limits, ...rest }) => rest,
    engine: true,
  },
];
