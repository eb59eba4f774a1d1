/**
 * Every stack's last checkpoint, read straight from a self-managed backend
 * (`file://` or `s3://`, project-scoped layout `.pulumi/stacks/<project>/<stack>.json`,
 * gzipped or zstd-compressed or not) in one pass: no pulumi process per stack.
 * For fleet-wide reads (drift over every tenant) where `pulumi stack export`
 * per stack would cost a CLI start each. Read-only: a checkpoint being
 * replaced is read as the old or the new one (S3 replaces an object in one
 * PUT; a torn file is unreadable, and its stack is reported as such).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, zstdDecompressSync } from "node:zlib";
import type { RecordedResource } from "./driftProbes.ts";
import { openS3Backend } from "./s3Backend.ts";
import type { BackendAccess } from "./stackRecovery.ts";

export interface StackCheckpoint {
  readonly resources: readonly RecordedResource[];
  /** Operations a pulumi process started and never finished: what they touched is unknown. */
  readonly pendingOperations: number;
}

/** A stack's checkpoint file name in the backend: the stack, and how it is compressed. */
const CHECKPOINT_NAME = /^(.+)\.json(\.gz|\.zst)?$/;

/** Which file holds each stack's checkpoint, given a stacks folder's file names (backups and others ignored). */
export function checkpointNames(names: readonly string[]): Map<string, string> {
  const byStack = new Map<string, string>();
  // Plain before gzip before zstd, as the CLI prefers when more than one is left behind.
  const rank = (name: string) => (name.endsWith(".json") ? 0 : name.endsWith(".gz") ? 1 : 2);
  for (const name of names) {
    const stack = CHECKPOINT_NAME.exec(name)?.[1];
    if (!stack) continue;
    const held = byStack.get(stack);
    if (held === undefined || rank(name) < rank(held)) byStack.set(stack, name);
  }
  return byStack;
}

/** A checkpoint file's contents; throws when they are not a checkpoint. */
export function parseCheckpoint(name: string, bytes: Buffer): StackCheckpoint {
  const raw = name.endsWith(".gz")
    ? gunzipSync(bytes)
    : name.endsWith(".zst")
      ? zstdDecompressSync(bytes)
      : bytes;
  const parsed = JSON.parse(raw.toString("utf8")) as {
    checkpoint?: { latest?: { resources?: RecordedResource[]; pending_operations?: unknown[] } };
  };
  if (typeof parsed !== "object" || parsed === null || !("checkpoint" in parsed))
    throw new Error(`${name} is not a Pulumi checkpoint`);
  const latest = parsed.checkpoint?.latest;
  return { resources: latest?.resources ?? [], pendingOperations: latest?.pending_operations?.length ?? 0 };
}

/**
 * Every stack of `project` with its checkpoint (`undefined` for one that cannot
 * be read); `undefined` when this backend cannot be read without the CLI
 * (Pulumi Cloud, another object store, a legacy layout).
 */
export async function readCheckpoints(
  access: BackendAccess,
  project: string,
): Promise<Map<string, StackCheckpoint | undefined> | undefined> {
  if (access.backendUrl.startsWith("file://")) return fileCheckpoints(access.backendUrl, project);
  if (access.backendUrl.startsWith("s3://"))
    return s3Checkpoints(new URL(access.backendUrl), project, access.env);
  return undefined;
}

const projectScoped = (meta: string) => /^version:\s*1\s*$/m.test(meta);

function parsed(name: string, read: () => Buffer): StackCheckpoint | undefined {
  try {
    return parseCheckpoint(name, read());
  } catch {
    return undefined;
  }
}

function fileCheckpoints(
  backendUrl: string,
  project: string,
): Map<string, StackCheckpoint | undefined> | undefined {
  const root = join(backendUrl.slice("file://".length), ".pulumi");
  if (!existsSync(join(root, "meta.yaml"))) return existsSync(join(root, "stacks")) ? undefined : new Map();
  if (!projectScoped(readFileSync(join(root, "meta.yaml"), "utf8"))) return undefined;
  const dir = join(root, "stacks", project);
  if (!existsSync(dir)) return new Map();
  const checkpoints = new Map<string, StackCheckpoint | undefined>();
  for (const [stack, name] of checkpointNames(readdirSync(dir)))
    checkpoints.set(
      stack,
      parsed(name, () => readFileSync(join(dir, name))),
    );
  return checkpoints;
}

/** How many checkpoints are fetched at once from an object store. */
const S3_READS_AT_ONCE = 16;

async function s3Checkpoints(
  url: URL,
  project: string,
  env: Readonly<Record<string, string>>,
): Promise<Map<string, StackCheckpoint | undefined> | undefined> {
  const { GetObjectCommand, ListObjectsV2Command, NoSuchKey } = await import("@aws-sdk/client-s3");
  const { client, bucket, prefix } = await openS3Backend(url, env);
  const get = async (key: string) => {
    const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from((await object.Body?.transformToByteArray()) ?? []);
  };
  try {
    let meta: string;
    try {
      meta = (await get(`${prefix}.pulumi/meta.yaml`)).toString("utf8");
    } catch (error) {
      // No backend written yet: no stacks in it.
      if (error instanceof NoSuchKey) return new Map();
      throw error;
    }
    if (!projectScoped(meta)) return undefined;
    const folder = `${prefix}.pulumi/stacks/${project}/`;
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: folder, ContinuationToken: token }),
      );
      for (const o of page.Contents ?? []) {
        const name = (o.Key ?? "").slice(folder.length);
        if (name && !name.includes("/")) names.push(name);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    const entries = [...checkpointNames(names)];
    const checkpoints = new Map<string, StackCheckpoint | undefined>();
    for (let i = 0; i < entries.length; i += S3_READS_AT_ONCE) {
      const batch = entries.slice(i, i + S3_READS_AT_ONCE);
      const read = await Promise.all(
        batch.map(async ([stack, name]) => {
          const bytes = await get(`${folder}${name}`).catch(() => undefined);
          return [stack, bytes && parsed(name, () => bytes)] as const;
        }),
      );
      for (const [stack, checkpoint] of read) checkpoints.set(stack, checkpoint);
    }
    return checkpoints;
  } finally {
    client.destroy();
  }
}
