/**
 * The service as deployed: `startWebhookService` on a real database, graceful shutdown with a
 * request in flight, and the `mindroom-webhooks` CLI in a child process (usage errors, bad
 * configuration, serve until SIGTERM).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../logging/logger.ts";
import { inheritedMarkers } from "../processes/markers.ts";
import { buildEvent, signedDelivery } from "../stripe-local/events.ts";
import { type TestDatabase, testDatabase } from "../testing/database.ts";
import { startWebhookService } from "./main.ts";
import { loadWebhookSettings } from "./settings.ts";

const SECRET = "whsec_main_test";
const BIN = join(import.meta.dirname, "..", "bin", "mindroom-webhooks");

let db: TestDatabase;

beforeAll(async () => {
  db = await testDatabase();
});

afterAll(async () => {
  await db?.close();
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return {
    MINDROOM_DATA_DIR: mkdtempSync(join(tmpdir(), "webhooks-main-")),
    DATABASE_URL: db.url,
    STRIPE_WEBHOOK_SECRET: SECRET,
    MINDROOM_WEBHOOKS_PORT: "0",
    MINDROOM_METRICS_PORT: "0",
    ...extra,
  };
}

function delivery(customer: string) {
  return signedDelivery(
    buildEvent({ type: "invoice.paid", object: { id: `in_${customer}`, object: "invoice", customer } }),
    SECRET,
  );
}

describe("startWebhookService", () => {
  it("serves on the configured database and, on close, finishes a request already in flight", async () => {
    const lines: string[] = [];
    const service = await startWebhookService(loadWebhookSettings(env()), {
      worker: false,
      logger: createLogger({ stream: { write: (line: string) => lines.push(line) > 0 } }),
    });
    expect(service.database.embedded).toBe(false);
    const ready = await fetch(`${service.url}/readyz`);
    expect(ready.status).toBe(200);

    // Half a request is on the wire when shutdown starts; it must still be recorded and answered.
    const d = delivery("cus_inflight");
    const body = Buffer.from(d.body);
    const answer = new Promise<number>((resolve, reject) => {
      const req = request(
        `${service.url}/stripe/webhook`,
        { method: "POST", headers: { ...d.headers, "content-length": String(body.length) } },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      );
      req.on("error", reject);
      req.write(body.subarray(0, 50), () => {
        closing = service.close();
        setTimeout(() => req.end(body.subarray(50)), 200);
      });
    });
    let closing: Promise<void> | undefined;
    expect(await answer).toBe(200);
    await closing;
    const { rows } = await db.pool.query("select customer_id from public.stripe_events");
    expect(rows).toEqual([{ customer_id: "cus_inflight" }]);
    // Closed: nothing listens any more.
    await expect(fetch(`${service.url}/healthz`)).rejects.toThrow();
    const messages = lines.map((line) => JSON.parse(line).msg);
    expect(messages).toContain("webhook service started");
    expect(messages.at(-1)).toBe("webhook service stopped");
  });
});

describe("mindroom-webhooks", () => {
  function run(args: string[], environment: Record<string, string>) {
    const child = spawn(BIN, args, {
      // A clean environment but the markers: the suite's leftover scan finds the service if it outlives the test.
      env: {
        PATH: process.env.PATH ?? "",
        HOME: process.env.HOME ?? "/root",
        ...inheritedMarkers(),
        ...environment,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const exit = new Promise<number | null>((resolve) => child.once("exit", resolve));
    return { child, exit, output: () => ({ stdout, stderr }) };
  }

  it("prints usage for --help (0) and refuses unknown commands (2)", async () => {
    const help = run(["--help"], env());
    expect(await help.exit).toBe(0);
    expect(help.output().stdout).toContain("Usage: mindroom-webhooks serve");
    const wrong = run(["listen"], env());
    expect(await wrong.exit).toBe(2);
    expect(wrong.output().stderr).toContain("unknown command listen");
  });

  it("names the variable when the configuration is wrong (1), without echoing it", async () => {
    const bad = run(["serve", "--no-worker"], env({ STRIPE_WEBHOOK_SECRET: "not-a-whsec-value" }));
    expect(await bad.exit).toBe(1);
    expect(bad.output().stderr).toContain("STRIPE_WEBHOOK_SECRET must be a webhook signing secret");
    expect(bad.output().stderr).not.toContain("not-a-whsec-value");
  });

  it("serves until SIGTERM, then drains and exits 0, logging JSON without secrets", async () => {
    const serve: { child: ChildProcess; exit: Promise<number | null>; output: () => { stdout: string } } =
      run(["serve", "--no-worker", "--json"], env());
    let url: string | undefined;
    for (let i = 0; i < 600 && !url; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      const started = serve
        .output()
        .stdout.split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line))
        .find((line) => line.msg === "webhook service started");
      url = started?.url;
    }
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const d = delivery("cus_cli");
    const response = await fetch(`${url}/stripe/webhook`, {
      method: "POST",
      body: d.body,
      headers: d.headers,
    });
    expect(response.status).toBe(200);
    serve.child.kill("SIGTERM");
    expect(await serve.exit).toBe(0);
    const lines = serve
      .output()
      .stdout.split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    expect(lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining(["webhook service started", "request", "stopping", "webhook service stopped"]),
    );
    expect(lines.find((l) => l.msg === "request")).toMatchObject({ status: 200, eventType: "invoice.paid" });
    const stdout = serve.output().stdout;
    expect(stdout).not.toContain(SECRET);
    expect(stdout).not.toContain(new URL(db.url).password || "no-password-in-url");
  });
});
