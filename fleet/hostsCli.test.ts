/**
 * `mindroom-ops hosts` end to end: the real CLI (bin/mindroom-ops), a real
 * Postgres, and a Dokku test host of its own (its key is regenerated to play a
 * rebuilt or impersonated machine).
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fingerprint } from "../automation/hostProbe.ts";
import { type DokkuHost, startDokkuHost } from "../dokku-double/host.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { runDokku } from "../testing/dokkuClient.ts";

const isRoot = process.getuid?.() === 0;
const OPS = resolve(import.meta.dirname, "..", "bin", "mindroom-ops");

describe.skipIf(!isRoot)(`mindroom-ops hosts${isRoot ? "" : " (skipped: needs root to run sshd)"}`, () => {
  let db: TestDatabase;
  let host: DokkuHost;
  let hostDir: string;
  let dataDir: string;
  let url: string;

  const run = (file: string, args: string[], input?: string) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
      const child = execFile(
        file,
        args,
        {
          env: {
            ...process.env,
            DATABASE_URL: db.url,
            DOKKU_SSH_KEY: host.keyPath,
            MINDROOM_DATA_DIR: dataDir,
            MINDROOM_OPERATOR: "ops@example.com",
          },
          timeout: 120_000,
        },
        (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
      child.stdin?.end(input ?? "");
    });
  const ops = (args: string[]) => run(OPS, ["hosts", ...args]);
  /** In a terminal (script(1), from Debian's essential bsdutils), answering its prompt with `answer`. */
  const opsInTerminal = (args: string[], answer: string) =>
    run("script", ["-qec", [OPS, "hosts", ...args].map((a) => `'${a}'`).join(" "), "/dev/null"], answer);

  beforeAll(async () => {
    db = await testDatabase();
    dataDir = mkdtempSync(join(tmpdir(), "hosts-cli-"));
    mkdirSync("/run/dokku-double", { recursive: true, mode: 0o755 });
    hostDir = mkdtempSync("/run/dokku-double/hosts-cli-");
    host = await startDokkuHost({ dir: hostDir });
    url = `ssh://root@127.0.0.1:${host.port}`;
  });
  afterAll(async () => {
    await host?.stop();
    await db?.close();
    rmSync(hostDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("refuses a key nobody confirmed (declined: 8, no terminal to ask in: 2), and one with another fingerprint", async () => {
    const print = fingerprint(host.hostPublicKey);
    const declined = await opsInTerminal(["add", url], "n\n");
    expect(declined.stdout).toContain(`presents the host key ssh-ed25519 ${print}`);
    expect(declined.stdout).toContain(`(${print}) was not confirmed: nothing was added`);
    expect(declined.code, declined.stdout).toBe(8);
    const unconfirmed = await ops(["add", url]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain(`(${print}) must be confirmed and there is no terminal to ask in`);
    const wrong = await ops([
      "add",
      url,
      "--fingerprint",
      "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("refusing the key");
    expect(JSON.parse((await ops(["list", "--json"])).stdout)).toEqual([]);
  });

  it("adds a host: key pinned (by fingerprint), capacity measured, readiness checked", async () => {
    const added = await ops([
      "add",
      `ssh://root@127.0.0.1:${host.port}`,
      "--fingerprint",
      fingerprint(host.hostPublicKey),
      "--json",
    ]);
    expect(added.code, added.stderr).toBe(0);
    const view = JSON.parse(added.stdout);
    expect(view).toMatchObject({
      url,
      address: "127.0.0.1",
      hostKey: host.hostPublicKey,
      pinned: "new",
      schedule: "active",
      // A fresh double has the plugins but neither the renewal cron nor a global domain.
      readiness: { ready: false, dokkuVersion: "0.38.27", autorenew: false },
      schedulable: false,
    });
    expect(view.readiness.plugins).toEqual({ postgres: "1.48.0", redis: "1.43.0", letsencrypt: "0.25.1" });
    expect(view.cpus).toBeGreaterThan(0);
    expect(view.memoryMb).toBeLessThan(view.totalMemoryMb);
    const { rows } = await db.pool.query(
      "select actor, action from public.audit_log where details->>'url' = $1",
      [url],
    );
    expect(rows).toEqual([{ actor: "operator:ops@example.com", action: "host.added" }]);
  });

  it("a host whose problems are fixed becomes ready on its next check", async () => {
    const asRoot = (c: string) => runDokku({ ...host, user: "root" }, `dokku ${c}`);
    expect((await asRoot("letsencrypt:cron-job --add")).code).toBe(0);
    expect((await asRoot("domains:set-global tenants.example.com")).code).toBe(0);
    const check = await ops(["check", url, "--json"]);
    expect(check.code, check.stderr).toBe(0);
    expect(JSON.parse(check.stdout)).toMatchObject({ schedulable: true, readiness: { ready: true } });
  });

  it("cordons, uncordons and drains, and lists it all", async () => {
    expect((await ops(["cordon", url, "--reason", "kernel update"])).code).toBe(0);
    let [listed] = JSON.parse((await ops(["list", "--json"])).stdout);
    expect(listed).toMatchObject({
      schedule: "cordoned",
      scheduleReason: "kernel update",
      schedulable: false,
    });
    expect((await ops(["uncordon", url])).code).toBe(0);
    const drain = await ops(["drain", url]);
    expect(drain.stdout).toContain("is drained: no tenants left");
    [listed] = JSON.parse((await ops(["list", "--json"])).stdout);
    expect(listed).toMatchObject({ schedule: "draining", schedulable: false, tenants: [] });
    const table = await ops(["list"]);
    expect(table.stdout).toMatch(/^HOST +ADDRESS +MEMORY/);
    expect(table.stdout).toContain(fingerprint(host.hostPublicKey));
    expect((await ops(["cordon", "ssh://root@nowhere.example.com"])).code).toBe(6);
    expect((await ops(["cordon", "dokku@nowhere"])).code).toBe(2);
  });

  it("refuses a changed host key afterwards, for add and for check", async () => {
    const pinned = host.hostPublicKey;
    await host.stop();
    rmSync(join(hostDir, "ssh", "ssh_host_ed25519_key"), { force: true });
    rmSync(join(hostDir, "ssh", "ssh_host_ed25519_key.pub"), { force: true });
    host = await startDokkuHost({ dir: hostDir, port: host.port });
    expect(host.hostPublicKey).not.toBe(pinned);
    const again = await ops(["add", url, "--yes"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("presents a different host key than the one pinned");
    expect(again.stderr).toContain(fingerprint(host.hostPublicKey));
    const check = await ops(["check", url]);
    expect(check.code).toBe(1);
    const [listed] = JSON.parse((await ops(["list", "--json"])).stdout);
    expect(listed.hostKey).toBe(pinned);
  });

  it("removes a host no tenant lives on", async () => {
    expect((await ops(["remove", url])).code).toBe(0);
    expect(JSON.parse((await ops(["list", "--json"])).stdout)).toEqual([]);
  });
});
