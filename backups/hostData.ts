/**
 * A tenant's data on its Dokku host, as backups and restores move it: the
 * storage entries' folders (where Dokku says they are: `storage:info`), read
 * as one archive and written back whole, the services' dumps through Dokku's
 * own `<kind>:export` and `<kind>:import`, and the apps stopped and started
 * around them. Everything runs over the tenant's shell login (root on a stock
 * Dokku host), one SSH session per step; the data streams through, never held
 * in memory.
 *
 * A restore writes each entry into `<folder>.restoring`, then swaps it in
 * (`<folder>` → `<folder>.replaced`, `.restoring` → `<folder>`, the old one
 * removed), owner and mode kept from the folder it replaces: a restore cut
 * off at any point leaves either the old folder or the new one in place, and
 * a re-run starts the step again and converges.
 */
import type { Readable } from "node:stream";
import { type HostAccess, hostStream, runDokkuReads } from "../automation/hostShell.ts";
import { dokkuCommandLine } from "../components/dokku/commandLine.ts";
import { dokkuBinary } from "../components/dokku/script.ts";
import { sshTarget } from "../components/tenantSpec.ts";

export class HostDataError extends Error {
  override readonly name = "HostDataError";
}

/** The storage roles in an archive, as offen's layout names them (`backup/<role>/…`). */
export const STORAGE_ROLES = ["runtime", "homeserver"] as const;
export type StorageRole = (typeof STORAGE_ROLES)[number];

/** Only plain absolute paths reach the shell (Dokku's own are). */
const SAFE_PATH = /^\/[A-Za-z0-9._/-]+$/;

const quote = (value: string) => `'${value.replaceAll("'", `'"'"'`)}'`;

function dokku(access: HostAccess, word: string, args: readonly string[]): string {
  return `${dokkuBinary(sshTarget(access.url).user)} ${dokkuCommandLine(word, args, ["--quiet"])}`;
}

async function finish(step: string, stream: { result: Promise<{ code: number; stderr: string }> }) {
  const { code, stderr } = await stream.result;
  if (code !== 0)
    throw new HostDataError(
      `${step} failed on the host (exit ${code}${code === 255 ? ": the connection dropped" : ""}): ${stderr.trim() || "no message"}`,
    );
}

/** Where each storage entry keeps its files, as Dokku reports it. */
export async function storagePaths(
  access: HostAccess,
  entries: Readonly<Record<StorageRole, string>>,
): Promise<Record<StorageRole, string>> {
  const results = await runDokkuReads(
    access,
    STORAGE_ROLES.map((role) => `storage:info ${entries[role]} --format json`),
  );
  const paths = {} as Record<StorageRole, string>;
  STORAGE_ROLES.forEach((role, i) => {
    const result = results[i];
    let path: unknown;
    try {
      path = (JSON.parse(result?.stdout ?? "") as { host_path?: unknown }).host_path;
    } catch {
      path = undefined;
    }
    if (result?.code !== 0 || typeof path !== "string" || !SAFE_PATH.test(path))
      throw new HostDataError(
        `storage entry ${entries[role]} has no usable folder on ${access.url} (storage:info exit ${result?.code}): is the tenant provisioned there?`,
      );
    paths[role] = path;
  });
  return paths;
}

/** Stops the apps (`ps:stop`) so their files hold still while they are copied. */
export async function stopApps(access: HostAccess, apps: readonly string[]): Promise<void> {
  const stream = hostStream(access, `set -e\n${apps.map((a) => dokku(access, "ps:stop", [a])).join("\n")}\n`);
  stream.stdout.resume();
  await finish("stopping the apps", stream);
}

export async function startApps(access: HostAccess, apps: readonly string[]): Promise<void> {
  const stream = hostStream(
    access,
    `set -e\n${apps.map((a) => dokku(access, "ps:start", [a])).join("\n")}\n`,
  );
  stream.stdout.resume();
  await finish("starting the apps", stream);
}

/** Both entries as one gzipped tar, laid out as offen's archive: `backup/runtime/…`, `backup/homeserver/…`. */
export function readStorage(
  access: HostAccess,
  paths: Readonly<Record<StorageRole, string>>,
): { archive: Readable; done: Promise<void> } {
  // Member names are the paths without their leading slash; each is renamed to its role.
  const transforms = STORAGE_ROLES.map((role) => {
    const member = paths[role].slice(1).replace(/[.[\]*^$\\]/g, "\\$&");
    return `--transform ${quote(`s|^${member}|backup/${role}|S`)}`;
  });
  const members = STORAGE_ROLES.map((role) => quote(paths[role].slice(1)));
  const stream = hostStream(
    access,
    `set -e\ncd /\nexec tar --create --gzip --numeric-owner ${transforms.join(" ")} ${members.join(" ")}\n`,
  );
  return { archive: stream.stdout, done: finish("reading the storage", stream) };
}

/** Writes an archive of readStorage's layout back into the entries' folders, each replaced whole. */
export async function writeStorage(
  access: HostAccess,
  paths: Readonly<Record<StorageRole, string>>,
  archive: Readable,
): Promise<void> {
  const steps = STORAGE_ROLES.map((role) => {
    const p = quote(paths[role]);
    const staging = quote(`${paths[role]}.restoring`);
    const replaced = quote(`${paths[role]}.replaced`);
    return `# ${role}
rm -rf ${staging}
mkdir ${staging}
tar --extract --gzip --numeric-owner --same-permissions --file "$archive" --directory ${staging} --strip-components 2 backup/${role}
reference=${p}; [ -e ${p} ] || reference=${replaced}
chown --reference="$reference" ${staging} && chmod --reference="$reference" ${staging}
if [ -e ${p} ]; then rm -rf ${replaced}; mv ${p} ${replaced}; fi
mv ${staging} ${p}
rm -rf ${replaced}`;
  });
  const stream = hostStream(
    access,
    `set -e
archive=$(mktemp)
trap 'rm -f "$archive"' EXIT
cat > "$archive"
${steps.join("\n")}
`,
    archive,
  );
  stream.stdout.resume();
  await finish("writing the storage", stream);
}

/** The service's dump, as Dokku exports it. */
export function exportService(
  access: HostAccess,
  kind: "postgres" | "redis",
  service: string,
): { dump: Readable; done: Promise<void> } {
  const stream = hostStream(access, `set -e\nexec ${dokku(access, `${kind}:export`, [service])}\n`);
  return { dump: stream.stdout, done: finish(`${kind}:export ${service}`, stream) };
}

/** Replaces the service's data with a dump, through Dokku's import. */
export async function importService(
  access: HostAccess,
  kind: "postgres" | "redis",
  service: string,
  dump: Readable,
): Promise<void> {
  const stream = hostStream(access, `set -e\nexec ${dokku(access, `${kind}:import`, [service])}\n`, dump);
  stream.stdout.resume();
  await finish(`${kind}:import ${service}`, stream);
}
