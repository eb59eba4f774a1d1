/**
 * The double's whole host state: one JSON document, read once per command and
 * written back atomically (temp file + rename) only when it changed. Every
 * command runs under the entry script's flock on the state directory, so a
 * read-modify-write never interleaves with another session's.
 *
 * The shape follows Dokku's own storage where that matters for behaviour:
 * plugin properties are a generic `plugin → scope → key → value` store (scope is
 * an app, a service or `--global`), exactly like `fn-plugin-property-*`.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export const STATE_VERSION = 1;

export type Properties = Record<string, Record<string, Record<string, string>>>;

export interface PortMap {
  scheme: string;
  hostPort: number;
  containerPort: number;
}

/** A TLS pair installed for an app (`$DOKKU_ROOT/<app>/tls`). */
export interface TlsState {
  source: "custom" | "letsencrypt";
  crtPem: string;
  keyPem: string;
  /** Set for letsencrypt certificates, which the double never really issues. */
  synthetic?: { subject: string; issuer: string; startsAt: string; expiresAt: string; hostnames: string[] };
}

export interface LetsencryptState {
  /** Hash of the lego configuration the current certificate was issued with. */
  configHash: string;
  /** Expiry, epoch seconds. */
  expiresAt: number;
}

export interface DeployState {
  source: string;
  metadata: string;
  image: string;
  sha: string;
  updatedAt: number;
}

export interface StorageAttachment {
  entryName: string;
  containerPath: string;
  phases: string[];
  processType: string;
  subpath: string;
  readonly: boolean;
  volumeOptions: string;
  volumeChown: string;
}

export interface AppState {
  createdAt: number;
  env: Record<string, string>;
  /** Lines of `$DOKKU_ROOT/<app>/VHOST`; `null` when the file does not exist. */
  vhosts: string[] | null;
  locked: boolean;
  deploy: DeployState | null;
  deployed: boolean;
  running: boolean;
  /** Process formation, `ps:scale`; insertion order is irrelevant (reports sort). */
  scale: Record<string, number>;
  /** `phase` → options, for the default scope (`_default_`) and per process (`web.deploy`). */
  dockerOptions: Record<string, string[]>;
  /** Explicit `ports:set/add` mappings; `null` when the property was never written or was cleared. */
  ports: PortMap[] | null;
  tls: TlsState | null;
  letsencrypt: LetsencryptState | null;
  mounts: StorageAttachment[];
  /** How many times the app was (re)deployed, for the command log and debugging. */
  releases: number;
}

export interface NetworkState {
  id: string;
  createdAt: number;
}

export interface ServiceBackup {
  bucket: string;
  at: number;
  useIam: boolean;
}

export interface ServiceState {
  password: string;
  rootPassword: string;
  databaseName: string;
  image: string;
  imageVersion: string;
  containerId: string;
  internalIp: string;
  configOptions: string;
  customEnv: string;
  memory: string;
  shmSize: string;
  /** Apps in the service's LINKS file. */
  links: string[];
  /** `running`, or `missing` when the container could never be created. */
  status: "running" | "exited" | "missing";
  backupEncryptionKey: string;
  backups: ServiceBackup[];
  createdAt: number;
}

export interface StorageEntry {
  name: string;
  scheduler: string;
  hostPath: string;
  chown: string;
  mode: string;
  reclaimPolicy: string;
}

export interface HostState {
  version: typeof STATE_VERSION;
  /** `$DOKKU_ROOT/VHOST`, `null` when absent. */
  globalVhosts: string[] | null;
  globalEnv: Record<string, string>;
  properties: Properties;
  apps: Record<string, AppState>;
  networks: Record<string, NetworkState>;
  services: Record<string, Record<string, ServiceState>>;
  storageEntries: Record<string, StorageEntry>;
  /** Storage directories made by the deprecated `storage:ensure-directory`. */
  storageDirectories: string[];
  /** Images "present on the host", so a second pull says "Image exists on host". */
  images: string[];
  /** `/etc/cron.d/<name>` files written through sudo by service backup schedules. */
  cronFiles: Record<string, string>;
  letsencryptAutorenew: boolean;
  /**
   * Community plugins installed with `plugin:install`, by name. Absent means the
   * three tenants need (postgres, redis, letsencrypt), as on every host before
   * `plugin:*` existed in the double (see cli/plugin.ts).
   */
  plugins?: Record<string, InstalledPlugin>;
}

export interface InstalledPlugin {
  url: string;
  version: string;
  /** `--committish` given at install, empty for the default branch. */
  committish: string;
}

export function emptyState(): HostState {
  return {
    version: STATE_VERSION,
    globalVhosts: null,
    globalEnv: {},
    properties: {},
    apps: {},
    networks: {},
    services: {},
    storageEntries: {},
    storageDirectories: [],
    images: [],
    cronFiles: {},
    letsencryptAutorenew: false,
  };
}

export function newApp(createdAt: number): AppState {
  return {
    createdAt,
    env: {},
    vhosts: null,
    locked: false,
    deploy: null,
    deployed: false,
    running: false,
    scale: {},
    dockerOptions: {},
    ports: null,
    tls: null,
    letsencrypt: null,
    mounts: [],
    releases: 0,
  };
}

export class StateStore {
  readonly path: string;
  private snapshot = "";

  constructor(path: string) {
    this.path = path;
  }

  load(): HostState {
    if (!existsSync(this.path)) {
      this.snapshot = "";
      return emptyState();
    }
    const text = readFileSync(this.path, "utf8");
    this.snapshot = text;
    const parsed = JSON.parse(text) as HostState;
    if (parsed.version !== STATE_VERSION) {
      throw new Error(`unsupported double state version ${String(parsed.version)} in ${this.path}`);
    }
    return parsed;
  }

  /** Writes only when something changed, via a temp file and rename so readers never see half a file. */
  save(state: HostState): boolean {
    // Compact on purpose: every command parses and rewrites the whole document.
    const text = `${JSON.stringify(state)}\n`;
    if (text === this.snapshot) return false;
    mkdirSync(dirname(this.path), { recursive: true });
    const temp = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temp, text, { mode: 0o644 });
    renameSync(temp, this.path);
    this.snapshot = text;
    return true;
  }
}
