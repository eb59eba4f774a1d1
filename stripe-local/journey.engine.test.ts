/**
 * `bin/mindroom-stripe journey all` as the README has a newcomer run it, against a real platform:
 * the webhook service and its worker (real Pulumi engine on the Dokku test host) behind the local
 * Stripe API's webhook. Each step waits until the platform has acted and prints what the customer
 * now has (running with URLs, upgraded, past due, suspended, resumed, deletion scheduled); then
 * `bin/mindroom-ops list` shows the tenant. `--json` carries the same reports.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, expect, test } from "vitest";
import type { TestDatabase } from "../testing/database.ts";
import { dokkuTarget } from "../testing/dokkuTarget.ts";
import type { LocalStripe } from "../testing/stripeLocal.ts";
import { startStripePipeline } from "../testing/stripePipeline.ts";
import { automationEnvironment, type WebhookServiceChild } from "../testing/webhookService.ts";
import type { JourneyStep } from "./journey.ts";

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, "..");
const target = dokkuTarget();
const dataDir = mkdtempSync(join(tmpdir(), "mindroom-journey-"));
let db: TestDatabase;
let local: LocalStripe;
let service: WebhookServiceChild;

beforeAll(async () => {
  ({ db, stripe: local, service } = await startStripePipeline({ dataDir, target, deletionGrace: "1h" }));
});

afterAll(async () => {
  await service?.stop();
  await local?.stop();
  await db?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

async function bin(name: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(join(ROOT, "bin", name), args, {
      env: {
        ...process.env,
        ...automationEnvironment({ dataDir, target }),
        DATABASE_URL: db.url,
        STRIPE_API_BASE: local.url,
      },
      timeout: 1_200_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

test("the README's journey waits for the platform at every step and shows what the customer has", {
  timeout: 1_500_000,
}, async () => {
  const email = `newcomer-${randomUUID().slice(0, 6)}@example.com`;
  const journey = await bin("mindroom-stripe", ["journey", "all", "--email", email]);
  expect(journey.stderr).toBe("");
  expect(journey.code).toBe(0);
  const out = journey.stdout;
  const slug = /now \(checkout, after [\d.]+ s\): running \(([a-z0-9-]+), starter\)/.exec(out)?.[1];
  expect(slug, out).toBeDefined();
  expect(out).toContain(
    `running (${slug}, starter) at https://${slug}.mindroom.test (api https://${slug}.api.mindroom.test, matrix https://${slug}.matrix.mindroom.test)`,
  );
  // Progress while the engine works, then each step's outcome, in order.
  expect(out).toMatch(/… checkout: provisioning: up running, \d+ of \d+ steps/);
  const outcomes = [...out.matchAll(/now \(([a-z ]+), after [\d.]+ s\): (.*)/g)].map((m) => [m[1], m[2]]);
  expect(outcomes.map(([after]) => after)).toEqual([
    "checkout",
    "upgrade",
    "payment failed",
    "retries exhausted",
    "resubscribe",
    "cancel",
  ]);
  expect(outcomes[1]?.[1]).toMatch(new RegExp(`^running \\(${slug}, professional\\)`));
  expect(outcomes[2]?.[1]).toMatch(/; warning: payment past due/);
  expect(outcomes[3]?.[1]).toBe(`suspended (${slug}, professional); data kept`);
  expect(outcomes[4]?.[1]).toMatch(new RegExp(`^running \\(${slug}, professional\\) at https://`));
  expect(outcomes[5]?.[1]).toMatch(
    new RegExp(
      `^suspended, deletion scheduled for \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z \\(${slug}, professional\\)`,
    ),
  );

  // The operator sees the tenant the journey created.
  const list = await bin("mindroom-ops", ["list", "--json"]);
  expect(list.code, list.stderr).toBe(0);
  expect(list.stdout).toContain(`"${slug}"`);

  // --json: the same reports, machine-readable. With no live subscription, resubscribing is a new
  // checkout, which resumes the tenant on the starter plan and cancels its deletion.
  const again = await bin("mindroom-stripe", ["journey", "resubscribe", "--email", email, "--json"]);
  expect(again.code, again.stderr).toBe(0);
  const parsed = JSON.parse(again.stdout) as { ok: boolean; steps: JourneyStep[] };
  expect(parsed.ok).toBe(true);
  expect(
    parsed.steps[0]?.platform.map((p) => [p.after, p.tenant.actualState, p.tenant.deletionDueAt]),
  ).toEqual([["checkout", "running", null]]);
  expect(parsed.steps[0]?.platform[0]?.tenant.urls?.app).toBe(`https://${slug}.mindroom.test`);

  // Leave the shared test host as it was.
  const destroyed = await bin("mindroom-ops", ["destroy", slug as string, "--yes"]);
  expect(destroyed.code, destroyed.stderr).toBe(0);
});
