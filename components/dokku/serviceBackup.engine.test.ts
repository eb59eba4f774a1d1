/**
 * Backup credentials reach the Dokku host without ever being a process
 * argument: the real engine runs the service backup component on the test
 * host while every program started there is recorded with its argv (strace on
 * the host's sshd) beside Dokku's own command log. The plugin's credential
 * files hold the keys, readable by the dokku user only, and the plugin's
 * `:backup` finds them.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { userInfo } from "node:os";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, describe, expect, it } from "vitest";
import type { ExecRecord } from "../../dokku-double/execTrace.ts";
import { runDokku } from "../../testing/dokkuClient.ts";
import { dokkuTarget } from "../../testing/dokkuTarget.ts";
import { type EngineStack, engineStack, hostKeyOf } from "../../testing/engineStack.ts";
import type { DokkuHost } from "./host.ts";
import { DokkuNetwork } from "./network.ts";
import { DokkuService } from "./service.ts";
import { DokkuServiceBackup } from "./serviceBackup.ts";

const target = dokkuTarget();
const suffix = `${process.pid.toString(36)}${Date.now().toString(36)}`;
const service = `bk-${suffix}`;
const network = `bk-net-${suffix}`;
const bucket = "mindroom-backups/tenants/bk/postgres";

function credentials() {
  return {
    accessKeyId: `AKIA${randomBytes(8).toString("hex").toUpperCase()}`,
    secret: randomBytes(20).toString("base64url"),
  };
}

/** The keys the next `up` applies (the inline program reads them on every run). */
let current = credentials();

function program() {
  return async () => {
    const keys = current;
    const host: DokkuHost = {
      host: target.host,
      port: target.port,
      user: "root",
      privateKey: pulumi.secret(readFileSync(target.keyPath, "utf8")),
      hostKey: hostKeyOf(target),
    };
    const net = new DokkuNetwork("net", { host, network });
    const db = new DokkuService(
      "db",
      { host, kind: "postgres", service, network, retainData: false },
      { dependsOn: [net] },
    );
    new DokkuServiceBackup("backup", {
      host,
      service: db,
      destination: bucket,
      region: "eu-central-1",
      schedule: "0 */6 * * *",
      accessKeyId: pulumi.secret(keys.accessKeyId),
      secretAccessKey: pulumi.secret(keys.secret),
    });
    return {};
  };
}

async function dokkuOut(command: string): Promise<string> {
  const result = await runDokku(target, command, { quiet: true });
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
  return result.stdout.trim();
}

/** Every place a secret could have shown up as a process argument. */
function argvMentions(
  execs: readonly ExecRecord[],
  logged: readonly { argv: string[]; raw: string | null }[],
  secret: string,
) {
  return [
    ...execs.filter((e) => e.argv.some((a) => a.includes(secret))).map((e) => e.argv.join(" ")),
    ...logged
      .filter((c) => [...c.argv, c.raw ?? ""].some((a) => a.includes(secret)))
      .map((c) => c.argv.join(" ")),
  ];
}

describe.skipIf(!target.isProjectHost || userInfo().uid !== 0)(
  "backup credentials on the Dokku host",
  { timeout: 600_000 },
  () => {
    let engine: EngineStack | undefined;
    afterAll(async () => {
      if (!engine) return;
      await engine.stack.destroy();
      engine.dispose();
    });

    it("reach the plugin's files on stdin, never in any process's argv, and converge on new keys", async () => {
      engine = await engineStack("backup-secrets", `bk-${suffix}`, program());
      // A first run, then a rotation of both keys (an update in place).
      for (const keys of [current, credentials()]) {
        current = keys;
        const before = (await target.commandLog?.())?.length ?? 0;
        const trace = await target.execTrace?.();
        const up = await engine.stack.up();
        const execs = (await trace?.stop()) ?? [];
        const logged = ((await target.commandLog?.()) ?? []).slice(before);
        expect(up.summary.result).toBe("succeeded");

        // The trace saw the session's programs: the shell, dokku, and the writer of each file.
        expect(execs.some((e) => e.argv.includes("postgres:backup-deauth"))).toBe(true);
        expect(
          execs.filter((e) => e.argv[0] === "sh" && e.argv.some((a) => a.endsWith("/AWS_SECRET_ACCESS_KEY"))),
        ).toHaveLength(1);
        expect(argvMentions(execs, logged, keys.secret)).toEqual([]);
        expect(argvMentions(execs, logged, keys.accessKeyId)).toEqual([]);

        const root = await dokkuOut(`postgres:info ${service} --service-root`);
        const file = `${root}/backup/AWS_SECRET_ACCESS_KEY`;
        expect(readFileSync(file, "utf8")).toBe(`${keys.secret}\n`);
        expect(readFileSync(`${root}/backup/AWS_ACCESS_KEY_ID`, "utf8")).toBe(`${keys.accessKeyId}\n`);
        expect(readFileSync(`${root}/backup/AWS_DEFAULT_REGION`, "utf8")).toBe("eu-central-1\n");
        const dokkuUid = Number(statSync(root).uid);
        for (const path of [file, `${root}/backup/AWS_ACCESS_KEY_ID`]) {
          expect(statSync(path).mode & 0o777, path).toBe(0o600);
          expect(statSync(path).uid, path).toBe(dokkuUid);
        }
        expect(statSync(`${root}/backup`).mode & 0o777).toBe(0o700);
        // The plugin's own backup finds the credentials it needs.
        await dokkuOut(`postgres:backup ${service} ${bucket}`);
        expect(await dokkuOut(`postgres:backup-schedule-cat ${service}`)).toContain(
          `postgres:backup ${service} ${bucket}`,
        );
      }
    });
  },
);
