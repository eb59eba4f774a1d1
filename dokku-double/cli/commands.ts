/**
 * The shape every plugin module exports: a table from full command name
 * (`apps:create`) to its implementation, which receives the arguments after the
 * command word, like Dokku's subcommands do after their `shift`.
 */
import type { Ctx } from "./context.ts";

export type CommandHandler = (ctx: Ctx, args: string[]) => void;

export interface PluginModule {
  /**
   * Core plugins get `--app <app>` inserted as their first argument by the
   * dispatcher (`execute_dokku_cmd`); community plugins (postgres, redis,
   * letsencrypt) read `DOKKU_APP_NAME` themselves, or not at all.
   */
  core: boolean;
  commands: Record<string, CommandHandler>;
}
