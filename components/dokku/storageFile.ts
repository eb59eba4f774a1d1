/**
 * A file an app reads from one of its storage entries (a homeserver's config,
 * an appservice registration, a bridge's config, MindRoom's config template),
 * written on the Dokku host by the shell user. Dokku has no command that
 * writes a file into storage, so the script asks Dokku where the entry lives
 * (`storage:info --format json`, never an assumed path), writes the content it
 * reads from (secret) stdin to a temporary file and renames it into place, so
 * the app never sees half a file. Files belong to the entry directory's owner,
 * the app's container user.
 */
import { dokkuBinary, quoteShell } from "./script.ts";

export interface StorageFile {
  /** The storage entry (one the app mounts). */
  readonly entry: string;
  /** Path inside the entry: one or two plain segments, like `homeserver.yaml` or `appservices/telegram.yaml`. */
  readonly path: string;
}

const SEGMENT = "[a-z0-9][a-z0-9._-]*";
const FILE_PATH = new RegExp(`^${SEGMENT}(?:/${SEGMENT})?$`);

export function checkStorageFilePath(path: string): string {
  if (!FILE_PATH.test(path) || path.includes(".."))
    throw new Error(
      `storage file path ${JSON.stringify(path)} must be one or two lowercase segments like dir/name.yaml`,
    );
  return path;
}

/** Shell lines that set `dir` to the entry's host directory, or stop the script (`set -e`) when it has none. */
function locate(user: string, entry: string): string[] {
  return [
    `dir=$(${dokkuBinary(user)} --quiet storage:info ${quoteShell(entry)} --format json | jq -r '.host_path // empty')`,
    `[ -n "$dir" ] && [ -d "$dir" ] || { echo "storage entry ${entry} has no host directory" >&2; exit 1; }`,
  ];
}

/** Writes stdin to the file, atomically, owned like the entry. */
export function writeStorageFileScript(user: string, file: StorageFile): string {
  const path = checkStorageFilePath(file.path);
  const sudo = user === "root" ? "" : "sudo -n ";
  const target = `"$dir"/${quoteShell(path)}`;
  const lines = ["set -e", ...locate(user, file.entry)];
  const slash = path.indexOf("/");
  if (slash > 0) {
    const sub = `"$dir"/${quoteShell(path.slice(0, slash))}`;
    lines.push(`${sudo}mkdir -p ${sub}`, `${sudo}chown --reference="$dir" ${sub}`);
  }
  lines.push(
    `${sudo}sh -c 'umask 077 && cat > "$1.tmp"' sh ${target}`,
    `${sudo}chown --reference="$dir" ${target}.tmp`,
    `${sudo}mv ${target}.tmp ${target}`,
  );
  return lines.join("\n");
}

/** Removes the file; a missing entry or file is fine. */
export function removeStorageFileScript(user: string, file: StorageFile): string {
  const path = checkStorageFilePath(file.path);
  const sudo = user === "root" ? "" : "sudo -n ";
  return [
    "set -e",
    `if ${dokkuBinary(user)} --quiet storage:info ${quoteShell(file.entry)} --format json >/dev/null 2>&1; then`,
    ...locate(user, file.entry).map((l) => `  ${l}`),
    `  ${sudo}rm -f "$dir"/${quoteShell(path)}`,
    "fi",
  ].join("\n");
}
