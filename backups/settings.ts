/**
 * Where the platform keeps tenant backups and for how long: the backup bucket
 * (`MINDROOM_BACKUP_BUCKET`; locally, the data folder's object store and its
 * `mindroom-backups` bucket), the S3 endpoint and credentials as the AWS SDKs
 * read them (`AWS_ENDPOINT_URL_S3`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`,
 * `AWS_SECRET_ACCESS_KEY`, or the machine's role), and the retention
 * (`MINDROOM_BACKUP_RETENTION`, default 30 days): the bucket's lifecycle
 * expires older backups, and a deleted tenant's backups are purged once its
 * newest is that old (retention.ts).
 */
import { S3Client } from "@aws-sdk/client-s3";
import type { AutomationSettings } from "../automation/settings.ts";
import {
  bucketName,
  LOCAL_BACKUP_BUCKET,
  LOCAL_REGION,
  type ObjectStoreEndpoint,
  objectStoreDir,
  objectStoreIn,
} from "../object-store/endpoint.ts";
import { parseDuration } from "../webhooks/reconcile/settings.ts";

export interface BackupSettings {
  readonly bucket: string;
  readonly retentionDays: number;
  /** The local object store, when that is where backups go; undefined: the SDK's own configuration. */
  readonly store: ObjectStoreEndpoint | undefined;
}

export class BackupSettingsError extends Error {
  override readonly name = "BackupSettingsError";
}

/** The platform's backup store, or why there is none. */
export function loadBackupSettings(
  automation: Pick<AutomationSettings, "dataDir">,
  env: NodeJS.ProcessEnv = process.env,
): BackupSettings {
  const endpoint = env.AWS_ENDPOINT_URL_S3?.trim();
  const local = endpoint ? undefined : objectStoreIn(objectStoreDir(automation.dataDir));
  const explicit = env.MINDROOM_BACKUP_BUCKET?.trim();
  const bucket = explicit || (local || endpoint ? LOCAL_BACKUP_BUCKET : undefined);
  if (!bucket)
    throw new BackupSettingsError(
      "no backup bucket: set MINDROOM_BACKUP_BUCKET (and AWS_* for its S3), or start the platform's local object store (./platform start)",
    );
  const parsed = bucketName.safeParse(bucket);
  if (!parsed.success)
    throw new BackupSettingsError(
      `MINDROOM_BACKUP_BUCKET ${parsed.error.issues[0]?.message ?? "is invalid"}`,
    );
  const retentionMs = parseDuration(
    "MINDROOM_BACKUP_RETENTION",
    env.MINDROOM_BACKUP_RETENTION?.trim() || "30d",
  );
  const retentionDays = Math.ceil(retentionMs / 86_400_000);
  if (retentionDays < 1) throw new BackupSettingsError("MINDROOM_BACKUP_RETENTION must be at least 1 day");
  return { bucket: parsed.data, retentionDays, store: local };
}

/** An S3 client for the backup bucket (path-style on an explicit endpoint, as MinIO wants). */
export function backupClient(settings: BackupSettings, env: NodeJS.ProcessEnv = process.env): S3Client {
  if (settings.store) {
    return new S3Client({
      endpoint: settings.store.endpoint,
      region: settings.store.region,
      forcePathStyle: true,
      credentials: {
        accessKeyId: settings.store.accessKeyId,
        secretAccessKey: settings.store.secretAccessKey,
      },
    });
  }
  const endpoint = env.AWS_ENDPOINT_URL_S3?.trim();
  return new S3Client({
    region: env.AWS_REGION?.trim() || LOCAL_REGION,
    ...(endpoint ? { endpoint, forcePathStyle: true } : {}),
  });
}
