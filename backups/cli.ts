/**
 * The `mindroom-ops` commands for tenant backups (dispatched by control/cli.ts):
 *
 *   backups <tenant> [--json]                   every backup: time, part, size
 *   backups --retention [--json]                the bucket's retention rule (set when missing)
 *   backup <tenant> [--json]                    one now (apps stopped while copied)
 *   restore <tenant> [--at T] [--from S] --yes  put a backup back (suspend, restore, resume)
 *
 * Backups and restores are recorded as operations with audit rows
 * (control/operatorAction.ts).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { confirmedByName } from "../automation/cli/confirmation.ts";
import { loadAutomationSettings } from "../automation/settings.ts";
import { leaseTimings, TenantLeases } from "../automation/tenantLease.ts";
import { parseTenantSpec } from "../components/tenantSpec.ts";
import { recordedAction } from "../control/operatorAction.ts";
import { cliOperator } from "../database/auditLog.ts";
import { openDatabase } from "../database/connection.ts";
import { findInstanceBySlug, type Instance } from "../database/instances.ts";
import { loadDatabaseSettings } from "../database/settings.ts";
import { takeBackup } from "./backup.ts";
import { bucketRetention, ensureRetention } from "./bucket.ts";
import type { BackupObject } from "./layout.ts";
import { listBackups, restoreTenant } from "./restore.ts";
import { backupClient, loadBackupSettings } from "./settings.ts";
import { tenantData } from "./tenantData.ts";

export const BACKUPS_HELP = `Usage: mindroom-ops backups <tenant> [--json]
       mindroom-ops backups --retention [--json]
       mindroom-ops backup <tenant> [--reason TEXT] [--json]
       mindroom-ops restore <tenant> [--at TIME] [--from TENANT] [--reason TEXT] [--yes] [--json]

backups    Lists a tenant's backups in the backup bucket: when each was taken, which part
           (storage: both apps' files; postgres, redis: a service's data), its size.
           --retention shows the bucket's retention rule, setting it when it is missing.
backup     Takes a backup now: the apps stop while their files are copied, then run again.
restore    Suspends the tenant, replaces its storage and its services' data with the newest
           backup (at or before --at), and resumes it. --from restores another tenant's
           backups (a deleted tenant's) into this one. Asks for confirmation unless --yes.
           A restore cut off half-way is finished by running it again.

TIME is ISO 8601 (2026-12-04T18:00:00Z) or a backup's time as listed.
Configuration: MINDROOM_BACKUP_BUCKET, MINDROOM_BACKUP_RETENTION, AWS_* (the bucket's S3),
DOKKU_SSH_KEY, MINDROOM_ROOT_SECRET, DATABASE_URL, MINDROOM_OPERATOR (who you are in the audit log).
Exit codes: 0 done, 1 failed, 2 usage, 6 tenant or backup not found, 8 cancelled.`;

export class BackupsUsageError extends Error {
  override readonly name = "BackupsUsageError";
}

export class BackupsNotFoundError extends Error {
  override readonly name = "BackupsNotFoundError";
}

/** `2026-12-04T18:00:00Z`, or the listing's `2026-12-04 18:00:07`. */
export function parseTime(raw: string): Date {
  const at = new Date(
    /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?$/.test(raw) ? `${raw.replace(" ", "T")}Z` : raw,
  );
  if (Number.isNaN(at.getTime()))
    throw new BackupsUsageError(`--at ${JSON.stringify(raw)} is not a time (use 2026-12-04T18:00:00Z)`);
  return at;
}

const human = (bytes: number) =>
  bytes < 1024
    ? `${bytes} B`
    : bytes < 1024 ** 2
      ? `${(bytes / 1024).toFixed(1)} KiB`
      : bytes < 1024 ** 3
        ? `${(bytes / 1024 ** 2).toFixed(1)} MiB`
        : `${(bytes / 1024 ** 3).toFixed(2)} GiB`;

function table(backups: readonly BackupObject[]): string {
  if (backups.length === 0) return "no backups";
  const rows = backups.map((b) => [
    b.takenAt.toISOString().replace("T", " ").slice(0, 19),
    b.kind === "storage" ? "storage" : `${b.kind} ${b.service}`,
    human(b.size),
    b.key,
  ]);
  const widths = [0, 1, 2].map((i) =>
    Math.max(
      ...[["TAKEN (UTC)", "PART", "SIZE"][i] as string, ...rows.map((r) => r[i] as string)].map(
        (c) => c.length,
      ),
    ),
  );
  const line = (r: string[]) => r.map((c, i) => (i < 3 ? c.padEnd(widths[i] as number) : c)).join("  ");
  return [line(["TAKEN (UTC)", "PART", "SIZE", "KEY"]), ...rows.map(line)].join("\n");
}

export async function backupsMain(
  command: "backups" | "backup" | "restore",
  argv: string[],
): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: "boolean", default: false },
      retention: { type: "boolean", default: false },
      at: { type: "string" },
      from: { type: "string" },
      reason: { type: "string" },
      yes: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });
  if (values.help) {
    process.stdout.write(`${BACKUPS_HELP}\n`);
    return 0;
  }
  const [slug, extra] = positionals;
  if (extra !== undefined) throw new BackupsUsageError(`unexpected argument ${extra}`);
  if (!slug && !(command === "backups" && values.retention))
    throw new BackupsUsageError(`${command} needs a tenant`);
  const at = values.at === undefined ? undefined : parseTime(values.at);
  const automation = loadAutomationSettings();
  const settings = loadBackupSettings(automation);
  const client = backupClient(settings);
  const store = { client, bucket: settings.bucket };
  const print = (data: unknown, text: string) =>
    process.stdout.write(values.json ? `${JSON.stringify(data)}\n` : `${text}\n`);

  if (command === "backups" && values.retention) {
    const changed = await ensureRetention(client, settings.bucket, settings.retentionDays);
    const rules = await bucketRetention(client, settings.bucket);
    print(
      { bucket: settings.bucket, retentionDays: settings.retentionDays, changed, rules },
      `s3://${settings.bucket}: backups under tenants/ expire after ${settings.retentionDays} days${changed ? " (rule set now)" : ""}`,
    );
    return 0;
  }
  const tenant = slug as string;
  if (command === "backups") {
    const backups = await listBackups(store, tenant);
    print({ tenant, bucket: settings.bucket, backups }, table(backups));
    return 0;
  }

  const database = await openDatabase(loadDatabaseSettings(), { maxConnections: 2 });
  // The tenant's lease: no reconcile on any machine runs while the backup or restore does.
  const leases = TenantLeases.open(database.url, leaseTimings(automation.leaseTtlMs));
  try {
    const instance: Instance | null = await findInstanceBySlug(database.pool, tenant);
    if (!instance?.spec || instance.actualState === "deleted")
      throw new BackupsNotFoundError(
        `tenant ${tenant} is not a provisioned tenant of this platform${instance?.actualState === "deleted" ? " (it was deleted: restore its backups into a new tenant with --from)" : ""}`,
      );
    if (!automation.sshKeyPath)
      throw new Error("DOKKU_SSH_KEY is not set: point it at the private key for the Dokku hosts");
    const data = tenantData(parseTenantSpec(instance.spec), readFileSync(automation.sshKeyPath, "utf8"));
    const deps = { ...store, rootSecret: automation.rootSecret };
    const actor = cliOperator();
    /** Each step to the operator's terminal and to the operation's live progress. */
    const steps = (progress: (message: string) => void) => (line: string) => {
      if (!values.json) process.stderr.write(`${tenant}: ${line}\n`);
      progress(line);
    };
    if (command === "backup") {
      const result = await recordedAction(
        database.pool,
        leases,
        { slug: tenant, instance, kind: "backup", actor, reason: values.reason ?? "operator backup" },
        async (progress) => {
          const taken = await takeBackup({ ...deps, onStep: steps(progress) }, data);
          return {
            backups: taken.map((b) => ({ key: b.key, kind: b.kind, size: b.size })),
            takenAt: taken[0]?.takenAt.toISOString() ?? null,
          };
        },
      );
      print(
        result,
        `backed up ${tenant}:\n${(result.backups as { key: string; size: number }[]).map((b) => `  ${b.key} (${human(b.size)})`).join("\n")}`,
      );
      return 0;
    }
    const confirmed = await confirmedByName(tenant, {
      yes: values.yes,
      what: `This replaces the data of tenant ${tenant}.`,
      withoutTerminal: "restore replaces the tenant's data",
    });
    if (!confirmed) return 8;
    const result = await recordedAction(
      database.pool,
      leases,
      {
        slug: tenant,
        instance,
        kind: "restore",
        actor,
        reason:
          values.reason ??
          `restore${values.from ? ` from ${values.from}` : ""}${at ? ` at ${at.toISOString()}` : ""}`,
      },
      async (progress) => {
        const report = await restoreTenant({ ...deps, onStep: steps(progress) }, data, {
          ...(at ? { at } : {}),
          ...(values.from ? { from: values.from } : {}),
        });
        return {
          from: report.from,
          at: at?.toISOString() ?? null,
          backupTakenAt: report.point.storage.takenAt.toISOString(),
          restored: [report.point.storage, ...report.point.services].map((b) => b.key),
        };
      },
    );
    print(
      result,
      `restored ${tenant} from the backup of ${result.from} taken ${String(result.backupTakenAt)}`,
    );
    return 0;
  } finally {
    await leases.close();
    await database.close();
  }
}
