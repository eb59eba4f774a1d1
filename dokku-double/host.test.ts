/**
 * The host itself: a second instance next to the project's, its handle
 * (`reset`, `stop`, key and host key), and the `host.ts` CLI. These start their
 * own sshd, so they need root and openssh-server, not the configured target.
 */
import { execFile } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runDokku } from "../testing/dokkuClient.ts";
import { type DokkuHost, startDokkuHost } from "./host.ts";

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const HOST_TS = join(import.meta.dirname, "host.ts");

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

describe.skipIf(!isRoot)(
  `a second host instance${isRoot ? "" : " (skipped: needs root to run sshd)"}`,
  () => {
    let host: DokkuHost;

    beforeAll(async () => {
      host = await startDokkuHost();
    });

    afterAll(async () => {
      await host?.stop();
    });

    it("describes itself: url, ed25519 host key, a 0600 private key", () => {
      expect(host.url).toBe(`ssh://dokku@127.0.0.1:${host.port}`);
      expect(host.user).toBe("dokku");
      expect(host.hostPublicKey).toMatch(/^ssh-ed25519 AAAA[0-9A-Za-z+/=]+$/);
      expect(statSync(host.keyPath).mode & 0o777).toBe(0o600);
    });

    it("is independent of the project host, and reset() empties it", async () => {
      const before = await runDokku(host, "apps:list --format json");
      expect(before).toMatchObject({ code: 0, stdout: "[]\n" });
      expect((await runDokku(host, "apps:create only-here")).code).toBe(0);
      expect((await runDokku(host, "apps:list --format json")).stdout).toBe('["only-here"]\n');
      await host.reset();
      expect(await host.commandLog()).toEqual([]);
      expect((await runDokku(host, "apps:list --format json")).stdout).toBe("[]\n");
    });

    it("answers `ssh dokku@host` without a command with the command list", async () => {
      const result = await runDokku(host, "");
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^ {4}apps +Manage apps$/m);
    });

    it("can accept an existing key instead of its own: two hosts, one operator key", async () => {
      const peer = await startDokkuHost({ clientKey: host.keyPath });
      try {
        expect(peer.port).not.toBe(host.port);
        expect(readFileSync(peer.keyPath, "utf8")).toBe(readFileSync(host.keyPath, "utf8"));
        expect(statSync(peer.keyPath).mode & 0o777).toBe(0o600);
        const listed = await runDokku({ ...peer, keyPath: host.keyPath }, "apps:list --format json");
        expect(listed).toMatchObject({ code: 0, stdout: "[]\n" });
      } finally {
        await peer.stop();
      }
      await expect(startDokkuHost({ clientKey: join(import.meta.dirname, "host.ts") })).rejects.toThrow(
        /is not a private key without a passphrase/,
      );
    });

    it("gives root a shell of its own: nothing of the machine's ~/.bashrc (whose pyenv rehash lock a killed session leaves behind)", async () => {
      const names = (env: string) => new Set(env.split("\n").map((line) => line.split("=")[0] ?? ""));
      const bare = { env: { HOME: "/root" } };
      // What bash started by sshd would add from root's startup files on this machine.
      const withRc = names(
        (await run("bash", ["-c", "env"], { env: { ...bare.env, SSH_CLIENT: "x" } })).stdout,
      );
      const withoutRc = names((await run("bash", ["--norc", "-c", "env"], bare)).stdout);
      // PATH aside: sshd sets it for every session (the double first).
      const fromRc = [...withRc].filter(
        (name) => !withoutRc.has(name) && !["SSH_CLIENT", "PATH"].includes(name),
      );
      const session = await run("ssh", [
        ...["-i", host.keyPath, "-o", `UserKnownHostsFile=${host.knownHostsPath}`, "-o", "BatchMode=yes"],
        ...["-p", String(host.port), "root@127.0.0.1", "env"],
      ]);
      const seen = names(session.stdout);
      expect(seen.has("PATH")).toBe(true);
      expect(fromRc.filter((name) => seen.has(name))).toEqual([]);
    });

    it("stop() closes the port", async () => {
      const other = await startDokkuHost();
      expect(await portOpen(other.port)).toBe(true);
      await other.stop();
      expect(await portOpen(other.port)).toBe(false);
    });
  },
);

describe("host.ts command line", () => {
  it("--help prints the usage and exits 0", async () => {
    const { stdout } = await run(process.execPath, [HOST_TS, "--help"]);
    expect(stdout).toContain("Usage: node dokku-double/host.ts start [--dir DIR] [--port PORT] [--json]");
  });

  it("an unknown command exits 2 with the usage on stderr", async () => {
    const failure = await run(process.execPath, [HOST_TS, "frobnicate"]).catch(
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure).toMatchObject({ code: 2 });
    expect((failure as { stderr: string }).stderr).toContain("unknown command: frobnicate");
  });

  it.skipIf(!isRoot)("refuses an instance directory sshd's StrictModes would reject", async () => {
    await expect(startDokkuHost({ dir: "/tmp/dokku-double-under-tmp" })).rejects.toThrow(/StrictModes/);
  });
});
