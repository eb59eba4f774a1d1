/**
 * Unit-test fixtures: conforming tenants recorded from the real component
 * (under mocks), and small edits of them, each one resource changed, added or
 * removed, so a test shows a policy passing the real thing and refusing one
 * precise fault.
 */
import type { Policy } from "@pulumi/policy";
import type { TenantSpecInput } from "../../components/tenantSpec.ts";
import type { PolicySettings } from "../packOptions.ts";
import { TYPES } from "../resourceTypes.ts";
import { runPolicies, type Violation } from "./harness.ts";
import { recordSample } from "./runs.ts";
import { packConfigOf, sampleSettings, type TenantSample } from "./samples.ts";
import type { SampleResource } from "./validationArgs.ts";

/** The resources of a tenant with this spec, as the component registers them. */
export function recordTenant(
  spec: TenantSpecInput,
  options: { unchecked?: boolean; origin?: boolean; preview?: boolean } = {},
): Promise<SampleResource[]> {
  const sample: TenantSample = {
    title: "fixture",
    spec,
    settings: sampleSettings(),
    engine: false,
    ...(options.unchecked ? { unchecked: true } : {}),
    ...(options.origin ? { origin: true } : {}),
  };
  return recordSample(sample, options.preview ? { preview: true } : {});
}

export function byName(resources: readonly SampleResource[], name: string): SampleResource {
  const found = resources.find((r) => r.name === name);
  if (!found) throw new Error(`no resource ${name}; have ${resources.map((r) => r.name).join(", ")}`);
  return found;
}

export function ofType(resources: readonly SampleResource[], type: string): SampleResource[] {
  return resources.filter((r) => r.type === type);
}

/** The resources with `name` changed (outputs follow inputs where the mocks made them equal). */
export function edit(
  resources: readonly SampleResource[],
  name: string,
  change: (r: SampleResource) => Partial<SampleResource>,
): SampleResource[] {
  byName(resources, name);
  return resources.map((r) => {
    if (r.name !== name) return r;
    const changed = { ...r, ...change(r) };
    return r.outputs === r.inputs && changed.outputs === r.outputs
      ? { ...changed, outputs: changed.inputs }
      : changed;
  });
}

/** The resources with `name`'s inputs changed. */
export function editInputs(
  resources: readonly SampleResource[],
  name: string,
  change: (inputs: Readonly<Record<string, unknown>>) => Record<string, unknown>,
): SampleResource[] {
  return edit(resources, name, (r) => ({ inputs: change(r.inputs) }));
}

export function without(resources: readonly SampleResource[], name: string): SampleResource[] {
  byName(resources, name);
  return resources.filter((r) => r.name !== name);
}

/** The stack's outputs replaced. */
export function withStackOutputs(
  resources: readonly SampleResource[],
  change: (outputs: Readonly<Record<string, unknown>>) => Record<string, unknown>,
): SampleResource[] {
  return resources.map((r) => (r.type === TYPES.stack ? { ...r, outputs: change(r.outputs ?? {}) } : r));
}

/** A resource added under `parent` (the URN built the way the engine builds it). */
export function withChild(
  resources: readonly SampleResource[],
  parentName: string | undefined,
  child: { type: string; name: string; inputs: Record<string, unknown>; dependencies?: readonly string[] },
): SampleResource[] {
  const stack = resources.find((r) => r.type === TYPES.stack);
  const parent = parentName === undefined ? stack : byName(resources, parentName);
  if (!parent) throw new Error("no stack resource");
  const [prefix = "", qualified = ""] = parent.urn.split("::").length >= 4 ? splitUrn(parent.urn) : [];
  const chain = parent.type === TYPES.stack ? child.type : `${qualified}$${child.type}`;
  return [...resources, { ...child, urn: `${prefix}::${chain}::${child.name}`, parent: parent.urn }];
}

/** `urn:pulumi:stack::project` and the qualified type of a URN. */
function splitUrn(urn: string): [string, string] {
  const parts = urn.split("::");
  return [`${parts[0]}::${parts[1]}`, parts[2] ?? ""];
}

/** Runs one policy over the resources with the sample settings (or `settings`). */
export function check(
  policy: Policy,
  resources: readonly SampleResource[],
  settings: PolicySettings = sampleSettings(),
): Promise<Violation[]> {
  return runPolicies(resources, packConfigOf(settings), [policy]);
}

/** The messages of the violations, for exact assertions. */
export function messages(violations: readonly Violation[]): string[] {
  return violations.map((v) => v.message);
}
