/**
 * Pulumi's locks on a stack, read where a self-managed backend keeps them:
 * `.pulumi/locks/organization/<project>/<stack>/<id>.json`, each naming the
 * host and pid of the pulumi process that holds it. For a `file://` backend
 * they are files; for an `s3://` one (the local object store, or AWS S3),
 * objects, read with the credentials Pulumi itself uses (the AWS_* environment).
 * Other backends (Pulumi Cloud) manage their own locks: none are listed.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export interface StackLock {
  /** Absent when the lock could not be read: treat its holder as alive. */
  readonly pid?: number;
  readonly hostname?: string;
}

function parseLock(text: string): StackLock {
  try {
    const { pid, hostname } = JSON.parse(text) as { pid?: unknown; hostname?: unknown };
    return {
      ...(typeof pid === "number" ? { pid } : {}),
      ...(typeof hostname === "string" ? { hostname } : {}),
    };
  } catch {
    return {};
  }
}

const lockFolder = (project: string, stack: string) => `.pulumi/locks/organization/${project}/${stack}`;

export async function stackLocks(backendUrl: string, project: string, stack: string): Promise<StackLock[]> {
  if (backendUrl.startsWith("file://")) {
    const dir = join(backendUrl.slice("file://".length), lockFolder(project, stack));
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((name) => name.endsWith(".json"))
      .map((name) => {
        try {
          return parseLock(readFileSync(join(dir, name), "utf8"));
        } catch {
          return {};
        }
      });
  }
  if (backendUrl.startsWith("s3://")) return s3Locks(new URL(backendUrl), project, stack);
  return [];
}

/** `s3://bucket[/prefix]?endpoint=…&region=…&s3ForcePathStyle=true`, as Pulumi's S3 backend reads it. */
async function s3Locks(url: URL, project: string, stack: string): Promise<StackLock[]> {
  // Loaded only for S3 backends: the SDK is large.
  const { GetObjectCommand, ListObjectsV2Command, S3Client } = await import("@aws-sdk/client-s3");
  const endpoint = url.searchParams.get("endpoint");
  const client = new S3Client({
    region: url.searchParams.get("region") ?? process.env.AWS_REGION ?? "us-east-1",
    ...(endpoint ? { endpoint: /^https?:\/\//.test(endpoint) ? endpoint : `https://${endpoint}` } : {}),
    forcePathStyle: url.searchParams.get("s3ForcePathStyle") === "true",
  });
  try {
    const prefix = url.pathname.replace(/^\/+|\/+$/g, "");
    const folder = `${prefix ? `${prefix}/` : ""}${lockFolder(project, stack)}/`;
    const listed = await client.send(new ListObjectsV2Command({ Bucket: url.hostname, Prefix: folder }));
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? "").filter((key) => key.endsWith(".json"));
    return await Promise.all(
      keys.map(async (key) => {
        try {
          const object = await client.send(new GetObjectCommand({ Bucket: url.hostname, Key: key }));
          return parseLock((await object.Body?.transformToString()) ?? "");
        } catch {
          return {};
        }
      }),
    );
  } finally {
    client.destroy();
  }
}
