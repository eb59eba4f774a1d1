/**
 * The Dokku test host: a real OpenSSH `sshd` on 127.0.0.1 whose `dokku` user is
 * forced into the double (`dokku-double/dokku`), exactly like sshcommand sets up
 * a real Dokku server. Needs root (sshd must switch to the `dokku` user).
 *
 * Instance directory layout (everything the host needs, nothing outside it but
 * the `dokku` system user and `/run/sshd`):
 *   ssh/     sshd_config, host key, client key pair, authorized_keys.<user>, known_hosts, sshd.log
 *   double/  the entry script, the daemon's client, the CLI as type-stripped JavaScript, and
 *            `node` (link or copy), so the `dokku` user can run them even if the repo sits
 *            under a 0700 home
 *   daemon/  owned by `dokku`, 0700: the daemon's socket and log
 *   state/   owned by `dokku`: state.json, faults.json, commands.jsonl; the flock target
 *   bin/     `dokku` for shell (root) sessions, first on their PATH
 *
 * The daemon (`cli/daemon.ts`, as the `dokku` user) serves every command the
 * entry script hands it through the client, so no Node process starts per command.
 *
 * `stop()` kills sshd and the daemon. A directory the host created itself (no `dir` option) is
 * removed on stop; a directory passed in is kept for inspection.
 *
 * CLI: `node dokku-double/host.ts start [--dir D] [--port P] [--json]`.
 */
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createConnection } from "node:net";
import { join, resolve } from "node:path";
import { freePort } from "../net/loopbackPort.ts";
import { supervise } from "../processes/supervisor.ts";
import {
  createFaultControl,
  type FaultControl,
  type LoggedCommand,
  readInstanceCommandLog,
  resetInstanceState,
} from "./faultControl.ts";
import {
  checkInstancePath,
  copyKey,
  DEFAULT_BASE_DIR,
  DOKKU_USER,
  type DokkuAccount,
  DokkuHostError,
  ensureDokkuUser,
  fingerprint,
  generateKey,
  installDouble,
  installShellDokku,
  requireRoot,
  requireSshd,
  SSHD,
} from "./hostSetup.ts";
import { waitForPort, writeSshdConfig } from "./sshd.ts";

export type { FaultControl, InjectedFailure, LoggedCommand } from "./faultControl.ts";
export { DokkuHostError } from "./hostSetup.ts";

export interface DokkuHost {
  /** `ssh://dokku@127.0.0.1:<port>` */
  url: string;
  /**
   * `ssh://root@127.0.0.1:<port>`: the same key logs in as root with a real shell
   * whose `dokku` is the double (the way provisioning scripts reach a stock host).
   */
  shellUrl: string;
  host: string;
  port: number;
  user: "dokku";
  /** Private key accepted by the host (mode 0600). */
  keyPath: string;
  /** The server's public host key, `ssh-ed25519 AAAA…`, for known_hosts or Pulumi's `hostKey`. */
  hostPublicKey: string;
  /** A known_hosts file that pins {@link hostPublicKey} for this host and port. */
  knownHostsPath: string;
  /** The instance directory. */
  dir: string;
  stateDir: string;
  faults: FaultControl;
  commandLog(): Promise<LoggedCommand[]>;
  /** Back to an empty host: no apps, services, networks, faults or log entries. */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Instance directory; must sit under root-owned, non-group/world-writable directories (sshd StrictModes). */
  dir?: string;
  /** Port on 127.0.0.1; a free one is picked when omitted. */
  port?: number;
  /**
   * An existing private key (ed25519, no passphrase) to authorize instead of generating one: two
   * hosts that accept one operator key, as the hosts of one fleet do (moving a tenant between them).
   */
  clientKey?: string;
}

/** Creates (or reuses) the instance directory and its sub-directories, owned as sshd and the dokku user need. */
function prepareInstance(options: StartOptions, account: DokkuAccount): { dir: string; ownsDir: boolean } {
  const ownsDir = options.dir === undefined;
  if (ownsDir) mkdirSync(DEFAULT_BASE_DIR, { recursive: true, mode: 0o755 });
  const dir = resolve(options.dir ?? mkdtempSync(join(DEFAULT_BASE_DIR, "host-")));
  if (existsSync(dir)) chmodSync(dir, 0o755);
  checkInstancePath(dir, account);
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  mkdirSync(join(dir, "ssh"), { recursive: true, mode: 0o755 });
  // ssh/ keeps its keys across restarts; the code and scripts are reinstalled each time.
  for (const sub of ["double", "bin"]) {
    rmSync(join(dir, sub), { recursive: true, force: true });
    mkdirSync(join(dir, sub), { mode: 0o755 });
  }
  const stateDir = join(dir, "state");
  mkdirSync(stateDir, { recursive: true, mode: 0o755 });
  chownSync(stateDir, account.uid, account.gid);
  const daemonDir = join(dir, "daemon");
  mkdirSync(daemonDir, { recursive: true, mode: 0o700 });
  chownSync(daemonDir, account.uid, account.gid);
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 });
  return { dir, ownsDir };
}

/** Host key, client key, and per-user authorized_keys (`dokku` forced into the double, `root` with a shell). */
async function writeKeys(
  sshDir: string,
  entry: string,
  clientKey: string | undefined,
): Promise<{ keyPath: string; hostPublicKey: string }> {
  const hostKeyPath = join(sshDir, "ssh_host_ed25519_key");
  const keyPath = join(sshDir, "client_key");
  await Promise.all([
    generateKey(hostKeyPath, "dokku-double-host"),
    clientKey ? copyKey(clientKey, keyPath) : generateKey(keyPath, "dokku-double-client"),
  ]);
  const clientPublicKey = readFileSync(`${keyPath}.pub`, "utf8").trim();
  const fp = await fingerprint(`${keyPath}.pub`);
  const restrictions = "no-agent-forwarding,no-user-rc,no-X11-forwarding,no-port-forwarding";
  // The line sshcommand's acl-add writes, with the entry script in place of `cat ~dokku/.sshcommand`.
  writeFileSync(
    join(sshDir, `authorized_keys.${DOKKU_USER}`),
    `command="FINGERPRINT=${fp} NAME=\\"default\\" ${entry} $SSH_ORIGINAL_COMMAND",${restrictions} ${clientPublicKey}\n`,
    { mode: 0o644 },
  );
  writeFileSync(join(sshDir, "authorized_keys.root"), `${restrictions} ${clientPublicKey}\n`, {
    mode: 0o644,
  });
  const hostPublicKey = readFileSync(`${hostKeyPath}.pub`, "utf8").trim().split(" ").slice(0, 2).join(" ");
  return { keyPath, hostPublicKey };
}

interface RunningSshd {
  stop(): Promise<void>;
}

/** Starts `sshd -D -e` (logging to `ssh/sshd.log`) and resolves once the port accepts connections. */
async function launchSshd(configPath: string, logPath: string, port: number): Promise<RunningSshd> {
  const logFd = openSync(logPath, "a");
  // Supervised: sshd and its sessions die with this process, however it ends.
  const sshd = supervise("sshd", SSHD, ["-D", "-e", "-f", configPath], {
    stdio: ["ignore", logFd, logFd],
    graceMs: 3000,
  });
  closeSync(logFd);
  const stop = async (): Promise<void> => {
    await sshd.stop();
  };
  try {
    await waitForPort(port, () => !sshd.running, logPath);
  } catch (error) {
    await stop();
    throw error;
  }
  return { stop };
}

interface RunningDaemon {
  stop(): Promise<void>;
}

function canConnectSocket(path: string): Promise<boolean> {
  return new Promise((resolveConnect) => {
    const socket = createConnection(path);
    socket.once("connect", () => {
      socket.destroy();
      resolveConnect(true);
    });
    socket.once("error", () => resolveConnect(false));
  });
}

/** Starts the double's daemon as the dokku user and resolves once its socket accepts connections. */
async function launchDaemon(dir: string, account: DokkuAccount): Promise<RunningDaemon> {
  const socketPath = join(dir, "daemon", "dokku.sock");
  const logPath = join(dir, "daemon", "daemon.log");
  const logFd = openSync(logPath, "a");
  const daemon = supervise(
    "dokku-double-daemon",
    join(dir, "double", "node"),
    ["--disable-warning=ExperimentalWarning", join(dir, "double", "cli", "daemon.js"), socketPath],
    {
      // What a command saw when sshd started it: the dokku user's world, not the test runner's.
      env: {
        PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin",
        HOME: account.home,
        USER: DOKKU_USER,
        DOKKU_DOUBLE_STATE_DIR: join(dir, "state"),
      },
      uid: account.uid,
      gid: account.gid,
      cwd: account.home,
      stdio: ["ignore", logFd, logFd],
      graceMs: 3000,
    },
  );
  closeSync(logFd);
  const stop = async (): Promise<void> => {
    await daemon.stop();
  };
  const deadline = Date.now() + 30_000;
  while (!(await canConnectSocket(socketPath))) {
    if (!daemon.running || Date.now() > deadline) {
      await stop();
      throw new DokkuHostError(
        `the double's daemon did not listen on ${socketPath}:\n${readFileSync(logPath, "utf8")}`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { stop };
}

export async function startDokkuHost(options: StartOptions = {}): Promise<DokkuHost> {
  requireSshd();
  requireRoot();
  const account = await ensureDokkuUser();
  const { dir, ownsDir } = prepareInstance(options, account);
  const sshDir = join(dir, "ssh");
  const stateDir = join(dir, "state");
  let sshd: RunningSshd | undefined;
  let daemon: RunningDaemon | undefined;
  try {
    installDouble(join(dir, "double"));
    daemon = await launchDaemon(dir, account);
    const entry = join(dir, "double", "dokku");
    installShellDokku(join(dir, "bin"), entry);
    const { keyPath, hostPublicKey } = await writeKeys(sshDir, entry, options.clientKey);
    const port = options.port ?? (await freePort());
    const knownHostsPath = join(sshDir, "known_hosts");
    writeFileSync(knownHostsPath, `[127.0.0.1]:${port} ${hostPublicKey}\n`, { mode: 0o644 });
    const configPath = await writeSshdConfig(dir, port);
    sshd = await launchSshd(configPath, join(sshDir, "sshd.log"), port);
    const running = sshd;
    const serving = daemon;
    let stopped = false;
    return {
      url: `ssh://${DOKKU_USER}@127.0.0.1:${port}`,
      shellUrl: `ssh://root@127.0.0.1:${port}`,
      host: "127.0.0.1",
      port,
      user: DOKKU_USER,
      keyPath,
      hostPublicKey,
      knownHostsPath,
      dir,
      stateDir,
      faults: createFaultControl(stateDir),
      commandLog: () => readInstanceCommandLog(stateDir),
      reset: () => resetInstanceState(stateDir),
      async stop() {
        if (stopped) return;
        stopped = true;
        await running.stop();
        await serving.stop();
        if (ownsDir) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await sshd?.stop();
    await daemon?.stop();
    if (ownsDir) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

// --- CLI ---------------------------------------------------------------------

const USAGE = `Usage: node dokku-double/host.ts start [--dir DIR] [--port PORT] [--json]

Starts a Dokku test host (sshd on 127.0.0.1 with a forced-command Dokku double)
and runs until SIGINT/SIGTERM. Needs root and openssh-server.

Options:
  --dir DIR    instance directory (default: a new directory under ${DEFAULT_BASE_DIR}, removed on exit)
  --port PORT  port on 127.0.0.1 (default: a free port)
  --json       print the connection details as one JSON line
  --help       show this help

Exit codes: 0 stopped by a signal, 1 could not start, 2 usage error.
`;

interface CliOptions {
  dir?: string;
  port?: number;
  json: boolean;
}

function parseCli(argv: readonly string[]): CliOptions | "help" | string {
  const [command, ...rest] = argv;
  if (command === "--help" || command === "-h" || command === "help") return "help";
  if (command !== "start") return command === undefined ? "missing command" : `unknown command: ${command}`;
  const options: CliOptions = { json: false };
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i];
    if (word === "--help" || word === "-h") return "help";
    if (word === "--json") options.json = true;
    else if (word === "--dir" && rest[i + 1] !== undefined) options.dir = rest[++i];
    else if (word === "--port" && /^\d+$/.test(rest[i + 1] ?? "")) options.port = Number(rest[++i]);
    else return `unexpected argument: ${word}`;
  }
  return options;
}

function describe(host: DokkuHost): string {
  return [
    `Dokku test host running (${host.dir})`,
    `  url:       ${host.url}`,
    `  shell:     ${host.shellUrl}`,
    `  key:       ${host.keyPath}`,
    `  host key:  ${host.hostPublicKey}`,
    `  state:     ${host.stateDir}`,
    "Point the test suite at it with:",
    `  MINDROOM_TEST_DOKKU=${host.url} MINDROOM_TEST_DOKKU_KEY=${host.keyPath} MINDROOM_TEST_DOKKU_HOST_KEY='${host.hostPublicKey}'`,
    "Stop with Ctrl-C.",
    "",
  ].join("\n");
}

async function cli(argv: readonly string[]): Promise<void> {
  const parsed = parseCli(argv);
  if (parsed === "help") {
    process.stdout.write(USAGE);
    return;
  }
  if (typeof parsed === "string") {
    process.stderr.write(`${parsed}\n\n${USAGE}`);
    process.exitCode = 2;
    return;
  }
  let host: DokkuHost;
  try {
    host = await startDokkuHost({
      ...(parsed.dir !== undefined && { dir: parsed.dir }),
      ...(parsed.port !== undefined && { port: parsed.port }),
    });
  } catch (error) {
    process.stderr.write(`dokku-double: ${(error as Error).message}\n`);
    process.exitCode = 1;
    return;
  }
  process.stdout.write(
    parsed.json
      ? `${JSON.stringify({ url: host.url, shellUrl: host.shellUrl, host: host.host, port: host.port, user: host.user, keyPath: host.keyPath, hostPublicKey: host.hostPublicKey, knownHostsPath: host.knownHostsPath, stateDir: host.stateDir, dir: host.dir })}\n`
      : describe(host),
  );
  const shutdown = (): void => {
    void host.stop().then(() => process.exit(0));
  };
  process.once("SIGINT", shutdown);
  process.once("SIGTERM", shutdown);
  // Keep the process alive until a signal arrives.
  setInterval(() => undefined, 1 << 30);
}

function isMainModule(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(import.meta.filename);
  } catch {
    return false;
  }
}

if (isMainModule()) await cli(process.argv.slice(2));
