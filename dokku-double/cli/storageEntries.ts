/**
 * Named storage entries (0.38 `storage:create`, `storage:info`,
 * `storage:list-entries`, `storage:destroy`) and the deprecated
 * `storage:ensure-directory`. Like Dokku, an entry's default host directory is
 * really created (and removed by `--destroy-host-dir` or the `Delete` reclaim
 * policy), so a shell user can keep real files in it; it lives in the
 * instance's state folder instead of `/var/lib/dokku/data/storage`, and
 * `storage:info` reports where. Ownership (`--chown`) is recorded, not applied:
 * the double runs as the dokku user.
 */
import { chmodSync, mkdirSync, rmSync } from "node:fs";
import { confirmGo } from "./confirm.ts";
import type { Ctx } from "./context.ts";
import { fail } from "./errors.ts";
import { parseFlags } from "./flags.ts";
import { goMarshalIndent } from "./goJson.ts";
import { sortedAppNames } from "./names.ts";
import { DOKKU_LIB_ROOT } from "./paths.ts";
import type { StorageEntry } from "./state.ts";

export const STORAGE_DIR = `${DOKKU_LIB_ROOT}/data/storage`;
export const LEGACY_PREFIX = "legacy-";

/** Where this instance keeps entries' default host directories (Dokku's STORAGE_DIR on a real host). */
export function storageRoot(): string {
  const stateDir = process.env.DOKKU_DOUBLE_STATE_DIR;
  return stateDir ? `${stateDir}/storage` : STORAGE_DIR;
}

/** Only directories under the instance's own root are touched; other paths stay records. */
function ownsHostPath(hostPath: string): boolean {
  const root = storageRoot();
  return root !== STORAGE_DIR && hostPath.startsWith(`${root}/`) && !hostPath.includes("/../");
}

function makeHostDir(hostPath: string, mode: string): void {
  if (!ownsHostPath(hostPath)) return;
  mkdirSync(hostPath, { recursive: true, mode: 0o755 });
  if (mode !== "") chmodSync(hostPath, Number.parseInt(mode, 8));
}

const CHOWN_IDS: Record<string, string> = {
  herokuish: "32767",
  heroku: "1000",
  packeto: "2000",
  paketo: "2000",
  root: "0",
};

function resolveChown(flag: string): string {
  if (flag === "false") return "false";
  const known = CHOWN_IDS[flag];
  if (known !== undefined) return known;
  if (/^\d+$/.test(flag) && Number(flag) <= 65535) return String(Number(flag));
  fail("Unsupported chown permissions");
}

export function ensureDirectory(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "storage:ensure-directory",
      flags: {
        chown: {
          kind: "string",
          usage: "--chown: chown option (herokuish, heroku, paketo, root, false)",
          default: "herokuish",
        },
      },
    },
    args,
  );
  ctx.out.warn("Deprecated: please use 'storage:create' instead of 'storage:ensure-directory'");
  const name = parsed.arg(0);
  if (name === "") fail("Please specify a directory to create");
  if (!/^[A-Za-z0-9_-]+$/.test(name))
    fail("Directory can only contain the following set of characters: [A-Za-z0-9_-]");
  const chown = resolveChown(parsed.string("chown"));
  ctx.out.info1(`Ensuring ${storageRoot()}/${name} exists`);
  makeHostDir(`${storageRoot()}/${name}`, "");
  if (chown !== "false") ctx.out.verboseQuiet(`Setting directory ownership to ${chown}:${chown}`);
  ctx.out.verboseQuiet("Directory ready for mounting");
  if (!ctx.state.storageDirectories.includes(name)) ctx.state.storageDirectories.push(name);
}

function entryNameProblem(name: string, allowLegacy: boolean): string | undefined {
  if (name === "") return "storage entry name is required";
  if (name.length > 45)
    return `storage entry name "${name}" is too long (max 45 characters); helm release names cap our budget`;
  if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name)) {
    return `storage entry name "${name}" must be a DNS-1123 label (lowercase letters, digits, and dashes; cannot start or end with a dash)`;
  }
  if (!allowLegacy && name.startsWith(LEGACY_PREFIX))
    return `storage entry name "${name}" must not start with reserved prefix "${LEGACY_PREFIX}"`;
  return undefined;
}

function normalizeMode(mode: string): string {
  if (mode === "") return "";
  if (!/^[0-7]{3,4}$/.test(mode))
    fail(`Unsupported directory mode "${mode}". Value must be a 3 or 4 digit octal mode, such as 0755`);
  return mode.length === 3 ? `0${mode}` : mode;
}

export function create(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "storage:create",
      flags: {
        scheduler: {
          kind: "string",
          usage: "--scheduler: target scheduler (docker-local, k3s)",
          default: "docker-local",
        },
        size: { kind: "string", usage: "--size: PVC size (k3s only, e.g. 2Gi)" },
        "access-mode": { kind: "string", usage: "--access-mode: PVC access mode (k3s only)" },
        "storage-class-name": { kind: "string", usage: "--storage-class-name: PVC storage class (k3s only)" },
        namespace: { kind: "string", usage: "--namespace: PVC namespace (k3s only)" },
        chown: { kind: "string", usage: "--chown: chown option (docker-local only)" },
        mode: {
          kind: "string",
          usage: "--mode: octal permissions for the host directory, such as 0755 (docker-local only)",
        },
        "reclaim-policy": {
          kind: "string",
          usage: "--reclaim-policy: reclaim policy for the underlying volume (Retain or Delete)",
        },
        annotation: { kind: "strings", usage: "--annotation key=value: PVC annotation (repeatable)" },
        label: { kind: "strings", usage: "--label key=value: PVC label (repeatable)" },
      },
    },
    args,
  );
  const name = parsed.arg(0);
  const problem = entryNameProblem(name, false);
  if (problem) fail(problem);
  const scheduler = parsed.string("scheduler") || "docker-local";
  const hostPath = parsed.arg(1) || (scheduler === "docker-local" ? `${storageRoot()}/${name}` : "");
  const mode = normalizeMode(parsed.string("mode"));
  const reclaimPolicy = parsed.string("reclaim-policy");
  if (scheduler !== "docker-local" && scheduler !== "k3s") {
    fail(`storage entry "${name}" has unsupported scheduler "${scheduler}" (supported: docker-local, k3s)`);
  }
  if (reclaimPolicy !== "" && reclaimPolicy !== "Retain" && reclaimPolicy !== "Delete") {
    fail(`storage entry "${name}" has unsupported reclaim policy "${reclaimPolicy}"`);
  }
  if (scheduler === "docker-local") {
    for (const flag of ["size", "storage-class-name", "access-mode"]) {
      if (parsed.string(flag) !== "")
        fail(`storage entry "${name}" (docker-local) does not accept --${flag}`);
    }
    if (!hostPath.startsWith("/") && !/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(hostPath)) {
      fail(
        `storage entry "${name}" host_path must be an absolute path or a docker named volume token, got "${hostPath}"`,
      );
    }
  } else if (parsed.string("size") === "") {
    fail(`storage entry "${name}" (k3s) requires --size`);
  }
  const existing = ctx.state.storageEntries[name];
  if (existing) {
    if (existing.scheduler !== scheduler) {
      fail(
        `storage entry "${name}" already exists with scheduler "${existing.scheduler}"; refusing to redefine`,
      );
    }
    ctx.out.info1Quiet(`Storage entry ${name} already exists, leaving in place`);
  }
  ctx.state.storageEntries[name] = {
    name,
    scheduler,
    hostPath,
    chown: parsed.string("chown"),
    mode,
    reclaimPolicy,
  };
  if (scheduler === "docker-local") makeHostDir(hostPath, mode);
  ctx.out.info1(`Storage entry ${name} created`);
}

/** Go's `Entry` struct as JSON (omitempty fields dropped). */
export function entryJson(entry: StorageEntry) {
  return {
    name: entry.name,
    scheduler: entry.scheduler,
    ...(entry.hostPath !== "" && { host_path: entry.hostPath }),
    ...(entry.chown !== "" && { chown: entry.chown }),
    ...(entry.mode !== "" && { mode: entry.mode }),
    ...(entry.reclaimPolicy !== "" && { reclaim_policy: entry.reclaimPolicy }),
    schema_version: 1,
  };
}

function requireEntry(ctx: Ctx, name: string): StorageEntry {
  if (name === "") fail("storage entry name is required");
  const entry = ctx.state.storageEntries[name];
  if (!entry) fail(`storage entry "${name}" does not exist`);
  return entry;
}

export function info(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "storage:info",
      flags: { format: { kind: "string", usage: "--format: output format (text, json)", default: "text" } },
    },
    args,
  );
  const entry = requireEntry(ctx, parsed.arg(0));
  if (parsed.string("format") === "json") {
    ctx.out.line(goMarshalIndent(entryJson(entry)));
    return;
  }
  ctx.out.info1Quiet(`Storage entry ${entry.name}`);
  ctx.out.verbose(`Scheduler:        ${entry.scheduler}`);
  if (entry.hostPath !== "") ctx.out.verbose(`Host path:        ${entry.hostPath}`);
  if (entry.chown !== "") ctx.out.verbose(`Chown:            ${entry.chown}`);
  if (entry.mode !== "") ctx.out.verbose(`Mode:             ${entry.mode}`);
  if (entry.reclaimPolicy !== "") ctx.out.verbose(`Reclaim policy:   ${entry.reclaimPolicy}`);
}

export function listEntries(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "storage:list-entries",
      flags: {
        scheduler: { kind: "string", usage: "--scheduler: filter to a single scheduler" },
        format: { kind: "string", usage: "--format: output format (text, json)", default: "text" },
      },
    },
    args,
  );
  const scheduler = parsed.string("scheduler");
  const entries = Object.values(ctx.state.storageEntries)
    .filter((entry) => scheduler === "" || entry.scheduler === scheduler)
    .sort((a, b) => (a.name < b.name ? -1 : 1));
  if (parsed.string("format") === "json") {
    ctx.out.line(goMarshalIndent(entries.map(entryJson)));
    return;
  }
  if (entries.length === 0) {
    ctx.out.info1Quiet("No storage entries registered");
    return;
  }
  ctx.out.info1Quiet("Storage entries:");
  for (const entry of entries) ctx.out.verbose(`${entry.name}\t${entry.scheduler}\t${entry.hostPath}`);
}

export function appsUsing(ctx: Ctx, entryName: string): string[] {
  return sortedAppNames(ctx).filter((name) =>
    ctx.state.apps[name]?.mounts.some((m) => m.entryName === entryName),
  );
}

export function destroy(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "storage:destroy",
      flags: {
        force: { kind: "bool", usage: "--force: force destroy without confirmation" },
        "destroy-host-dir": {
          kind: "bool",
          usage: "--destroy-host-dir: also remove the host directory and its contents (docker-local only)",
        },
      },
    },
    args,
  );
  const name = parsed.arg(0);
  const entry = requireEntry(ctx, name);
  const using = appsUsing(ctx, name);
  if (using.length > 0) fail(`storage entry "${name}" is still mounted by app(s): ${using.join(", ")}`);
  if (!(parsed.bool("force") || ctx.flags.force)) confirmGo(ctx, name, "storage entry");
  if (parsed.bool("destroy-host-dir") || entry.reclaimPolicy === "Delete") {
    if (ownsHostPath(entry.hostPath)) rmSync(entry.hostPath, { recursive: true, force: true });
    ctx.out.verbose(`Removed ${entry.hostPath}`);
  }
  delete ctx.state.storageEntries[name];
  ctx.out.info1(`Storage entry ${name} destroyed`);
}

export function reportGlobal(ctx: Ctx, format: string): void {
  const entries = Object.values(ctx.state.storageEntries).sort((a, b) => (a.name < b.name ? -1 : 1));
  const rows = entries.map((entry) => ({ entry: entryJson(entry), mounted_by: appsUsing(ctx, entry.name) }));
  if (format === "json") {
    ctx.out.line(goMarshalIndent(rows));
    return;
  }
  if (rows.length === 0) {
    ctx.out.info1Quiet("No storage entries registered");
    return;
  }
  ctx.out.info1Quiet("Storage report (global):");
  for (const row of rows) {
    ctx.out.verbose(
      `${row.entry.name}\t${row.entry.scheduler}\tmounted by: ${row.mounted_by.length > 0 ? row.mounted_by.join(", ") : "—"}`,
    );
  }
}
