/** Configurations the production check and `./platform serve` tests share. */
import { BRIDGE_KINDS } from "../components/bridges.ts";

/**
 * The variables of what only production has, in the order the production check reports them:
 * the published images (the bridges' too), Cloudflare, the backup bucket on AWS and Supabase. A test machine can
 * stand in for everything else (database, state backend, Stripe API, mail, the Dokku host).
 */
export const PRODUCTION_SERVICES = [
  "MINDROOM_RUNTIME_IMAGE",
  "MINDROOM_HOMESERVER_IMAGE",
  "MINDROOM_BACKUP_IMAGE",
  "MINDROOM_BRIDGE_IMAGES",
  "CLOUDFLARE_ZONE_ID",
  "CLOUDFLARE_API_TOKEN",
  "MINDROOM_BACKUP_BUCKET",
  "MINDROOM_AUTH_PROVIDER",
  "SUPABASE_URL",
  "SUPABASE_ANON_KEY",
  "SUPABASE_SERVICE_ROLE_KEY",
] as const;

/** A configuration with nothing local left in it. */
export const PRODUCTION_SHAPED: NodeJS.ProcessEnv = {
  MINDROOM_ENVIRONMENT: "production",
  MINDROOM_BASE_DOMAIN: "mindroom.chat",
  MINDROOM_ROOT_SECRET: "0123456789abcdef".repeat(4),
  PULUMI_BACKEND_URL: "s3://mindroom-state?region=eu-central-1",
  PULUMI_SECRETS_PROVIDER: "awskms://alias/mindroom-state?region=eu-central-1",
  DOKKU_SSH_KEY: "/etc/mindroom/dokku_ed25519",
  DATABASE_URL: "postgres://postgres.ref:pw@aws-0-eu-central-1.pooler.supabase.com:5432/postgres",
  STRIPE_SECRET_KEY: "rk_live_abc",
  STRIPE_WEBHOOK_SECRET: "whsec_abc",
  STRIPE_PRICE_TIERS: "price_1Qa=free,price_1Qb=starter",
  MINDROOM_RUNTIME_IMAGE: `ghcr.io/mindroom-ai/mindroom@sha256:${"a".repeat(64)}`,
  MINDROOM_HOMESERVER_IMAGE: `ghcr.io/mindroom-ai/mindroom-tuwunel@sha256:${"b".repeat(64)}`,
  MINDROOM_BACKUP_IMAGE: `ghcr.io/mindroom-ai/mindroom-backup@sha256:${"c".repeat(64)}`,
  MINDROOM_BRIDGE_IMAGES: BRIDGE_KINDS.map(
    (kind, i) => `${kind}=dock.mau.dev/mautrix/${kind}@sha256:${String(i).repeat(64)}`,
  ).join(","),
  CLOUDFLARE_ZONE_ID: "0123456789abcdef0123456789abcdef",
  CLOUDFLARE_API_TOKEN: "cf-token",
  MINDROOM_BACKUP_BUCKET: "mindroom-backups",
  AWS_REGION: "eu-central-1",
  MINDROOM_AUTH_PROVIDER: "supabase",
  SUPABASE_URL: "https://ref.supabase.co",
  SUPABASE_ANON_KEY: "anon",
  SUPABASE_SERVICE_ROLE_KEY: "service",
  PORTAL_PUBLIC_URL: "https://app.mindroom.chat",
  SMTP_URL: "smtp://apikey:pw@smtp.example.com:587",
  MAIL_FROM: "MindRoom <no-reply@mindroom.chat>",
};
