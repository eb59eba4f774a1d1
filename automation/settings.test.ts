import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { defaultPoolSize, loadAutomationSettings, parseHosts, SettingsError } from "./settings.ts";

const fresh = () => mkdtempSync(join(tmpdir(), "settings-"));

describe("loadAutomationSettings", () => {
  it("defaults to a file backend and generated secrets in the data folder, stable across loads", () => {
    const dir = fresh();
    const a = loadAutomationSettings({ MINDROOM_DATA_DIR: dir });
    expect(a.backendUrl).toBe(`file://${join(dir, "pulumi")}`);
    expect(a.secretsProvider).toBe("passphrase");
    expect(a.secretsEnv.PULUMI_CONFIG_PASSPHRASE).toMatch(/^[0-9a-f]{64}$/);
    expect(a.rootSecret).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(join(dir, "root-secret")).mode & 0o777).toBe(0o600);
    const b = loadAutomationSettings({ MINDROOM_DATA_DIR: dir });
    expect([b.rootSecret, b.secretsEnv.PULUMI_CONFIG_PASSPHRASE]).toEqual([
      a.rootSecret,
      a.secretsEnv.PULUMI_CONFIG_PASSPHRASE,
    ]);
    expect(readFileSync(join(dir, "pulumi-passphrase"), "utf8")).toBe(a.secretsEnv.PULUMI_CONFIG_PASSPHRASE);
  });

  it("keeps the state in the data folder's local object store once ./platform start made one", () => {
    const dir = fresh();
    const store = join(dir, "object-store");
    mkdirSync(store);
    writeFileSync(join(store, "port"), "9123");
    writeFileSync(
      join(store, "credentials.json"),
      JSON.stringify({ accessKeyId: "local-key", secretAccessKey: "local-secret-1" }),
    );
    const s = loadAutomationSettings({ MINDROOM_DATA_DIR: dir });
    expect(s.backendUrl).toBe(
      "s3://mindroom-pulumi-state?endpoint=http%3A%2F%2F127.0.0.1%3A9123&s3ForcePathStyle=true&region=us-east-1",
    );
    expect(s.backendEnv).toEqual({
      AWS_ACCESS_KEY_ID: "local-key",
      AWS_SECRET_ACCESS_KEY: "local-secret-1",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9123",
    });
    expect(s.localObjectStore).toBe(store);
    // An explicit backend wins, and the local store's credentials stay out of it.
    const explicit = loadAutomationSettings({
      MINDROOM_DATA_DIR: dir,
      PULUMI_BACKEND_URL: "s3://prod-state",
    });
    expect([explicit.backendUrl, explicit.backendEnv, explicit.localObjectStore]).toEqual([
      "s3://prod-state",
      {},
      undefined,
    ]);
  });

  it("takes the Pulumi CLI's own names for backend and secrets", () => {
    const s = loadAutomationSettings({
      MINDROOM_DATA_DIR: fresh(),
      PULUMI_BACKEND_URL: "s3://state-bucket?region=eu-central-1",
      PULUMI_SECRETS_PROVIDER: "awskms://alias/mindroom?region=eu-central-1",
      MINDROOM_ROOT_SECRET: "r".repeat(40),
    });
    expect(s.backendUrl).toBe("s3://state-bucket?region=eu-central-1");
    expect(s.secretsProvider).toBe("awskms://alias/mindroom?region=eu-central-1");
    expect(s.secretsEnv).toEqual({});
    expect(s.rootSecret).toBe("r".repeat(40));
  });

  it.each([
    [{ PULUMI_BACKEND_URL: "ftp://x" }, /PULUMI_BACKEND_URL/],
    [{ PULUMI_SECRETS_PROVIDER: "rot13" }, /PULUMI_SECRETS_PROVIDER/],
    [{ MINDROOM_AUTOMATION_WORKERS: "0" }, /MINDROOM_AUTOMATION_WORKERS/],
    [{ MINDROOM_OPERATION_TIMEOUT: "soon" }, /MINDROOM_OPERATION_TIMEOUT/],
    [{ MINDROOM_ENVIRONMENT: "prod" }, /MINDROOM_ENVIRONMENT/],
  ])("refuses %j with an error naming the setting", (env, message) => {
    expect(() => loadAutomationSettings({ MINDROOM_DATA_DIR: fresh(), ...env })).toThrow(SettingsError);
    expect(() => loadAutomationSettings({ MINDROOM_DATA_DIR: fresh(), ...env })).toThrow(message);
  });
});

describe("DOKKU_HOSTS", () => {
  it("refuses a host address that is not an IP address or a DNS name", () => {
    for (const address of ["a'b", "1.2.3.4\nid", "x y"])
      expect(() => parseHosts(`ssh://root@10.0.0.1:22?address=${encodeURIComponent(address)}`)).toThrow(
        `DOKKU_HOSTS address ${JSON.stringify(address)} must be an IP address or a lowercase DNS name`,
      );
  });

  it("parses the host pool with optional capacity, address and proxy settings", () => {
    expect(
      parseHosts(
        "ssh://root@dokku-1.example.com:22?memoryMb=16384&cpus=8&address=203.0.113.5&proxied=true, ssh://deploy@10.0.0.2:2222",
      ),
    ).toEqual([
      {
        url: "ssh://root@dokku-1.example.com:22",
        address: "203.0.113.5",
        memoryMb: 16384,
        cpus: 8,
        proxied: true,
      },
      {
        url: "ssh://deploy@10.0.0.2:2222",
        address: "10.0.0.2",
        memoryMb: expect.any(Number),
        cpus: expect.any(Number),
        proxied: false,
      },
    ]);
  });
  it.each(["dokku-1:22", "ssh://root@h", "ssh://root@h:22?cpus=0"])("refuses %j", (raw) => {
    expect(() => parseHosts(raw)).toThrow(SettingsError);
  });
  it("defaults to no hosts on a machine that never started the local one, and reads the local one otherwise", () => {
    const dir = fresh();
    expect(loadAutomationSettings({ MINDROOM_DATA_DIR: dir }).hosts).toEqual([]);
    mkdirSync(join(dir, "dokku-host"), { recursive: true });
    writeFileSync(join(dir, "dokku-host", "port"), "2233");
    const s = loadAutomationSettings({ MINDROOM_DATA_DIR: dir });
    expect(s.hosts.map((h) => h.url)).toEqual(["ssh://root@127.0.0.1:2233"]);
    expect(s.sshKeyPath).toBe(join(dir, "dokku-host", "ssh", "client_key"));
  });
});

describe("defaultPoolSize", () => {
  it("gives about one worker per 2 GiB, at most two per core and eight", () => {
    const gib = 2 ** 30;
    expect(defaultPoolSize(24 * gib, 2)).toBe(4);
    expect(defaultPoolSize(24 * gib, 16)).toBe(8);
    expect(defaultPoolSize(3 * gib, 8)).toBe(1);
    expect(defaultPoolSize(1 * gib, 8)).toBe(1);
  });
});
