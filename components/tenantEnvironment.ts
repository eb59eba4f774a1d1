/**
 * The environment of each of a tenant's apps, as pure functions of the spec and
 * the tenant's derived secrets (shared/reference/mindroom-instance.md §1.3).
 */
import type { TenantDomains, TenantNames } from "./tenantNames.ts";
import type { TenantSpec } from "./tenantSpec.ts";
import { type Limit, tier } from "./tiers.ts";

/** Derived per-tenant secrets the apps need (see tenantSecrets.ts). */
export interface AppSecrets {
  readonly matrixRegistration: string;
  readonly credentialsEncryption: string;
  /** The operators' key (`MINDROOM_API_KEY`): in platform auth mode it only opens operational checks. */
  readonly dashboardApiKey: string;
  /** Signs the portal's single sign-on tickets and the runtime's own sessions. */
  readonly platformSso: string;
}

/** Where the portal starts single sign-on into a tenant (`MINDROOM_PLATFORM_SSO_URL`, relative to the portal). */
export const PLATFORM_SSO_PATH = "/sso/mindroom";
/** The portal's sign-in page (`MINDROOM_PLATFORM_LOGIN_URL`). */
export const PLATFORM_LOGIN_PATH = "/login";

/** The homeserver's container port (both Tuwunel and Synapse listen here). */
export const HOMESERVER_PORT = 8008;
/** The MindRoom runtime's container port. */
export const RUNTIME_PORT = 8765;
export const RUNTIME_DATA_DIR = "/mindroom_data";
export const HOMESERVER_DATA_DIR = { tuwunel: "/var/lib/tuwunel", synapse: "/data" } as const;
/** Where appservice registrations live, inside the homeserver's data folder. */
export const APPSERVICE_DIR = "appservices";
/** MindRoom's config template inside the runtime's storage (copied to config.yaml on first start only). */
export const CONFIG_TEMPLATE_FILE = "platform/config.template.yaml";

const limitValue = (limit: Limit): string => String(limit);

export function runtimeEnvironment(
  spec: TenantSpec,
  names: TenantNames,
  domains: TenantDomains,
  secrets: AppSecrets,
): Record<string, string> {
  const t = tier(spec.tier);
  return {
    // On a Dokku network an app's web process answers at <app>.web.
    MATRIX_HOMESERVER: `http://${names.homeserverApp}.web:${HOMESERVER_PORT}`,
    MATRIX_SERVER_NAME: domains.app,
    MATRIX_SSL_VERIFY: "false",
    MINDROOM_DESKTOP_MATRIX_HOMESERVER: `https://${domains.matrix}`,
    [spec.homeserver === "synapse" ? "MATRIX_REGISTRATION_SHARED_SECRET" : "MATRIX_REGISTRATION_TOKEN"]:
      secrets.matrixRegistration,
    MINDROOM_STORAGE_PATH: RUNTIME_DATA_DIR,
    MINDROOM_CONFIG_PATH: `${RUNTIME_DATA_DIR}/config.yaml`,
    MINDROOM_CONFIG_TEMPLATE: `${RUNTIME_DATA_DIR}/${CONFIG_TEMPLATE_FILE}`,
    HOME: RUNTIME_DATA_DIR,
    MINDROOM_PORT: String(RUNTIME_PORT),
    MINDROOM_PUBLIC_URL: `https://${domains.app}`,
    MINDROOM_API_KEY: secrets.dashboardApiKey,
    ...platformAuthEnvironment(spec, secrets),
    MINDROOM_CREDENTIALS_ENCRYPTION_KEY: secrets.credentialsEncryption,
    MINDROOM_INSTANCE_NAME: spec.displayName ?? spec.slug,
    LOG_LEVEL: "INFO",
    // Tier config: what the plan allows, read by the runtime's quota checks.
    MINDROOM_TIER: t.id,
    MINDROOM_MAX_AGENTS: limitValue(t.agents),
    MINDROOM_MAX_MESSAGES_PER_DAY: limitValue(t.messagesPerDay),
    MINDROOM_STORAGE_QUOTA_GB: limitValue(t.storageGb),
  };
}

/**
 * The runtime's platform auth mode, as mindroom/api/auth.py reads it: bearer
 * tokens checked against the platform's auth server, only `ACCOUNT_ID` gets in,
 * and people who are not signed in are sent to the portal, which signs them in
 * with a ticket signed by `MINDROOM_PLATFORM_SSO_SECRET`. Empty without
 * `platformAuth`: the runtime then answers only to `MINDROOM_API_KEY`.
 */
function platformAuthEnvironment(spec: TenantSpec, secrets: AppSecrets): Record<string, string> {
  const auth = spec.platformAuth;
  if (!auth) return {};
  return {
    SUPABASE_URL: auth.supabaseUrl,
    SUPABASE_ANON_KEY: auth.supabaseAnonKey,
    ACCOUNT_ID: auth.accountId,
    MINDROOM_PLATFORM_SSO_SECRET: secrets.platformSso,
    MINDROOM_PLATFORM_SSO_URL: `${auth.portalUrl}${PLATFORM_SSO_PATH}`,
    MINDROOM_PLATFORM_LOGIN_URL: `${auth.portalUrl}${PLATFORM_LOGIN_PATH}`,
  };
}

export function homeserverEnvironment(
  spec: TenantSpec,
  domains: TenantDomains,
  secrets: AppSecrets,
): Record<string, string> {
  if (spec.homeserver === "synapse") {
    // DATABASE_URL and REDIS_URL come from the service links.
    return {
      SYNAPSE_SERVER_NAME: domains.app,
      SYNAPSE_PUBLIC_BASEURL: `https://${domains.matrix}/`,
      SYNAPSE_REPORT_STATS: "no",
      SYNAPSE_CONFIG_DIR: HOMESERVER_DATA_DIR.synapse,
      SYNAPSE_DATA_DIR: HOMESERVER_DATA_DIR.synapse,
      SYNAPSE_HTTP_PORT: String(HOMESERVER_PORT),
      SYNAPSE_REGISTRATION_SHARED_SECRET: secrets.matrixRegistration,
      // The image needs a static config: the tenant component writes it into the homeserver's storage.
      SYNAPSE_CONFIG_PATH: `${HOMESERVER_DATA_DIR.synapse}/homeserver.yaml`,
    };
  }
  return {
    // The server name cannot change after the first start without wiping the database.
    TUWUNEL_SERVER_NAME: domains.app,
    TUWUNEL_DATABASE_PATH: HOMESERVER_DATA_DIR.tuwunel,
    TUWUNEL_PORT: String(HOMESERVER_PORT),
    TUWUNEL_ADDRESS: "0.0.0.0",
    TUWUNEL_ALLOW_REGISTRATION: "true",
    TUWUNEL_REGISTRATION_TOKEN: secrets.matrixRegistration,
    TUWUNEL_ALLOW_FEDERATION: "false",
    // Must stay true, or reopening a non-empty database fails.
    TUWUNEL_CREATE_ADMIN_ROOM: "true",
    TUWUNEL_WELL_KNOWN__CLIENT: `https://${domains.matrix}`,
    // Bridges' registrations, read at start (a changed set restarts the homeserver).
    ...(spec.bridges?.length
      ? { TUWUNEL_APPSERVICE_DIR: `${HOMESERVER_DATA_DIR.tuwunel}/${APPSERVICE_DIR}` }
      : {}),
  };
}

/** The storage backup job (offen/docker-volume-backup's settings). */
export function backupJobEnvironment(args: {
  readonly bucket: string;
  readonly prefix: string;
  readonly region: string;
  readonly schedule: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly encryptionPassphrase: string;
}): Record<string, string> {
  return {
    BACKUP_CRON_EXPRESSION: args.schedule,
    BACKUP_FILENAME: "storage-%Y-%m-%dT%H-%M-%S.tar.gz",
    BACKUP_SOURCES: "/backup",
    AWS_S3_BUCKET_NAME: args.bucket,
    AWS_S3_PATH: `${args.prefix}/storage`,
    AWS_DEFAULT_REGION: args.region,
    AWS_ACCESS_KEY_ID: args.accessKeyId,
    AWS_SECRET_ACCESS_KEY: args.secretAccessKey,
    GPG_PASSPHRASE: args.encryptionPassphrase,
  };
}
