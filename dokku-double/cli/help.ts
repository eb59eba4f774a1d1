/**
 * `dokku help`, `dokku version` and `<plugin>:help`. The top-level usage header
 * is printed with `dokku_log_quiet` while the script's own `has_tty` check has
 * set `DOKKU_QUIET_OUTPUT`, so over `ssh -T` only the command list appears.
 */
import type { PluginModule } from "./commands.ts";
import type { Ctx } from "./context.ts";
import { columnize } from "./envfile.ts";
import { DOKKU_VERSION } from "./paths.ts";

const CORE_COMMANDS: ReadonlyArray<readonly [string, string]> = [
  ["apps", "Manage apps"],
  ["builder", "Manage builder settings for an app"],
  ["certs", "Manage SSL (TLS) certs"],
  ["checks", "Manage zero-downtime settings"],
  ["config", "Manage global and app-specific config vars"],
  ["docker-options", "Manage docker options for an app"],
  ["domains", "Manage domains used by the proxy"],
  ["git", "Manage app deploys via git"],
  ["help", "Print the list of commands"],
  ["network", "Manage network settings for an app"],
  ["nginx", "Manage the nginx proxy"],
  ["ports", "Manage ports for an app"],
  ["proxy", "Manage the proxy integration for an app"],
  ["ps", "List processes running in app container(s)"],
  ["resource", "Manage resource settings for an app"],
  ["storage", "Manage mounted volumes"],
  ["version", "Print dokku's version"],
];

const COMMUNITY_COMMANDS: ReadonlyArray<readonly [string, string]> = [
  ["letsencrypt", "Manage the letsencrypt integration for an app"],
  ["postgres", "Manage postgres services"],
  ["redis", "Manage redis services"],
];

function table(rows: ReadonlyArray<readonly [string, string]>): string {
  return columnize(
    rows.map(([name, description]) => `${name},${description}`),
    ",",
    "    ",
  );
}

export function printHelp(ctx: Ctx, hasTty: boolean): void {
  const quiet = ctx.out.quiet || !hasTty;
  const header = [
    "Usage: dokku [--quiet|--trace|--force] COMMAND <app> [command-specific-options]",
    "",
    'Primary help options, type "dokku COMMAND:help" for more details, or dokku help --all to see all commands.',
    "",
    "Commands:",
    "",
  ];
  if (!quiet) for (const line of header) ctx.out.line(line);
  ctx.out.line(table(CORE_COMMANDS));
  if (!quiet) {
    ctx.out.line("");
    ctx.out.line("Community plugin commands:");
    ctx.out.line("");
  }
  ctx.out.line(table(COMMUNITY_COMMANDS));
}

export function printVersion(ctx: Ctx): void {
  ctx.out.line(`dokku version ${DOKKU_VERSION}`);
}

/** `<plugin>:help` and bare `<plugin>`: usage plus the subcommands the double implements. */
export function printPluginHelp(ctx: Ctx, pluginName: string, plugin: PluginModule): void {
  const description =
    [...CORE_COMMANDS, ...COMMUNITY_COMMANDS].find(([name]) => name === pluginName)?.[1] ??
    `Manage ${pluginName}`;
  ctx.out.line(`Usage: dokku ${pluginName}[:COMMAND]`);
  ctx.out.line("");
  ctx.out.line(description);
  ctx.out.line("");
  ctx.out.line("Additional commands:");
  const names = Object.keys(plugin.commands)
    .filter((name) => name.includes(":"))
    .sort();
  ctx.out.line(
    columnize(
      names.map((name) => `${name},`),
      ",",
      "    ",
    ),
  );
}
