import * as pulumi from "@pulumi/pulumi";
import { type DokkuHost, dokkuScript, hostCommand } from "./host.ts";
import type { DokkuService } from "./service.ts";

export interface DokkuServiceBackupArgs {
  readonly host: DokkuHost;
  readonly service: DokkuService;
  /** `<bucket>/<prefix>`: where the plugin's s3backup job writes. */
  readonly destination: string;
  readonly region: string;
  /** Cron expression. */
  readonly schedule: string;
  /** AWS credentials scoped to the destination, Pulumi secrets. */
  readonly accessKeyId: pulumi.Input<string>;
  readonly secretAccessKey: pulumi.Input<string>;
}

/**
 * Scheduled backups of a Dokku Postgres/Redis service to S3. The plugin keeps
 * the credentials as files in the service's `backup` folder, which its
 * `backup-auth` writes from its arguments, where every user of the host could
 * read them in the process list. So the keys arrive on stdin, never in the
 * script text, and are written into those files by the shell itself (dokku
 * user only, 0600), after a `backup-deauth` (an idempotent `rm -rf`) clears
 * what an earlier run left; `backup-auth` never runs.
 */
export class DokkuServiceBackup extends pulumi.ComponentResource {
  readonly schedule: string;

  constructor(name: string, args: DokkuServiceBackupArgs, opts?: pulumi.ComponentResourceOptions) {
    const { host, service } = args;
    const { kind, service: svc } = service;
    super(
      "mindroom:dokku:ServiceBackup",
      name,
      { kind, service: svc, destination: args.destination, region: args.region, schedule: args.schedule },
      opts,
    );
    const script = () => dokkuScript(host);
    const auth = hostCommand(
      `${name}-auth`,
      host,
      {
        create: script()
          .readStdin("AWS_KEY_ID", "AWS_SECRET")
          .run(`${kind}:backup-deauth`, [svc])
          .writeServiceFiles(kind, svc, "backup", [
            ["AWS_ACCESS_KEY_ID", { shellVariable: "AWS_KEY_ID" }],
            ["AWS_SECRET_ACCESS_KEY", { shellVariable: "AWS_SECRET" }],
            ["AWS_DEFAULT_REGION", args.region],
          ])
          .toString(),
        stdin: pulumi.interpolate`${args.accessKeyId}\n${args.secretAccessKey}\n`,
        delete: script()
          .ifPresent([`${kind}:exists`, [svc]], [`${kind}:backup-deauth`, [svc]])
          .toString(),
      },
      { parent: this, dependsOn: [service.ready] },
    );
    hostCommand(
      `${name}-schedule`,
      host,
      {
        create: script().run(`${kind}:backup-schedule`, [svc, args.schedule, args.destination]).toString(),
        delete: script()
          .ifPresent([`${kind}:exists`, [svc]], [`${kind}:backup-unschedule`, [svc]])
          .toString(),
      },
      { parent: this, dependsOn: [auth] },
    );
    this.schedule = args.schedule;
    this.registerOutputs({ schedule: args.schedule });
  }
}
