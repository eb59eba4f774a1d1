/**
 * The configuration catalog is complete and `.env.example` is its current
 * rendering: every variable a settings module reads is listed, with what unset means.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_KEYS, envExample } from "./configuration.ts";

const ROOT = resolve(import.meta.dirname, "..");

/** Variables read by code that is not configuration of the control plane. */
const NOT_CONFIGURATION = new Set([
  "PATH",
  "TMPDIR",
  "HOME",
  "NODE_OPTIONS",
  "NODE_ENV",
  // Terminal conventions every CLI follows (colour, dumb terminals), not settings of ours.
  "NO_COLOR",
  "FORCE_COLOR",
  "TERM",
  // The toolchain's own overrides (benchmarks and CI point them elsewhere).
  "MINDROOM_TOOLS_DIR",
  "MINDROOM_PULUMI_ROOT",
  "MINDROOM_MINIO_BIN",
  // Read only to refuse it (replaced by MINDROOM_TRUSTED_PROXIES).
  "MINDROOM_WEBHOOKS_TRUST_PROXY",
  // The portal's ops CLI (the portal no longer runs it) and tests' switches.
  "MINDROOM_TEST_SERVICE_LOGS",
]);

/** Every `env.NAME` / `process.env.NAME` / zod schema key read by production code. */
function namesReadByProductionCode(): Set<string> {
  const files = execFileSync("git", ["ls-files", "*.ts"], { cwd: ROOT, encoding: "utf8" })
    .split("\n")
    .filter(
      (f) =>
        f !== "" &&
        !f.endsWith(".test.ts") &&
        !/^(testing|stripe-local|dokku-double|bench|auth-server|portal\/tests)\//.test(f),
    );
  const names = new Set<string>();
  for (const file of files) {
    const text = readFileSync(resolve(ROOT, file), "utf8");
    for (const m of text.matchAll(/\benv\.([A-Z][A-Z0-9_]{2,})\b/g)) names.add(m[1] as string);
    for (const m of text.matchAll(/\benv\[["']([A-Z][A-Z0-9_]{2,})["']\]/g)) names.add(m[1] as string);
    // zod schemas over the environment: `  NAME: optional(…)` / `  NAME: z.…`.
    for (const m of text.matchAll(/^\s+([A-Z][A-Z0-9]*_[A-Z0-9_]+): (?:optional\(|z\.|url)/gm))
      names.add(m[1] as string);
  }
  return names;
}

describe("the configuration catalog", () => {
  it("lists every variable the control plane reads", () => {
    const listed = new Set(CONFIG_KEYS.map((k) => k.name));
    const missing = [...namesReadByProductionCode()].filter(
      (name) => !listed.has(name) && !NOT_CONFIGURATION.has(name) && !name.startsWith("MINDROOM_TEST_"),
    );
    expect(missing).toEqual([]);
  });

  it("has each key once, described, with what unset means", () => {
    const names = CONFIG_KEYS.map((k) => k.name);
    expect(new Set(names).size).toBe(names.length);
    for (const k of CONFIG_KEYS) expect(k.description.length, k.name).toBeGreaterThan(10);
  });

  it("is what .env.example shows (regenerate it with bin/mindroom-ops config example > .env.example)", () => {
    expect(readFileSync(resolve(ROOT, ".env.example"), "utf8")).toBe(envExample());
  });

  it("keeps secret placeholders commented out, so a copied example does not pass for configured", () => {
    const active = envExample()
      .split("\n")
      .filter((line) => /^[A-Z]/.test(line));
    expect(active.filter((line) => line.includes("<"))).toEqual([]);
    for (const k of CONFIG_KEYS.filter((c) => c.secret))
      expect(active.some((line) => line.startsWith(`${k.name}=`))).toBe(false);
  });
});
