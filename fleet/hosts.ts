/**
 * Hosts as data: adding a Dokku host (its key pinned on first use, its capacity
 * measured, its readiness checked), checking it again, and what placement and
 * the reconcile worker read from the table. Every change writes an audit row in
 * the same transaction.
 */
import type pg from "pg";
import { fingerprint, type HostProbe, probeHost, scanHostKey } from "../automation/hostProbe.ts";
import { type AuditActor, audit } from "../database/auditLog.ts";
import { findHostByUrl, type Host, recordHostCheck, saveHost } from "../database/hosts.ts";
import { transaction } from "../database/transaction.ts";

/** `ssh://user@host[:port]` → `ssh://user@host:port` (22 when omitted), or an error naming the form. */
export function normalizeHostUrl(raw: string): string {
  const match = /^ssh:\/\/([a-z_][a-z0-9_-]{0,31})@([a-z0-9.-]+|\[[0-9a-f:]+\])(?::([0-9]{1,5}))?\/?$/.exec(
    raw.trim().toLowerCase(),
  );
  const port = Number(match?.[3] ?? 22);
  if (!match || port < 1 || port > 65535)
    throw new HostUrlError(
      `${JSON.stringify(raw)} is not an SSH URL: write ssh://root@host or ssh://root@host:port`,
    );
  if (match[1] === "dokku")
    throw new HostUrlError(
      "add the host with a shell user (ssh://root@host, or a sudo-capable user), not the dokku@ forced-command user: tenant stacks probe before they act",
    );
  return `ssh://${match[1]}@${match[2]}:${port}`;
}

export class HostUrlError extends Error {
  override readonly name = "HostUrlError";
}

/** The host presents a key other than the one pinned: possibly a different machine. */
export class HostKeyChangedError extends Error {
  override readonly name = "HostKeyChangedError";
}

/** A key nobody vouched for (not the fingerprint the operator gave, or none pinned yet). */
export class HostKeyUntrustedError extends Error {
  override readonly name = "HostKeyUntrustedError";
}

/** The operator declined the key shown for confirmation: nothing was done (the CLI's "cancelled"). */
export class HostKeyNotConfirmedError extends Error {
  override readonly name = "HostKeyNotConfirmedError";
}

export interface AddHostRequest {
  readonly url: string;
  /** Public address for DNS (default: the URL's host). */
  readonly address?: string;
  readonly proxied?: boolean;
  /** Overrides of the measured capacity. */
  readonly memoryMb?: number;
  readonly cpus?: number;
  /** `SHA256:…` the operator read on the host's console: the presented key must match it. */
  readonly fingerprint?: string;
  /** Asked when a key is seen for the first time and no fingerprint was given; false declines it. */
  confirm(key: string, fingerprint: string): Promise<boolean>;
  /** The private key for the hosts (DOKKU_SSH_KEY's content). */
  readonly privateKey: string;
  readonly actor: AuditActor;
}

export interface AddedHost {
  readonly host: Host;
  readonly probe: HostProbe;
  /** `new`: pinned now; `same`: the key pinned before was presented again. */
  readonly pinned: "new" | "same";
}

/** The key the host presents must be the pinned one, or (first use) one the operator vouches for. */
async function trustedKey(
  request: AddHostRequest,
  url: string,
  pinned: string | null,
): Promise<{ key: string; pinned: "new" | "same" }> {
  const presented = await scanHostKey(url);
  const presentedFingerprint = fingerprint(presented);
  if (pinned !== null) {
    if (presented !== pinned)
      throw new HostKeyChangedError(
        `${url} presents a different host key than the one pinned (pinned ${fingerprint(pinned)}, presented ${presentedFingerprint}): refusing it. If the machine was rebuilt on purpose, remove the host (mindroom-ops hosts remove) and add it again.`,
      );
    return { key: presented, pinned: "same" };
  }
  if (request.fingerprint !== undefined) {
    if (request.fingerprint.trim() !== presentedFingerprint)
      throw new HostKeyUntrustedError(
        `${url} presents ${presentedFingerprint}, not the ${request.fingerprint.trim()} you gave: refusing the key (check ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host)`,
      );
    return { key: presented, pinned: "new" };
  }
  if (!(await request.confirm(presented, presentedFingerprint)))
    throw new HostKeyNotConfirmedError(
      `the host key of ${url} (${presentedFingerprint}) was not confirmed: nothing was added. Compare it with ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub on the host, then pass --fingerprint ${presentedFingerprint}`,
    );
  return { key: presented, pinned: "new" };
}

export async function addHost(pool: pg.Pool, request: AddHostRequest): Promise<AddedHost> {
  const url = normalizeHostUrl(request.url);
  const existing = await findHostByUrl(pool, url);
  const { key, pinned } = await trustedKey(request, url, existing?.hostKey ?? null);
  const probe = await probeHost({ url, hostKey: key, privateKey: request.privateKey });
  const hostName = /@(.+):[0-9]+$/.exec(url)?.[1]?.replace(/^\[|\]$/g, "") ?? "";
  const host = await transaction(pool, async (tx) => {
    const saved = await saveHost(tx, {
      url,
      address: request.address ?? existing?.address ?? hostName,
      hostKey: key,
      memoryMb: request.memoryMb ?? probe.capacity.memoryMb,
      cpus: request.cpus ?? probe.capacity.cpus,
      proxied: request.proxied ?? existing?.proxied ?? false,
      readiness: probe.readiness,
      addedBy: request.actor,
    });
    await audit(tx, {
      actor: request.actor,
      action: existing ? "host.rechecked" : "host.added",
      reason: pinned === "new" ? `host key ${fingerprint(key)} pinned` : "host key unchanged",
      details: {
        url,
        fingerprint: fingerprint(key),
        memoryMb: saved.memoryMb,
        cpus: saved.cpus,
        ready: probe.readiness.ready,
        problems: probe.readiness.problems,
      },
    });
    return saved;
  });
  return { host, probe, pinned };
}

/** Probes a known host again over its pinned key (a changed key fails the connection) and records what it found. */
export async function checkHost(
  pool: pg.Pool,
  url: string,
  privateKey: string,
  actor: AuditActor,
): Promise<{ host: Host; probe: HostProbe }> {
  const known = await findHostByUrl(pool, normalizeHostUrl(url));
  if (!known) throw new HostUrlError(`no host ${url}: add it with mindroom-ops hosts add`);
  if (!known.hostKey)
    throw new HostKeyUntrustedError(`${known.url} has no pinned key yet: add it with mindroom-ops hosts add`);
  const probe = await probeHost({ url: known.url, hostKey: known.hostKey, privateKey });
  const host = await transaction(pool, async (tx) => {
    const saved = await recordHostCheck(tx, known.url, { readiness: probe.readiness });
    await audit(tx, {
      actor,
      action: "host.checked",
      reason: probe.readiness.ready ? "ready" : probe.readiness.problems.join("; "),
      details: { url: known.url, ready: probe.readiness.ready },
    });
    return saved;
  });
  return { host, probe };
}
