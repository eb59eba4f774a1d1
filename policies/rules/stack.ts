/**
 * Stack-level: a tenant stack holds exactly one tenant, and its outputs carry
 * everything the portal and the operators read (components/tenant.ts
 * `TenantOutputs`), consistent with the tenant's spec.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { isTierId } from "../../components/tiers.ts";
import { acrossStack } from "../define.ts";
import { num, obj, type Props } from "../props.ts";
import { TYPES } from "../resourceTypes.ts";
import type { TenantView } from "../tenantView.ts";

export const oneTenantPerStack: StackValidationPolicy = {
  name: "one-tenant-per-stack",
  description:
    "A tenant stack holds exactly one MindRoomTenant (its lifecycle, lock and outputs are that tenant's).",
  enforcementLevel: "mandatory",
  ...acrossStack({ config: [] }, ({ resources, report }) => {
    const tenants = resources.filter((r) => r.type === TYPES.tenant);
    // The platform stack holds the control plane and no tenant.
    const expected = resources.some((r) => r.type === TYPES.controlPlane) ? 0 : 1;
    if (tenants.length !== expected) {
      const names = tenants.map((t) => t.tenant?.spec.slug ?? t.name);
      report(
        tenants[0]?.tenant,
        expected === 0
          ? `the platform stack holds ${tenants.length} MindRoomTenant resources (${names.join(", ")}); tenants live in stacks of their own.`
          : `the stack holds ${tenants.length} MindRoomTenant resources (${names.join(", ") || "none"}); give each tenant its own stack.`,
      );
    }
  }),
};

type Expectation = readonly [path: string, ok: (value: unknown) => boolean, expected: string];

const isString = (v: unknown) => typeof v === "string" && v !== "";
const isObject = (v: unknown) => obj(v) !== undefined;
const isResources = (v: unknown) => (num(obj(v)?.memoryMb) ?? 0) > 0 && (num(obj(v)?.cpus) ?? 0) > 0;
const isLimit = (v: unknown) => typeof v === "number" || v === "unlimited";
const equals = (expected: string | undefined) => (v: unknown) => expected !== undefined && v === expected;

/** What the portal reads from a tenant stack's outputs, and what each value must be. */
function expectations(tenant: TenantView | undefined): Expectation[] {
  const names = tenant?.names;
  const domains = tenant?.domains;
  const url = (d: string | undefined) => (d === undefined ? undefined : `https://${d}`);
  return [
    ["slug", equals(tenant?.spec.slug), `the tenant's slug ${JSON.stringify(tenant?.spec.slug)}`],
    [
      "tier",
      (v) => typeof v === "string" && isTierId(v) && v === tenant?.spec.tier,
      `the tenant's tier ${tenant?.spec.tier}`,
    ],
    ["environment", isString, "the tenant's environment"],
    ["status", (v) => v === "running" || v === "suspended", '"running" or "suspended"'],
    ["urls.app", equals(url(domains?.app)), url(domains?.app) ?? "the app URL"],
    ["urls.api", equals(url(domains?.api)), url(domains?.api) ?? "the API URL"],
    ["urls.matrix", equals(url(domains?.matrix)), url(domains?.matrix) ?? "the Matrix URL"],
    ["apps.runtime", equals(names?.runtimeApp), names?.runtimeApp ?? "the runtime app"],
    ["apps.homeserver", equals(names?.homeserverApp), names?.homeserverApp ?? "the homeserver app"],
    ["apps.backup", (v) => v === null || v === names?.backupApp, `${names?.backupApp} or null`],
    ["services", isObject, "the tenant's services (null when absent)"],
    ["network", equals(names?.network), names?.network ?? "the tenant's network"],
    ["host", isString, "the tenant's host"],
    ["limits.agents", isLimit, "a number or unlimited"],
    ["limits.messagesPerDay", isLimit, "a number or unlimited"],
    ["limits.storageGb", isLimit, "a number or unlimited"],
    ["limits.runtime", isResources, "the runtime's memory and CPU"],
    ["limits.homeserver", isResources, "the homeserver's memory and CPU"],
    [
      "backup",
      (v) => v === null || (isString(obj(v)?.location) && isString(obj(v)?.schedule)),
      "null or { location, schedule }",
    ],
    ["images.runtime", isString, "the runtime image"],
    ["images.homeserver", isString, "the homeserver image"],
    ["homeserver", isString, "the homeserver kind"],
  ];
}

function at(outputs: Props, path: string): unknown {
  let value: unknown = outputs;
  for (const key of path.split(".")) value = obj(value)?.[key];
  return value;
}

export const portalOutputsPresent: StackValidationPolicy = {
  name: "portal-outputs-present",
  description:
    "A tenant stack's outputs include everything the portal needs (URLs, apps, limits, host, backup, images, status).",
  enforcementLevel: "mandatory",
  remediationSteps: "Return MindRoomTenant's outputs from the stack program (stacks/tenantProgram.ts).",
  ...acrossStack({ config: [] }, ({ resources, report }) => {
    const stack = resources.find((r) => r.type === TYPES.stack && r.parent === undefined);
    const tenant = resources.find((r) => r.type === TYPES.tenant)?.tenant;
    // The platform stack's outputs are the control plane's; one-tenant-per-stack keeps tenants out of it.
    if (!stack || resources.some((r) => r.type === TYPES.controlPlane)) return;
    const missing = expectations(tenant)
      .filter(([path, ok]) => !ok(at(stack.outputs, path)))
      .map(
        ([path, , expected]) =>
          `${path} (${JSON.stringify(at(stack.outputs, path) ?? null)}, expected ${expected})`,
      );
    if (missing.length > 0) {
      report(
        tenant,
        `the stack outputs lack or misstate what the portal reads: ${missing.join("; ")}.`,
        stack.urn,
      );
    }
  }),
};
