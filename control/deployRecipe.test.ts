/**
 * The deploy recipe does what it says: the Procfile runs `./platform serve`, app.json's
 * pre-deploy step migrates a database (the real runner, on a fresh database), its health check
 * command tells a ready part from one that is not, and the image is built by the setup script
 * everything else uses.
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import { resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMigrations } from "../database/migrate.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { freePort } from "../testing/freePort.ts";

const ROOT = resolve(import.meta.dirname, "..");
const read = (file: string) => readFileSync(resolve(ROOT, file), "utf8");

interface AppJson {
  scripts: { dokku: { predeploy: string } };
  healthchecks: { web: { type: string; command: string[] }[] };
}
const appJson = JSON.parse(read("app.json")) as AppJson;

function run(command: string[], env: NodeJS.ProcessEnv) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    execFile(
      command[0] as string,
      command.slice(1),
      { cwd: ROOT, env, timeout: 300_000 },
      (error, stdout, stderr) => done({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

let db: TestDatabase;
let freshUrl: string;
const freshName = `deploy_${randomBytes(4).toString("hex")}`;

beforeAll(async () => {
  db = await testDatabase();
  await db.pool.query(`create database ${freshName}`);
  const url = new URL(db.url);
  url.pathname = `/${freshName}`;
  freshUrl = url.toString();
});

afterAll(async () => {
  await db?.pool.query(`drop database if exists ${freshName} with (force)`);
  await db?.close();
});

describe("the deploy recipe", () => {
  it("runs ./platform serve in every app, the part chosen by MINDROOM_SERVE_ONLY", () => {
    expect(read("Procfile").trim()).toBe("web: ./platform serve");
    expect(read("control/serve.ts")).toContain("env.MINDROOM_SERVE_ONLY");
  });

  it("builds the image with the same setup script as everything else", () => {
    const dockerfile = read("Dockerfile");
    expect(dockerfile).toMatch(/^RUN \.\/platform setup \\$/m);
    expect(dockerfile).toContain("./platform setup --providers");
    expect(dockerfile).toContain('CMD ["./platform", "serve"]');
  });

  it("migrates before a deploy: all migrations on a fresh database, then nothing", async () => {
    const command = appJson.scripts.dokku.predeploy.split(" ");
    expect(command).toEqual(["bin/mindroom-ops", "migrate"]);
    const env = { ...process.env, DATABASE_URL: freshUrl };
    const first = await run([...command, "--json"], env);
    expect(first.code, first.stderr).toBe(0);
    const versions = readMigrations().map((m) => m.version);
    const applied = (JSON.parse(first.stdout) as { applied: string[] }).applied;
    expect(applied.map((a) => a.slice(0, 14))).toEqual(versions);
    const again = await run(command, env);
    expect(again.stdout).toBe(`up to date (${versions.length} migrations applied before)\n`);
  });

  it("health-checks the part the app serves", async () => {
    const [check] = appJson.healthchecks.web;
    expect(check?.type).toBe("startup");
    const command = check?.command as string[];
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, MINDROOM_SERVE_ONLY: "webhooks", PORT: String(port) };
    delete env.MINDROOM_WEBHOOKS_PORT;
    expect((await run(command, env)).code).toBe(1);
    const server = createServer((req, res) => {
      res.statusCode = req.url === "/readyz" ? 200 : 404;
      res.end();
    });
    await new Promise<void>((ready) => server.listen(port, "127.0.0.1", ready));
    try {
      const ready = await run(command, env);
      expect(ready.code, ready.stdout).toBe(0);
      expect(ready.stdout).toBe("webhooks /readyz: 200\n");
      // The portal app checks its sign-in page, which this server does not have.
      expect((await run(command, { ...env, MINDROOM_SERVE_ONLY: "portal" })).code).toBe(1);
    } finally {
      server.close();
    }
  });
});
