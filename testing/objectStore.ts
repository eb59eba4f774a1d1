/**
 * A real S3 for tests: `testing/globalSetup.ts` starts ONE local object store
 * (MinIO, object-store/server.ts) for the whole run in a temp folder and hands
 * its endpoint and credentials to workers; `MINDROOM_TEST_S3` (a JSON object
 * `{endpoint, region, accessKeyId, secretAccessKey}`) uses an existing one
 * instead; without either (a file run under another config) the worker starts
 * its own. Each `testBucket()` is a fresh versioned bucket, emptied and removed
 * by `dispose()`.
 *
 * This module loads vitest only inside `testBucket()`, so globalSetup can import it.
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectVersionsCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { TestProject } from "vitest/node";
import { type ObjectStoreEndpoint, objectStoreEnv, s3BackendUrl } from "../object-store/endpoint.ts";
import { type BucketSpec, ensureBucket, s3Client, startObjectStore } from "../object-store/server.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The run's object store, or null when it could not start (see objectStoreError). */
    objectStore: ObjectStoreEndpoint | null;
    /** Why the run's object store is not available (empty when it is). */
    objectStoreError: string;
  }
}

export class TestObjectStoreError extends Error {
  override readonly name = "TestObjectStoreError";
}

export interface TestBucket {
  readonly store: ObjectStoreEndpoint;
  readonly bucket: string;
  /** `PULUMI_BACKEND_URL` for a Pulumi state backend in this bucket. */
  readonly backendUrl: string;
  /** AWS_* variables for processes that use the bucket (pulumi, AWS SDKs). */
  readonly env: Readonly<Record<string, string>>;
  readonly client: S3Client;
  /** Removes every version of every object, then the bucket. */
  dispose(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

interface StartedStore {
  readonly store: ObjectStoreEndpoint;
  readonly dir: string;
  stop(): Promise<void>;
}

async function startInTempDir(): Promise<StartedStore> {
  const dir = mkdtempSync(join(tmpdir(), "mindroom-test-s3-"));
  try {
    const store = await startObjectStore({ dir });
    return {
      store: {
        endpoint: store.endpoint,
        region: store.region,
        accessKeyId: store.accessKeyId,
        secretAccessKey: store.secretAccessKey,
      },
      dir,
      async stop() {
        await store.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/** For globalSetup: starts the run's object store and provides it (or why it failed). Returns the teardown. */
export async function provideTestObjectStore(project: TestProject): Promise<() => Promise<void>> {
  if (process.env.MINDROOM_TEST_S3) {
    project.provide("objectStore", null);
    project.provide("objectStoreError", "");
    return async () => undefined;
  }
  try {
    const started = await startInTempDir();
    project.provide("objectStore", started.store);
    project.provide("objectStoreError", "");
    return () => started.stop();
  } catch (error) {
    project.provide("objectStore", null);
    project.provide("objectStoreError", (error as Error).message);
    return async () => undefined;
  }
}

let ownStore: Promise<StartedStore> | undefined;

/** The object store tests use (see the module comment for how it is chosen). */
export async function testObjectStore(): Promise<ObjectStoreEndpoint> {
  const external = process.env.MINDROOM_TEST_S3?.trim();
  if (external) return JSON.parse(external) as ObjectStoreEndpoint;
  const { inject } = await import("vitest");
  let provided: ObjectStoreEndpoint | null | undefined;
  let reason = "";
  try {
    provided = inject("objectStore");
    reason = inject("objectStoreError");
  } catch {
    provided = undefined; // not under vitest's globalSetup
  }
  if (provided) return provided;
  if (reason) throw new TestObjectStoreError(`the test run's object store did not start: ${reason}`);
  if (!ownStore) {
    ownStore = startInTempDir();
    // MinIO itself dies with this process (object-store/server.ts); its folder goes at exit.
    const { dir } = await ownStore;
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return (await ownStore).store;
}

/** Every version and delete marker in the bucket, removed 1000 at a time. */
async function emptyBucket(client: S3Client, Bucket: string): Promise<void> {
  for (;;) {
    const page = await client.send(new ListObjectVersionsCommand({ Bucket, MaxKeys: 1000 }));
    const objects = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
      Key: v.Key as string,
      VersionId: v.VersionId as string,
    }));
    if (objects.length === 0) return;
    await client.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: objects, Quiet: true } }));
  }
}

/** A fresh bucket (versioned unless asked otherwise) on the test object store. */
export async function testBucket(spec: Omit<BucketSpec, "name"> = {}): Promise<TestBucket> {
  const store = await testObjectStore();
  const bucket = `test-${randomBytes(6).toString("hex")}`;
  const client = s3Client(store);
  await ensureBucket(client, { ...spec, name: bucket });
  let disposed = false;
  const dispose = async () => {
    if (disposed) return;
    disposed = true;
    try {
      await emptyBucket(client, bucket);
      await client.send(new DeleteBucketCommand({ Bucket: bucket }));
    } finally {
      client.destroy();
    }
  };
  return {
    store,
    bucket,
    backendUrl: s3BackendUrl(store, bucket),
    env: objectStoreEnv(store),
    client,
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}
