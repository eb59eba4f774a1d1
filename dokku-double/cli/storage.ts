/**
 * The storage plugin (Go, 0.38): per-app attachments of storage entries. A
 * legacy `host:container` mount synthesises a `legacy-<sha1>` entry plus an
 * attachment, and keeps the old error texts: mounting twice is "Mount path
 * already exists.", unmounting nothing is "Mount path does not exist.".
 */
import { createHash } from "node:crypto";
import type { PluginModule } from "./commands.ts";
import type { Ctx } from "./context.ts";
import { fail } from "./errors.ts";
import { parseFlags } from "./flags.ts";
import { goMarshal } from "./goJson.ts";
import { verifyAppGo } from "./names.ts";
import { runGoReport } from "./report.ts";
import type { AppState, StorageAttachment } from "./state.ts";
import {
  create,
  destroy,
  ensureDirectory,
  info,
  LEGACY_PREFIX,
  listEntries,
  reportGlobal,
} from "./storageEntries.ts";

const DEFAULT_PROCESS = "_default_";

interface MountRow {
  entryName: string;
  hostPath: string;
  containerPath: string;
  readonly: boolean;
  volumeOptions: string;
}

function mountRows(ctx: Ctx, app: AppState, phase: string): MountRow[] {
  return app.mounts
    .filter((mount) => mount.phases.includes(phase))
    .sort((a, b) =>
      a.entryName !== b.entryName
        ? a.entryName < b.entryName
          ? -1
          : 1
        : a.containerPath < b.containerPath
          ? -1
          : 1,
    )
    .map((mount) => {
      const entry = ctx.state.storageEntries[mount.entryName];
      return {
        entryName: mount.entryName,
        hostPath: entry?.hostPath || mount.entryName,
        containerPath: mount.containerPath,
        readonly: mount.readonly,
        volumeOptions: mount.volumeOptions,
      };
    });
}

function formatRow(row: MountRow): string {
  const options = [row.readonly ? "ro" : "", row.volumeOptions].filter((part) => part !== "").join(",");
  return options === ""
    ? `${row.hostPath}:${row.containerPath}`
    : `${row.hostPath}:${row.containerPath}:${options}`;
}

function list(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "storage:list",
      flags: { format: { kind: "string", usage: "--format: output format (text, json)", default: "text" } },
    },
    args,
  );
  const appName = parsed.arg(0);
  const app = verifyAppGo(ctx, appName);
  const format = parsed.string("format");
  if (format !== "text" && format !== "json") fail("Invalid --format value specified");
  const rows = mountRows(ctx, app, "deploy");
  if (format === "json") {
    ctx.out.line(
      goMarshal(
        rows.map((row) => ({
          ...(row.entryName !== "" && { entry_name: row.entryName }),
          host_path: row.hostPath,
          container_path: row.containerPath,
          ...(row.readonly && { readonly: true }),
          ...(row.volumeOptions !== "" && { volume_options: row.volumeOptions }),
        })),
      ),
    );
    return;
  }
  ctx.out.info1Quiet(`${appName} volume bind-mounts:`);
  for (const row of rows) {
    if (ctx.out.quiet) ctx.out.line(formatRow(row));
    else ctx.out.verbose(formatRow(row));
  }
}

/** A legacy `/host:/container[:opts]` target, validated, with the entry name Dokku derives for it. */
function parseLegacyTarget(target: string): { parts: ReturnType<typeof parseMountPath>; entryName: string } {
  verifyMountPath(target);
  const parts = parseMountPath(target);
  if (parts.containerPath === "") fail("Storage path must be two valid paths divided by colon.");
  return { parts, entryName: legacyEntryName(parts.hostPath) };
}

function verifyMountPath(mountPath: string): void {
  if (mountPath.startsWith("/")) {
    if (!/^\/.*:\//.test(mountPath)) fail("Storage path must be two valid paths divided by colon.");
  } else if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]+:\//.test(mountPath)) {
    fail(
      "Volume name must be two characters or more. Volume name must not contain invalid characters. Storage path must be two valid paths divided by colon.",
    );
  }
}

function parseMountPath(mountPath: string): {
  hostPath: string;
  containerPath: string;
  readonly: boolean;
  volumeOptions: string;
} {
  const [hostPath = "", containerPath = "", ...rest] = mountPath.split(":");
  const options = rest.join(":");
  const tokens = options === "" ? [] : options.split(",");
  return {
    hostPath,
    containerPath,
    readonly: tokens.includes("ro"),
    volumeOptions: tokens.filter((token) => token !== "ro").join(","),
  };
}

function legacyEntryName(hostPath: string): string {
  const input = hostPath.startsWith("/") ? hostPath : `vol:${hostPath}`;
  return `${LEGACY_PREFIX}${createHash("sha1").update(input).digest("hex").slice(0, 10)}`;
}

function validateAttachment(mount: StorageAttachment): void {
  if (!mount.containerPath.startsWith("/"))
    fail(`attachment container path "${mount.containerPath}" must be absolute`);
  for (const phase of mount.phases) {
    if (phase !== "deploy" && phase !== "run")
      fail(`attachment phase "${phase}" is not supported (must be "deploy" or "run")`);
  }
}

function mount(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "storage:mount",
      flags: {
        "container-dir": { kind: "string", usage: "--container-dir: container path (named-entry form)" },
        phase: { kind: "strings", usage: "--phase: phase to mount in (deploy, run; default both)" },
        "process-type": { kind: "string", usage: "--process-type: process type to mount for" },
        "volume-subpath": { kind: "string", usage: "--volume-subpath: subpath within the entry" },
        "volume-readonly": { kind: "bool", usage: "--volume-readonly: mount the volume read-only" },
        "volume-chown": { kind: "string", usage: "--volume-chown: chown option applied at mount time" },
        "volume-options": {
          kind: "string",
          usage: "--volume-options: comma-separated mount options (e.g. Z, noexec,nosuid)",
        },
      },
    },
    args,
  );
  const appName = parsed.arg(0);
  const app = verifyAppGo(ctx, appName);
  const target = parsed.arg(1);
  if (target.includes(":")) {
    const { parts, entryName } = parseLegacyTarget(target);
    ctx.state.storageEntries[entryName] ??= {
      name: entryName,
      scheduler: "docker-local",
      hostPath: parts.hostPath,
      chown: "",
      mode: "",
      reclaimPolicy: "",
    };
    const attachment: StorageAttachment = {
      entryName,
      containerPath: parts.containerPath,
      phases: ["deploy", "run"],
      processType: DEFAULT_PROCESS,
      subpath: "",
      readonly: parts.readonly,
      volumeOptions: parts.volumeOptions,
      volumeChown: "",
    };
    validateAttachment(attachment);
    if (
      app.mounts.some(
        (m) =>
          m.entryName === entryName &&
          m.containerPath === parts.containerPath &&
          m.processType === DEFAULT_PROCESS,
      )
    ) {
      fail("Mount path already exists.");
    }
    app.mounts.push(attachment);
    return;
  }
  if (!ctx.state.storageEntries[target]) {
    fail(`storage entry "${target}" does not exist; create it first with \`dokku storage:create\``);
  }
  const containerDir = parsed.string("container-dir");
  if (containerDir === "") fail("--container-dir is required when mounting a named storage entry");
  const phases = parsed.strings("phase");
  const attachment: StorageAttachment = {
    entryName: target,
    containerPath: containerDir,
    phases: phases.length > 0 ? phases : ["deploy", "run"],
    processType: parsed.string("process-type") || DEFAULT_PROCESS,
    subpath: parsed.string("volume-subpath"),
    readonly: parsed.bool("volume-readonly"),
    volumeOptions: parsed.string("volume-options"),
    volumeChown: parsed.string("volume-chown"),
  };
  validateAttachment(attachment);
  const index = app.mounts.findIndex(
    (m) =>
      m.entryName === target && m.containerPath === containerDir && m.processType === attachment.processType,
  );
  if (index === -1) {
    app.mounts.push(attachment);
    ctx.out.info1(`Storage entry ${target} mounted at ${containerDir} on ${appName}`);
  } else {
    app.mounts[index] = attachment;
    ctx.out.info1(`Storage entry ${target} mount at ${containerDir} on ${appName} updated`);
  }
}

function removeAttachment(app: AppState, appName: string, entryName: string, containerPath: string): void {
  const matches = app.mounts.filter(
    (m) => m.entryName === entryName && (containerPath === "" || m.containerPath === containerPath),
  );
  if (matches.length === 0) {
    fail(
      containerPath === ""
        ? `storage entry "${entryName}" is not mounted on app "${appName}"`
        : `storage entry "${entryName}" is not mounted at "${containerPath}" on app "${appName}"`,
    );
  }
  if (matches.length > 1 && containerPath === "") {
    const paths = matches.map((m) => m.containerPath).sort();
    fail(
      `storage entry "${entryName}" is mounted at multiple paths on app "${appName}" (${paths.join(", ")}); pass --container-dir to disambiguate`,
    );
  }
  app.mounts = app.mounts.filter((m) => !matches.includes(m));
}

function unmount(ctx: Ctx, args: string[]): void {
  const parsed = parseFlags(
    {
      name: "storage:unmount",
      flags: {
        "container-dir": {
          kind: "string",
          usage: "--container-dir: container path (named-entry form, disambiguates duplicates)",
        },
      },
    },
    args,
  );
  const appName = parsed.arg(0);
  const app = verifyAppGo(ctx, appName);
  const target = parsed.arg(1);
  if (target.includes(":")) {
    const { parts, entryName } = parseLegacyTarget(target);
    if (!app.mounts.some((m) => m.entryName === entryName && m.containerPath === parts.containerPath)) {
      fail("Mount path does not exist.");
    }
    removeAttachment(app, appName, entryName, parts.containerPath);
    return;
  }
  removeAttachment(app, appName, target, parsed.string("container-dir"));
}

function report(ctx: Ctx, args: string[]): void {
  if (args.includes("--global")) {
    const formatIndex = args.indexOf("--format");
    const format = formatIndex === -1 ? "stdout" : (args[formatIndex + 1] ?? "stdout");
    reportGlobal(ctx, format === "json" ? "json" : "text");
    return;
  }
  runGoReport(ctx, args, {
    plugin: "storage",
    reportType: "storage",
    emitLegacy: true,
    uppercase: true,
    collect(c, appName): Record<string, string> {
      const app = c.state.apps[appName];
      if (!app) return {};
      const mounts = (phase: string): string =>
        mountRows(c, app, phase)
          .map((row) => `-v ${formatRow(row)}`)
          .join(" ");
      const values: Record<string, string> = {
        "--storage-build-mounts": mounts("build"),
        "--storage-deploy-mounts": mounts("deploy"),
        "--storage-run-mounts": mounts("run"),
      };
      app.mounts.forEach((m, i) => {
        const prefix = `--storage-attachment.${i + 1}.`;
        const entry = c.state.storageEntries[m.entryName];
        values[`${prefix}entry-name`] = m.entryName;
        values[`${prefix}host-path`] = entry?.hostPath || m.entryName;
        values[`${prefix}container-path`] = m.containerPath;
        values[`${prefix}phases`] = m.phases.join(",");
        values[`${prefix}process-type`] = m.processType;
        values[`${prefix}subpath`] = m.subpath;
        values[`${prefix}readonly`] = String(m.readonly);
        values[`${prefix}volume-options`] = m.volumeOptions;
        values[`${prefix}volume-chown`] = m.volumeChown;
      });
      return values;
    },
  });
}

export const plugin: PluginModule = {
  core: true,
  commands: {
    "storage:ensure-directory": ensureDirectory,
    "storage:create": create,
    "storage:info": info,
    "storage:list-entries": listEntries,
    "storage:list": list,
    "storage:mount": mount,
    "storage:unmount": unmount,
    "storage:destroy": destroy,
    "storage:report": report,
  },
};
