/**
 * Stack secrets never reach a pulumi command line (any local user can read argv in
 * /proc/<pid>/cmdline). Every CLI call of the automation layer goes through a
 * wrapper (MINDROOM_PULUMI_ROOT) that records its arguments, against a real file
 * backend with the passphrase provider.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sampleSpecInput } from "../testing/tenantSamples.ts";
import { toolsDir } from "./pulumiToolchain.ts";
import { loadAutomationSettings } from "./settings.ts";
import { StackSecretWriteError, setStackConfig } from "./stackSecrets.ts";
import { type TenantSecrets, TenantWorkspaces } from "./tenantWorkspaces.ts";

const dataDir = mkdtempSync(join(tmpdir(), "stack-secrets-"));
const argvLog = join(dataDir, "argv.log");
const previousRoot = process.env.MINDROOM_PULUMI_ROOT;

const SECRETS: TenantSecrets = {
  rootSecret: "root-secret-argv-check-5b0c2f7e91d84a6c",
  // Ends in a newline, as every OpenSSH private key does: it must come back with it.
  sshPrivateKey:
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUtYXJndi1zZWNyZXRz\n-----END OPENSSH PRIVATE KEY-----\n",
  originCertificate: "-----BEGIN CERTIFICATE-----\nMIIBargvcert\n-----END CERTIFICATE-----\n",
  originKey: "  -----BEGIN PRIVATE KEY-----\nMIIEargvkey\n-----END PRIVATE KEY-----\n\n",
  providerKeys: { OPENAI_API_KEY: "sk-argv-check-7f3d9a", ANTHROPIC_API_KEY: "sk-ant-argv-check-c41e" },
};

/** Every recorded pulumi call's arguments, one string per call. */
function recordedCalls(): string[] {
  let text: string;
  try {
    text = readFileSync(argvLog, "utf8");
  } catch {
    return [];
  }
  return text.split("\u0001\n").filter((call) => call !== "");
}

beforeAll(() => {
  const root = join(dataDir, "pulumi-wrapper");
  mkdirSync(join(root, "bin"), { recursive: true });
  // Arguments NUL-separated, calls ended by \x01\n: a private key's newlines stay inside one call.
  writeFileSync(
    join(root, "bin", "pulumi"),
    `#!/bin/bash\n{ printf '%s\\0' "$@"; printf '\\001\\n'; } >> ${JSON.stringify(argvLog)}\nexec ${JSON.stringify(join(toolsDir(), "pulumi", "bin", "pulumi"))} "$@"\n`,
  );
  chmodSync(join(root, "bin", "pulumi"), 0o755);
  // Read once per process by pulumiToolchain.ts, at the first workspace this file opens.
  process.env.MINDROOM_PULUMI_ROOT = root;
});

afterAll(() => {
  if (previousRoot === undefined) delete process.env.MINDROOM_PULUMI_ROOT;
  else process.env.MINDROOM_PULUMI_ROOT = previousRoot;
  rmSync(dataDir, { recursive: true, force: true });
});

describe("writing a tenant stack's config", () => {
  const settings = () =>
    loadAutomationSettings({
      MINDROOM_DATA_DIR: dataDir,
      PULUMI_BACKEND_URL: `file://${join(dataDir, "state")}`,
      DOKKU_HOSTS: "ssh://root@127.0.0.1:2222",
    });
  const slug = "argv-secrets";
  const secretValues = [
    SECRETS.rootSecret,
    SECRETS.sshPrivateKey,
    SECRETS.originCertificate ?? "",
    SECRETS.originKey ?? "",
    ...Object.values(SECRETS.providerKeys ?? {}),
  ];

  it("puts no secret on any pulumi command line, and every secret round-trips byte for byte", async () => {
    const workspaces = new TenantWorkspaces(settings());
    const stack = await workspaces.writeConfig(slug, sampleSpecInput({ slug }), SECRETS);

    const calls = recordedCalls();
    for (const call of calls) {
      for (const secret of secretValues) expect(call).not.toContain(secret.trim());
      // Not even one line of a multi-line secret.
      expect(call).not.toContain("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUtYXJndi1zZWNyZXRz");
    }
    // The wrapper saw the config writes (so the check above looked at them).
    expect(calls.filter((c) => c.startsWith("config\0set")).length).toBeGreaterThan(0);

    const config = await stack.getAllConfig();
    expect(config["mindroom:rootSecret"]).toEqual({ value: SECRETS.rootSecret, secret: true });
    expect(config["mindroom:sshPrivateKey"]).toEqual({ value: SECRETS.sshPrivateKey, secret: true });
    expect(config["mindroom:originCertificate"]).toEqual({ value: SECRETS.originCertificate, secret: true });
    expect(config["mindroom:originKey"]).toEqual({ value: SECRETS.originKey, secret: true });
    expect(JSON.parse(config["mindroom:providerKeys"]?.value ?? "null")).toEqual(SECRETS.providerKeys);
    expect(config["mindroom:providerKeys"]?.secret).toBe(true);
    expect(JSON.parse(config["mindroom:tenant"]?.value ?? "null")).toEqual(sampleSpecInput({ slug }));
    // Encrypted at rest: the config file holds none of them in the clear.
    const file = readFileSync(join(settings().workspacesDir, slug, `Pulumi.${slug}.yaml`), "utf8");
    for (const secret of secretValues) expect(file).not.toContain(secret.trim());
  });

  it("costs no CLI call when the same config is written again, and removes provider keys on {}", async () => {
    const workspaces = new TenantWorkspaces(settings());
    const before = recordedCalls().length;
    await workspaces.writeConfig(slug, sampleSpecInput({ slug }), SECRETS);
    expect(recordedCalls().length).toBe(before);

    const stack = await workspaces.writeConfig(slug, sampleSpecInput({ slug }), {
      ...SECRETS,
      providerKeys: {},
    });
    const config = await stack.getAllConfig();
    expect(config["mindroom:providerKeys"]).toBeUndefined();
    expect(config["mindroom:sshPrivateKey"]?.value).toBe(SECRETS.sshPrivateKey);
  });

  it("reports a refused secret by its key, never its value", async () => {
    const stack = await new TenantWorkspaces(settings()).stack(slug, false);
    const error = await setStackConfig(stack, {
      "not:a:key": { value: "refused-secret-value-91aa", secret: true },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StackSecretWriteError);
    expect((error as Error).message).toContain("not:a:key");
    expect((error as Error).message).not.toContain("refused-secret-value-91aa");
  });
});
