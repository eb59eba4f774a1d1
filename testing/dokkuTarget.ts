/**
 * Which Dokku host the tests talk to:
 * - `MINDROOM_TEST_DOKKU=ssh://user@host:port` plus `MINDROOM_TEST_DOKKU_KEY=<path>`:
 *   an existing host (a real Dokku server, or a double started by hand). Its host
 *   key comes from `MINDROOM_TEST_DOKKU_HOST_KEY` (`ssh-ed25519 AAAA…`), or from
 *   `MINDROOM_TEST_DOKKU_KNOWN_HOSTS` (a file), or else is learned once with
 *   ssh-keyscan. The shell login for provisioning scripts is
 *   `MINDROOM_TEST_DOKKU_SHELL` (default `ssh://root@<same host:port>`, same key).
 *   Fault injection is unavailable there.
 * - otherwise the project's own test host, started by `testing/globalSetup.ts`
 *   and handed to workers through vitest's `provide`/`inject`.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { inject } from "vitest";
import { type ExecTrace, startExecTrace } from "../dokku-double/execTrace.ts";
import {
  createFaultControl,
  type FaultControl,
  type LoggedCommand,
  readInstanceCommandLog,
} from "../dokku-double/faultControl.ts";
import type { DokkuConnection } from "./dokkuClient.ts";

/** What globalSetup hands to test workers (must be serialisable). */
export interface ProvidedDokkuHost {
  url: string;
  shellUrl: string;
  host: string;
  port: number;
  user: string;
  keyPath: string;
  knownHostsPath: string;
  hostPublicKey: string;
  stateDir: string;
}

declare module "vitest" {
  export interface ProvidedContext {
    /** The project's Dokku test host, or null when an external host is used or it could not start. */
    dokkuHost: ProvidedDokkuHost | null;
    /** Why the project host is not available (empty when it is, or when an external host is configured). */
    dokkuHostError: string;
  }
}

export interface DokkuTarget extends DokkuConnection {
  /** `ssh://dokku@host:port`: the forced-command Dokku user. */
  url: string;
  /** `ssh://root@host:port`: a shell user whose `dokku` runs the same host's Dokku (same key). */
  shellUrl: string;
  /** True for the host started by globalSetup; false for `MINDROOM_TEST_DOKKU`. */
  isProjectHost: boolean;
  /** Fault injection, only on the project's own host. */
  faults: FaultControl | undefined;
  /** Why {@link faults} is undefined; use it as the `it.skipIf` reason. */
  faultsUnavailable: string | undefined;
  /** The host's command log, only on the project's own host. */
  commandLog: (() => Promise<LoggedCommand[]>) | undefined;
  /** Starts recording every program started on the host with its argv (dokku-double/execTrace.ts), only on the project's own host. */
  execTrace: (() => Promise<ExecTrace>) | undefined;
}

export class DokkuTargetError extends Error {
  override readonly name = "DokkuTargetError";
}

const EXTERNAL_REASON =
  "fault injection needs the project's own Dokku test host (MINDROOM_TEST_DOKKU points elsewhere)";

export function parseDokkuUrl(url: string): { user: string; host: string; port: number } {
  const match = /^ssh:\/\/([^@/]+)@(\[[^\]]+\]|[^:/]+)(?::(\d+))?\/?$/.exec(url);
  if (!match)
    throw new DokkuTargetError(`MINDROOM_TEST_DOKKU must look like ssh://user@host:port, got ${url}`);
  const [, user = "", host = "", port] = match;
  return { user, host: host.replace(/^\[|\]$/g, ""), port: port ? Number(port) : 22 };
}

function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/**
 * One known_hosts file per host in a fixed place under the temp dir, so repeated
 * runs and parallel workers reuse it instead of leaving a file behind each time.
 */
function externalKnownHosts(host: string, port: number, env: NodeJS.ProcessEnv): string {
  if (env.MINDROOM_TEST_DOKKU_KNOWN_HOSTS) return env.MINDROOM_TEST_DOKKU_KNOWN_HOSTS;
  const hostKey = env.MINDROOM_TEST_DOKKU_HOST_KEY?.trim();
  let content: string;
  if (hostKey) {
    content = `${knownHostsName(host, port)} ${hostKey}\n`;
  } else {
    // Trust on first use: acceptable for a test host the developer pointed us at.
    content = execFileSync("ssh-keyscan", ["-p", String(port), "-T", "10", host], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    });
    if (content.trim() === "")
      throw new DokkuTargetError(`ssh-keyscan found no host key for ${host}:${port}`);
  }
  const dir = join(tmpdir(), "mindroom-dokku-known-hosts");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, createHash("sha256").update(content).digest("hex").slice(0, 16));
  const temp = `${path}.${process.pid}.tmp`;
  writeFileSync(temp, content, { mode: 0o600 });
  renameSync(temp, path);
  return path;
}

let cached: DokkuTarget | undefined;

export function dokkuTarget(env: NodeJS.ProcessEnv = process.env): DokkuTarget {
  if (cached) return cached;
  const url = env.MINDROOM_TEST_DOKKU?.trim();
  if (url) {
    const keyPath = env.MINDROOM_TEST_DOKKU_KEY?.trim();
    if (!keyPath)
      throw new DokkuTargetError(
        "MINDROOM_TEST_DOKKU is set but MINDROOM_TEST_DOKKU_KEY (private key path) is not",
      );
    const { user, host, port } = parseDokkuUrl(url);
    cached = {
      url,
      shellUrl:
        env.MINDROOM_TEST_DOKKU_SHELL?.trim() ||
        `ssh://root@${host.includes(":") ? `[${host}]` : host}:${port}`,
      user,
      host,
      port,
      keyPath,
      knownHostsPath: externalKnownHosts(host, port, env),
      isProjectHost: false,
      faults: undefined,
      faultsUnavailable: EXTERNAL_REASON,
      commandLog: undefined,
      execTrace: undefined,
    };
    return cached;
  }
  const provided = inject("dokkuHost");
  if (!provided) {
    throw new DokkuTargetError(
      `the project's Dokku test host is not running: ${inject("dokkuHostError") || "unknown reason"}`,
    );
  }
  cached = {
    url: provided.url,
    shellUrl: provided.shellUrl,
    user: provided.user,
    host: provided.host,
    port: provided.port,
    keyPath: provided.keyPath,
    knownHostsPath: provided.knownHostsPath,
    isProjectHost: true,
    faults: createFaultControl(provided.stateDir),
    faultsUnavailable: undefined,
    commandLog: () => readInstanceCommandLog(provided.stateDir),
    execTrace: () => startExecTrace(dirname(provided.stateDir)),
  };
  return cached;
}
