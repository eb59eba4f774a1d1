import { Secret } from "@pulumi/policy";
import { beforeAll, describe, expect, it } from "vitest";
import { parseSlug } from "../../components/tenantNames.ts";
import { deriveSecret } from "../../components/tenantSecrets.ts";
import { SAMPLE_ROOT_SECRET, SAMPLE_ZONE, sampleSpecInput } from "../../testing/tenantSamples.ts";
import { TYPES } from "../resourceTypes.ts";
import {
  check,
  edit,
  editInputs,
  messages,
  ofType,
  recordTenant,
  withChild,
  withStackOutputs,
} from "../testing/fixtures.ts";
import { sampleSettings } from "../testing/samples.ts";
import { type SampleResource, UNKNOWN, unwrapSecrets } from "../testing/validationArgs.ts";
import {
  noPlaintextSecretMaterial,
  rootSecretStaysOut,
  secretsArePulumiSecrets,
  stackOutputsCarryNoSecrets,
} from "./secrets.ts";

const PEM =
  "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----";
const derived = deriveSecret(SAMPLE_ROOT_SECRET, parseSlug("acme"), "dashboard-api-key");

/** Everything that carries secrets: app config, backup credentials, an origin certificate, DNS. */
let full: SampleResource[];
beforeAll(async () => {
  full = await recordTenant(
    sampleSpecInput({
      homeserver: "synapse",
      tls: { mode: "origin-certificate" },
      dns: { enabled: true, zoneId: SAMPLE_ZONE, proxied: true },
      backups: { enabled: true, bucket: "mindroom-backups", region: "eu-central-1" },
    }),
    { origin: true },
  );
});

const command = (inputs: Record<string, unknown>) => ({ type: TYPES.command, name: "tenant-extra", inputs });
const connection = (privateKey: unknown) => ({ host: "127.0.0.1", port: 2222, user: "root", privateKey });

describe("secrets-are-pulumi-secrets", () => {
  it("passes every command of a full tenant (stdin and SSH keys are secrets)", async () => {
    expect(await check(secretsArePulumiSecrets, full)).toEqual([]);
  });

  it("refuses plain-text stdin", async () => {
    const resources = editInputs(full, "tenant-runtime-config", (p) => ({
      ...p,
      stdin: unwrapSecrets(p.stdin),
    }));
    expect(messages(await check(secretsArePulumiSecrets, resources))).toEqual([
      'Tenant "acme": command tenant-runtime-config: stdin is plain text; make it a Pulumi secret (pulumi.secret).',
    ]);
  });

  it("refuses a plain-text SSH key and secret-named environment variables, not other variables", async () => {
    const resources = withChild(
      full,
      "tenant",
      command({
        connection: connection("plain-key"),
        create: "true",
        environment: {
          AWS_SECRET_ACCESS_KEY: "plain",
          REGION: "eu-central-1",
          DB_PASSWORD: new Secret("wrapped"),
        },
      }),
    );
    expect(messages(await check(secretsArePulumiSecrets, resources))).toEqual([
      'Tenant "acme": command tenant-extra: connection.privateKey is plain text; make it a Pulumi secret (pulumi.secret).',
      'Tenant "acme": command tenant-extra: environment.AWS_SECRET_ACCESS_KEY is plain text; make it a Pulumi secret (pulumi.secret).',
    ]);
  });

  it("accepts secrets wrapped at any level, and leaves values not known yet to the update", async () => {
    const resources = withChild(
      full,
      "tenant",
      command({
        connection: new Secret(connection("k")),
        create: "true",
        stdin: UNKNOWN,
        environment: new Secret({ API_TOKEN: "t" }),
      }),
    );
    expect(await check(secretsArePulumiSecrets, resources)).toEqual([]);
  });

  it("says so when its remediation pass did not run (enforcement level changed from remediate)", async () => {
    const mandatory = { ...secretsArePulumiSecrets, enforcementLevel: "mandatory" as const };
    const resources = withChild(
      full,
      "tenant",
      command({ connection: new Secret(connection("k")), create: "true" }),
    );
    const found = await check(mandatory, resources);
    expect(found.at(-1)?.message).toBe(
      'Tenant "acme": command tenant-extra could not be checked for plain-text secrets: keep this policy at enforcement level remediate.',
    );
  });
});

describe("no-plaintext-secret-material", () => {
  it("passes a full tenant (digests and secret channels are not secret material in plain text)", async () => {
    expect(await check(noPlaintextSecretMaterial, full)).toEqual([]);
  });

  it.each([
    [
      "a private key in a script",
      { create: `cat > /root/key <<EOF\n${PEM}\nEOF` },
      [".create contains a PEM private key"],
    ],
    [
      "a derived secret set on the command line",
      { create: `dokku config:set mr-acme MINDROOM_API_KEY=${derived}` },
      [
        ".create contains a 64-hex-digit secret",
        ".create contains a literal value for a secret-named variable",
      ],
    ],
    [
      "a literal password",
      { create: "dokku config:set mr-acme DB_PASSWORD=hunter2" },
      [".create contains a literal value for a secret-named variable"],
    ],
    [
      "a URL with a password",
      { create: "psql postgres://app:s3cret@db:5432/app" },
      [".create contains a URL with an embedded password"],
    ],
    [
      "an access key id in a trigger",
      { create: "true", triggers: ["AKIAIOSFODNN7EXAMPLE"] },
      [".triggers[0] contains an AWS access key id"],
    ],
  ])("refuses %s", async (_, inputs, found) => {
    const resources = withChild(
      full,
      "tenant",
      command({ connection: new Secret(connection("k")), ...inputs }),
    );
    expect(messages(await check(noPlaintextSecretMaterial, resources))).toEqual(
      found.map(
        (f) => `Tenant "acme": Command tenant-extra: ${f}; pass secrets only on stdin, as Pulumi secrets.`,
      ),
    );
  });

  it("refuses secret material in a component's recorded inputs", async () => {
    const resources = editInputs(full, "tenant", (p) => ({
      ...p,
      spec: { ...(p.spec as object), displayName: derived },
    }));
    expect(messages(await check(noPlaintextSecretMaterial, resources))).toEqual([
      'Tenant "acme": MindRoomTenant tenant: .spec.displayName contains a 64-hex-digit secret; pass secrets only on stdin, as Pulumi secrets.',
    ]);
  });

  it("leaves stdin, environment and SSH credentials to secrets-are-pulumi-secrets", async () => {
    const resources = withChild(
      full,
      "tenant",
      command({ connection: connection(PEM), create: "true", stdin: PEM, environment: { KEY: PEM } }),
    );
    expect(await check(noPlaintextSecretMaterial, resources)).toEqual([]);
  });
});

describe("root-secret-stays-out", () => {
  it("passes a full tenant (only derivations of the root secret reach it)", async () => {
    expect(await check(rootSecretStaysOut, full)).toEqual([]);
  });

  it("refuses the root secret even as a Pulumi secret, and anywhere inside a value", async () => {
    const resources = withChild(
      full,
      "tenant",
      command({ create: "true", stdin: new Secret(`export ROOT=${SAMPLE_ROOT_SECRET}\n`) }),
    );
    expect(messages(await check(rootSecretStaysOut, resources))).toEqual([
      'Tenant "acme": Command tenant-extra: .stdin contains the platform\'s root secret; pass only its derivations (deriveSecret).',
    ]);
    const nested = editInputs(full, "tenant-postgres", (p) => ({
      ...p,
      note: { deep: [`x${SAMPLE_ROOT_SECRET}y`] },
    }));
    expect(messages(await check(rootSecretStaysOut, nested))).toEqual([
      'Tenant "acme": Service tenant-postgres: .note.deep[0] contains the platform\'s root secret; pass only its derivations (deriveSecret).',
    ]);
  });

  it("recognises the root secret by the configured fingerprint only", async () => {
    const resources = withChild(full, "tenant", command({ create: `echo ${SAMPLE_ROOT_SECRET}` }));
    const other = sampleSettings({ rootSecret: "another-root-secret-of-at-least-32-characters" });
    expect(await check(rootSecretStaysOut, resources, other)).toEqual([]);
  });
});

describe("stack-outputs-carry-no-secrets", () => {
  it("passes a full tenant's outputs", async () => {
    expect(await check(stackOutputsCarryNoSecrets, full)).toEqual([]);
  });

  it("refuses a derived secret or a password URL in the stack outputs", async () => {
    const resources = withStackOutputs(full, (o) => ({
      ...o,
      debug: { apiKey: derived, db: "postgres://a:b@c/d" },
    }));
    const stack = ofType(resources, TYPES.stack)[0]?.name;
    const found = await check(stackOutputsCarryNoSecrets, resources);
    expect(messages(found)).toEqual([
      `Tenant "acme": output .debug.apiKey of Stack ${stack} contains a 64-hex-digit secret; output only what the portal shows.`,
      `Tenant "acme": output .debug.db of Stack ${stack} contains a URL with an embedded password; output only what the portal shows.`,
    ]);
    expect(found.every((v) => v.urn?.includes("pulumi:pulumi:Stack"))).toBe(true);
  });

  it("refuses the root secret in a component's outputs", async () => {
    const resources = edit(full, "tenant", (r) => ({ outputs: { ...r.outputs, leak: SAMPLE_ROOT_SECRET } }));
    expect(messages(await check(stackOutputsCarryNoSecrets, resources))).toEqual([
      'Tenant "acme": output .leak of MindRoomTenant tenant contains the platform\'s root secret; output only what the portal shows.',
    ]);
  });
});
