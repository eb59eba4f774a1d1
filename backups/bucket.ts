/**
 * The backup bucket through the S3 API: list a tenant's backups, upload a
 * stream (multipart, so an archive of any size never sits in memory), read
 * one back, purge every version under a prefix, and the bucket's retention
 * rule. Thin: what a backup is lives in layout.ts.
 */
import type { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  type LifecycleRule,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";

/** Parts of 16 MiB: S3 allows 10,000, so one object may hold 160 GiB. */
const PART_BYTES = 16 * 1024 * 1024;

export interface ListedObject {
  readonly key: string;
  readonly size: number;
  readonly lastModified: Date;
}

export async function listObjects(client: S3Client, bucket: string, prefix: string): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? [])
      if (o.Key) out.push({ key: o.Key, size: o.Size ?? 0, lastModified: o.LastModified ?? new Date(0) });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

/** Uploads everything `body` yields as one object; nothing is left behind if it fails. */
export async function uploadStream(
  client: S3Client,
  bucket: string,
  key: string,
  body: Readable,
): Promise<number> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const parts: { ETag: string; PartNumber: number }[] = [];
  let size = 0;
  try {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async () => {
      const PartNumber = parts.length + 1;
      const Body = Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      const { ETag } = await client.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber, Body }),
      );
      parts.push({ ETag: ETag ?? "", PartNumber });
    };
    for await (const chunk of body) {
      const bytes = chunk as Buffer;
      pending.push(bytes);
      pendingBytes += bytes.length;
      size += bytes.length;
      if (pendingBytes >= PART_BYTES) await flush();
    }
    // S3 wants at least one part, even an empty one.
    if (pendingBytes > 0 || parts.length === 0) await flush();
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    return size;
  } catch (error) {
    await client
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }))
      .catch(() => undefined);
    throw error;
  }
}

export async function downloadStream(client: S3Client, bucket: string, key: string): Promise<Readable> {
  const { Body } = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!Body) throw new Error(`s3://${bucket}/${key} has no body`);
  return Body as Readable;
}

/** Deletes every version and delete marker under `prefix` (versioned buckets keep them otherwise); returns how many. */
export async function purgePrefix(client: S3Client, bucket: string, prefix: string): Promise<number> {
  let removed = 0;
  for (;;) {
    const page = await client.send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: prefix }));
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])]
      .filter((v) => v.Key)
      .map((v) => ({ Key: v.Key as string, VersionId: v.VersionId }));
    if (objects.length === 0) return removed;
    for (let i = 0; i < objects.length; i += 1000) {
      const batch = objects.slice(i, i + 1000);
      const { Errors } = await client.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch, Quiet: true } }),
      );
      if (Errors && Errors.length > 0)
        throw new Error(`could not delete ${Errors[0]?.Key}: ${Errors[0]?.Code} ${Errors[0]?.Message}`);
      removed += batch.length;
    }
  }
}

/** The retention rule the platform sets on the backup bucket. */
export const RETENTION_RULE_ID = "mindroom-tenant-backups";

export function retentionRule(days: number): LifecycleRule {
  return {
    ID: RETENTION_RULE_ID,
    Status: "Enabled",
    Filter: { Prefix: "tenants/" },
    Expiration: { Days: days },
    // A version replaced or deleted is gone a day later; markers left alone are cleaned up.
    NoncurrentVersionExpiration: { NoncurrentDays: 1 },
    AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
  };
}

export async function bucketRetention(client: S3Client, bucket: string): Promise<LifecycleRule[]> {
  try {
    const { Rules } = await client.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
    return Rules ?? [];
  } catch (error) {
    if ((error as Error).name === "NoSuchLifecycleConfiguration") return [];
    throw error;
  }
}

/** Sets the retention rule unless the bucket has it already; other rules of the bucket are kept. */
export async function ensureRetention(client: S3Client, bucket: string, days: number): Promise<boolean> {
  const rules = await bucketRetention(client, bucket);
  const mine = rules.find((r) => r.ID === RETENTION_RULE_ID);
  if (
    mine &&
    mine.Status === "Enabled" &&
    mine.Expiration?.Days === days &&
    mine.Filter?.Prefix === "tenants/"
  )
    return false;
  await client.send(
    new PutBucketLifecycleConfigurationCommand({
      Bucket: bucket,
      LifecycleConfiguration: {
        Rules: [...rules.filter((r) => r.ID !== RETENTION_RULE_ID), retentionRule(days)],
      },
    }),
  );
  return true;
}
