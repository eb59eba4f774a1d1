/**
 * The local object store against the real MinIO: credentials stay off its
 * command line, buckets are versioned with lifecycle rules, a restart keeps
 * data, port and credentials, the server dies with its owner, and the Pulumi
 * engine keeps a stack's state in it (the S3 state backend, end to end).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  GetBucketLifecycleConfigurationCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
} from "@aws-sdk/client-s3";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace } from "@pulumi/pulumi/automation/index.js";
import { afterAll, describe, expect, it } from "vitest";
import { pulumiCommand, pulumiEnv } from "../automation/pulumiToolchain.ts";
import { testBucket } from "../testing/objectStore.ts";
import { bucketName, objectStoreIn, s3BackendUrl } from "./endpoint.ts";
import { startObjectStore } from "./server.ts";

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "mindroom-s3-test-"));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    return !/^State:\s+[ZX]/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}

async function until(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 100)))
    if (check()) return true;
  return check();
}

describe("the local object store", { timeout: 120_000 }, () => {
  it("keeps credentials off the command line, in a 0600 file", async () => {
    const dir = tempDir();
    await using store = await startObjectStore({ dir });
    const argv = readFileSync(`/proc/${store.pid}/cmdline`, "utf8").split("\0");
    expect(argv).toContain("server");
    expect(argv.join(" ")).not.toContain(store.secretAccessKey);
    expect(argv.join(" ")).not.toContain(store.accessKeyId);
    expect(statSync(join(dir, "credentials.json")).mode & 0o777).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    // Another process finds the same store through the folder.
    expect(objectStoreIn(dir)).toEqual({
      endpoint: store.endpoint,
      region: store.region,
      accessKeyId: store.accessKeyId,
      secretAccessKey: store.secretAccessKey,
    });
  });

  it("creates versioned buckets with lifecycle rules, idempotently", async () => {
    const dir = tempDir();
    const rule = {
      ID: "old-versions",
      Status: "Enabled" as const,
      Filter: { Prefix: "" },
      NoncurrentVersionExpiration: { NoncurrentDays: 30 },
    };
    await using store = await startObjectStore({ dir, buckets: [{ name: "backups", lifecycle: [rule] }] });
    await store.ensureBucket({ name: "backups", lifecycle: [rule] });
    const s3 = store.client();
    await s3.send(new PutObjectCommand({ Bucket: "backups", Key: "a/b.txt", Body: "one" }));
    await s3.send(new PutObjectCommand({ Bucket: "backups", Key: "a/b.txt", Body: "two" }));
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: "backups", Prefix: "a/" }));
    expect(versions.Versions?.length).toBe(2);
    const lifecycle = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: "backups" }));
    expect(lifecycle.Rules?.map((r) => [r.ID, r.NoncurrentVersionExpiration?.NoncurrentDays])).toEqual([
      ["old-versions", 30],
    ]);
  });

  it("refuses bucket names outside S3's grammar", () => {
    for (const bad of ["ab", "Upper", "a..b", "-lead", "trail-", "192.168.0.1", "a/b", "a b", "x".repeat(64)])
      expect(bucketName.safeParse(bad).success, bad).toBe(false);
    for (const good of ["abc", "mindroom-state", "a.b-c.1"]) expect(bucketName.parse(good)).toBe(good);
    expect(() => s3BackendUrl({ endpoint: "http://x", region: "r" }, "Bad_Bucket")).toThrow(/bucket name/);
  });

  it("keeps data, port and credentials across a restart", async () => {
    const dir = tempDir();
    const first = await startObjectStore({ dir, buckets: [{ name: "kept" }] });
    await first.client().send(new PutObjectCommand({ Bucket: "kept", Key: "k", Body: "v" }));
    await first.stop();
    expect(alive(first.pid as number)).toBe(false);
    await using second = await startObjectStore({ dir });
    expect([second.endpoint, second.accessKeyId]).toEqual([first.endpoint, first.accessKeyId]);
    const got = await second.client().send(new GetObjectCommand({ Bucket: "kept", Key: "k" }));
    expect(await got.Body?.transformToString()).toBe("v");
  });

  it("dies with the process that started it, even on SIGKILL", async () => {
    const dir = tempDir();
    const owner = spawn(
      process.execPath,
      [
        "--input-type=module",
        "-e",
        `const { startObjectStore } = await import(${JSON.stringify(join(import.meta.dirname, "server.ts"))});
         const store = await startObjectStore({ dir: ${JSON.stringify(dir)} });
         process.stdout.write(String(store.pid) + "\\n");
         setInterval(() => {}, 1000);`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    const pid = await new Promise<number>((resolve, reject) => {
      owner.stdout.once("data", (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
      owner.once("exit", (code) => reject(new Error(`owner exited with ${code}`)));
    });
    expect(alive(pid)).toBe(true);
    owner.kill("SIGKILL");
    expect(await until(() => !alive(pid), 10_000)).toBe(true);
  });
});

describe("Pulumi's S3 state backend on the local object store", { timeout: 300_000 }, () => {
  it("keeps a stack's state, readable from a second workspace (another machine)", async () => {
    await using bucket = await testBucket();
    const project = "s3-backend-test";
    const program = async () => ({ greeting: "hello from s3", secret: pulumi.secret("s3cr3t") });
    const open = async (create: boolean) => {
      const args = { projectName: project, stackName: "one", program };
      const options = {
        pulumiCommand: await pulumiCommand(),
        workDir: tempDir(),
        projectSettings: { name: project, runtime: "nodejs" as const, backend: { url: bucket.backendUrl } },
        envVars: { ...pulumiEnv(), ...bucket.env, PULUMI_CONFIG_PASSPHRASE: "s3-test" },
      };
      return create ? LocalWorkspace.createStack(args, options) : LocalWorkspace.selectStack(args, options);
    };
    const stack = await open(true);
    const up = await stack.up();
    expect(up.outputs.greeting?.value).toBe("hello from s3");

    const listed = await bucket.client.send(
      new ListObjectsV2Command({ Bucket: bucket.bucket, Prefix: ".pulumi/" }),
    );
    expect(listed.Contents?.map((o) => o.Key)).toEqual(
      expect.arrayContaining([
        ".pulumi/meta.yaml",
        expect.stringMatching(/^\.pulumi\/stacks\/s3-backend-test\/one\.json/),
      ]),
    );

    // A fresh folder, as on another machine: no stack config file, same backend and passphrase.
    const elsewhere = await open(false);
    const outputs = await elsewhere.outputs();
    expect([outputs.greeting?.value, outputs.secret?.value]).toEqual(["hello from s3", "s3cr3t"]);
    await elsewhere.destroy();
    await elsewhere.workspace.removeStack("one");
  });
});
