/**
 * The files a tenant's homeserver and bridges read, as pure functions of the
 * spec, the tenant's names and its derived secrets: Synapse's homeserver.yaml
 * and signing key (the image needs a static config; its env-generated one is
 * gone), one appservice registration per enabled bridge (the homeserver loads
 * them: Synapse from `app_service_config_files`, Tuwunel from its
 * `appservice_dir`), and each bridge's own config with the same tokens.
 */
import { BRIDGES, type BridgeKind } from "./bridges.ts";
import { APPSERVICE_DIR, HOMESERVER_DATA_DIR, HOMESERVER_PORT } from "./tenantEnvironment.ts";
import type { TenantDomains, TenantNames } from "./tenantNames.ts";
import { toYaml } from "./yamlDocument.ts";

export interface BridgeTokens {
  /** The bridge authenticates to the homeserver with it. */
  readonly asToken: string;
  /** The homeserver authenticates to the bridge with it. */
  readonly hsToken: string;
}

/** `/data/appservices/telegram.yaml` (Synapse) or `/var/lib/tuwunel/appservices/telegram.yaml`. */
export function registrationContainerPath(homeserver: "tuwunel" | "synapse", kind: BridgeKind): string {
  return `${HOMESERVER_DATA_DIR[homeserver]}/${APPSERVICE_DIR}/${kind}.yaml`;
}

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** The application service registration the homeserver loads for one bridge. */
export function appserviceRegistration(
  kind: BridgeKind,
  names: TenantNames,
  domains: TenantDomains,
  tokens: BridgeTokens,
): string {
  const bridge = BRIDGES[kind];
  const server = escapeRegex(domains.app);
  return toYaml({
    id: kind,
    url: `http://${names.bridgeApps[kind]}.web:${bridge.port}`,
    as_token: tokens.asToken,
    hs_token: tokens.hsToken,
    sender_localpart: bridge.botLocalpart,
    rate_limited: false,
    namespaces: {
      users: [
        { exclusive: true, regex: `^@${escapeRegex(bridge.botLocalpart)}:${server}$` },
        { exclusive: true, regex: `^@${escapeRegex(bridge.userPrefix)}.*:${server}$` },
      ],
      aliases: [],
      rooms: [],
    },
  });
}

/** A mautrix bridge's config.yaml: where the homeserver is, who it is to it, and who may use it. */
export function bridgeConfig(
  kind: BridgeKind,
  names: TenantNames,
  domains: TenantDomains,
  tokens: BridgeTokens,
): string {
  const bridge = BRIDGES[kind];
  return toYaml({
    homeserver: {
      address: `http://${names.homeserverApp}.web:${HOMESERVER_PORT}`,
      domain: domains.app,
    },
    appservice: {
      address: `http://${names.bridgeApps[kind]}.web:${bridge.port}`,
      hostname: "0.0.0.0",
      port: bridge.port,
      id: kind,
      bot: { username: bridge.botLocalpart, displayname: `${bridge.label} bridge` },
      as_token: tokens.asToken,
      hs_token: tokens.hsToken,
      username_template: `${bridge.userPrefix}{{.}}`,
    },
    database: { type: "sqlite3-fk-wal", uri: `file:${bridge.dataDir}/mautrix-${kind}.db?_txlock=immediate` },
    // Everyone on the tenant's own homeserver (the owner and their agents) may use the bridge.
    bridge: { permissions: { [domains.app]: "user" } },
    logging: { min_level: "info", writers: [{ type: "stdout", format: "json" }] },
  });
}

export interface SynapseSecrets {
  readonly registration: string;
  readonly macaroon: string;
  readonly form: string;
  readonly postgresPassword: string;
}

/** Synapse's database name for a Dokku Postgres service (the plugin turns `-` and `.` into `_`). */
export function postgresDatabaseName(service: string): string {
  return service.replace(/[-.]/g, "_");
}

/** homeserver.yaml for a tenant's Synapse: its names, secrets, database and the bridges it loads. */
export function synapseHomeserverConfig(args: {
  readonly names: TenantNames;
  readonly domains: TenantDomains;
  readonly secrets: SynapseSecrets;
  readonly bridges: readonly BridgeKind[];
}): string {
  const data = HOMESERVER_DATA_DIR.synapse;
  const { names, domains, secrets } = args;
  return toYaml({
    server_name: domains.app,
    public_baseurl: `https://${domains.matrix}/`,
    pid_file: `${data}/homeserver.pid`,
    signing_key_path: `${data}/signing.key`,
    media_store_path: `${data}/media_store`,
    report_stats: false,
    listeners: [
      {
        port: HOMESERVER_PORT,
        type: "http",
        tls: false,
        x_forwarded: true,
        bind_addresses: ["0.0.0.0"],
        resources: [{ names: ["client"], compress: false }],
      },
    ],
    database: {
      name: "psycopg2",
      args: {
        user: "postgres",
        password: secrets.postgresPassword,
        database: postgresDatabaseName(names.postgres),
        // The Dokku Postgres service's alias on the tenant network.
        host: `dokku-postgres-${names.postgres}`,
        port: 5432,
        cp_min: 2,
        cp_max: 10,
      },
    },
    enable_registration: false,
    registration_shared_secret: secrets.registration,
    macaroon_secret_key: secrets.macaroon,
    form_secret: secrets.form,
    // A private homeserver: no federation, no key servers, no previews of outside URLs.
    federation_domain_whitelist: [],
    trusted_key_servers: [],
    suppress_key_server_warning: true,
    url_preview_enabled: false,
    app_service_config_files: args.bridges.map((kind) => registrationContainerPath("synapse", kind)),
  });
}

/** Synapse's signing key file: one ed25519 key, its 32-byte seed derived like every tenant secret. */
export function synapseSigningKey(seedHex: string): string {
  const seed = Buffer.from(seedHex.slice(0, 64), "hex");
  if (seed.length !== 32) throw new Error("a signing key seed needs 64 hex characters");
  return `ed25519 a_mindroom ${seed.toString("base64").replace(/=+$/, "")}\n`;
}
