/**
 * A self-managed `s3://` Pulumi backend read directly (its locks, its
 * checkpoints), with the credentials Pulumi itself uses: the AWS_* environment,
 * plus the settings' backend environment for the local object store.
 */
import type { S3Client } from "@aws-sdk/client-s3";

/** The backend's client, bucket and key prefix (`s3://bucket[/prefix]?endpoint=…&region=…&s3ForcePathStyle=true`). */
export interface S3Backend {
  readonly client: S3Client;
  readonly bucket: string;
  /** Below the bucket's root, with a trailing slash, or empty. */
  readonly prefix: string;
}

/** Opens the backend `url` names, as Pulumi's S3 backend reads it; the caller destroys the client. */
export async function openS3Backend(
  url: URL,
  extraEnv: Readonly<Record<string, string>> = {},
): Promise<S3Backend> {
  // Loaded only for S3 backends: the SDK is large.
  const { S3Client } = await import("@aws-sdk/client-s3");
  const env = { ...process.env, ...extraEnv };
  const endpoint = url.searchParams.get("endpoint") ?? env.AWS_ENDPOINT_URL_S3;
  const client = new S3Client({
    region: url.searchParams.get("region") ?? env.AWS_REGION ?? "us-east-1",
    ...(endpoint ? { endpoint: /^https?:\/\//.test(endpoint) ? endpoint : `https://${endpoint}` } : {}),
    forcePathStyle: url.searchParams.get("s3ForcePathStyle") === "true",
    // The backend environment's keys when it has them, else the SDK's own chain (the process's).
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          },
        }
      : {}),
  });
  const prefix = url.pathname.replace(/^\/+|\/+$/g, "");
  return { client, bucket: url.hostname, prefix: prefix ? `${prefix}/` : "" };
}
