/**
 * mindroom-auth: runs the local auth server for development until interrupted,
 * on the platform database (`DATABASE_URL`, or the embedded Postgres in
 * `MINDROOM_DATA_DIR`, migrated first).
 *
 * Writes `<dataDir>/auth/supabase.env` (0600) with SUPABASE_URL,
 * SUPABASE_ANON_KEY and SUPABASE_SERVICE_ROLE_KEY for the portal; prints only
 * the URL, the anon key (public) and that file's path.
 *
 * Exit codes: 0 stopped by a signal, 1 failure, 2 usage error.
 */
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { STANDARD_OPTIONS } from "../automation/cli/standardOptions.ts";
import { openDatabase } from "../database/connection.ts";
import { loadDatabaseSettings } from "../database/settings.ts";
import { startAuthServer } from "./server.ts";

const HELP = `Usage: node auth-server/main.ts [--port P] [--site-url URL] [--json]

Runs the local auth server (Ory Kratos behind a gateway at <url>/auth/v1, mail to a local
sink) on 127.0.0.1 until Ctrl-C. --port: the gateway's port (default a free one).
--site-url: the portal's URL for links and redirects (default http://127.0.0.1:3000).
--json prints one line {"url","anonKey","envFile"} once ready. Details: auth-server/README.md.`;

const argsSchema = z.object({
  port: z.coerce.number().int().min(1).max(65_535).optional(),
  "site-url": z.url({ protocol: /^https?$/ }).default("http://127.0.0.1:3000"),
  json: z.boolean().default(false),
  help: z.boolean().default(false),
});

async function main(): Promise<number> {
  let args: z.infer<typeof argsSchema>;
  try {
    const { values } = parseArgs({
      options: {
        port: { type: "string" },
        "site-url": { type: "string" },
        ...STANDARD_OPTIONS,
      },
    });
    args = argsSchema.parse(values);
  } catch (error) {
    const message = error instanceof z.ZodError ? z.prettifyError(error) : (error as Error).message;
    console.error(`mindroom-auth: ${message}\n\n${HELP}`);
    return 2;
  }
  if (args.help) {
    console.log(HELP);
    return 0;
  }

  const settings = loadDatabaseSettings();
  const database = await openDatabase(settings, { maxConnections: 2 });
  try {
    const auth = await startAuthServer({
      databaseUrl: database.url,
      dataDir: settings.dataDir,
      siteUrl: args["site-url"],
      ...(args.port === undefined ? {} : { port: args.port }),
    });
    const envFile = join(settings.dataDir, "auth", "supabase.env");
    writeFileSync(
      envFile,
      `SUPABASE_URL=${auth.url}\nSUPABASE_ANON_KEY=${auth.anonKey}\nSUPABASE_SERVICE_ROLE_KEY=${auth.serviceRoleKey}\n`,
      { mode: 0o600 },
    );
    chmodSync(envFile, 0o600);
    if (args.json) console.log(JSON.stringify({ url: auth.url, anonKey: auth.anonKey, envFile }));
    else
      console.log(
        `auth server: ${auth.url}/auth/v1\nanon key: ${auth.anonKey}\nkeys for the portal: ${envFile}`,
      );
    await new Promise<void>((resolve) => {
      process.once("SIGINT", () => resolve());
      process.once("SIGTERM", () => resolve());
    });
    await auth.stop();
    return 0;
  } finally {
    await database.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`mindroom-auth: ${(error as Error).message}`);
    process.exit(1);
  },
);
