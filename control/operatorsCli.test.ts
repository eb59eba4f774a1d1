/** `mindroom-ops operators` through the real CLI and a real Postgres, audited. */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestDatabase, testDatabase } from "../testing/database.ts";

const OPS = resolve(import.meta.dirname, "..", "bin", "mindroom-ops");
let db: TestDatabase;
const dataDir = mkdtempSync(join(tmpdir(), "operators-cli-"));

const ops = (...args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    execFile(
      OPS,
      ["operators", ...args],
      {
        env: {
          ...process.env,
          DATABASE_URL: db.url,
          MINDROOM_DATA_DIR: dataDir,
          MINDROOM_OPERATOR: "founder",
        },
        timeout: 60_000,
      },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });

beforeAll(async () => {
  db = await testDatabase();
  await db.pool.query("insert into auth.users (id, email) values ($1, 'Grace@Example.com')", [randomUUID()]);
});
afterAll(async () => {
  await db?.close();
});

describe("mindroom-ops operators", () => {
  it("grants the role to a signed-up account, once, with an audit row", async () => {
    expect(await ops("add", "grace@example.com", "--reason", "first operator")).toMatchObject({
      code: 0,
      stdout: "Grace@Example.com is now an operator\n",
    });
    expect((await ops("add", "grace@example.com")).stdout).toBe(
      "Grace@Example.com was an operator already\n",
    );
    const listed = JSON.parse((await ops("list", "--json")).stdout);
    expect(listed).toEqual([expect.objectContaining({ email: "Grace@Example.com" })]);
    expect((await ops("list")).stdout).toMatch(/^EMAIL +SINCE +ACCOUNT\n.*\nGrace@Example.com /);
  });

  it("takes it away again, audited", async () => {
    expect((await ops("remove", "GRACE@example.com")).stdout).toBe(
      "Grace@Example.com is no longer an operator\n",
    );
    expect((await ops("remove", "grace@example.com")).stdout).toBe("Grace@Example.com was not an operator\n");
    const { rows } = await db.pool.query(
      "select actor, action, reason, details->>'email' as email from public.audit_log where action like 'operator.%' order by id",
    );
    expect(rows).toEqual([
      {
        actor: "operator:founder",
        action: "operator.granted",
        reason: "first operator",
        email: "Grace@Example.com",
      },
      { actor: "operator:founder", action: "operator.revoked", reason: null, email: "Grace@Example.com" },
    ]);
  });

  it("names the missing sign-up, and refuses what is not an email", async () => {
    const missing = await ops("add", "nobody@example.com");
    expect(missing.code).toBe(6);
    expect(missing.stderr).toContain(
      "no account signs in as nobody@example.com: they sign up in the portal first",
    );
    expect((await ops("add", "not-an-email")).code).toBe(2);
    expect((await ops("promote", "x@example.com")).code).toBe(2);
  });
});
