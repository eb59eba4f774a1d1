/**
 * `DokkuHost`: what a Dokku host needs before tenants are placed on it, as a
 * component of its own host stack. It installs the community plugins tenants
 * use at their pinned versions (postgres, redis, letsencrypt), the Let's
 * Encrypt renewal cron job, and the global settings (the global domain, the
 * Let's Encrypt account), then verifies all of it. Every step probes before it
 * acts, so a re-run converges and an up on a ready host changes nothing on it.
 * Destroying the stack leaves the host as it is: plugins hold tenants' data.
 */
import * as pulumi from "@pulumi/pulumi";
import { dokkuScript, type DokkuHost as HostConnection, hostCommand } from "./dokku/host.ts";
import { REQUIRED_PLUGINS, type RequiredPlugin } from "./hostRequirements.ts";
import { parseDomain } from "./tenantNames.ts";

export interface DokkuHostArgs {
  /** How to reach the host: a shell user (root, or sudo-capable), its pinned key, the private key. */
  readonly connection: HostConnection;
  /** The global domain (`domains:set-global`): apps created on the host get `<app>.<domain>` first. */
  readonly globalDomain: string;
  /** The Let's Encrypt account of the host (`letsencrypt:set --global email`). */
  readonly letsencryptEmail: string;
  /** The plugins to install (default: components/hostRequirements.ts). */
  readonly plugins?: readonly RequiredPlugin[];
}

/** Refuses arguments that would reach the host malformed; the messages name what to fix. */
export function validateDokkuHostArgs(args: DokkuHostArgs): void {
  parseDomain(args.globalDomain);
  if (!/^[^\s@'"]+@[^\s@'"]+\.[a-z]{2,}$/i.test(args.letsencryptEmail))
    throw new Error(`letsencryptEmail ${JSON.stringify(args.letsencryptEmail)} is not an email address`);
  for (const p of args.plugins ?? REQUIRED_PLUGINS) {
    if (!/^[a-z][a-z0-9-]*$/.test(p.name))
      throw new Error(`plugin name ${JSON.stringify(p.name)} is invalid`);
    if (!/^https:\/\/[A-Za-z0-9./_-]+\.git$/.test(p.url))
      throw new Error(`plugin ${p.name}'s URL must be an https git URL, got ${JSON.stringify(p.url)}`);
    if (!/^[A-Za-z0-9._-]+$/.test(p.version)) throw new Error(`plugin ${p.name}'s version is invalid`);
  }
}

export class DokkuHost extends pulumi.ComponentResource {
  /** Installed plugins and their pinned versions. */
  readonly plugins: Readonly<Record<string, string>>;
  readonly globalDomain: string;

  constructor(name: string, args: DokkuHostArgs, opts?: pulumi.ComponentResourceOptions) {
    validateDokkuHostArgs(args);
    const plugins = args.plugins ?? REQUIRED_PLUGINS;
    super("mindroom:host:DokkuHost", name, {}, opts);
    const host = args.connection;
    const script = () => dokkuScript(host);

    const installed = new Map(
      plugins.map((p) => [
        p.name,
        hostCommand(
          `${name}-plugin-${p.name}`,
          host,
          {
            create: script()
              .ensure(
                ["plugin:installed", [p.name]],
                ["plugin:install", [p.url, "--committish", p.version, "--name", p.name]],
              )
              .toString(),
            triggers: [p.url, p.version],
          },
          { parent: this },
        ),
      ]),
    );
    const letsencrypt = installed.get("letsencrypt");
    const afterLetsencrypt = { parent: this, ...(letsencrypt ? { dependsOn: [letsencrypt] } : {}) };
    const cron = hostCommand(
      `${name}-letsencrypt-cron`,
      host,
      { create: script().run("letsencrypt:cron-job", ["--add"]).toString() },
      afterLetsencrypt,
    );
    const email = hostCommand(
      `${name}-letsencrypt-email`,
      host,
      {
        create: script().run("letsencrypt:set", ["--global", "email", args.letsencryptEmail]).toString(),
        triggers: [args.letsencryptEmail],
      },
      afterLetsencrypt,
    );
    const domain = hostCommand(
      `${name}-global-domain`,
      host,
      {
        create: script()
          .unlessReport(["domains:report", ["--global", "--domains-global-vhosts"]], args.globalDomain, [
            "domains:set-global",
            [args.globalDomain],
          ])
          .toString(),
        triggers: [args.globalDomain],
      },
      { parent: this },
    );
    // The check that everything above holds, in Dokku's own words; it fails the up otherwise.
    const verify = script();
    for (const p of plugins)
      verify.require(["plugin:installed", [p.name]], `the ${p.name} plugin is missing`);
    verify
      .requireOutput(
        ["letsencrypt:cron-job", []],
        "--remove",
        "the Let's Encrypt renewal cron job is missing",
      )
      .echo("verified");
    hostCommand(
      `${name}-verify`,
      host,
      {
        create: verify.toString(),
        triggers: [plugins.map((p) => `${p.name}@${p.version}`).join(","), args.globalDomain],
      },
      { parent: this, dependsOn: [...installed.values(), cron, email, domain] },
    );
    this.plugins = Object.fromEntries(plugins.map((p) => [p.name, p.version]));
    this.globalDomain = args.globalDomain;
    this.registerOutputs({ plugins: this.plugins, globalDomain: this.globalDomain });
  }
}
