import * as pulumi from "@pulumi/pulumi";
import { type DokkuHost, dokkuScript, hostCommand } from "./host.ts";

export interface DokkuNetworkArgs {
  readonly host: DokkuHost;
  /** The Docker network's name (validated by the caller's naming scheme). */
  readonly network: string;
}

/** A tenant's own Docker network: its apps and services attach to it and nothing else. */
export class DokkuNetwork extends pulumi.ComponentResource {
  readonly network: string;

  constructor(name: string, args: DokkuNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
    const { host, network } = args;
    super("mindroom:dokku:Network", name, { network }, opts);
    hostCommand(
      `${name}-network`,
      host,
      {
        create: dokkuScript(host)
          .ensure(["network:exists", [network]], ["network:create", [network]])
          .toString(),
        delete: dokkuScript(host)
          .ifPresent(["network:exists", [network]], ["network:destroy", [network], ["--force"]])
          .toString(),
      },
      { parent: this },
    );
    this.network = network;
    this.registerOutputs({ network });
  }
}
