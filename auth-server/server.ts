/**
 * The local auth server: Ory Kratos (built from the Go module proxy by
 * toolchain/ensure.sh; Supabase Auth cannot be, see auth-server/README.md) run
 * against the platform Postgres, a gateway that serves it under `/auth/v1/`,
 * and an SMTP sink that receives its mail. Kratos keeps its tables in the
 * `kratos` schema; a trigger mirrors its identities into `auth.users`, so
 * `auth.uid()`, RLS policies and foreign keys work as on Supabase. User access
 * tokens are HS256 JWTs signed with the data folder's JWT secret, the secret
 * that also signs the anon and service_role keys.
 *
 * Order on start: the platform migrations (with database/supabase-compat.sql)
 * must already be applied → Kratos' migrations → identity-sync.sql → serve.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import pg from "pg";
import { z } from "zod";
import { createMailer } from "../mail/transport.ts";
import { ADDRESS_IN_USE, freePort, startOnChosenPorts } from "../net/loopbackPort.ts";
import { type Supervised, supervise } from "../processes/supervisor.ts";
import { toolsDir } from "../toolchain/tools.ts";
import { AUTH_PREFIX, type Gateway, startGateway } from "./gateway.ts";
import {
  type ApiKeys,
  checkedSecret,
  hs256Jwks,
  loadOrCreateJwtSecret,
  mintApiKeys,
  roleOfKey,
} from "./keys.ts";
import { COURIER_FROM, identitySchema, kratosConfig } from "./kratosConfig.ts";
import { MailSink } from "./mailSink.ts";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The anon/service_role keys carry this `iat`, so a given secret always yields the same keys. */
const KEYS_ISSUED_AT = 1_764_374_400;
/** Serialises Kratos' migrations per database (pop takes no lock of its own). */
const MIGRATION_LOCK = 7_470_001;

export class AuthServerError extends Error {
  override readonly name = "AuthServerError";
}

export interface AuthServerOptions {
  /** Platform database URL with rights to create schemas (the embedded superuser URL locally). */
  readonly databaseUrl: string;
  /** `MINDROOM_DATA_DIR`: the server keeps its secret, config and log in `<dataDir>/auth`. */
  readonly dataDir: string;
  /** Gateway port (default: a free one). */
  readonly port?: number;
  /** The portal's URL: where sign-in pages and redirects point. */
  readonly siteUrl: string;
  /** An SMTP URL (the platform's mail inbox) that receives a copy of every mail the server sends. */
  readonly forwardMailTo?: string;
  /** JWT secret (≥ 32 chars); default: generated once into `<dataDir>/auth/jwt-secret`. */
  readonly jwtSecret?: string;
  /** How long after signing in a session may change the password (default `15m`). */
  readonly privilegedSessionMaxAge?: string;
  /** The kratos executable; default `MINDROOM_KRATOS_BIN`, else `.tools/kratos/bin/kratos`. */
  readonly kratosBinary?: string;
}

export interface AuthServer extends ApiKeys {
  /** `http://127.0.0.1:<port>`: `SUPABASE_URL` locally. */
  readonly url: string;
  /** `<url>/auth/v1`: the identity server's public API through the gateway. */
  readonly authUrl: string;
  /** Kratos' admin API, for server code and tests only (never expose it). */
  readonly adminUrl: string;
  /** The HS256 secret that signs access tokens and keys. Never log it. */
  readonly jwtSecret: string;
  /** Every mail the server sent (sign-in codes with magic links, recovery codes). */
  readonly mail: MailSink;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const optionsSchema = z.object({
  databaseUrl: z.string().regex(/^postgres(ql)?:\/\/\S+$/, "must be a postgres:// URL"),
  dataDir: z.string().min(1),
  port: z.number().int().min(0).max(65_535).optional(),
  siteUrl: z.url({ protocol: /^https?$/ }),
  forwardMailTo: z.url({ protocol: /^smtps?$/ }).optional(),
  jwtSecret: z.string().optional(),
  kratosBinary: z.string().optional(),
  privilegedSessionMaxAge: z
    .string()
    .regex(/^\d+(ms|s|m|h)$/, "must be a duration like 15m")
    .optional(),
});

function kratosBinaryPath(explicit: string | undefined): string {
  const path = explicit ?? process.env.MINDROOM_KRATOS_BIN ?? join(toolsDir(), "kratos", "bin", "kratos");
  if (!existsSync(path))
    throw new AuthServerError(
      `the identity server binary is missing at ${path}; run toolchain/ensure.sh --only kratos`,
    );
  return path;
}

function writePrivate(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/** Cookie and cipher secrets, generated once beside the config. */
function kratosSecrets(authDir: string): { cookie: string; cipher: string } {
  const path = join(authDir, "kratos-secrets.json");
  if (!existsSync(path))
    writePrivate(
      path,
      JSON.stringify({
        cookie: randomBytes(32).toString("base64url"),
        cipher: randomBytes(16).toString("hex"),
      }),
    );
  return z
    .object({ cookie: z.string().min(16), cipher: z.string().length(32) })
    .parse(JSON.parse(readFileSync(path, "utf8")));
}

/** The DSN Kratos uses: the same database, its tables in the `kratos` schema. */
function kratosDsn(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set("search_path", "kratos");
  if (!url.searchParams.has("sslmode")) url.searchParams.set("sslmode", "disable");
  url.searchParams.set("max_conns", "8");
  url.searchParams.set("max_idle_conns", "2");
  return url.toString();
}

function tail(path: string, lines = 20): string {
  if (!existsSync(path)) return "(no log)";
  return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

/** Runs kratos with the DSN in its environment (never on a command line); output appended to `log`. */
function runKratos(name: string, binary: string, args: string[], dsn: string, log: string): Supervised {
  const fd = openSync(log, "a", 0o600);
  try {
    return supervise(name, binary, args, {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dirname(log), DSN: dsn, SQA_OPT_OUT: "true" },
      stdio: ["ignore", fd, fd],
    });
  } finally {
    closeSync(fd);
  }
}

/** Kratos' migrations, then the auth.users mirror; one server at a time per database. */
async function prepareDatabase(databaseUrl: string, binary: string, dsn: string, log: string): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ users: string | null }>(
      "select to_regclass('auth.users')::text as users",
    );
    if (!rows[0]?.users)
      throw new AuthServerError(
        "the database has no auth.users table; apply the platform migrations (database/migrate.ts with the Supabase compat script) before starting the auth server",
      );
    await client.query("select pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await client.query("create schema if not exists kratos");
    const migrate = runKratos(
      "kratos-migrate",
      binary,
      ["migrate", "sql", "--read-from-env", "--yes"],
      dsn,
      log,
    );
    const { code } = await migrate.exited;
    if (code !== 0)
      throw new AuthServerError(`kratos migrate sql exited with ${code}; the end of ${log}:\n${tail(log)}`);
    await client.query(readFileSync(join(ROOT, "auth-server", "identity-sync.sql"), "utf8"));
  } finally {
    await client.query("select pg_advisory_unlock_all()").catch(() => undefined);
    await client.end();
  }
}

/** `kratos serve` exited before it was ready. */
class KratosExitedError extends AuthServerError {}

async function waitUntilReady(adminUrl: string, kratos: Supervised, log: string): Promise<void> {
  const { child } = kratos;
  for (let attempt = 0; attempt < 600; attempt += 1) {
    if (!kratos.running)
      throw new KratosExitedError(
        `kratos serve exited with ${child.exitCode ?? child.signalCode}; the end of ${log}:\n${tail(log)}`,
      );
    try {
      const answer = await fetch(new URL("health/ready", adminUrl));
      if (answer.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new AuthServerError(
    `kratos serve did not become ready within 60 s; the end of ${log}:\n${tail(log)}`,
  );
}

export async function startAuthServer(input: AuthServerOptions): Promise<AuthServer> {
  const options = optionsSchema.parse(input);
  const binary = kratosBinaryPath(options.kratosBinary);
  const authDir = join(resolve(options.dataDir), "auth");
  mkdirSync(authDir, { recursive: true, mode: 0o700 });
  const jwtSecret =
    options.jwtSecret !== undefined
      ? checkedSecret(options.jwtSecret, "the jwtSecret option")
      : loadOrCreateJwtSecret(join(authDir, "jwt-secret"));
  const keys = await mintApiKeys(jwtSecret, KEYS_ISSUED_AT);
  const secrets = kratosSecrets(authDir);
  const log = join(authDir, "kratos.log");

  const schemaPath = join(authDir, "identity.schema.json");
  const jwksPath = join(authDir, "jwks.json");
  const configPath = join(authDir, "kratos.yml");
  writeFileSync(schemaPath, JSON.stringify(identitySchema, null, 2));
  writePrivate(jwksPath, JSON.stringify(hs256Jwks(jwtSecret)));

  const cleanups: Array<() => Promise<void>> = [];
  const cleanUp = async () => {
    for (const step of cleanups.splice(0).reverse()) await step().catch(() => undefined);
  };
  try {
    const relay = options.forwardMailTo
      ? createMailer({ smtpUrl: options.forwardMailTo, from: COURIER_FROM })
      : undefined;
    if (relay) cleanups.push(async () => relay.close());
    const mail = await MailSink.start(relay ? { forward: (m) => relay.relay(m.raw, m) } : {});
    cleanups.push(() => mail.close());
    const dsn = kratosDsn(options.databaseUrl);
    await prepareDatabase(options.databaseUrl, binary, dsn, log);
    // Kratos binds ports chosen free a moment before; the gateway in front follows them.
    const { gateway, adminUrl } = await startOnChosenPorts(
      async () => {
        const [publicPort, adminPort] = [await freePort(), await freePort()];
        const gateway: Gateway = await startGateway({
          port: options.port,
          publicOrigin: `http://127.0.0.1:${publicPort}`,
          adminOrigin: `http://127.0.0.1:${adminPort}`,
          roleOfKey: (key) => roleOfKey(jwtSecret, key),
        });
        const config = kratosConfig({
          publicBaseUrl: `${gateway.url}${AUTH_PREFIX}/`,
          publicPort,
          adminPort,
          siteUrl: options.siteUrl,
          smtpUrl: mail.smtpUrl,
          identitySchemaUrl: pathToFileURL(schemaPath).href,
          jwksUrl: pathToFileURL(jwksPath).href,
          cookieSecret: secrets.cookie,
          cipherSecret: secrets.cipher,
          privilegedSessionMaxAge: options.privilegedSessionMaxAge,
        });
        writePrivate(configPath, JSON.stringify(config, null, 2));
        const kratos = runKratos(
          "kratos",
          binary,
          ["serve", "-c", configPath, "--dev", "--watch-courier", "--sqa-opt-out"],
          dsn,
          log,
        );
        const adminUrl = `http://127.0.0.1:${adminPort}/`;
        try {
          await waitUntilReady(adminUrl, kratos, log);
        } catch (error) {
          await kratos.stop();
          await gateway.close();
          throw error;
        }
        cleanups.push(
          () => gateway.close(),
          async () => {
            await kratos.stop();
          },
        );
        return { gateway, adminUrl };
      },
      (error) => error instanceof KratosExitedError && ADDRESS_IN_USE.test(error.message),
    );

    const stop = cleanUp;
    return {
      url: gateway.url,
      authUrl: `${gateway.url}${AUTH_PREFIX}`,
      adminUrl,
      jwtSecret,
      ...keys,
      mail,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    await cleanUp();
    throw error;
  }
}
