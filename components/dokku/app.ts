import * as pulumi from "@pulumi/pulumi";
import type { ProcessResources } from "../tiers.ts";
import { configDigest } from "./configDigest.ts";
import { type DokkuHost, dokkuScript, hostCommand } from "./host.ts";
import type { DokkuService } from "./service.ts";
import { removeStorageFileScript, type StorageFile, writeStorageFileScript } from "./storageFile.ts";

/** A file the app reads, written into one of its storage entries before the first deploy. */
export interface AppFile extends StorageFile {
  /** The file's content; treated as secret (it may hold tokens). */
  readonly content: pulumi.Input<string>;
  /** The app must restart to notice the file is gone (a homeserver dropping an appservice). */
  readonly restartOnRemove?: boolean;
  /** False for a file the app reads only once, on its first start (a config template): no restart on change. */
  readonly restartOnChange?: boolean;
}

export interface StorageMount {
  /** Storage entry name (Dokku keeps it under /var/lib/dokku/data/storage/<entry>). */
  readonly entry: string;
  readonly containerDir: string;
  readonly readonly?: boolean;
}

export interface DokkuAppArgs {
  readonly host: DokkuHost;
  readonly app: string;
  /** The tenant network: the app's containers start on it and on no other. */
  readonly network: string;
  /**
   * The container port nginx proxies `http:80` to, with the domains that reach
   * it; `undefined` for an app nobody reaches from outside (its vhost is off).
   */
  readonly web?: {
    readonly port: number;
    readonly domains: readonly string[];
    /** HTTP path that answers 2xx once the app is ready (a Docker health check polls it). */
    readonly readinessPath: string;
  };
  /** Storage entries this app owns (created here) and mounts. */
  readonly storage: readonly StorageMount[];
  /** Storage entries of other apps it mounts (the backup job reads the tenant's data). */
  readonly foreignMounts?: readonly StorageMount[];
  /** Files it reads from its own storage; a changed file restarts the app. */
  readonly files?: readonly AppFile[];
  readonly resources: ProcessResources;
  /**
   * The app's environment. Treated as secret as a whole. Absent for an app that reads nothing from
   * its environment: Dokku's config:import refuses an empty one ("No config vars to set", exit 1).
   */
  readonly config?: pulumi.Input<Record<string, pulumi.Input<string>>>;
  /** The image, pinned by digest. */
  readonly image: string;
  /** Services to link before the first deploy (their URLs land in the config). */
  readonly services?: readonly DokkuService[];
  /** web processes to run: 1, or 0 while the tenant is suspended. */
  readonly scale: number;
  /** Each new value restarts the app's processes once (`ps:restart`); absent: never restarted. */
  readonly restartGeneration?: number;
  /** Keep owned storage when the app is deleted (production, until a purge). */
  readonly retainData: boolean;
}

/**
 * A Dokku app configured in the order the first deploy needs (storage, app,
 * network, ports, mounts, domains, limits, config, links), then deployed once
 * from an image and scaled. Each concern is its own remote command, so a change
 * touches only what it must: a tier change updates limits and restarts; a new
 * image redeploys; suspending scales to zero.
 */
export class DokkuApp extends pulumi.ComponentResource {
  readonly app: string;
  /** Exists once the app runs the requested image and scale. */
  readonly deployed: pulumi.Resource;

  constructor(name: string, args: DokkuAppArgs, opts?: pulumi.ComponentResourceOptions) {
    // Recorded as the component's inputs (for policies and diffs): everything but secrets.
    super("mindroom:dokku:App", name, describeApp(args), opts);
    const { host, app } = args;
    const script = () => dokkuScript(host);
    const child = { parent: this };

    const storage = args.storage.map((s) =>
      hostCommand(
        `${name}-storage-${s.entry}`,
        host,
        {
          create: script().run("storage:create", [s.entry]).toString(),
          delete: script()
            .ifPresent(["storage:info", [s.entry]], ["storage:destroy", [s.entry], ["--force"]])
            .toString(),
        },
        { ...child, retainOnDelete: args.retainData },
      ),
    );

    const created = hostCommand(
      `${name}-app`,
      host,
      {
        create: script()
          .ensure(["apps:exists", [app]], ["apps:create", [app]])
          .toString(),
        delete: script()
          .ifPresent(["apps:exists", [app]], ["apps:destroy", [app], ["--force"]])
          .toString(),
      },
      // Storage outlives the app: it is destroyed only after the app that mounts it.
      { ...child, dependsOn: storage },
    );

    const settings = hostCommand(
      `${name}-settings`,
      host,
      { create: settingsScript(args).toString() },
      {
        ...child,
        dependsOn: [created],
      },
    );

    const restart = () =>
      script()
        .run("ps:restart", [app])
        .toString()
        .replace(/^set -e\n/, "");
    const files = (args.files ?? []).map((file) =>
      hostCommand(
        `${name}-file-${file.path.replace(/[^a-z0-9]+/g, "-")}`,
        host,
        {
          create: writeStorageFileScript(host.user, file),
          // A running app reads its files at start: a changed one takes a restart (a no-op before the first deploy).
          update:
            file.restartOnChange === false
              ? writeStorageFileScript(host.user, file)
              : `${writeStorageFileScript(host.user, file)}\n${restart()}`,
          delete: file.restartOnRemove
            ? `${removeStorageFileScript(host.user, file)}\n${script()
                .ifPresent(["apps:exists", [app]], ["ps:restart", [app]])
                .toString()
                .replace(/^set -e\n/, "")}`
            : removeStorageFileScript(host.user, file),
          stdin: file.content,
        },
        { ...child, dependsOn: [created, ...storage] },
      ),
    );

    const importConfig = () =>
      script().run("config:import", ["--no-restart", "--format", "json", app, "-"], ["--quiet"], {
        discardStdout: true,
      });
    const config =
      args.config === undefined
        ? []
        : [
            hostCommand(
              `${name}-config`,
              host,
              {
                create: importConfig().toString(),
                // A changed config reaches running processes only through a restart (a no-op before the first deploy).
                update: importConfig().run("ps:restart", [app]).toString(),
                stdin: pulumi.output(args.config).apply((c) => JSON.stringify(c)),
              },
              { ...child, dependsOn: [created] },
            ),
          ];

    const { memoryMb, cpus, reserveMemoryMb } = args.resources;
    const limits = hostCommand(
      `${name}-limits`,
      host,
      {
        // ps:rebuild applies new limits to a deployed app and is a no-op before the first deploy.
        create: script()
          .run("resource:limit", ["--memory", String(memoryMb), "--cpu", String(cpus), app])
          .run("resource:reserve", ["--memory", String(reserveMemoryMb), app])
          .run("ps:rebuild", [app])
          .toString(),
      },
      { ...child, dependsOn: [created, ...config] },
    );

    const links = (args.services ?? []).map((svc) =>
      hostCommand(
        `${name}-link-${svc.kind}`,
        host,
        {
          create: script()
            .ensure(
              [`${svc.kind}:linked`, [svc.service, app]],
              [`${svc.kind}:link`, [svc.service, app, "--no-restart"]],
            )
            .toString(),
          delete: script()
            .ifPresent(
              [`${svc.kind}:linked`, [svc.service, app]],
              [`${svc.kind}:unlink`, [svc.service, app, "--no-restart"]],
            )
            .toString(),
        },
        { ...child, dependsOn: [created, svc.ready] },
      ),
    );

    const deploy = hostCommand(
      `${name}-deploy`,
      host,
      {
        // git:from-image fails on the image already deployed, so compare first.
        create: script()
          .unlessReport(["apps:report", [app, "--app-deploy-source-metadata"]], args.image, [
            "git:from-image",
            [app, args.image],
          ])
          .toString(),
      },
      { ...child, dependsOn: [settings, ...config, limits, ...links, ...files] },
    );

    this.deployed = hostCommand(
      `${name}-scale`,
      host,
      {
        create: script()
          .run("ps:scale", [app, `web=${args.scale}`])
          .toString(),
      },
      { ...child, dependsOn: [deploy] },
    );

    if (args.restartGeneration !== undefined) {
      // Created by the first restart request, then run again (as an update) by each new generation.
      hostCommand(
        `${name}-restart`,
        host,
        { create: script().run("ps:restart", [app]).toString(), triggers: [args.restartGeneration] },
        { ...child, dependsOn: [this.deployed] },
      );
    }

    this.app = app;
    this.registerOutputs({ app });
  }
}

/** The app's args without secrets (the config and the host's key). */
function describeApp(args: DokkuAppArgs) {
  const config = pulumi.output(args.config ?? {});
  return {
    configKeys: pulumi.unsecret(config.apply((c) => Object.keys(c).sort())),
    configDigest: pulumi.unsecret(config.apply((c) => configDigest(c as Record<string, string>))),
    app: args.app,
    network: args.network,
    web: args.web,
    storage: args.storage,
    foreignMounts: args.foreignMounts ?? [],
    // Only when there are any: apps without files keep the inputs they were recorded with.
    ...(args.files?.length ? { files: args.files.map((f) => ({ entry: f.entry, path: f.path })) } : {}),
    resources: args.resources,
    image: args.image,
    services: (args.services ?? []).map((s) => ({ kind: s.kind, service: s.service })),
    scale: args.scale,
    retainData: args.retainData,
  };
}

/** A Docker health check against the app's readiness endpoint, as one docker-options string. */
export function readinessOption(port: number, path: string): string {
  if (!/^\/[A-Za-z0-9/_.-]*$/.test(path))
    throw new Error(`readiness path must be a plain URL path, got ${path}`);
  return `--health-cmd 'curl -fsS http://127.0.0.1:${port}${path} || exit 1' --health-interval 10s --health-start-period 120s --health-retries 3`;
}

/** Network, ports, mounts, domains and readiness: everything nginx and the scheduler read at deploy. */
function settingsScript(args: DokkuAppArgs) {
  const { app } = args;
  const s = dokkuScript(args.host).run("network:set", [app, "initial-network", args.network]);
  for (const m of [...args.storage, ...(args.foreignMounts ?? [])]) {
    s.run("storage:mount", [
      app,
      m.entry,
      "--container-dir",
      m.containerDir,
      ...(m.readonly ? ["--volume-readonly"] : []),
    ]);
  }
  if (args.web) {
    s.run("ports:set", [app, `http:80:${args.web.port}`]);
    s.run("domains:set", [app, ...args.web.domains]);
    // docker-options:add appends duplicates, so remove (a silent no-op when absent) first.
    const health = readinessOption(args.web.port, args.web.readinessPath);
    s.run("docker-options:remove", [app, "deploy", health]);
    s.run("docker-options:add", [app, "deploy", health]);
  } else {
    s.run("domains:disable", [app]);
  }
  return s;
}
