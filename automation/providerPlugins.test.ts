/**
 * The cloud provider plugins: which a tenant needs, and an operation that needs a missing one
 * failing before the engine starts, with the command that installs it. The last case runs the
 * real automation layer (TenantStacks) on a machine where the plugins are not installed.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SAMPLE_ROOT_SECRET, SAMPLE_ZONE, sampleSpec, sampleSpecInput } from "../testing/tenantSamples.ts";
import {
  assertProviderPlugins,
  installCommand,
  isInstalled,
  missingPlugins,
  ProviderPluginMissingError,
  pinnedProviderPlugins,
  providersFor,
} from "./providerPlugins.ts";
import { loadAutomationSettings } from "./settings.ts";
import { TenantStacks } from "./tenantStacks.ts";

const DNS = { enabled: true, zoneId: SAMPLE_ZONE, proxied: true } as const;
const BACKUPS = { enabled: true, bucket: "mindroom-backups", region: "eu-central-1" } as const;
const none = () => false;

describe("provider plugins", () => {
  it("are pinned to the SDK versions in package.json", () => {
    expect(pinnedProviderPlugins()).toEqual([
      { name: "aws", version: "7.48.0" },
      { name: "cloudflare", version: "6.22.1" },
    ]);
  });

  it("are needed by DNS records (Cloudflare) and backups (AWS) only", () => {
    expect(providersFor(sampleSpec())).toEqual([]);
    expect(providersFor(sampleSpec({ dns: DNS }))).toEqual(["cloudflare"]);
    expect(providersFor(sampleSpec({ backups: BACKUPS }))).toEqual(["aws"]);
    expect(providersFor(sampleSpec({ dns: DNS, backups: BACKUPS }))).toEqual(["aws", "cloudflare"]);
  });

  it("count as installed only when the engine's plugin cache holds the exact version, complete", () => {
    const home = mkdtempSync(join(tmpdir(), "plugins-"));
    try {
      const aws = { name: "aws", version: "7.48.0" } as const;
      expect(isInstalled(aws, home)).toBe(false);
      mkdirSync(join(home, "plugins", "resource-aws-v7.47.0"), { recursive: true });
      expect(isInstalled(aws, home)).toBe(false);
      const dir = join(home, "plugins", "resource-aws-v7.48.0");
      mkdirSync(dir);
      writeFileSync(`${dir}.partial`, "");
      expect(isInstalled(aws, home)).toBe(false);
      rmSync(`${dir}.partial`);
      expect(isInstalled(aws, home)).toBe(true);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it("refuse a tenant whose providers are missing, naming the exact install command", () => {
    expect(() => assertProviderPlugins(sampleSpec(), none)).not.toThrow();
    expect(() => assertProviderPlugins(sampleSpec({ dns: DNS, backups: BACKUPS }), () => true)).not.toThrow();
    const missing = missingPlugins(["cloudflare"], none);
    expect(installCommand(missing)).toMatch(
      /^PULUMI_HOME=\S+\/pulumi-home \S+\/pulumi\/bin\/pulumi plugin install resource cloudflare 6\.22\.1$/,
    );
    expect(() => assertProviderPlugins(sampleSpec({ dns: DNS }), none)).toThrow(
      `tenant acme needs the cloudflare v6.22.1 provider plugin, which is not installed (nothing was changed). Install with \`./platform setup --providers\`, or where that machine cannot download: ${installCommand(missing)}`,
    );
    expect(() => assertProviderPlugins(sampleSpec({ dns: DNS, backups: BACKUPS }), none)).toThrow(
      ProviderPluginMissingError,
    );
  });
});

describe.skipIf(isInstalled({ name: "cloudflare", version: "6.22.1" }))(
  "an operation on a tenant that needs a missing plugin",
  () => {
    const dataDir = mkdtempSync(join(tmpdir(), "plugins-stacks-"));
    afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

    it("fails at once, before a stack exists, with the install command", async () => {
      const settings = loadAutomationSettings({
        MINDROOM_DATA_DIR: dataDir,
        PULUMI_BACKEND_URL: `file://${join(dataDir, "state")}`,
        DOKKU_HOSTS: "ssh://root@127.0.0.1:2222",
      });
      const stacks = await TenantStacks.open(settings);
      const result = await stacks.apply(sampleSpecInput({ slug: "needs-dns", dns: DNS }), {
        rootSecret: SAMPLE_ROOT_SECRET,
        sshPrivateKey: "unused: the operation stops before it connects",
      });
      expect(result.status).toBe("failed");
      expect(result.error?.kind).toBe("ProviderPluginMissingError");
      expect(result.error?.message).toContain("plugin install resource cloudflare 6.22.1");
      expect(await stacks.list()).toEqual([]);
    });
  },
);
