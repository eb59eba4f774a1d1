/**
 * A real local auth server for a test file: the identity server (Ory Kratos,
 * built by toolchain/ensure.sh) on the test's own database, its gateway, and
 * the mail sink that receives its sign-in codes and magic links. Its data
 * folder is a temp folder removed by `stop()`.
 *
 *   await using db = await testDatabase();
 *   await using auth = await testAuthServer(db);
 *   const { sessionToken } = await auth.client.signUp("a@example.test", "a long password");
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AuthClient } from "../auth-server/client.ts";
import { type AuthServer, startAuthServer } from "../auth-server/server.ts";

export interface TestAuthServer extends AuthServer {
  /** A client for the server's public API through the gateway. */
  readonly client: AuthClient;
  /** The portal URL the server was configured with. */
  readonly siteUrl: string;
  /** The temp data folder (JWT secret, config, kratos.log). */
  readonly dataDir: string;
}

export interface TestAuthServerOptions {
  /** Default `http://127.0.0.1:3000`: only used in links and redirects. */
  readonly siteUrl?: string;
  /** How long after signing in a session may change the password (default `15m`). */
  readonly privilegedSessionMaxAge?: string;
  /** Reuse a data folder (e.g. to restart a server); default a new temp folder, removed on stop. */
  readonly dataDir?: string;
}

export async function testAuthServer(
  database: { readonly url: string },
  options: TestAuthServerOptions = {},
): Promise<TestAuthServer> {
  const ownDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "mindroom-test-auth-"));
  const siteUrl = options.siteUrl ?? "http://127.0.0.1:3000";
  try {
    const server = await startAuthServer({
      databaseUrl: database.url,
      dataDir,
      siteUrl,
      privilegedSessionMaxAge: options.privilegedSessionMaxAge,
    });
    const stop = async () => {
      await server.stop();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    };
    return {
      ...server,
      client: new AuthClient({ authUrl: server.authUrl }),
      siteUrl,
      dataDir,
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (error) {
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}
