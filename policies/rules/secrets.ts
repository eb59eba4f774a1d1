/**
 * No secret in plain text. Three angles, because CrossGuard shows a validation
 * every secret already unwrapped (pulumi/pulumi-policy#241):
 *
 * - `secrets-are-pulumi-secrets` looks at secretness where it is still visible:
 *   the remediation pass hands a policy the raw property values with `Secret`
 *   wrappers in place. Its remediation only records what it saw (it changes
 *   nothing) and its validation, which runs after it on the same resource,
 *   reports. Hence its enforcement level `remediate`, which the SDK reports as
 *   mandatory.
 * - `no-plaintext-secret-material` looks for things that can only be secrets
 *   where no secret may ever be: script text, component inputs, record names.
 * - `root-secret-stays-out` and `stack-outputs-carry-no-secrets` look for the
 *   root secret everywhere (by its fingerprint) and for any secret in what the
 *   stack hands the portal.
 */
import { type ResourceValidationPolicy, Secret, type StackValidationPolicy } from "@pulumi/policy";
import { CONTROL_PLANE_NAMES } from "../../components/platform/names.ts";
import { acrossStack, anyResource } from "../define.ts";
import { ledger, type SeenResource } from "../ledger.ts";
import { forEachString, str } from "../props.ts";
import { isInfrastructure, shortType, TYPES } from "../resourceTypes.ts";
import { containsFingerprinted, SECRET_NAME, secretMaterialIn } from "../secretMaterial.ts";

/** Fields of a remote command that carry secrets (and only there may a secret go). */
const SECRET_CHANNELS = [
  ["stdin"],
  ["connection", "privateKey"],
  ["connection", "password"],
  ["connection", "privateKeyPassword"],
];

/** The engine's wire value for "not known yet" (a preview cannot judge it; the update will). */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/**
 * A raw property value. The SDK's proxies unwrap secrets on `get` but define no
 * `getOwnPropertyDescriptor` trap, so a descriptor read reaches the raw object.
 */
function rawField(container: unknown, key: string): unknown {
  return typeof container === "object" && container !== null
    ? Object.getOwnPropertyDescriptor(container, key)?.value
    : undefined;
}

/** The value at `path`, and whether it or anything around it is a Pulumi secret. */
function lookup(root: unknown, path: readonly string[]): { value: unknown; secret: boolean } {
  let value = root;
  let secret = false;
  for (const key of path) {
    if (value instanceof Secret) {
      secret = true;
      value = value.value;
    }
    value = rawField(value, key);
  }
  if (value instanceof Secret) return { value: value.value, secret: true };
  return { value, secret };
}

const present = (value: unknown) =>
  value !== undefined && value !== null && value !== "" && value !== UNKNOWN;

/** Sensitive fields of a remote command whose values are plain text. */
export function plainSecretFields(props: unknown): string[] {
  const plain = SECRET_CHANNELS.filter((path) => {
    const { value, secret } = lookup(props, path);
    return present(value) && !secret;
  }).map((path) => path.join("."));
  const environment = lookup(props, ["environment"]);
  if (!environment.secret && typeof environment.value === "object" && environment.value !== null) {
    for (const name of Object.keys(environment.value)) {
      const { value, secret } = lookup(environment.value, [name]);
      if (SECRET_NAME.test(name) && present(value) && !secret) plain.push(`environment.${name}`);
    }
  }
  return plain;
}

export const secretsArePulumiSecrets: ResourceValidationPolicy = {
  name: "secrets-are-pulumi-secrets",
  description:
    "Remote command stdin, SSH credentials and secret-named environment variables are Pulumi secrets (encrypted in state, masked in logs).",
  // Reported as mandatory: the SDK raises a `remediate` policy's violations to mandatory.
  enforcementLevel: "remediate",
  remediationSteps: "Wrap the value in pulumi.secret(...) and pass secrets to scripts only on stdin.",
  remediateResource: (args) => {
    if (args.type === TYPES.command) ledger.recordPlainSecrets(args.urn, plainSecretFields(args.props));
    // Nothing to change: the resource is judged by the validation below.
    return undefined;
  },
  ...anyResource({ types: [TYPES.command], config: [] }, ({ resource, report }) => {
    const plain = ledger.takePlainSecrets(resource.urn);
    if (plain === undefined) {
      report(
        `command ${resource.name} could not be checked for plain-text secrets: keep this policy at enforcement level remediate.`,
      );
      return;
    }
    for (const field of plain)
      report(`command ${resource.name}: ${field} is plain text; make it a Pulumi secret (pulumi.secret).`);
  }),
};

/** Paths of a command that may carry secrets (judged by `secrets-are-pulumi-secrets`, not scanned here). */
const isSecretChannel = (type: string, path: string) =>
  type === TYPES.command &&
  (path.startsWith(".stdin") ||
    path.startsWith(".environment") ||
    SECRET_CHANNELS.some((channel) => path.startsWith(`.${channel.join(".")}`)));

export const noPlaintextSecretMaterial: ResourceValidationPolicy = {
  name: "no-plaintext-secret-material",
  description:
    "No secret material (private keys, access keys, derived secrets, passwords) in script text, component inputs or any other non-secret field.",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Pass secrets to remote commands on stdin as Pulumi secrets; components must not record secrets as inputs.",
  ...anyResource({ config: [] }, ({ resource, report }) => {
    if (isInfrastructure(resource.type)) return;
    forEachString(resource.props, (path, text) => {
      if (isSecretChannel(resource.type, path)) return;
      for (const what of secretMaterialIn(text, path))
        report(
          `${shortType(resource.type)} ${resource.name}: ${path} contains ${what}; pass secrets only on stdin, as Pulumi secrets.`,
        );
    });
  }),
};

/**
 * The one place the root secret may go: the worker's environment in the
 * platform stack (the webhooks app's config, on a secret stdin), since the
 * worker derives every tenant's secrets from it.
 */
function isWorkerConfig(resource: SeenResource): boolean {
  if (resource.type !== TYPES.command || !ledger.inControlPlane(resource.urn)) return false;
  const app = resource.parent ? ledger.resource(resource.parent) : undefined;
  return (
    app?.type === TYPES.app &&
    str(app.props.app) === CONTROL_PLANE_NAMES.apps.webhooks &&
    resource.name === `${app.name}-config`
  );
}

export const rootSecretStaysOut: ResourceValidationPolicy = {
  name: "root-secret-stays-out",
  description:
    "The platform's root secret reaches no tenant resource, not even as a Pulumi secret: only its HMAC derivations do (the platform stack gives it to the worker's environment alone).",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Derive per-tenant secrets with deriveSecret (components/tenantSecrets.ts) and pass only those.",
  ...anyResource({ config: ["rootSecretSha256", "rootSecretLength"] }, ({ resource, config, report }) => {
    const fingerprint = { sha256: config.rootSecretSha256, length: config.rootSecretLength };
    forEachString(resource.props, (path, text) => {
      if (path.startsWith(".stdin") && isWorkerConfig(resource)) return;
      if (containsFingerprinted(text, fingerprint)) {
        report(
          `${shortType(resource.type)} ${resource.name}: ${path} contains the platform's root secret; pass only its derivations (deriveSecret).`,
        );
      }
    });
  }),
};

/** Outputs that are plain state by contract: the stack's (the portal reads them) and our components'. */
const carriesNoSecrets = (type: string) => type === TYPES.stack || type.startsWith("mindroom:");

export const stackOutputsCarryNoSecrets: StackValidationPolicy = {
  name: "stack-outputs-carry-no-secrets",
  description:
    "A tenant stack's outputs, and its components' outputs, carry no secret and not the root secret.",
  enforcementLevel: "mandatory",
  remediationSteps:
    "Output only what the portal shows (TenantOutputs); keep secrets in secret config and stdin.",
  ...acrossStack({ config: ["rootSecretSha256", "rootSecretLength"] }, ({ resources, config, report }) => {
    const fingerprint = { sha256: config.rootSecretSha256, length: config.rootSecretLength };
    const tenant = resources.find((r) => r.tenant)?.tenant;
    for (const r of resources.filter((x) => carriesNoSecrets(x.type))) {
      forEachString(r.outputs, (path, text) => {
        const found = [
          ...secretMaterialIn(text, path),
          ...(containsFingerprinted(text, fingerprint) ? ["the platform's root secret"] : []),
        ];
        for (const what of found)
          report(
            r.tenant ?? tenant,
            `output ${path} of ${shortType(r.type)} ${r.name} contains ${what}; output only what the portal shows.`,
            r.urn,
          );
      });
    }
  }),
};
