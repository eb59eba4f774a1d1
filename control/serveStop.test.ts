/**
 * `./platform serve` stops cleanly on SIGTERM (docker stop, systemd, Kubernetes) and SIGINT
 * (Ctrl-C): within 30 s, exit 0, and nothing it started, its reconcile pool worker included,
 * still running afterwards (checked through /proc). Configured like production from the
 * environment alone, against the test database, the local Stripe API and the Dokku test host.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { dokkuTarget } from "../testing/dokkuTarget.ts";
import { freePort } from "../testing/freePort.ts";
import { testMailpit } from "../testing/mailpit.ts";
import { snapshotTree, survivors } from "../testing/processTree.ts";
import { type LocalStripe, stripeLocal } from "../testing/stripeLocal.ts";
import { webhookServiceEnvironment } from "../testing/webhookService.ts";

const SERVE = join(import.meta.dirname, "serve.ts");
const dataDir = mkdtempSync(join(tmpdir(), "mindroom-serve-stop-"));
let db: TestDatabase;
let local: LocalStripe;
let env: NodeJS.ProcessEnv;
const started: ChildProcess[] = [];

beforeAll(async () => {
  db = await testDatabase();
  local = await stripeLocal({ fresh: true });
  const options = {
    databaseUrl: db.url,
    stripe: local,
    webhookSecret: `whsec_${randomBytes(24).toString("hex")}`,
    dataDir,
    target: dokkuTarget(),
    deletionGrace: "30s",
  };
  env = {
    ...process.env,
    ...webhookServiceEnvironment(options, await freePort(), (await testMailpit()).smtpUrl),
  };
});

afterAll(async () => {
  for (const child of started)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  await local?.stop();
  await db?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("./platform serve", () => {
  it.each(["SIGTERM", "SIGINT"] as const)(
    "stops on %s within 30 s, exit 0, leaving no process it started",
    async (signal) => {
      // Not supervised: a tether around it would clean up after it and hide what this test looks for.
      const serve = spawn(process.execPath, [SERVE, "--only", "webhooks"], {
        env,
        stdio: ["ignore", "pipe", "pipe"],
      });
      started.push(serve);
      let output = "";
      const keep = (chunk: Buffer) => {
        output += chunk.toString();
      };
      serve.stdout?.on("data", keep);
      serve.stderr?.on("data", keep);
      const exited = new Promise<number | null>((resolve) => serve.once("exit", (code) => resolve(code)));
      const deadline = Date.now() + 240_000;
      while (!output.includes("(worker running)")) {
        if (serve.exitCode !== null) throw new Error(`serve exited before it was ready:\n${output}`);
        if (Date.now() > deadline) throw new Error(`serve was not ready in time:\n${output}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      const tree = snapshotTree(serve.pid ?? 0);
      // The reconcile pool's worker runs tethered below it: the stop must end it too.
      expect(tree.map((p) => p.command).join("\n")).toMatch(/pool\/worker\.ts/);

      const began = Date.now();
      serve.kill(signal);
      const code = await exited;
      const stopMs = Date.now() - began;
      console.info(`serve: ${signal} stopped it in ${(stopMs / 1000).toFixed(1)} s`);
      expect(stopMs).toBeLessThan(30_000);
      expect(code, output).toBe(0);
      expect(output).toContain(`stopping (${signal})`);
      expect(output).toMatch(/stopped in \d+\.\d s\n/);
      expect(await survivors(tree, 20_000)).toEqual([]);
    },
  );
});
