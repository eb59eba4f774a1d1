/**
 * A service's data, as `<kind>:export` and `<kind>:import` move it: upstream
 * runs `pg_dump -Fc` (`redis-cli --rdb`) in the container and writes the dump
 * to stdout, and `pg_restore -cO --if-exists` (an `.rdb` copy) from stdin. No
 * database runs here, so the dump itself is the service's data: a real file in
 * the service's data folder (`<service-root>/data/dump`), replaced whole by an
 * import and printed byte for byte by an export. A new service holds an empty
 * dump, so a test can tell "nothing imported" from "imported".
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { CommandHandler } from "./commands.ts";
import type { Ctx } from "./context.ts";
import { exitWith, fail } from "./errors.ts";
import { requireServiceName, type ServiceKind, serviceRoot, verifyService } from "./serviceKinds.ts";

function dumpPath(kind: ServiceKind, service: string): string {
  return `${serviceRoot(kind, service)}/data/dump`;
}

/** What an empty database exports: the format's magic and the service's name. */
export function emptyDump(kind: ServiceKind, service: string): Buffer {
  return Buffer.from(
    `${kind.prefix === "postgres" ? "PGDMP" : "REDIS0011"} empty ${kind.prefix} ${service}\n`,
  );
}

function exportData(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const service = args[0] ?? "";
    requireServiceName(service);
    const state = verifyService(ctx, kind, service);
    if (state.status !== "running") fail(`Service container is not running: ${service}`);
    const path = dumpPath(kind, service);
    ctx.out.writeBytes("stdout", existsSync(path) ? readFileSync(path) : emptyDump(kind, service));
  };
}

function importData(kind: ServiceKind) {
  return (ctx: Ctx, args: string[]): void => {
    const service = args[0] ?? "";
    requireServiceName(service);
    const state = verifyService(ctx, kind, service);
    if (ctx.stdin.isTty()) fail("No data provided on stdin.");
    if (state.status !== "running") fail(`Service container is not running: ${service}`);
    const data = ctx.stdin.readAll();
    if (data.length === 0) {
      // Upstream pipes the (empty) stdin into the restore tool, which refuses it.
      ctx.out.stderrLine(
        kind.prefix === "postgres"
          ? "pg_restore: error: input file is too short (read 0, expected 5)"
          : "Error: empty RDB file",
      );
      exitWith(1);
    }
    const path = dumpPath(kind, service);
    mkdirSync(`${serviceRoot(kind, service)}/data`, { recursive: true });
    // Whole or not at all, like a restore that fails inside one transaction.
    writeFileSync(`${path}.partial`, data);
    renameSync(`${path}.partial`, path);
  };
}

export function dataCommands(kind: ServiceKind): Record<string, CommandHandler> {
  return {
    [`${kind.prefix}:export`]: exportData(kind),
    [`${kind.prefix}:import`]: importData(kind),
  };
}
