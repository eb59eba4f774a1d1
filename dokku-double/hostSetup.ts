/**
 * Preparing a machine and an instance directory for the Dokku test host: the
 * `dokku` system user, sshd's StrictModes rules, key pairs, and a copy of the
 * double that the `dokku` user can read and execute.
 */
import { execFile } from "node:child_process";
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { stripTypeScriptTypes } from "node:module";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { toolsDir } from "../toolchain/tools.ts";

const run = promisify(execFile);

export const SSHD = "/usr/sbin/sshd";
export const DOKKU_USER = "dokku";
export const DEFAULT_BASE_DIR = "/run/dokku-double";
const SOURCE_DIR = import.meta.dirname;

export class DokkuHostError extends Error {
  override readonly name = "DokkuHostError";
}

export function requireRoot(): void {
  if (process.getuid?.() !== 0) {
    throw new DokkuHostError(
      "the Dokku test host must run as root: sshd has to switch to the dokku user (run the tests as root, e.g. in the dev container)",
    );
  }
}

export function requireSshd(): void {
  if (!existsSync(SSHD)) {
    throw new DokkuHostError(
      `${SSHD} not found: install OpenSSH server and client, e.g. \`apt-get update && apt-get install -y openssh-server openssh-client\``,
    );
  }
}

export interface DokkuAccount {
  uid: number;
  gid: number;
  home: string;
}

function lookupAccount(): DokkuAccount | undefined {
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith(`${DOKKU_USER}:`));
  if (!line) return undefined;
  const [, , uid, gid, , home] = line.split(":");
  return { uid: Number(uid), gid: Number(gid), home: home ?? `/home/${DOKKU_USER}` };
}

/**
 * The `dokku` system user with bash as login shell (sshd runs the forced command
 * through it) and a password field of `*`: with `UsePAM no`, sshd refuses even
 * key logins for accounts whose password starts with `!` (locked).
 */
export async function ensureDokkuUser(): Promise<DokkuAccount> {
  if (!lookupAccount()) {
    await run("useradd", [
      "--system",
      "--shell",
      "/bin/bash",
      "--home-dir",
      `/home/${DOKKU_USER}`,
      "--create-home",
      DOKKU_USER,
    ]);
  }
  const shadow = readFileSync("/etc/shadow", "utf8")
    .split("\n")
    .find((entry) => entry.startsWith(`${DOKKU_USER}:`));
  const passwordField = shadow?.split(":")[1] ?? "";
  if (passwordField.startsWith("!")) await run("usermod", ["-p", "*", DOKKU_USER]);
  const passwd = readFileSync("/etc/passwd", "utf8");
  if (
    !passwd.split("\n").some((entry) => entry.startsWith(`${DOKKU_USER}:`) && entry.endsWith(":/bin/bash"))
  ) {
    await run("usermod", ["-s", "/bin/bash", DOKKU_USER]);
  }
  const account = lookupAccount();
  if (!account) throw new DokkuHostError(`could not create the ${DOKKU_USER} user`);
  // sshd changes into the home directory; a missing one prints a warning into every session's stderr.
  if (!existsSync(account.home)) {
    mkdirSync(account.home, { recursive: true, mode: 0o750 });
    chownSync(account.home, account.uid, account.gid);
  }
  return account;
}

/**
 * sshd's StrictModes walks from authorized_keys up to `/`: every directory must
 * be owned by root (or the user) and not group/world-writable. The dokku user
 * also has to traverse them to reach the entry script.
 */
export function checkInstancePath(dir: string, account: DokkuAccount): void {
  // Checked before the directory is created, so a refused path leaves nothing behind.
  let current = resolve(dir);
  while (!existsSync(current)) current = dirname(current);
  current = realpathSync(current);
  for (;;) {
    const stat = statSync(current);
    if ((stat.uid !== 0 && stat.uid !== account.uid) || (stat.mode & 0o022) !== 0) {
      throw new DokkuHostError(
        `instance directory ${dir} is below ${current}, which is group/world-writable or not owned by root; ` +
          `sshd (StrictModes) would reject its authorized_keys. Use a directory under a root-owned path such as ${DEFAULT_BASE_DIR}/<name>, or omit --dir.`,
      );
    }
    if ((stat.mode & 0o001) === 0 && stat.uid !== account.uid) {
      throw new DokkuHostError(
        `the ${DOKKU_USER} user cannot traverse ${current} (no o+x); choose another instance directory`,
      );
    }
    const parent = dirname(current);
    if (parent === current) return;
    current = parent;
  }
}

/** Whether the dokku user can reach and execute `file` without copying it (every directory o+x, file o+rx). */
function accessibleToOthers(file: string): boolean {
  let current = realpathSync(file);
  if ((statSync(current).mode & 0o005) !== 0o005) return false;
  for (current = dirname(current); ; current = dirname(current)) {
    if ((statSync(current).mode & 0o001) === 0) return false;
    if (dirname(current) === current) return true;
  }
}

function installNode(target: string): void {
  const source = realpathSync(process.execPath);
  if (accessibleToOthers(source)) {
    symlinkSync(source, target);
    return;
  }
  try {
    linkSync(source, target);
    if ((statSync(target).mode & 0o005) === 0o005) return;
    rmSync(target);
  } catch {
    // Different filesystem: fall through to a copy.
  }
  copyFileSync(source, target);
  chmodSync(target, 0o755);
}

/**
 * TypeScript → JavaScript by type stripping, with `./x.ts` specifiers rewritten
 * to `./x.js`, once per instance: the daemon and any hand-run command then load
 * plain JavaScript.
 */
function stripTypes(source: string): string {
  const emit = process.emitWarning;
  // stripTypeScriptTypes announces itself as experimental on first use; that is noise in a test run.
  process.emitWarning = () => undefined;
  try {
    return stripTypeScriptTypes(source, { mode: "strip" })
      .replace(/(from\s+"\.\/[^"]+)\.ts"/g, '$1.js"')
      .replace(/import\("(\.\/[^"]+)\.ts"\)/g, 'import("$1.js")');
  } finally {
    process.emitWarning = emit;
  }
}

/** The daemon's per-command client, built by toolchain/ensure.sh from dokku-double/client. */
export function clientBinary(): string {
  const path = join(toolsDir(), "bin", "dokku-double-client");
  if (!existsSync(path)) {
    throw new DokkuHostError(
      `${path} not found: build it with \`toolchain/ensure.sh --only dokku-client\` (./platform does it)`,
    );
  }
  return path;
}

/** Copies the entry script, the daemon's client and the CLI (not the tests, types stripped) into the instance. */
export function installDouble(doubleDir: string): void {
  mkdirSync(join(doubleDir, "cli"), { recursive: true, mode: 0o755 });
  copyFileSync(join(SOURCE_DIR, "dokku"), join(doubleDir, "dokku"));
  chmodSync(join(doubleDir, "dokku"), 0o755);
  // Copied, not linked: the tools folder may sit where the dokku user cannot reach it.
  copyFileSync(clientBinary(), join(doubleDir, "client"));
  chmodSync(join(doubleDir, "client"), 0o755);
  for (const name of readdirSync(join(SOURCE_DIR, "cli"))) {
    if (!name.endsWith(".ts") || name.endsWith(".test.ts")) continue;
    const target = join(doubleDir, "cli", name.replace(/\.ts$/, ".js"));
    writeFileSync(target, stripTypes(readFileSync(join(SOURCE_DIR, "cli", name), "utf8")), { mode: 0o644 });
  }
  writeFileSync(join(doubleDir, "package.json"), '{ "type": "module", "private": true }\n', { mode: 0o644 });
  installNode(join(doubleDir, "node"));
}

/**
 * `dokku` on the shell user's PATH, for `ssh root@host dokku …`: like the real
 * script run as root, it re-executes itself as the dokku user with the
 * environment kept (`sudo -u dokku -E -H`). No SSH re-parsing happens on this
 * path; the login shell has already parsed the command line for real.
 */
export function installShellDokku(binDir: string, entry: string): void {
  mkdirSync(binDir, { recursive: true, mode: 0o755 });
  writeFileSync(
    join(binDir, "dokku"),
    [
      "#!/bin/bash",
      "# Installed by dokku-double/host.ts: the Dokku CLI for shell users of this test host.",
      'if [[ "$(id -un)" == "dokku" ]]; then',
      `  exec ${entry} "$@"`,
      "fi",
      `runuser -u ${DOKKU_USER} -- env HOME=/home/${DOKKU_USER} SSH_USER="$(id -un)" ${entry} "$@"`,
      "rc=$?",
      "# 255 is the double's drop-the-connection fault (Dokku never exits 255 itself). The dokku",
      "# user cannot kill a root-owned session, so this side kills the sshd session process.",
      "if [[ $rc -eq 255 ]]; then",
      "  pid=$$",
      "  while [[ $pid -gt 1 ]]; do",
      "    pid=$(sed -E 's/^.*\\) [A-Za-z] ([0-9]+) .*$/\\1/' /proc/$pid/stat)",
      '    if [[ "$(cat /proc/$pid/comm)" == sshd* ]]; then',
      "      kill -9 $pid",
      "      break",
      "    fi",
      "  done",
      "fi",
      "exit $rc",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
}

/** Creates an ed25519 key pair, or keeps the one already there (a host kept in a directory keeps its identity). */
export async function generateKey(path: string, comment: string): Promise<void> {
  if (!existsSync(path) || !existsSync(`${path}.pub`)) {
    rmSync(path, { force: true });
    rmSync(`${path}.pub`, { force: true });
    await run("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path]);
  }
  chmodSync(path, 0o600);
}

/** Installs an existing private key at `path` (0600) with its public half beside it, derived from it. */
export async function copyKey(from: string, path: string): Promise<void> {
  const { stdout } = await run("ssh-keygen", ["-y", "-f", from]).catch((error: Error) => {
    throw new DokkuHostError(`${from} is not a private key without a passphrase: ${error.message}`);
  });
  writeFileSync(path, readFileSync(from), { mode: 0o600 });
  chmodSync(path, 0o600);
  writeFileSync(`${path}.pub`, stdout, { mode: 0o644 });
}

export async function fingerprint(publicKeyPath: string): Promise<string> {
  const { stdout } = await run("ssh-keygen", ["-l", "-E", "sha256", "-f", publicKeyPath]);
  const fp = stdout.split(" ")[1];
  if (!fp) throw new DokkuHostError(`unexpected ssh-keygen fingerprint output: ${stdout}`);
  return fp;
}
