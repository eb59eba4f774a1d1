/**
 * How long backups stay, and what the platform knows about them, on a schedule
 * (`MINDROOM_BACKUP_CHECK_INTERVAL`, default 15 minutes, in the worker):
 *
 * - the bucket's lifecycle rule expires every backup after the retention
 *   (`MINDROOM_BACKUP_RETENTION`), set when missing;
 * - every backup of a deleted tenant (every version, every delete marker) is
 *   purged once its newest is older than the retention (GDPR: nothing of them
 *   outlives it, whatever the lifecycle rule does), recorded and audited;
 * - each tenant's newest backup time goes to `instances.last_backup_at`, which
 *   the "no successful backup for 7 hours" alert reads.
 */

import type { S3Client } from "@aws-sdk/client-s3";
import type pg from "pg";
import { audit } from "../database/auditLog.ts";
import { ensureRetention, purgePrefix } from "./bucket.ts";
import { tenantPrefix } from "./layout.ts";
import { listBackups } from "./restore.ts";

export interface RetentionDeps {
  readonly pool: pg.Pool;
  readonly client: S3Client;
  readonly bucket: string;
  readonly retentionDays: number;
  readonly now?: () => Date;
}

export interface RetentionRun {
  /** The lifecycle rule was (re)set. */
  readonly ruleSet: boolean;
  readonly inventoried: number;
  /** Deleted tenants whose backups were purged, with how many objects went. */
  readonly purged: readonly { readonly slug: string; readonly objects: number }[];
}

export async function enforceRetention(deps: RetentionDeps): Promise<RetentionRun> {
  const now = deps.now?.() ?? new Date();
  const ruleSet = await ensureRetention(deps.client, deps.bucket, deps.retentionDays);
  const { rows } = await deps.pool.query<{
    id: string;
    customer_id: string;
    slug: string;
    deleted: boolean;
    last_backup_at: Date | null;
  }>(
    `select id, customer_id, slug, actual_state = 'deleted' as deleted, last_backup_at
       from public.instances where backups_purged_at is null order by slug`,
  );
  const limit = now.getTime() - deps.retentionDays * 86_400_000;
  const purged: { slug: string; objects: number }[] = [];
  for (const row of rows) {
    const backups = await listBackups(deps, row.slug);
    const newest = backups.at(-1)?.takenAt ?? null;
    if (row.deleted && (newest === null || newest.getTime() < limit)) {
      const objects = await purgePrefix(deps.client, deps.bucket, tenantPrefix(row.slug));
      await deps.pool.query("update public.instances set backups_purged_at = $2 where id = $1", [
        row.id,
        now,
      ]);
      await audit(deps.pool, {
        actor: "worker",
        customerId: row.customer_id,
        instanceId: row.id,
        action: "backups.purged",
        reason: `retention of ${deps.retentionDays} days over since the tenant's deletion`,
        details: { slug: row.slug, objects, newestBackup: newest?.toISOString() ?? null },
      });
      purged.push({ slug: row.slug, objects });
      continue;
    }
    if (newest && newest.getTime() !== row.last_backup_at?.getTime())
      await deps.pool.query("update public.instances set last_backup_at = $2 where id = $1", [
        row.id,
        newest,
      ]);
  }
  return { ruleSet, inventoried: rows.length, purged };
}
