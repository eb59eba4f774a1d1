/**
 * The worker's backup retention schedule (`MINDROOM_BACKUP_CHECK_INTERVAL`):
 * every interval, the backup bucket's lifecycle rule is checked and every
 * backup of a deleted tenant whose retention is over is purged
 * (backups/retention.ts). The bucket and the retention are read at each run:
 * the local object store may start after the worker, and a changed retention
 * applies from the next run.
 */

import type pg from "pg";
import type { PgBoss } from "pg-boss";
import type { AutomationSettings } from "../automation/settings.ts";
import { enforceRetention } from "../backups/retention.ts";
import { BackupSettingsError, backupClient, loadBackupSettings } from "../backups/settings.ts";
import type { Logger } from "../logging/logger.ts";
import { startPeriodic } from "./periodic.ts";

/** The pg-boss queue of the backup retention schedule. */
export const BACKUP_CHECK_QUEUE = "backup-retention";

export interface BackupRetentionDeps {
  readonly pool: pg.Pool;
  readonly automation: Pick<AutomationSettings, "dataDir">;
  readonly log: Logger;
  /** Where the backup settings are read from at each run (default: the process's environment). */
  readonly env?: NodeJS.ProcessEnv;
}

export async function startBackupRetention(
  boss: PgBoss,
  deps: BackupRetentionDeps,
  intervalMs: number,
): Promise<void> {
  await startPeriodic(
    boss,
    {
      name: BACKUP_CHECK_QUEUE,
      intervalMs,
      expireInSeconds: 3600,
      run: async () => {
        let settings: ReturnType<typeof loadBackupSettings>;
        try {
          settings = loadBackupSettings(deps.automation, deps.env);
        } catch (error) {
          if (!(error instanceof BackupSettingsError)) throw error;
          deps.log.warn("backup retention not enforced", { reason: error.message });
          return;
        }
        const client = backupClient(settings, deps.env);
        try {
          const result = await enforceRetention({
            pool: deps.pool,
            client,
            bucket: settings.bucket,
            retentionDays: settings.retentionDays,
          });
          if (result.ruleSet || result.purged.length > 0) deps.log.info("backup retention", { ...result });
        } finally {
          client.destroy();
        }
      },
    },
    deps.log,
  );
}
