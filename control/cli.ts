/**
 * The `mindroom-ops` commands that run the control plane itself rather than one
 * tenant's stack: `hosts` and `move` (fleet/), `platform`, `config`, `operators`, `migrate`, and `backups`, `backup`, `restore`. bin/mindroom-ops dispatches
 * here; automation/cli/main.ts keeps the tenant stack commands. The optional
 * `.env` is read first, and what it set is known to `config check`.
 */

import { EXIT } from "../automation/cli/exitCodes.ts";
import { ProgramStackNotFoundError } from "../automation/programStacks.ts";
import { BACKUPS_HELP, BackupsNotFoundError, BackupsUsageError, backupsMain } from "../backups/cli.ts";
import { NoBackupError } from "../backups/layout.ts";
import { PlatformSpecError } from "../components/platformSpec.ts";
import { HostKeyNotConfirmedError, HostUrlError } from "../fleet/hosts.ts";
import { HOSTS_HELP, HostsUsageError, hostsMain } from "../fleet/hostsCli.ts";
import { MOVE_HELP, moveExitCode, moveMain } from "../fleet/moveCli.ts";
import { CONFIG_HELP, ConfigUsageError, configMain } from "./configCli.ts";
import { type LoadedDotenv, loadDotenv } from "./dotenv.ts";
import { MIGRATE_HELP, migrateMain } from "./migrateCli.ts";
import { OPERATORS_HELP, OperatorsUsageError, operatorsMain } from "./operatorsCli.ts";
import { PLATFORM_HELP, PlatformUsageError, platformMain } from "./platformCli.ts";
import { PlatformSettingsError } from "./platformStack.ts";

type Command = (argv: string[], dotenv: LoadedDotenv) => Promise<number>;

const COMMANDS: Record<string, { help: string; main: Command }> = {
  hosts: { help: HOSTS_HELP, main: hostsMain },
  platform: { help: PLATFORM_HELP, main: platformMain },
  backups: { help: BACKUPS_HELP, main: (argv) => backupsMain("backups", argv) },
  backup: { help: BACKUPS_HELP, main: (argv) => backupsMain("backup", argv) },
  restore: { help: BACKUPS_HELP, main: (argv) => backupsMain("restore", argv) },
  move: { help: MOVE_HELP, main: moveMain },
  config: { help: CONFIG_HELP, main: configMain },
  operators: { help: OPERATORS_HELP, main: operatorsMain },
  migrate: { help: MIGRATE_HELP, main: migrateMain },
};

/** Exit codes as Pulumi's (usage 2, not found 6, cancelled 8). */
function exitCode(error: unknown): number {
  const move = moveExitCode(error);
  if (move !== undefined) return move;
  if (
    error instanceof HostsUsageError ||
    error instanceof HostUrlError ||
    error instanceof BackupsUsageError ||
    error instanceof ConfigUsageError ||
    error instanceof OperatorsUsageError ||
    error instanceof PlatformUsageError ||
    error instanceof PlatformSettingsError ||
    error instanceof PlatformSpecError ||
    ((error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ?? false)
  )
    return EXIT.usage;
  if (
    error instanceof BackupsNotFoundError ||
    error instanceof NoBackupError ||
    error instanceof ProgramStackNotFoundError
  )
    return EXIT.notFound;
  if (error instanceof HostKeyNotConfirmedError) return EXIT.cancelled;
  return EXIT.failure;
}

export async function main(argv: string[]): Promise<number> {
  const [command = ""] = argv;
  const entry = COMMANDS[command];
  if (!entry) {
    process.stderr.write(`mindroom-ops: unknown command ${command}\n`);
    return 2;
  }
  try {
    return await entry.main(argv.slice(1), loadDotenv());
  } catch (error) {
    const code = exitCode(error);
    process.stderr.write(
      `mindroom-ops: ${(error as Error).message}\n${code === EXIT.usage ? `\n${entry.help}\n` : ""}`,
    );
    return code;
  }
}

if (import.meta.main) {
  // Exit explicitly: a dependency's exit hook otherwise resets the code to 0.
  process.exit(await main(process.argv.slice(2)));
}
