/**
 * `execute_dokku_cmd`: find the plugin that owns a command, insert `--app` for
 * core plugins, and run it. Plugin modules load lazily so a command only pays
 * for the module it needs.
 */
import type { PluginModule } from "./commands.ts";
import type { Ctx } from "./context.ts";
import { exitWith } from "./errors.ts";
import { printHelp, printPluginHelp, printVersion } from "./help.ts";
import { isCommunityPluginMissing } from "./plugin.ts";

type Loader = () => Promise<PluginModule>;

const PLUGINS: Record<string, Loader> = {
  apps: async () => (await import("./apps.ts")).plugin,
  builder: async () => (await import("./builder.ts")).plugin,
  certs: async () => (await import("./certs.ts")).plugin,
  checks: async () => (await import("./checks.ts")).plugin,
  config: async () => (await import("./config.ts")).plugin,
  "docker-options": async () => (await import("./dockerOptions.ts")).plugin,
  domains: async () => (await import("./domains.ts")).plugin,
  git: async () => (await import("./git.ts")).plugin,
  letsencrypt: async () => (await import("./letsencrypt.ts")).plugin,
  network: async () => (await import("./network.ts")).plugin,
  plugin: async () => (await import("./plugin.ts")).plugin,
  nginx: async () => (await import("./proxy.ts")).nginxPlugin,
  ports: async () => (await import("./ports.ts")).plugin,
  postgres: async () => (await import("./services.ts")).postgresPlugin,
  proxy: async () => (await import("./proxy.ts")).proxyPlugin,
  ps: async () => (await import("./ps.ts")).plugin,
  redis: async () => (await import("./services.ts")).redisPlugin,
  resource: async () => (await import("./resource.ts")).plugin,
  storage: async () => (await import("./storage.ts")).plugin,
};

export interface DispatchOptions {
  /** Whether the session has a terminal (`has_tty`), which only affects `help`; asked lazily. */
  hasTty: () => boolean;
}

function notADokkuCommand(ctx: Ctx, argv: readonly string[]): never {
  ctx.out.warn(`\`${argv.join(" ")}\` is not a dokku command.`);
  ctx.out.warn("See `dokku help` for a list of available commands.");
  exitWith(1);
}

export async function dispatch(ctx: Ctx, argv: readonly string[], options: DispatchOptions): Promise<void> {
  const [command = "", ...rest] = argv;
  if (command === "help" || command === "") {
    printHelp(ctx, options.hasTty());
    return;
  }
  if (command === "version" || command === "-v" || command === "--version") {
    printVersion(ctx);
    return;
  }
  const pluginName = command.split(":")[0] ?? "";
  const loader = Object.hasOwn(PLUGINS, pluginName) ? PLUGINS[pluginName] : undefined;
  if (!loader || isCommunityPluginMissing(ctx.state, pluginName)) notADokkuCommand(ctx, argv);
  const plugin = await loader();
  const handler = Object.hasOwn(plugin.commands, command) ? plugin.commands[command] : undefined;
  if (!handler) {
    if (command === pluginName || command === `${pluginName}:help`) {
      printPluginHelp(ctx, pluginName, plugin);
      return;
    }
    notADokkuCommand(ctx, argv);
  }
  const args = plugin.core && ctx.flags.appName !== "" ? [ctx.flags.appName, ...rest] : rest;
  handler(ctx, args);
}
