import * as pulumi from "@pulumi/pulumi";
import { BackupCredentials } from "./backup/credentials.ts";
import { BRIDGES, type BridgeKind } from "./bridges.ts";
import { DnsRecord } from "./dns/record.ts";
import { type AppFile, DokkuApp } from "./dokku/app.ts";
import { type DokkuHost, dokkuScript, hostCommand } from "./dokku/host.ts";
import { DokkuNetwork } from "./dokku/network.ts";
import { DokkuService } from "./dokku/service.ts";
import { DokkuServiceBackup } from "./dokku/serviceBackup.ts";
import { DokkuTls, type TlsMode } from "./dokku/tls.ts";
import {
  appserviceRegistration,
  type BridgeTokens,
  bridgeConfig,
  synapseHomeserverConfig,
  synapseSigningKey,
} from "./homeserverFiles.ts";
import { mindroomConfig } from "./mindroomConfig/template.ts";
import { providerKeyEnvironment } from "./modelProviders.ts";
import {
  APPSERVICE_DIR,
  type AppSecrets,
  backupJobEnvironment,
  CONFIG_TEMPLATE_FILE,
  HOMESERVER_DATA_DIR,
  HOMESERVER_PORT,
  homeserverEnvironment,
  RUNTIME_DATA_DIR,
  RUNTIME_PORT,
  runtimeEnvironment,
} from "./tenantEnvironment.ts";
import {
  FINAL_BACKUP,
  type TenantDomains,
  type TenantNames,
  tenantDomains,
  tenantNames,
} from "./tenantNames.ts";
import {
  type AccessPurpose,
  deriveAccessSecret,
  deriveSecret,
  type SecretPurpose,
  tenantAccessKey,
} from "./tenantSecrets.ts";
import { sshTarget, type TenantSpec } from "./tenantSpec.ts";
import { type Limit, type ProcessResources, tier } from "./tiers.ts";
import { toYaml } from "./yamlDocument.ts";

export interface MindRoomTenantArgs {
  readonly spec: TenantSpec;
  /** The platform's root secret; only HMAC derivations of it reach the tenant. */
  readonly rootSecret: pulumi.Input<string>;
  /** Private key for the Dokku host in `spec.host.url`. */
  readonly sshPrivateKey: pulumi.Input<string>;
  /** Required when `spec.tls.mode` is `origin-certificate`. */
  readonly originCertificate?: {
    readonly certificate: pulumi.Input<string>;
    readonly key: pulumi.Input<string>;
  };
  /** Repair tokens from drift checks (see DokkuHost.repairs). */
  readonly repairs?: Readonly<Record<string, string>>;
  /** Model provider keys by the runtime's variable name (components/modelProviders.ts); only the runtime gets them. */
  readonly providerKeys?: pulumi.Input<Readonly<Record<string, string>>>;
}

/** What the portal, the operators and the policies read from a tenant stack. */
export interface TenantOutputs {
  readonly slug: string;
  readonly tier: string;
  readonly environment: string;
  readonly status: "running" | "suspended";
  readonly urls: { readonly app: string; readonly api: string; readonly matrix: string };
  readonly apps: { readonly runtime: string; readonly homeserver: string; readonly backup: string | null };
  readonly services: { readonly postgres: string | null; readonly redis: string | null };
  readonly network: string;
  readonly limits: {
    readonly agents: Limit;
    readonly messagesPerDay: Limit;
    readonly storageGb: Limit;
    readonly runtime: ProcessResources;
    readonly homeserver: ProcessResources;
  };
  readonly host: string;
  readonly backup: { readonly location: string; readonly schedule: string } | null;
  readonly images: { readonly runtime: string; readonly homeserver: string };
  readonly homeserver: string;
  /** The Matrix bridges running, each its own app. */
  readonly bridges: readonly { readonly kind: BridgeKind; readonly app: string }[];
}

/**
 * One customer's MindRoom: a network, the runtime and homeserver apps (and the
 * homeserver's databases when it is Synapse), TLS on their domains, DNS records,
 * scheduled backups to the tenant's own S3 prefix, and a final backup that runs
 * before anything holding data is deleted.
 */
export class MindRoomTenant extends pulumi.ComponentResource {
  readonly outputs: TenantOutputs;

  constructor(name: string, args: MindRoomTenantArgs, opts?: pulumi.ComponentResourceOptions) {
    // The spec carries no secrets: it is the component's recorded input.
    super("mindroom:index:MindRoomTenant", name, { spec: args.spec }, opts);
    const { spec } = args;
    const names = tenantNames(spec.slug);
    const domains = tenantDomains(spec.slug, spec.baseDomain);
    const plan = tier(spec.tier);
    const target = sshTarget(spec.host.url);
    const host: DokkuHost = {
      ...target,
      privateKey: args.sshPrivateKey,
      hostKey: spec.host.hostKey,
      ...(args.repairs ? { repairs: args.repairs } : {}),
    };
    const retainData = spec.environment === "production" && !spec.purgeData;
    const scale = spec.suspended ? 0 : 1;
    const restart = spec.restartGeneration === undefined ? {} : { restartGeneration: spec.restartGeneration };
    const child = { parent: this };
    const secret = (purpose: SecretPurpose, scope?: string) =>
      pulumi.secret(
        pulumi.output(args.rootSecret).apply((root) => deriveSecret(root, spec.slug, purpose, scope)),
      );
    const accessSecret = (purpose: AccessPurpose) =>
      pulumi.secret(
        pulumi
          .output(args.rootSecret)
          .apply((root) => deriveAccessSecret(tenantAccessKey(root), spec.slug, purpose)),
      );
    const appSecrets: pulumi.Output<AppSecrets> = pulumi
      .all([
        accessSecret("matrix-registration"),
        secret("credentials-encryption"),
        secret("dashboard-api-key"),
        accessSecret("platform-sso"),
      ])
      .apply(([matrixRegistration, credentialsEncryption, dashboardApiKey, platformSso]) => ({
        matrixRegistration,
        credentialsEncryption,
        dashboardApiKey,
        platformSso,
      }));

    const network = new DokkuNetwork(`${name}-network`, { host, network: names.network }, child);
    const afterNetwork = { ...child, dependsOn: [network] };

    const services =
      spec.homeserver === "synapse"
        ? [
            new DokkuService(
              `${name}-postgres`,
              {
                host,
                kind: "postgres",
                service: names.postgres,
                network: names.network,
                retainData,
                // Synapse's homeserver.yaml names it, so it is derived rather than the plugin's random one.
                password: secret("postgres-password"),
              },
              afterNetwork,
            ),
            new DokkuService(
              `${name}-redis`,
              { host, kind: "redis", service: names.redis, network: names.network, retainData },
              afterNetwork,
            ),
          ]
        : [];

    const bridgeKinds = (spec.bridges ?? []).map((b) => b.kind);
    const bridgeTokens = (kind: BridgeKind): pulumi.Output<BridgeTokens> =>
      pulumi
        .all([secret("bridge-as-token", kind), secret("bridge-hs-token", kind)])
        .apply(([asToken, hsToken]) => ({ asToken, hsToken }));
    // Each enabled bridge is registered with the homeserver; a removed registration restarts it.
    const registrations: AppFile[] = bridgeKinds.map((kind) => ({
      entry: names.homeserverStorage,
      path: `${APPSERVICE_DIR}/${kind}.yaml`,
      content: pulumi.secret(
        bridgeTokens(kind).apply((t) => appserviceRegistration(kind, names, domains, t)),
      ),
      restartOnRemove: true,
    }));
    const homeserverFiles: AppFile[] =
      spec.homeserver === "synapse"
        ? [
            {
              entry: names.homeserverStorage,
              path: "homeserver.yaml",
              content: pulumi.secret(
                pulumi
                  .all([
                    appSecrets,
                    secret("synapse-macaroon"),
                    secret("synapse-form"),
                    secret("postgres-password"),
                  ])
                  .apply(([s, macaroon, form, postgresPassword]) =>
                    synapseHomeserverConfig({
                      names,
                      domains,
                      secrets: { registration: s.matrixRegistration, macaroon, form, postgresPassword },
                      bridges: bridgeKinds,
                    }),
                  ),
              ),
            },
            {
              entry: names.homeserverStorage,
              path: "signing.key",
              content: pulumi.secret(secret("synapse-signing-key").apply(synapseSigningKey)),
            },
            ...registrations,
          ]
        : registrations;

    const homeserver = new DokkuApp(
      `${name}-homeserver`,
      {
        host,
        app: names.homeserverApp,
        network: names.network,
        web: { port: HOMESERVER_PORT, domains: [domains.matrix], readinessPath: "/_matrix/client/versions" },
        storage: [{ entry: names.homeserverStorage, containerDir: HOMESERVER_DATA_DIR[spec.homeserver] }],
        resources: plan.homeserver,
        config: pulumi.secret(appSecrets.apply((s) => homeserverEnvironment(spec, domains, s))),
        ...(homeserverFiles.length ? { files: homeserverFiles } : {}),
        image: spec.images.homeserver,
        services,
        scale,
        ...restart,
        retainData,
      },
      afterNetwork,
    );
    const runtime = new DokkuApp(
      `${name}-runtime`,
      {
        host,
        app: names.runtimeApp,
        network: names.network,
        web: { port: RUNTIME_PORT, domains: [domains.app, domains.api], readinessPath: "/api/ready" },
        storage: [{ entry: names.runtimeStorage, containerDir: RUNTIME_DATA_DIR }],
        resources: plan.runtime,
        config: pulumi.secret(
          pulumi.all([appSecrets, pulumi.output(args.providerKeys ?? {})]).apply(([s, keys]) => ({
            ...runtimeEnvironment(spec, names, domains, s),
            ...providerKeyEnvironment(keys),
          })),
        ),
        // The agents it starts with (only fields MindRoom's config models define; seeded once).
        files: [
          { entry: names.runtimeStorage, path: CONFIG_TEMPLATE_FILE, content: toYaml(mindroomConfig(spec)) },
        ],
        image: spec.images.runtime,
        scale,
        ...restart,
        retainData,
      },
      afterNetwork,
    );

    for (const b of spec.bridges ?? []) {
      const bridge = BRIDGES[b.kind];
      new DokkuApp(
        `${name}-bridge-${b.kind}`,
        {
          host,
          app: names.bridgeApps[b.kind],
          network: names.network,
          storage: [{ entry: names.bridgeStorage[b.kind], containerDir: bridge.dataDir }],
          resources: plan.bridge,
          // No config: the mautrix images read everything from their config file, nothing from the environment.
          files: [
            {
              entry: names.bridgeStorage[b.kind],
              path: "config.yaml",
              content: pulumi.secret(
                bridgeTokens(b.kind).apply((t) => bridgeConfig(b.kind, names, domains, t)),
              ),
            },
          ],
          image: b.image,
          scale,
          ...restart,
          retainData,
        },
        // The homeserver has its registration before the bridge starts talking to it.
        { ...child, dependsOn: [homeserver.deployed] },
      );
    }

    const tls = this.tlsMode(args);
    new DokkuTls(
      `${name}-runtime-tls`,
      { host, app: names.runtimeApp, domains: [domains.app, domains.api], tls },
      {
        ...child,
        dependsOn: [runtime.deployed],
      },
    );
    new DokkuTls(
      `${name}-homeserver-tls`,
      { host, app: names.homeserverApp, domains: [domains.matrix], tls },
      {
        ...child,
        dependsOn: [homeserver.deployed],
      },
    );

    if (spec.dns.enabled) {
      const { zoneId, proxied } = spec.dns;
      for (const [key, domain] of Object.entries(domains) as [keyof TenantDomains, string][]) {
        new DnsRecord(
          `${name}-dns-${key}`,
          { zoneId, name: domain, address: spec.host.address, proxied },
          child,
        );
      }
    }

    let backupOutput: TenantOutputs["backup"] = null;
    if (spec.backups.enabled) {
      backupOutput = this.backups(name, {
        spec,
        names,
        host,
        services,
        retainData,
        holders: [runtime, homeserver],
        passphrase: secret("backup-encryption"),
      });
    }

    this.outputs = {
      slug: spec.slug,
      tier: plan.id,
      environment: spec.environment,
      status: spec.suspended ? "suspended" : "running",
      urls: {
        app: `https://${domains.app}`,
        api: `https://${domains.api}`,
        matrix: `https://${domains.matrix}`,
      },
      apps: {
        runtime: names.runtimeApp,
        homeserver: names.homeserverApp,
        backup: spec.backups.enabled ? names.backupApp : null,
      },
      services: {
        postgres: spec.homeserver === "synapse" ? names.postgres : null,
        redis: spec.homeserver === "synapse" ? names.redis : null,
      },
      network: names.network,
      limits: {
        agents: plan.agents,
        messagesPerDay: plan.messagesPerDay,
        storageGb: plan.storageGb,
        runtime: plan.runtime,
        homeserver: plan.homeserver,
      },
      host: `${target.host}:${target.port}`,
      backup: backupOutput,
      images: { runtime: spec.images.runtime, homeserver: spec.images.homeserver },
      homeserver: spec.homeserver,
      bridges: bridgeKinds.map((kind) => ({ kind, app: names.bridgeApps[kind] })),
    };
    this.registerOutputs({ ...this.outputs });
  }

  private tlsMode(args: MindRoomTenantArgs): TlsMode {
    const { tls } = args.spec;
    if (tls.mode === "letsencrypt") return tls;
    if (!args.originCertificate) {
      throw new pulumi.ResourceError(
        "tls.mode origin-certificate needs originCertificate and originKey secrets",
        this,
      );
    }
    return { mode: "origin-certificate", ...args.originCertificate };
  }

  /**
   * Scoped AWS credentials, the service backup schedules, the storage backup job,
   * and the final backup: a command whose delete runs before anything that holds
   * data is deleted (it depends on all of them, so a destroy removes it first).
   */
  private backups(
    name: string,
    ctx: {
      spec: TenantSpec;
      names: TenantNames;
      host: DokkuHost;
      services: readonly DokkuService[];
      retainData: boolean;
      holders: readonly DokkuApp[];
      /** Encrypts the storage archives (derived, like every tenant secret). */
      passphrase: pulumi.Output<string>;
    },
  ): NonNullable<TenantOutputs["backup"]> {
    const { spec, names, host } = ctx;
    if (!spec.backups.enabled) throw new Error("unreachable: backups disabled");
    const { bucket, region, schedule } = spec.backups;
    const prefix = `tenants/${spec.slug}`;
    const child = { parent: this };
    const credentials = new BackupCredentials(
      `${name}-backup-credentials`,
      { slug: spec.slug, bucket, prefix },
      child,
    );

    const serviceBackups = ctx.services.map(
      (service) =>
        new DokkuServiceBackup(
          `${name}-${service.kind}-backup`,
          {
            host,
            service,
            destination: `${bucket}/${prefix}/${service.kind}`,
            region,
            schedule,
            accessKeyId: credentials.accessKeyId,
            secretAccessKey: credentials.secretAccessKey,
          },
          child,
        ),
    );

    const job = new DokkuApp(
      `${name}-backup`,
      {
        host,
        app: names.backupApp,
        network: names.network,
        storage: [],
        foreignMounts: [
          { entry: names.runtimeStorage, containerDir: "/backup/runtime", readonly: true },
          { entry: names.homeserverStorage, containerDir: "/backup/homeserver", readonly: true },
        ],
        resources: tier(spec.tier).backupJob,
        config: pulumi.secret(
          pulumi
            .all([credentials.accessKeyId, credentials.secretAccessKey, ctx.passphrase])
            .apply(([id, key, pass]) =>
              backupJobEnvironment({
                bucket,
                prefix,
                region,
                schedule,
                accessKeyId: id,
                secretAccessKey: key,
                encryptionPassphrase: pass,
              }),
            ),
        ),
        image: spec.images.backup,
        scale: 1,
        retainData: ctx.retainData,
      },
      { ...child, dependsOn: [...ctx.holders] },
    );

    const final = dokkuScript(host);
    for (const service of ctx.services) {
      final.ifPresent(
        [`${service.kind}:exists`, [service.service]],
        [`${service.kind}:backup`, [service.service, `${bucket}/${prefix}/${service.kind}`]],
      );
    }
    final.ifPresent(["apps:exists", [names.backupApp]], ["run", [names.backupApp, "backup"]]);
    hostCommand(
      `${name}-${FINAL_BACKUP}`,
      host,
      { create: "true", delete: final.toString() },
      {
        ...child,
        dependsOn: [job.deployed, ...ctx.services.map((s) => s.ready), ...serviceBackups, ...ctx.holders],
      },
    );
    return { location: credentials.location, schedule };
  }
}
