/**
 * The control plane as infrastructure: its two parts (the webhook service with
 * the worker, and the portal) as Dokku apps on the control host, built from the
 * same components as a tenant's apps, with their domains, TLS and DNS records;
 * in production also the tenants' backup bucket and the platform's secrets key.
 * One image runs both apps; `MINDROOM_SERVE_ONLY` tells each which part it is.
 */
import * as pulumi from "@pulumi/pulumi";
import { BackupBucket } from "../backup/bucket.ts";
import { DnsRecord } from "../dns/record.ts";
import { DokkuApp } from "../dokku/app.ts";
import type { DokkuHost } from "../dokku/host.ts";
import { DokkuNetwork } from "../dokku/network.ts";
import { DokkuTls } from "../dokku/tls.ts";
import type { ControlPlanePart, PlatformSpec } from "../platformSpec.ts";
import { sshTarget } from "../tenantSpec.ts";
import type { ProcessResources } from "../tiers.ts";
import { CONTROL_PLANE_NAMES } from "./names.ts";
import { SecretsKey } from "./secretsKey.ts";

export { CONTROL_PLANE_NAMES };

/** The port each app listens on inside its container (`PORT`); nginx proxies http:80 to it. */
export const CONTROL_PLANE_PORT = 5000;

/** Where the image's `./platform` keeps its data folder (Dockerfile WORKDIR + `.data`). */
const DATA_DIR = "/app/.data";

/** What the health check asks each part (control/healthProbe.ts asks the same). */
const READINESS_PATH: Record<ControlPlanePart, string> = { webhooks: "/readyz", portal: "/login" };

/** The worker runs Pulumi operations (a pool of engines); the portal only serves pages. */
export const CONTROL_PLANE_RESOURCES: Record<ControlPlanePart, ProcessResources> = {
  webhooks: { memoryMb: 4096, cpus: 2, reserveMemoryMb: 1024 },
  portal: { memoryMb: 1024, cpus: 1, reserveMemoryMb: 256 },
};

export interface ControlPlaneArgs {
  readonly spec: PlatformSpec;
  /** Private key for the control host. */
  readonly sshPrivateKey: pulumi.Input<string>;
  /**
   * Each part's environment (its production configuration). Only the webhooks
   * app gets infrastructure credentials; the portal's holds none.
   */
  readonly environments: Readonly<Record<ControlPlanePart, pulumi.Input<Record<string, string>>>>;
}

export interface ControlPlaneOutputs {
  readonly environment: string;
  readonly host: string;
  readonly image: string;
  readonly apps: Readonly<Record<ControlPlanePart, string>>;
  readonly urls: Readonly<Record<ControlPlanePart, string>> & { readonly stripeWebhook: string };
  readonly backupBucket: string | null;
  readonly secretsKey: string | null;
}

export class ControlPlane extends pulumi.ComponentResource {
  readonly outputs: ControlPlaneOutputs;

  constructor(name: string, args: ControlPlaneArgs, opts?: pulumi.ComponentResourceOptions) {
    // The spec carries no secrets: it is the component's recorded input.
    super("mindroom:platform:ControlPlane", name, { spec: args.spec }, opts);
    const { spec } = args;
    const child = { parent: this };
    const host: DokkuHost = {
      ...sshTarget(spec.host.url),
      privateKey: args.sshPrivateKey,
      hostKey: spec.host.hostKey,
    };
    const network = new DokkuNetwork(
      `${name}-network`,
      { host, network: CONTROL_PLANE_NAMES.network },
      child,
    );

    const app = (part: ControlPlanePart) => {
      const appName = CONTROL_PLANE_NAMES.apps[part];
      const domain = spec.domains[part];
      const deployed = new DokkuApp(
        `${name}-${part}`,
        {
          host,
          app: appName,
          network: CONTROL_PLANE_NAMES.network,
          web: { port: CONTROL_PLANE_PORT, domains: [domain], readinessPath: READINESS_PATH[part] },
          storage:
            part === "webhooks"
              ? [{ entry: CONTROL_PLANE_NAMES.webhooksStorage, containerDir: DATA_DIR }]
              : [],
          resources: CONTROL_PLANE_RESOURCES[part],
          config: pulumi.secret(
            pulumi.output(args.environments[part]).apply((env) => ({
              ...env,
              MINDROOM_ENVIRONMENT: spec.environment,
              MINDROOM_SERVE_ONLY: part,
              PORT: String(CONTROL_PLANE_PORT),
            })),
          ),
          image: spec.image,
          scale: 1,
          retainData: true,
        },
        { ...child, dependsOn: [network] },
      );
      new DokkuTls(
        `${name}-${part}-tls`,
        { host, app: appName, domains: [domain], tls: { mode: "letsencrypt", email: spec.tlsEmail } },
        { ...child, dependsOn: [deployed.deployed] },
      );
      if (spec.dns.enabled) {
        new DnsRecord(
          `${name}-${part}-dns`,
          { zoneId: spec.dns.zoneId, name: domain, address: spec.host.address, proxied: spec.dns.proxied },
          child,
        );
      }
    };
    app("webhooks");
    app("portal");

    let backupBucket: string | null = null;
    let secretsKey: string | null = null;
    if (spec.storage.enabled) {
      const key = new SecretsKey(`${name}-secrets`, { alias: spec.storage.secretsKeyAlias }, child);
      const bucket = new BackupBucket(
        `${name}-backups`,
        { bucket: spec.storage.bucket, retentionDays: spec.storage.retentionDays, kmsKeyArn: key.arn },
        child,
      );
      backupBucket = `s3://${bucket.bucket}`;
      secretsKey = `awskms://${key.alias}?region=${spec.storage.region}`;
    }

    const target = sshTarget(spec.host.url);
    this.outputs = {
      environment: spec.environment,
      host: `${target.host}:${target.port}`,
      image: spec.image,
      apps: CONTROL_PLANE_NAMES.apps,
      urls: {
        webhooks: `https://${spec.domains.webhooks}`,
        portal: `https://${spec.domains.portal}`,
        stripeWebhook: `https://${spec.domains.webhooks}/stripe/webhook`,
      },
      backupBucket,
      secretsKey,
    };
    this.registerOutputs({ ...this.outputs });
  }
}
