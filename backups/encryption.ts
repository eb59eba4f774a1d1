/**
 * OpenPGP symmetric encryption of backups with GnuPG, the format the scheduled
 * backup job writes (offen/docker-volume-backup's `GPG_PASSPHRASE`: a
 * passphrase-encrypted OpenPGP message), so one reader takes both. The
 * passphrase reaches gpg on a file descriptor of its own, never its argv or
 * environment; each run gets an empty GnuPG home that is removed afterwards.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";

export class BackupEncryptionError extends Error {
  override readonly name = "BackupEncryptionError";
}

export interface GpgStream {
  /** Write the input here (end it when done). */
  readonly input: Writable;
  /** Read the output here. */
  readonly output: Readable;
  /** Settles when gpg exits: rejects with gpg's message when it fails (a wrong passphrase, bad data). */
  readonly done: Promise<void>;
}

function gpg(mode: "encrypt" | "decrypt", passphrase: string): GpgStream {
  const home = mkdtempSync(join(tmpdir(), "mindroom-gpg-"));
  const args = [
    "--homedir",
    home,
    "--batch",
    "--quiet",
    "--no-tty",
    "--pinentry-mode",
    "loopback",
    "--passphrase-fd",
    "3",
    ...(mode === "encrypt"
      ? ["--symmetric", "--cipher-algo", "AES256", "--compress-algo", "none"]
      : ["--decrypt"]),
    "--output",
    "-",
  ];
  const child = spawn("gpg", args, { stdio: ["pipe", "pipe", "pipe", "pipe"] });
  const stderr: Buffer[] = [];
  child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
  (child.stdio[3] as Writable).end(`${passphrase}\n`);
  const done = new Promise<void>((resolve, reject) => {
    child.once("error", (error) => reject(new BackupEncryptionError(`could not run gpg: ${error.message}`)));
    child.once("close", (code) => {
      rmSync(home, { recursive: true, force: true });
      if (code === 0) resolve();
      else
        reject(
          new BackupEncryptionError(
            `gpg --${mode} failed (exit ${code}): ${Buffer.concat(stderr).toString("utf8").trim() || "no message"}`,
          ),
        );
    });
  });
  // A caller that stops reading early must not leave an unhandled EPIPE behind.
  child.stdin.on("error", () => undefined);
  return { input: child.stdin, output: child.stdout, done };
}

export function encryptWith(passphrase: string): GpgStream {
  return gpg("encrypt", passphrase);
}

export function decryptWith(passphrase: string): GpgStream {
  return gpg("decrypt", passphrase);
}
