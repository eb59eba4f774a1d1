/**
 * The local S3-compatible object store: MinIO (built from the Go module proxy by
 * toolchain/ensure.sh) on loopback, its data in a folder of the caller's. It is
 * what `./platform start` keeps the Pulumi state and the backups in, and what the
 * tests use as S3; production points the same settings at AWS S3 or any
 * S3-compatible service (README, Configuration).
 *
 * - Credentials are generated once into the folder (0600) and reach MinIO through
 *   its environment, never its command line.
 * - MinIO runs supervised (processes/supervisor.ts): it dies with the process that
 *   started it, however that process dies.
 * - Buckets are created probe-then-act, with versioning and lifecycle rules when
 *   asked (the state backend and the backups rely on versioned buckets).
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import {
  CreateBucketCommand,
  GetBucketVersioningCommand,
  HeadBucketCommand,
  type LifecycleRule,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { keptOrFreePort } from "../net/loopbackPort.ts";
import { type Supervised, supervise } from "../processes/supervisor.ts";
import {
  bucketName,
  LOCAL_REGION,
  loadOrCreateCredentials,
  type ObjectStoreEndpoint,
  objectStoreEnv,
  objectStoreIn,
  s3BackendUrl,
} from "./endpoint.ts";

const ROOT = resolve(import.meta.dirname, "..");
export class ObjectStoreError extends Error {
  override readonly name = "ObjectStoreError";
}

export interface BucketSpec {
  readonly name: string;
  /** Keep every version of every object (default true). */
  readonly versioned?: boolean;
  /** Lifecycle rules (expiry of old versions, of prefixes), replacing the bucket's rules. */
  readonly lifecycle?: readonly LifecycleRule[];
}

export interface ObjectStore extends ObjectStoreEndpoint {
  /** The MinIO process. */
  readonly pid: number | undefined;
  /** The environment AWS SDKs, the AWS CLI and Pulumi's S3 backend read. */
  readonly env: Readonly<Record<string, string>>;
  /** An S3 client for this store (path-style addressing). */
  client(): S3Client;
  /** Creates the bucket unless it exists, then applies its versioning and lifecycle. */
  ensureBucket(spec: BucketSpec): Promise<void>;
  /** `PULUMI_BACKEND_URL` for a state backend in `bucket` on this store. */
  backendUrl(bucket: string): string;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface ObjectStoreOptions {
  /** The store keeps its data, credentials, port and log here (created 0700). */
  readonly dir: string;
  /** Listen port (default: the port kept in the folder, else a free one). */
  readonly port?: number;
  /** Buckets to ensure once it is ready. */
  readonly buckets?: readonly BucketSpec[];
  /** The minio executable; default `MINDROOM_MINIO_BIN`, else `.tools/minio/bin/minio`. */
  readonly binary?: string;
}

export function s3Client(store: ObjectStoreEndpoint): S3Client {
  return new S3Client({
    endpoint: store.endpoint,
    region: store.region,
    forcePathStyle: true,
    credentials: { accessKeyId: store.accessKeyId, secretAccessKey: store.secretAccessKey },
  });
}

function minioBinary(explicit: string | undefined): string {
  const path =
    explicit ??
    process.env.MINDROOM_MINIO_BIN ??
    join(process.env.MINDROOM_TOOLS_DIR ?? join(ROOT, ".tools"), "minio", "bin", "minio");
  if (!existsSync(path))
    throw new ObjectStoreError(
      `the object store binary is missing at ${path}; run toolchain/ensure.sh --only minio`,
    );
  return path;
}

function tail(path: string, lines = 20): string {
  if (!existsSync(path)) return "(no log)";
  return readFileSync(path, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
}

async function waitUntilReady(endpoint: string, minio: Supervised, log: string): Promise<void> {
  const { child } = minio;
  for (let attempt = 0; attempt < 600; attempt += 1) {
    if (!minio.running)
      throw new ObjectStoreError(
        `minio exited with ${child.exitCode ?? child.signalCode}; the end of ${log}:\n${tail(log)}`,
      );
    try {
      if ((await fetch(`${endpoint}/minio/health/ready`)).ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new ObjectStoreError(`minio did not become ready within 60 s; the end of ${log}:\n${tail(log)}`);
}

/** Creates the bucket unless it exists, then sets its versioning and lifecycle. */
export async function ensureBucket(client: S3Client, spec: BucketSpec): Promise<void> {
  const Bucket = bucketName.parse(spec.name);
  const exists = await client.send(new HeadBucketCommand({ Bucket })).then(
    () => true,
    (error: { $metadata?: { httpStatusCode?: number } }) => {
      if (error.$metadata?.httpStatusCode === 404) return false;
      throw error;
    },
  );
  if (!exists) {
    await client.send(new CreateBucketCommand({ Bucket })).catch((error: Error) => {
      // Another process created it between the probe and the create.
      if (error.name !== "BucketAlreadyOwnedByYou") throw error;
    });
  }
  if (spec.versioned !== false) {
    const { Status } = await client.send(new GetBucketVersioningCommand({ Bucket }));
    if (Status !== "Enabled")
      await client.send(
        new PutBucketVersioningCommand({ Bucket, VersioningConfiguration: { Status: "Enabled" } }),
      );
  }
  if (spec.lifecycle)
    await client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket,
        LifecycleConfiguration: { Rules: [...spec.lifecycle] },
      }),
    );
}

/** Starts MinIO on loopback with its data in `options.dir`, and ensures the buckets asked for. */
export async function startObjectStore(options: ObjectStoreOptions): Promise<ObjectStore> {
  const binary = minioBinary(options.binary);
  const dir = resolve(options.dir);
  mkdirSync(join(dir, "data"), { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const credentials = loadOrCreateCredentials(dir);
  const portFile = join(dir, "port");
  const port = options.port ?? (await keptOrFreePort(portFile));
  const endpoint = `http://127.0.0.1:${port}`;
  const log = join(dir, "minio.log");
  const fd = openSync(log, "a", 0o600);
  let child: Supervised;
  try {
    child = supervise(
      "minio",
      binary,
      ["server", join(dir, "data"), "--address", `127.0.0.1:${port}`, "--quiet", "--anonymous"],
      {
        env: {
          PATH: process.env.PATH ?? "/usr/bin:/bin",
          HOME: dir,
          MINIO_ROOT_USER: credentials.accessKeyId,
          MINIO_ROOT_PASSWORD: credentials.secretAccessKey,
          MINIO_BROWSER: "off",
          MINIO_UPDATE: "off",
          MINIO_CALLHOME_ENABLE: "off",
          MINIO_REGION: LOCAL_REGION,
        },
        stdio: ["ignore", fd, fd],
      },
    );
  } finally {
    closeSync(fd);
  }
  const stop = async () => {
    await child.stop();
  };
  try {
    await waitUntilReady(endpoint, child, log);
    writeFileSync(portFile, String(port));
    const store: ObjectStoreEndpoint = { endpoint, region: LOCAL_REGION, ...credentials };
    let client: S3Client | undefined;
    const clientOf = () => {
      client ??= s3Client(store);
      return client;
    };
    for (const bucket of options.buckets ?? []) await ensureBucket(clientOf(), bucket);
    const stopAll = async () => {
      client?.destroy();
      await stop();
    };
    return {
      ...store,
      pid: child.programPid(),
      env: objectStoreEnv(store),
      client: clientOf,
      ensureBucket: (spec) => ensureBucket(clientOf(), spec),
      backendUrl: (bucket) => s3BackendUrl(store, bucket),
      stop: stopAll,
      [Symbol.asyncDispose]: stopAll,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The store a folder holds, running: the one already serving it (another
 * process's, e.g. `./platform start`), or one started here and stopped by
 * `stop()` (a CLI run while the platform is down).
 */
export async function openObjectStore(dir: string): Promise<{ stop(): Promise<void> }> {
  const known = objectStoreIn(dir);
  if (known) {
    try {
      if ((await fetch(`${known.endpoint}/minio/health/ready`)).ok) return { stop: async () => undefined };
    } catch {
      // Not running: start it below.
    }
  }
  return startObjectStore({ dir });
}
