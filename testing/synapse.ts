/**
 * A real Synapse (matrix-synapse from PyPI, in the tests' venv) serving a tenant's homeserver
 * from what the tenant's stack wrote into its storage entry on the Dokku test host: the
 * homeserver.yaml (server name, registration secret, the appservice registrations it loads), the
 * signing key and the registration files, read in place. Only what cannot apply on this machine
 * is overridden: where it listens, its database (SQLite instead of the tenant's Postgres
 * container) and its working files; the registration paths the stack names inside the container
 * (`/data/…`) are mapped to the entry's folder. Restarting re-reads the stack's files, as the
 * tenant's homeserver does when the stack restarts it.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HOMESERVER_DATA_DIR } from "../components/tenantEnvironment.ts";
import { toYaml } from "../components/yamlDocument.ts";
import { stopChild, venvPython } from "./pythonTools.ts";
import { pyyaml } from "./pyyaml.ts";

export interface LocalSynapse {
  /** `http://127.0.0.1:<port>`: the tenant's homeserver, as the portal and a Matrix client reach it. */
  readonly url: string;
  /** Stops and starts it again with the stack's current files. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  output(): string;
}

export async function startTenantSynapse(options: {
  /** The host folder of the tenant's homeserver storage entry (`storage:info` host_path). */
  readonly storageDir: string;
  readonly port: number;
  /** A folder of this test's own for Synapse's database, media and pid file. */
  readonly workDir: string;
}): Promise<LocalSynapse> {
  const { storageDir, port, workDir } = options;
  const url = `http://127.0.0.1:${port}`;
  const container = HOMESERVER_DATA_DIR.synapse;
  const toHost = (path: string) =>
    path.startsWith(`${container}/`) ? join(storageDir, path.slice(container.length + 1)) : path;
  mkdirSync(join(workDir, "media"), { recursive: true });
  let child: ChildProcess | undefined;
  let log = "";

  async function start(): Promise<void> {
    const config = join(storageDir, "homeserver.yaml");
    const stack = pyyaml(readFileSync(config, "utf8")) as {
      app_service_config_files?: string[];
      signing_key_path: string;
    };
    const overrides = join(workDir, "local.yaml");
    writeFileSync(
      overrides,
      toYaml({
        listeners: [
          {
            port,
            type: "http",
            tls: false,
            bind_addresses: ["127.0.0.1"],
            resources: [{ names: ["client"], compress: false }],
          },
        ],
        database: { name: "sqlite3", args: { database: join(workDir, "homeserver.db") } },
        media_store_path: join(workDir, "media"),
        pid_file: join(workDir, "homeserver.pid"),
        signing_key_path: toHost(stack.signing_key_path),
        app_service_config_files: (stack.app_service_config_files ?? []).map(toHost),
        // A local test: no rate limit on the logins and registrations the test makes.
        rc_login: {
          address: { per_second: 1000, burst_count: 1000 },
          account: { per_second: 1000, burst_count: 1000 },
        },
      }),
    );
    const started = spawn(
      "setpriv",
      [
        "--pdeathsig",
        "KILL",
        "--",
        venvPython(),
        "-m",
        "synapse.app.homeserver",
        "-c",
        config,
        "-c",
        overrides,
      ],
      { cwd: workDir, env: { PATH: process.env.PATH ?? "" }, stdio: ["ignore", "pipe", "pipe"] },
    );
    child = started;
    const keep = (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-50_000);
    };
    started.stdout?.on("data", keep);
    started.stderr?.on("data", keep);
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (started.exitCode !== null)
        throw new Error(`Synapse exited with ${started.exitCode}:\n${log.slice(-4000)}`);
      const answer = await fetch(`${url}/_matrix/client/versions`).catch(() => undefined);
      if (answer?.ok) return;
      if (Date.now() > deadline) throw new Error(`Synapse did not answer within 120 s:\n${log.slice(-4000)}`);
      await new Promise((done) => setTimeout(done, 300));
    }
  }

  const stop = async () => {
    if (child) await stopChild(child);
    child = undefined;
  };
  await start();
  return {
    url,
    output: () => log,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
  };
}
