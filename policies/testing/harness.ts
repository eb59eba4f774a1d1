/**
 * Runs policies over resources the way the engine and the policy SDK do, and
 * collects every violation instead of stopping at one:
 *
 * 1. per resource, in registration order: the remediation pass (policies at
 *    level `remediate`), then every validation;
 * 2. then the stack pass over all resources' outputs.
 *
 * Enforcement levels follow the SDK: `remediate` is reported as mandatory,
 * `disabled` policies do not run, the pack's default is mandatory.
 *
 * A rule that touches a value not known during a preview is reported as an
 * advisory "can't run" note, as the SDK reports it.
 *
 * Every resource is recorded in the ledger as it is validated, whichever
 * policies run, as the pack's resource policies do: a stack policy tested
 * alone sees what it would see in the pack.
 */
import { type EnforcementLevel, type Policies, type Policy, UnknownValueError } from "@pulumi/policy";
import type { PackConfig } from "../config.ts";
import { ledger } from "../ledger.ts";
import { policies as allPolicies } from "../policies.ts";
import {
  configSection,
  remediationArgs,
  resourceArgs,
  type SampleResource,
  stackArgs,
} from "./validationArgs.ts";

export interface Violation {
  readonly policy: string;
  readonly level: "mandatory" | "advisory";
  /** The resource reported on (undefined: the stack). */
  readonly urn: string | undefined;
  readonly message: string;
}

const PACK_DEFAULT: EnforcementLevel = "mandatory";

function levelOf(policy: Policy): EnforcementLevel {
  return policy.enforcementLevel ?? PACK_DEFAULT;
}

export async function runPolicies(
  resources: readonly SampleResource[],
  config: PackConfig,
  policies: Policies = allPolicies,
): Promise<Violation[]> {
  const violations: Violation[] = [];
  const enabled = policies.filter((p) => levelOf(p) !== "disabled");
  // A resource violation always lands on the resource validated (the SDK ignores a urn there);
  // a stack violation on the resource it names, if any.
  const reporter = (policy: Policy, resourceUrn?: string) => (message: string, urn?: string) =>
    violations.push({
      policy: policy.name,
      level: levelOf(policy) === "advisory" ? "advisory" : "mandatory",
      urn: resourceUrn ?? urn,
      message,
    });

  for (const resource of resources) {
    ledger.observe(resourceArgs(resource));
    for (const policy of enabled) {
      if ("remediateResource" in policy && policy.remediateResource && levelOf(policy) === "remediate") {
        await policy.remediateResource(remediationArgs(resource, configSection(policy, config)));
      }
    }
    for (const policy of enabled) {
      if (!("validateResource" in policy) || !policy.validateResource) continue;
      const validations = Array.isArray(policy.validateResource)
        ? policy.validateResource
        : [policy.validateResource];
      for (const validate of validations) {
        await unlessUnknown(policy, resource.urn, violations, () =>
          validate(resourceArgs(resource, configSection(policy, config)), reporter(policy, resource.urn)),
        );
      }
    }
  }
  for (const policy of enabled) {
    if ("validateStack" in policy) {
      await unlessUnknown(policy, undefined, violations, () =>
        policy.validateStack(stackArgs(resources, configSection(policy, config)), reporter(policy)),
      );
    }
  }
  return violations;
}

async function unlessUnknown(
  policy: Policy,
  urn: string | undefined,
  violations: Violation[],
  run: () => Promise<void> | void,
): Promise<void> {
  try {
    await run();
  } catch (error) {
    if (!(error instanceof UnknownValueError)) throw error;
    violations.push({
      policy: policy.name,
      level: "advisory",
      urn,
      message: `can't run during preview: ${String(error)}`,
    });
  }
}

/** The names of the policies that reported, each once, sorted. */
export function policyNames(violations: readonly Violation[]): string[] {
  return [...new Set(violations.map((v) => v.policy))].sort();
}
