/**
 * The `mindroom-ops` commands that run the control plane itself rather than one
 * tenant's stack: hosts (fleet/), and the commands that join them as they land.
 * bin/mindroom-ops dispatches here; automation/cli/main.ts keeps the tenant
 * stack commands.
 */

import { BACKUPS_HELP, BackupsNotFoundError, BackupsUsageError, backupsMain } from "../backups/cli.ts";
import { NoBackupError } from "../backups/layout.ts";
import { HostUrlError } from "../fleet/hosts.ts";
import { HOSTS_HELP, HostsUsageError, hostsMain } from "../fleet/hostsCli.ts";

const COMMANDS: Record<string, { help: string; main: (argv: string[]) => Promise<number> }> = {
  hosts: { help: HOSTS_HELP, main: hostsMain },
  backups: { help: BACKUPS_HELP, main: (argv) => backupsMain("backups", argv) },
  backup: { help: BACKUPS_HELP, main: (argv) => backupsMain("backup", argv) },
  restore: { help: BACKUPS_HELP, main: (argv) => backupsMain("restore", argv) },
};

/** Exit codes as Pulumi's (usage 2, not found 6). */
function exitCode(error: unknown): number {
  if (
    error instanceof HostsUsageError ||
    error instanceof HostUrlError ||
    error instanceof BackupsUsageError ||
    ((error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ?? false)
  )
    return 2;
  if (error instanceof BackupsNotFoundError || error instanceof NoBackupError) return 6;
  return 1;
}

export async function main(argv: string[]): Promise<number> {
  const [command = ""] = argv;
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(`mindroom-ops: unknown command ${command}\n`);
    return 2;
  }
  try {
    return await entry.main(argv.slice(1));
  } catch (error) {
    const code = exitCode(error);
    process.stderr.write(
      `mindroom-ops: ${(error as Error).message}\n${code === 2 ? `\n${entry.help}\n` : ""}`,
    );
    return code;
  }
}

if (import.meta.main) {
  // Exit explicitly: a dependency's exit hook otherwise resets the code to 0.
  process.exit(await main(process.argv.slice(2)));
}
