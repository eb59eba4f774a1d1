/**
 * The Dokku host a tenant lives on, and the one way components run commands on
 * it: a `command:remote:Command` over SSH, pinned to the host's key, whose
 * script probes before it acts.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { type DokkuBinary, DokkuScript, dokkuBinary } from "./script.ts";

export interface DokkuHost {
  readonly host: string;
  readonly port: number;
  /** A user with a shell and the `dokku` command (root, or a sudo-capable user). */
  readonly user: string;
  /** The private key, a Pulumi secret. */
  readonly privateKey: pulumi.Input<string>;
  /** The server's public host key; any other host is refused. */
  readonly hostKey: string;
  /**
   * Repair tokens by resource name, set by the automation layer when it found a
   * resource's effect changed behind Pulumi's back (drift). A new token makes
   * that one command run again; tokens stay, so the next run changes nothing.
   */
  readonly repairs?: Readonly<Record<string, string>>;
}

export function dokkuScript(host: DokkuHost): DokkuScript {
  return new DokkuScript(dokkuBinary(host.user));
}

export function binaryFor(host: DokkuHost): DokkuBinary {
  return dokkuBinary(host.user);
}

export interface HostCommandArgs {
  readonly create: pulumi.Input<string>;
  /** Runs on input changes; defaults to running `create` again (every script is idempotent). */
  readonly update?: pulumi.Input<string>;
  readonly delete?: pulumi.Input<string>;
  /** Secret material for `read` in the script; stored encrypted, never in the script text. */
  readonly stdin?: pulumi.Input<string>;
  readonly triggers?: pulumi.Input<unknown[]>;
}

/** One remote command on the tenant's Dokku host. */
export function hostCommand(
  name: string,
  host: DokkuHost,
  args: HostCommandArgs,
  opts: pulumi.CustomResourceOptions,
): command.remote.Command {
  const repair = host.repairs?.[name];
  const triggers =
    repair === undefined ? args.triggers : pulumi.output(args.triggers ?? []).apply((t) => [...t, repair]);
  return new command.remote.Command(
    name,
    {
      connection: {
        host: host.host,
        port: host.port,
        user: host.user,
        privateKey: pulumi.secret(host.privateKey),
        hostKey: host.hostKey,
        dialErrorLimit: 5,
        perDialTimeout: 10,
      },
      create: args.create,
      // Always an update in place (scripts are idempotent): with no update command
      // a changed trigger would replace, i.e. create the new before deleting the old.
      update: args.update ?? args.create,
      delete: args.delete,
      stdin: args.stdin === undefined ? undefined : pulumi.secret(args.stdin),
      triggers,
      // Dokku's forced command and sshd drop environment variables; never offer them.
      addPreviousOutputInEnv: false,
      logging: "stdoutAndStderr",
    },
    opts,
  );
}
