/**
 * Shared helpers for the double's contract tests. Everything goes over SSH and
 * reads state only through Dokku's own commands, so the same tests run against
 * a real Dokku host (`MINDROOM_TEST_DOKKU`). Names are unique per run so tests
 * never depend on each other or on `reset()`; on an external host the created
 * resources are destroyed again in `afterAll`.
 */
import { randomBytes } from "node:crypto";
import { afterAll, expect } from "vitest";
import { type DokkuResult, type RunOptions, runDokku } from "../testing/dokkuClient.ts";
import { dokkuTarget } from "../testing/dokkuTarget.ts";

export const target = dokkuTarget();

export function dokku(command: string, options?: RunOptions): Promise<DokkuResult> {
  return runDokku(target, command, options);
}

/** Runs a command that must succeed; the failure message carries Dokku's stderr. */
export async function ok(command: string, options?: RunOptions): Promise<DokkuResult> {
  const result = await dokku(command, options);
  expect(result.code, `\`${command}\` failed:\n${result.stderr}${result.stdout}`).toBe(0);
  return result;
}

export async function json<T>(command: string): Promise<T> {
  return JSON.parse((await ok(command)).stdout) as T;
}

const RUN_ID = randomBytes(3).toString("hex");
let counter = 0;

/** A lowercase name valid as app, service, network and storage entry name. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}-${RUN_ID}-${counter}`;
}

type Kind = "app" | "postgres" | "redis" | "network" | "storage";
const created: Array<{ kind: Kind; name: string }> = [];

const DESTROY: Record<Kind, (name: string) => string> = {
  app: (name) => `--force apps:destroy ${name}`,
  postgres: (name) => `postgres:destroy ${name} force`,
  redis: (name) => `redis:destroy ${name} force`,
  network: (name) => `--force network:destroy ${name}`,
  storage: (name) => `--force storage:destroy ${name}`,
};

/** Remembers a resource for cleanup on external hosts (the project host is thrown away anyway). */
export function track(kind: Kind, name: string): string {
  created.push({ kind, name });
  return name;
}

afterAll(async () => {
  if (target.isProjectHost) return;
  // Apps first: they hold service links and storage mounts.
  const order: Kind[] = ["app", "postgres", "redis", "storage", "network"];
  for (const kind of order) {
    await Promise.all(
      created.filter((entry) => entry.kind === kind).map((entry) => dokku(DESTROY[kind](entry.name))),
    );
  }
});

export async function newApp(prefix = "app"): Promise<string> {
  const name = track("app", uniqueName(prefix));
  await ok(`apps:create ${name}`);
  return name;
}

export async function newService(kind: "postgres" | "redis", flags = ""): Promise<string> {
  const name = track(kind, uniqueName(kind === "postgres" ? "pg" : "rd"));
  await ok(`${kind}:create ${name}${flags === "" ? "" : ` ${flags}`}`);
  return name;
}

export const MISSING_APP_EXIT = 20;
