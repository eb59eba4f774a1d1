/**
 * Every stack's checkpoint read in one pass from a file backend and from an S3
 * backend (the run's real object store), compressed or not; an unreadable one
 * is reported as such, a backend that cannot be read directly as undefined.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, describe, expect, it } from "vitest";
import { testBucket } from "../testing/objectStore.ts";
import { checkpointNames, readCheckpoints } from "./stackCheckpoints.ts";

const resource = (name: string) => ({
  urn: `urn:pulumi:s::proj::mindroom:dokku:Network::${name}`,
  type: "mindroom:dokku:Network",
  inputs: { network: name },
});
const checkpoint = (name: string, pending = 0) =>
  JSON.stringify({
    version: 3,
    checkpoint: {
      stack: name,
      latest: {
        resources: [resource(name)],
        ...(pending
          ? { pending_operations: Array.from({ length: pending }, () => ({ type: "creating" })) }
          : {}),
      },
    },
  });

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function fileBackend(meta = "version: 1\n"): { url: string; stacks: string } {
  const dir = mkdtempSync(join(tmpdir(), "mindroom-checkpoints-"));
  dirs.push(dir);
  const stacks = join(dir, ".pulumi", "stacks", "proj");
  mkdirSync(stacks, { recursive: true });
  writeFileSync(join(dir, ".pulumi", "meta.yaml"), meta);
  return { url: `file://${dir}`, stacks };
}

describe("checkpointNames", () => {
  it("picks one file per stack, plain before gzip before zstd, ignoring backups and others", () => {
    expect(
      checkpointNames([
        "b.json.zst",
        "a.json.gz",
        "a.json",
        "a.json.bak",
        "b.json.gz",
        "c.json.zst",
        "notes.txt",
      ]),
    ).toEqual(
      new Map([
        ["a", "a.json"],
        ["b", "b.json.gz"],
        ["c", "c.json.zst"],
      ]),
    );
  });
});

describe("readCheckpoints", () => {
  it("reads every stack of a file backend, compressed or not; a torn one is undefined", async () => {
    const { url, stacks } = fileBackend();
    writeFileSync(join(stacks, "plain.json"), checkpoint("plain"));
    writeFileSync(join(stacks, "zipped.json.gz"), gzipSync(checkpoint("zipped", 2)));
    writeFileSync(join(stacks, "zst.json.zst"), zstdCompressSync(checkpoint("zst")));
    writeFileSync(join(stacks, "torn.json"), checkpoint("torn").slice(0, 40));
    const read = await readCheckpoints({ backendUrl: url, env: {} }, "proj");
    expect(read).toEqual(
      new Map([
        ["plain", { resources: [resource("plain")], pendingOperations: 0 }],
        ["zipped", { resources: [resource("zipped")], pendingOperations: 2 }],
        ["zst", { resources: [resource("zst")], pendingOperations: 0 }],
        ["torn", undefined],
      ]),
    );
    expect(await readCheckpoints({ backendUrl: url, env: {} }, "other")).toEqual(new Map());
  });

  it("leaves a legacy layout and other backends to the CLI; an empty backend has no stacks", async () => {
    expect(
      await readCheckpoints({ backendUrl: fileBackend("version: 0\n").url, env: {} }, "proj"),
    ).toBeUndefined();
    expect(await readCheckpoints({ backendUrl: "https://api.pulumi.com", env: {} }, "proj")).toBeUndefined();
    const empty = mkdtempSync(join(tmpdir(), "mindroom-checkpoints-"));
    dirs.push(empty);
    expect(await readCheckpoints({ backendUrl: `file://${empty}`, env: {} }, "proj")).toEqual(new Map());
  });

  it("reads every stack of an S3 backend, below a key prefix too, with the backend's credentials", async () => {
    await using bucket = await testBucket();
    const put = (key: string, body: string | Buffer) =>
      bucket.client.send(new PutObjectCommand({ Bucket: bucket.bucket, Key: key, Body: body }));
    expect(await readCheckpoints({ backendUrl: bucket.backendUrl, env: bucket.env }, "proj")).toEqual(
      new Map(),
    );
    await put(".pulumi/meta.yaml", "version: 1\n");
    await put(".pulumi/stacks/proj/acme.json", checkpoint("acme"));
    await put(".pulumi/stacks/proj/beta.json.gz", gzipSync(checkpoint("beta")));
    await put(".pulumi/stacks/proj/beta.json.bak", "old");
    await put(".pulumi/stacks/other/gamma.json", checkpoint("gamma"));
    await put("team/.pulumi/meta.yaml", "version: 1\n");
    await put("team/.pulumi/stacks/proj/delta.json", checkpoint("delta", 1));
    expect(await readCheckpoints({ backendUrl: bucket.backendUrl, env: bucket.env }, "proj")).toEqual(
      new Map([
        ["acme", { resources: [resource("acme")], pendingOperations: 0 }],
        ["beta", { resources: [resource("beta")], pendingOperations: 0 }],
      ]),
    );
    const prefixed = bucket.backendUrl.replace(`s3://${bucket.bucket}?`, `s3://${bucket.bucket}/team?`);
    expect(await readCheckpoints({ backendUrl: prefixed, env: bucket.env }, "proj")).toEqual(
      new Map([["delta", { resources: [resource("delta")], pendingOperations: 1 }]]),
    );
  });
});
