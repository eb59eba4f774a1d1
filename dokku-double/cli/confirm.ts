/**
 * The "Potentially Destructive Action" prompts. Without `--force` they read the
 * answer from stdin; over SSH without input that is an immediate EOF, so the
 * command fails with exit 1 and changes nothing.
 */
import type { Ctx } from "./context.ts";
import { exitWith, fail } from "./errors.ts";

/** `common.AskForDestructiveConfirmation` (Go: apps, network, storage), which reads with `fmt.Scanln`. */
export function confirmGo(ctx: Ctx, name: string, objectType: string): void {
  ctx.out.warn("WARNING: Potentially Destructive Action");
  ctx.out.warn(`This command will destroy ${objectType} ${name}.`);
  ctx.out.warn(`To proceed, type "${name}"`);
  ctx.out.write("stdout", "> ");
  const { line, terminated } = ctx.stdin.readLine();
  const words = line
    .trim()
    .split(/\s+/)
    .filter((word) => word !== "");
  if (words.length === 0) fail(terminated ? "unexpected newline" : "EOF");
  if (words.length > 1) fail("expected newline");
  if (words[0] !== name) {
    ctx.out.stderrLine("Confirmation did not match test. Aborted.");
    exitWith(1);
  }
}

/** The service plugins' prompt: `read -rp "> "` under `set -e`, so EOF (even after text) aborts with 1. */
export function confirmBashService(ctx: Ctx, service: string, serviceLabel: string): void {
  ctx.out.warn("WARNING: Potentially Destructive Action");
  ctx.out.warn(`This command will destroy ${service} ${serviceLabel} service.`);
  ctx.out.warn(`To proceed, type "${service}"`);
  ctx.out.line("");
  const { line, terminated } = ctx.stdin.readLine();
  if (!terminated) exitWith(1);
  if (line.replace(/^[ \t]+|[ \t]+$/g, "") !== service) {
    ctx.out.warn(`Confirmation did not match ${service}. Aborted.`);
    exitWith(1);
  }
}
