/**
 * A small typed builder of CrossGuard's validation args, shaped the way the
 * policy SDK shapes them for the engine's requests (@pulumi/policy ships no test
 * helpers): props behind the SDK's unknown-checking proxy; for validations every
 * secret unwrapped, for remediations secrets kept as `Secret` and unwrapped on
 * read; each policy given only its own config section.
 */
import {
  type Policy,
  type PolicyResource,
  type PolicyResourceOptions,
  type ResourceValidationArgs,
  Secret,
  type StackValidationArgs,
  unknownCheckingProxy,
} from "@pulumi/policy";
import { declaredKeys, type PackConfig } from "../config.ts";

/** A resource as a test (or a recorded program run) describes it. */
export interface SampleResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  /** The parent's URN (the stack's for a top-level resource). */
  readonly parent?: string;
  /** Inputs; wrap a value in `new Secret(…)` for a Pulumi secret, use {@link UNKNOWN} for a value not known yet. */
  readonly inputs: Readonly<Record<string, unknown>>;
  /** Outputs as the stack pass sees them (default: the inputs). */
  readonly outputs?: Readonly<Record<string, unknown>>;
  readonly dependencies?: readonly string[];
  readonly protect?: boolean;
}

/** The engine's wire value for a value that is not known during a preview. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** The value with every `Secret` replaced by what it holds (what a validation sees). */
export function unwrapSecrets(value: unknown): unknown {
  if (value instanceof Secret) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/** The SDK's remediation view: secrets stay `Secret` in the object, reads unwrap them. */
function secretsPreserving(value: unknown): unknown {
  if (typeof value !== "object" || value === null) return value;
  return new Proxy(value, {
    get: (target, key) => {
      const v: unknown = Reflect.get(target, key);
      return secretsPreserving(v instanceof Secret ? v.value : v);
    },
  });
}

/** The config section the engine would hand `policy`: only the keys its schema declares. */
export function configSection(policy: Policy, config: PackConfig): Record<string, unknown> {
  return Object.fromEntries(declaredKeys(policy.configSchema).map((k) => [k, config[k]]));
}

export class NotApplicable extends Error {
  override readonly name = "NotApplicable";
}

function options(r: SampleResource): PolicyResourceOptions {
  return {
    protect: r.protect ?? false,
    ignoreChanges: [],
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(r.parent ? { parent: r.parent } : {}),
  };
}

/** `isType`/`asType` as the SDK implements them: by the class's static `__pulumiType`. */
function typeChecks(type: string, props: Record<string, unknown>) {
  const isType = (cls: object) => Reflect.get(cls, "__pulumiType") === type;
  // The SDK's typed view is the props object itself, typed by the caller's class.
  return { isType, asType: <T>(cls: object): T | undefined => (isType(cls) ? (props as T) : undefined) };
}

// `unknownCheckingProxy` is the SDK's own (exported, but without types: its proxy.d.ts is stripped).
function validationArgs(
  r: SampleResource,
  props: unknown,
  section: Record<string, unknown>,
): ResourceValidationArgs {
  const proxied: Record<string, unknown> = unknownCheckingProxy(props);
  return {
    type: r.type,
    name: r.name,
    urn: r.urn,
    props: proxied,
    opts: options(r),
    stackTags: new Map(),
    ...typeChecks(r.type, proxied),
    getConfig: <T extends object>() => section as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
}

/** Args for `validateResource`: secrets unwrapped. */
export function resourceArgs(
  r: SampleResource,
  section: Record<string, unknown> = {},
): ResourceValidationArgs {
  return validationArgs(r, unwrapSecrets(r.inputs), section);
}

/** Args for `remediateResource`: secrets preserved as the SDK preserves them. */
export function remediationArgs(
  r: SampleResource,
  section: Record<string, unknown> = {},
): ResourceValidationArgs {
  return validationArgs(r, secretsPreserving(r.inputs), section);
}

/** Args for `validateStack`: every resource's outputs (secrets unwrapped), parents and dependencies linked. */
export function stackArgs(
  resources: readonly SampleResource[],
  section: Record<string, unknown> = {},
): StackValidationArgs {
  const byUrn = new Map<string, PolicyResource>();
  const policyResources = resources.map((r) => {
    const props: Record<string, unknown> = unknownCheckingProxy(unwrapSecrets(r.outputs ?? r.inputs));
    const resource: PolicyResource = {
      type: r.type,
      name: r.name,
      urn: r.urn,
      props,
      opts: options(r),
      dependencies: [],
      propertyDependencies: {},
      ...typeChecks(r.type, props),
    };
    byUrn.set(r.urn, resource);
    return resource;
  });
  resources.forEach((r, i) => {
    const resource = policyResources[i];
    if (!resource) return;
    const parent = r.parent ? byUrn.get(r.parent) : undefined;
    if (parent) resource.parent = parent;
    resource.dependencies = (r.dependencies ?? []).flatMap((d) => byUrn.get(d) ?? []);
  });
  return {
    resources: policyResources,
    stackTags: new Map(),
    getConfig: <T extends object>() => section as T,
    notApplicable: (reason?: string): never => {
      throw new NotApplicable(reason);
    },
  };
}
