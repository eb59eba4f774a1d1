import * as pulumi from "@pulumi/pulumi";
import { type DokkuHost, dokkuScript, hostCommand } from "./host.ts";

export type ServiceKind = "postgres" | "redis";

export interface DokkuServiceArgs {
  readonly host: DokkuHost;
  readonly kind: ServiceKind;
  /** The service name (validated by the caller's naming scheme). */
  readonly service: string;
  /** The tenant network the service container is created on. */
  readonly network: string;
  /** Image version (tag) of the service image; the plugin's default when unset. */
  readonly imageVersion?: string;
  /**
   * The service's password (a derived secret, so the apps that use it can be configured with it);
   * the plugin generates one when unset. Read from stdin, never part of the script.
   */
  readonly password?: pulumi.Input<string>;
  /**
   * Keep the service (its data) when the resource is deleted: production tenants
   * lose data only through an explicit purge, after the final backup.
   */
  readonly retainData: boolean;
}

/** A Postgres or Redis service from Dokku's service plugins, on the tenant's network. */
export class DokkuService extends pulumi.ComponentResource {
  readonly kind: ServiceKind;
  readonly service: string;
  /** The resource that exists once the service does: depend on it to use the service. */
  readonly ready: pulumi.Resource;

  constructor(name: string, args: DokkuServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const { host, kind, service, network } = args;
    super("mindroom:dokku:Service", name, { kind, service, network, retainData: args.retainData }, opts);
    const createArgs = [
      "--initial-network",
      network,
      ...(args.imageVersion ? ["--image-version", args.imageVersion] : []),
      ...(args.password === undefined ? [] : ["--password", { shellVariable: "SERVICE_PASSWORD" }]),
    ];
    const create = dokkuScript(host);
    if (args.password !== undefined) create.readStdin("SERVICE_PASSWORD");
    this.ready = hostCommand(
      `${name}-service`,
      host,
      {
        create: create
          .ensure([`${kind}:exists`, [service]], [`${kind}:create`, [service, ...createArgs]])
          .toString(),
        ...(args.password === undefined ? {} : { stdin: pulumi.interpolate`${args.password}\n` }),
        delete: dokkuScript(host)
          .ifPresent([`${kind}:exists`, [service]], [`${kind}:destroy`, [service], ["--force"]])
          .toString(),
      },
      { parent: this, retainOnDelete: args.retainData },
    );
    this.kind = kind;
    this.service = service;
    this.registerOutputs({ kind, service });
  }
}
