/**
 * The `mindroom-ops` commands that run the control plane itself rather than one
 * tenant's stack: hosts (fleet/), and the commands that join them as they land.
 * bin/mindroom-ops dispatches here; automation/cli/main.ts keeps the tenant
 * stack commands.
 */

import { HostUrlError } from "../fleet/hosts.ts";
import { HOSTS_HELP, HostsUsageError, hostsMain } from "../fleet/hostsCli.ts";

const COMMANDS: Record<string, { help: string; main: (argv: string[]) => Promise<number> }> = {
  hosts: { help: HOSTS_HELP, main: hostsMain },
};

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
    const usage =
      error instanceof HostsUsageError ||
      error instanceof HostUrlError ||
      ((error as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ?? false);
    process.stderr.write(`mindroom-ops: ${(error as Error).message}\n${usage ? `\n${entry.help}\n` : ""}`);
    return usage ? 2 : 1;
  }
}

if (import.meta.main) {
  // Exit explicitly: a dependency's exit hook otherwise resets the code to 0.
  process.exit(await main(process.argv.slice(2)));
}
