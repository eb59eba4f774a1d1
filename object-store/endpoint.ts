/**
 * Where the local object store is and how to reach it, without starting or
 * calling it (no S3 client loaded): its folder in the data folder, endpoint and
 * credentials as another process finds them, the environment the AWS SDKs and
 * Pulumi's S3 backend read, and the grammar of bucket names.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";

/** The local store's bucket for the Pulumi state (`./platform start`'s default backend). */
export const LOCAL_STATE_BUCKET = "mindroom-pulumi-state";
/** The local store's bucket for tenant backups (versioned; lifecycle rules set by the backup code). */
export const LOCAL_BACKUP_BUCKET = "mindroom-backups";

/** MinIO answers every region; the SDKs and Pulumi's backend still want one named. */
export const LOCAL_REGION = "us-east-1";

/** S3's bucket name grammar (3–63 of a-z 0-9 . -, starting and ending alphanumeric, not an IP). */
export const bucketName = z
  .string()
  .regex(
    /^(?!\d+\.\d+\.\d+\.\d+$)(?!xn--)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
    "must be an S3 bucket name: 3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit",
  )
  .refine((name) => !name.includes(".."), "must not contain '..'");

export interface ObjectStoreEndpoint {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  /** Never log it. */
  readonly secretAccessKey: string;
}

/** Where a data folder keeps its local object store (what `./platform start` runs). */
export function objectStoreDir(dataDir: string): string {
  return join(dataDir, "object-store");
}

const credentialsFile = z.object({ accessKeyId: z.string().min(3), secretAccessKey: z.string().min(8) });

/** The folder's credentials, generated (0600) on first use. */
export function loadOrCreateCredentials(dir: string): z.infer<typeof credentialsFile> {
  const path = join(dir, "credentials.json");
  if (!existsSync(path)) {
    const fresh = {
      accessKeyId: `mindroom-${randomBytes(6).toString("hex")}`,
      secretAccessKey: randomBytes(24).toString("base64url"),
    };
    writeFileSync(path, JSON.stringify(fresh), { mode: 0o600 });
  }
  chmodSync(path, 0o600);
  return credentialsFile.parse(JSON.parse(readFileSync(path, "utf8")));
}

/**
 * The store a folder holds, as another process finds it (the CLI while
 * `./platform start` runs): endpoint and credentials, or undefined when the
 * folder never held one. It may not be running.
 */
export function objectStoreIn(dir: string): ObjectStoreEndpoint | undefined {
  const portFile = join(dir, "port");
  if (!existsSync(portFile) || !existsSync(join(dir, "credentials.json"))) return undefined;
  const port = Number(readFileSync(portFile, "utf8").trim());
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return undefined;
  return { endpoint: `http://127.0.0.1:${port}`, region: LOCAL_REGION, ...loadOrCreateCredentials(dir) };
}

/** The environment AWS SDKs and Pulumi's S3 backend read for a store. */
export function objectStoreEnv(store: ObjectStoreEndpoint): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: store.accessKeyId,
    AWS_SECRET_ACCESS_KEY: store.secretAccessKey,
    AWS_REGION: store.region,
    AWS_ENDPOINT_URL_S3: store.endpoint,
  };
}

/** `PULUMI_BACKEND_URL` of a state backend in `bucket` on an S3-compatible endpoint. */
export function s3BackendUrl(
  store: Pick<ObjectStoreEndpoint, "endpoint" | "region">,
  bucket: string,
): string {
  const query = new URLSearchParams({
    endpoint: store.endpoint,
    s3ForcePathStyle: "true",
    region: store.region,
  });
  return `s3://${bucketName.parse(bucket)}?${query}`;
}
