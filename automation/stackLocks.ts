/**
 * Pulumi's locks on a stack, read where a self-managed backend keeps them:
 * `.pulumi/locks/organization/<project>/<stack>/<id>.json`, each naming the
 * host and pid of the pulumi process that holds it. For a `file://` backend
 * they are files; for an `s3://` one (the local object store, or AWS S3),
 * objects, read with the credentials Pulumi itself uses (the AWS_* environment,
 * and the settings' backend environment for the local object store).
 * Other backends (Pulumi Cloud) manage their own locks: none are listed.
 * Whose lock may be removed is lockHolders.ts's decision.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { openS3Backend } from "./s3Backend.ts";

export interface StackLock {
  /** Absent when the lock could not be read: treat its holder as alive. */
  readonly pid?: number;
  readonly hostname?: string;
  /** When it was taken, by the clock of the machine that wrote it. */
  readonly timestamp?: Date;
}

function parseLock(text: string): StackLock {
  try {
    const { pid, hostname, timestamp } = JSON.parse(text) as {
      pid?: unknown;
      hostname?: unknown;
      timestamp?: unknown;
    };
    const at = typeof timestamp === "string" ? new Date(timestamp) : undefined;
    return {
      ...(typeof pid === "number" ? { pid } : {}),
      ...(typeof hostname === "string" ? { hostname } : {}),
      ...(at && !Number.isNaN(at.getTime()) ? { timestamp: at } : {}),
    };
  } catch {
    return {};
  }
}

/** Where a self-managed backend keeps a stack's locks, below its root. */
export const lockFolder = (project: string, stack: string) =>
  `.pulumi/locks/organization/${project}/${stack}`;

/** The stack's locks; `env` adds AWS_* variables to the process's for an s3:// backend. */
export async function stackLocks(
  backendUrl: string,
  project: string,
  stack: string,
  env: Readonly<Record<string, string>> = {},
): Promise<StackLock[]> {
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
  if (backendUrl.startsWith("s3://")) return s3Locks(new URL(backendUrl), project, stack, env);
  return [];
}

async function s3Locks(
  url: URL,
  project: string,
  stack: string,
  extraEnv: Readonly<Record<string, string>>,
): Promise<StackLock[]> {
  const { GetObjectCommand, ListObjectsV2Command } = await import("@aws-sdk/client-s3");
  const { client, bucket, prefix } = await openS3Backend(url, extraEnv);
  try {
    const folder = `${prefix}${lockFolder(project, stack)}/`;
    const listed = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: folder }));
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? "").filter((key) => key.endsWith(".json"));
    return await Promise.all(
      keys.map(async (key) => {
        try {
          const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
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
