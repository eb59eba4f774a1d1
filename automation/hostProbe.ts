/**
 * Meeting a Dokku host: its public key as it presents it (for trust on first
 * use), then, over a connection pinned to that key, its capacity and whether it
 * has what tenants need. Nothing here writes to the host.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { allocatableMemoryMb } from "../components/hostRequirements.ts";
import { sshTarget } from "../components/tenantSpec.ts";
import type { HostReadiness } from "../database/hosts.ts";
import { hostReadiness } from "./hostReadiness.ts";
import { type HostAccess, HostShellError, runDokkuReads, runHostScript } from "./hostShell.ts";

/** Key types in order of preference: the first one the host offers is pinned. */
const KEY_TYPES = ["ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa"] as const;

/** OpenSSH's fingerprint of a public key line: `SHA256:` and the unpadded base64 of the blob's hash. */
export function fingerprint(publicKey: string): string {
  const blob = publicKey.trim().split(/\s+/)[1] ?? "";
  return `SHA256:${createHash("sha256").update(Buffer.from(blob, "base64")).digest("base64").replace(/=+$/, "")}`;
}

export class HostKeyScanError extends Error {
  override readonly name = "HostKeyScanError";
}

/** The key the host presents now (`ssh-keyscan`), preferring ed25519. */
export function scanHostKey(url: string, timeoutSeconds = 10): Promise<string> {
  const { host, port } = sshTarget(url);
  return new Promise((resolve, reject) => {
    execFile(
      "ssh-keyscan",
      ["-T", String(timeoutSeconds), "-p", String(port), "-t", "ed25519,ecdsa,rsa", host],
      { timeout: (timeoutSeconds + 5) * 1000 },
      (error, stdout) => {
        const offered = stdout
          .split("\n")
          .filter((line) => line.trim() !== "" && !line.startsWith("#"))
          .map((line) => line.trim().split(/\s+/).slice(1, 3).join(" "));
        for (const type of KEY_TYPES) {
          const key = offered.find((k) => k.startsWith(`${type} `));
          if (key) return resolve(key);
        }
        reject(
          new HostKeyScanError(
            `${url} presented no SSH host key${error ? ` (${error.message.split("\n")[0]})` : ""}: is sshd listening there?`,
          ),
        );
      },
    );
  });
}

export interface HostCapacity {
  /** What the host can give tenants, after its own reserve (components/hostRequirements.ts). */
  readonly memoryMb: number;
  readonly cpus: number;
  /** Physical memory, MB. */
  readonly totalMemoryMb: number;
}

export interface HostProbe {
  readonly capacity: HostCapacity;
  readonly readiness: HostReadiness;
}

/**
 * Capacity (`nproc`, `/proc/meminfo`) and readiness (Dokku's own reports), over
 * SSH pinned to `access.hostKey`: a host presenting any other key is refused by
 * the client before anything runs.
 */
export async function probeHost(access: HostAccess): Promise<HostProbe> {
  const { user } = sshTarget(access.url);
  const measured = await runHostScript(
    access,
    `printf 'cpus %s\\n' "$(nproc)"\nawk '/^MemTotal:/ { print "memkb", $2 }' /proc/meminfo\n`,
    { timeoutMs: 60_000 },
  );
  if (measured.code !== 0)
    throw new HostShellError(
      `could not measure ${access.url} (exit ${measured.code}): ${measured.stderr.trim() || "no output"}${
        user === "dokku" ? " (the dokku user has no shell: add the host as root@ or a sudo-capable user)" : ""
      }`,
    );
  const cpus = Number(/^cpus (\d+)$/m.exec(measured.stdout)?.[1]);
  const memKb = Number(/^memkb (\d+)$/m.exec(measured.stdout)?.[1]);
  if (!(cpus > 0) || !(memKb > 0))
    throw new HostShellError(`could not read cores and memory of ${access.url}: ${measured.stdout.trim()}`);
  const [version, pluginList, cronJob, globalDomains] = await runDokkuReads(access, [
    "version",
    "plugin:list",
    "letsencrypt:cron-job",
    "domains:report --global --format json",
  ]);
  const totalMemoryMb = Math.floor(memKb / 1024);
  return {
    capacity: { memoryMb: allocatableMemoryMb(totalMemoryMb), cpus, totalMemoryMb },
    readiness: hostReadiness({
      version: version?.stdout ?? "",
      pluginList: pluginList?.stdout ?? "",
      cronJob: cronJob?.code === 0 ? cronJob.stdout : "",
      globalDomains: globalDomains?.stdout ?? "",
    }),
  };
}
