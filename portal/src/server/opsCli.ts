/**
 * The automation layer as operators use it: `bin/mindroom-ops <command> <tenant> --json`, run as a
 * child process (no shell; the slug is one argv entry). Live outputs and previews come from here, so
 * the portal never loads Pulumi itself and long work stays out of its event loop.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { portalSettings } from "./settings.ts";

export class OpsCliError extends Error {
  override readonly name = "OpsCliError";
}

function opsBin(): string {
  const configured = portalSettings().opsBin;
  if (configured) return configured;
  // The portal runs from portal/ or the repository root; the CLI sits in the root's bin/.
  for (let dir = resolve(process.cwd()); ; dir = dirname(dir)) {
    const candidate = join(dir, "bin", "mindroom-ops");
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new OpsCliError("bin/mindroom-ops not found: set MINDROOM_OPS_BIN to the operator CLI");
}

const SLUG = /^[a-z][a-z0-9-]{1,40}$/;

export function runOps(command: "outputs" | "diff", slug: string, timeoutMs = 300_000): Promise<unknown> {
  if (!SLUG.test(slug)) return Promise.reject(new OpsCliError(`not a tenant slug: ${JSON.stringify(slug)}`));
  return new Promise((done, fail) => {
    execFile(
      opsBin(),
      [command, slug, "--json"],
      { timeout: timeoutMs, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        if (error) {
          // The CLI's stderr names the problem (no stack, no secrets); keep its last line for the operator.
          const line = stderr.trim().split("\n").filter(Boolean).at(-1) ?? error.message;
          fail(new OpsCliError(`mindroom-ops ${command} failed: ${line}`));
          return;
        }
        try {
          done(JSON.parse(stdout));
        } catch {
          fail(new OpsCliError(`mindroom-ops ${command} printed something that is not JSON`));
        }
      },
    );
  });
}
