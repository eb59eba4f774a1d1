/**
 * What every measurement shares: the benchmark's own Dokku test host, a private
 * data folder (state backend, passphrase, stack config), tenant specs like the
 * tests' (DNS and backups off), a warmed-up `Operations` per pool size, and the
 * checks that turn any failed operation into a failed benchmark.
 */
import { spawn } from "node:child_process";
import { sshOptions } from "../automation/hostShell.ts";
import type { OperationResult } from "../automation/operationResult.ts";
import { Operations } from "../automation/operations.ts";
import type { ProgressEvent } from "../automation/progress.ts";
import { type AutomationSettings, loadAutomationSettings } from "../automation/settings.ts";
import type { TenantSpecInput } from "../components/tenantSpec.ts";
import type { DokkuHost, LoggedCommand } from "../dokku-double/host.ts";
import { SAMPLE_ROOT_SECRET, sampleSpecInput } from "../testing/tenantSamples.ts";
import { type Interval, mergeIntervals, unionLength } from "./stats.ts";

/** An operation failed or a check did not hold: the figures would mean nothing. */
export class BenchFailure extends Error {
  override readonly name = "BenchFailure";
}

/**
 * Wall-clock milliseconds with sub-millisecond resolution, on the same epoch as
 * the Dokku double's command log (`at` is an ISO timestamp), so engine progress
 * and host-side commands can be laid on one timeline.
 */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export interface ShellResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Remote-command spans of one operation, from the progress stream the pool forwards. */
export class RemoteTimeline {
  readonly intervals: Interval[] = [];
  private readonly open = new Map<string, number>();

  /** The `onProgress` callback; timestamps are taken on receipt in this process. */
  readonly onProgress = (event: ProgressEvent): void => {
    const at = now();
    if (event.type === "resource.started" && event.resourceType === "command:remote:Command")
      this.open.set(event.urn, at);
    else if (event.type === "resource.done") {
      const start = this.open.get(event.urn);
      if (start !== undefined) {
        this.open.delete(event.urn);
        this.intervals.push({ start, end: at });
      }
    }
  };

  get commands(): number {
    return this.intervals.length;
  }

  /** Wall time with at least one remote command running. */
  get remoteMs(): number {
    return unionLength(this.intervals);
  }

  /** Where the non-remote time of [start, end] sits: before, between and after the remote commands. */
  split(start: number, end: number): { beforeMs: number; betweenMs: number; afterMs: number } {
    const merged = mergeIntervals(this.intervals);
    const first = merged[0];
    const last = merged.at(-1);
    if (!first || !last) return { beforeMs: end - start, betweenMs: 0, afterMs: 0 };
    return {
      beforeMs: first.start - start,
      betweenMs: last.end - first.start - this.remoteMs,
      afterMs: end - last.end,
    };
  }
}

export class Bench {
  readonly host: DokkuHost;
  readonly dataDir: string;
  /** The platform database the benchmark's operations lease tenants in. */
  readonly databaseUrl: string;
  private readonly t0 = now();

  constructor(host: DokkuHost, dataDir: string, databaseUrl: string) {
    this.host = host;
    this.dataDir = dataDir;
    this.databaseUrl = databaseUrl;
  }

  /** Progress on stderr, so stdout carries only the results table. */
  log(message: string): void {
    const s = Math.round((now() - this.t0) / 1000);
    const stamp = `${String(Math.floor(s / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;
    process.stderr.write(`[${stamp}] ${message}\n`);
  }

  /**
   * The automation layer's settings as `loadAutomationSettings` derives them,
   * from an explicit environment (not the caller's), so nothing of the
   * operator's own backend or secrets leaks into the benchmark.
   */
  settings(poolSize: number, options: { policies?: boolean } = {}): AutomationSettings {
    return loadAutomationSettings(
      this.environment({
        MINDROOM_AUTOMATION_WORKERS: String(poolSize),
        ...(options.policies === false ? { MINDROOM_POLICIES: "off" } : {}),
      }),
    );
  }

  /** The environment the operator CLI gets to see the benchmark's stacks. */
  environment(extra: Record<string, string> = {}): Record<string, string> {
    return {
      MINDROOM_DATA_DIR: this.dataDir,
      DATABASE_URL: this.databaseUrl,
      MINDROOM_ROOT_SECRET: SAMPLE_ROOT_SECRET,
      DOKKU_SSH_KEY: this.host.keyPath,
      // The host pool the policy pack checks placement against: just this host.
      DOKKU_HOSTS: this.host.shellUrl,
      ...extra,
    };
  }

  /** A tenant on the benchmark's host, as the tests build them (DNS and backups off). */
  spec(slug: string): TenantSpecInput {
    return sampleSpecInput({
      slug,
      host: { url: this.host.shellUrl, hostKey: this.host.hostPublicKey, address: this.host.host },
    });
  }

  /**
   * A fresh `Operations` whose workers have started: a long-running service
   * keeps its workers, so starting them (Node, the SDK's imports, `pulumi
   * version`) is measured once here, not charged to the first operation. Each
   * worker is warmed with an operation on a tenant that does not exist, which
   * must fail with exactly that. The policy pack applies, as in production,
   * unless `policies: false` (a diagnostic of what the pack costs).
   */
  async operations(
    poolSize: number,
    options: { policies?: boolean } = {},
  ): Promise<{ ops: Operations; warmUpMs: number }> {
    const started = now();
    const ops = await Operations.start(this.settings(poolSize, options));
    const probes = await Promise.all(
      Array.from({ length: poolSize }, (_, i) => ops.pool.run("preview", `warm-up-${i}`)),
    );
    for (const p of probes) {
      if (p.error?.kind !== "TenantNotFoundError") {
        await ops.close();
        throw new BenchFailure(
          `warming up a worker: expected TenantNotFoundError, got ${JSON.stringify(p.error)}`,
        );
      }
    }
    return { ops, warmUpMs: now() - started };
  }

  /** Throws unless every result succeeded, naming each failure with the engine's message. */
  expectSucceeded(results: readonly OperationResult[], what: string): void {
    const failed = results.filter((r) => r.status !== "succeeded");
    if (failed.length === 0) return;
    const lines = failed.map(
      (r) => `  ${r.tenant} ${r.operation}: ${r.status}: ${r.error?.kind ?? ""} ${r.error?.message ?? ""}`,
    );
    throw new BenchFailure(`${what}: ${failed.length} of ${results.length} failed\n${lines.join("\n")}`);
  }

  /** Throws unless the result changed nothing (only `same` steps): a benchmark of a no-op must be one. */
  expectNoChanges(result: OperationResult, what: string): void {
    const changed = Object.entries(result.changes).filter(([op, n]) => op !== "same" && n > 0);
    if (changed.length > 0)
      throw new BenchFailure(
        `${what} of ${result.tenant} was expected to change nothing: ${JSON.stringify(result.changes)}`,
      );
  }

  /**
   * Runs `remote` on the host as root with the system OpenSSH client and the
   * automation layer's own options: key and host key pinned, no user config.
   * `remote` is the command line the login shell runs; `stdin` is piped in.
   */
  ssh(remote: string, stdin = ""): Promise<ShellResult> {
    const args = [
      ...sshOptions({
        host: this.host.host,
        port: this.host.port,
        user: "root",
        keyPath: this.host.keyPath,
        knownHostsPath: this.host.knownHostsPath,
      }),
      "--",
      remote,
    ];
    const started = now();
    return new Promise((resolve, reject) => {
      const child = spawn("ssh", args, { stdio: ["pipe", "pipe", "pipe"] });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout.on("data", (c: Buffer) => out.push(c));
      child.stderr.on("data", (c: Buffer) => err.push(c));
      child.once("error", reject);
      child.once("close", (code) =>
        resolve({
          code: code ?? 255,
          stdout: Buffer.concat(out).toString("utf8"),
          stderr: Buffer.concat(err).toString("utf8"),
          ms: now() - started,
        }),
      );
      child.stdin.end(stdin);
    });
  }

  /** The Dokku commands the host logged that started within [start, end]. */
  async hostCommands(start: number, end: number): Promise<LoggedCommand[]> {
    const log = await this.host.commandLog();
    return log.filter((c) => {
      const at = Date.parse(c.at);
      return at >= start && at <= end;
    });
  }

  /**
   * Empties the host between measurements (after every tenant was destroyed and
   * checked): each one starts from the same small state file and an empty log.
   */
  async resetHost(): Promise<void> {
    await this.host.reset();
  }

  /**
   * Every Dokku command then waits `ms` before answering, like a distant host;
   * commands for other tenants go on meanwhile. Cleared by {@link resetHost}.
   */
  async setLatency(ms: number): Promise<void> {
    if (ms > 0) this.log(`test host latency: ${ms} ms per command`);
    await this.host.faults.setDelay(ms);
  }
}

/** Host-side time: wall time with at least one Dokku command in flight (running or waiting for the host lock). */
export function hostBusyMs(commands: readonly LoggedCommand[]): number {
  return unionLength(
    commands.map((c) => {
      const start = Date.parse(c.at);
      return { start, end: start + c.durationMs };
    }),
  );
}
