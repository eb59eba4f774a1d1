/**
 * The two shapes every policy of the pack takes, spread into a typed policy
 * const next to its name, description and enforcement level:
 *
 * - {@link inTenant}/{@link anyResource}: a resource rule. It records the
 *   resource in the {@link ledger} first, finds the resource's tenant there, and
 *   reads exactly the config keys it declares (the same list becomes its
 *   `configSchema`, so config file and code cannot drift apart).
 * - {@link acrossStack}: a stack rule, for what only the whole stack shows (a
 *   resource registered after the one it must cover, a dependency, the stack's
 *   outputs). It reads resource inputs from the ledger.
 *
 * Neither attaches a type filter for the SDK's fast path: every rule sees every
 * resource, so the ledger is complete whichever rules are enabled.
 */
import type {
  PolicyConfigSchema,
  ResourceValidation,
  ResourceValidationArgs,
  StackValidation,
  StackValidationArgs,
} from "@pulumi/policy";
import { type ConfigKey, configSchema, type PackConfig, readConfig } from "./config.ts";
import { ledger, type SeenResource } from "./ledger.ts";
import type { Props } from "./props.ts";
import type { TenantView } from "./tenantView.ts";

/** `Tenant "acme": ` — every message names its tenant first. */
export function tenantLabel(tenant: TenantView | undefined): string {
  if (!tenant) return "No tenant";
  return tenant.spec.slug ? `Tenant "${tenant.spec.slug}"` : "Tenant (without a slug)";
}

export interface ResourceReview<K extends ConfigKey, T extends TenantView | undefined = TenantView> {
  readonly resource: SeenResource;
  readonly tenant: T;
  readonly config: Pick<PackConfig, K>;
  /** Reports a violation on this resource; the message gets the tenant's name in front. */
  report(message: string): void;
}

interface Scope<K extends ConfigKey> {
  /** Resource types the rule judges (all types when omitted). */
  readonly types?: readonly string[];
  /** Config keys the rule reads. */
  readonly config: readonly K[];
}

/** Records the resource, then builds its review unless the rule does not judge its type. */
function review<K extends ConfigKey>(
  scope: Scope<K>,
  args: ResourceValidationArgs,
  reportViolation: (message: string) => void,
): ResourceReview<K, TenantView | undefined> | undefined {
  const resource = ledger.observe(args);
  if (scope.types && !scope.types.includes(args.type)) return undefined;
  const tenant = ledger.tenantOf(args.urn);
  return {
    resource,
    tenant,
    config: readConfig(scope.config, args.getConfig<Partial<Record<string, unknown>>>()),
    report: (message) => reportViolation(`${tenantLabel(tenant)}: ${message}`),
  };
}

/** A rule for resources of a tenant (resources outside any tenant are the isolation rules' business). */
export function inTenant<K extends ConfigKey>(
  scope: Scope<K>,
  check: (review: ResourceReview<K>) => void,
): { configSchema: PolicyConfigSchema | undefined; validateResource: ResourceValidation } {
  return {
    configSchema: configSchema(scope.config),
    validateResource: (args, reportViolation) => {
      const r = review(scope, args, reportViolation);
      if (r?.tenant) check({ ...r, tenant: r.tenant });
    },
  };
}

/** A rule for every resource, inside a tenant or not. */
export function anyResource<K extends ConfigKey>(
  scope: Scope<K>,
  check: (review: ResourceReview<K, TenantView | undefined>) => void,
): { configSchema: PolicyConfigSchema | undefined; validateResource: ResourceValidation } {
  return {
    configSchema: configSchema(scope.config),
    validateResource: (args, reportViolation) => {
      const r = review(scope, args, reportViolation);
      if (r) check(r);
    },
  };
}

/** A resource of the stack at the end of the operation: its outputs, and the inputs the ledger saw. */
export interface StackResource {
  readonly urn: string;
  readonly type: string;
  readonly name: string;
  readonly parent: string | undefined;
  readonly dependencies: readonly string[];
  /** Protected resources cannot be deleted at all. */
  readonly protect: boolean;
  /** Outputs (for a component: what it registered; for the stack: the stack outputs). */
  readonly outputs: Props;
  /** Inputs as the resource rules saw them; undefined if no resource rule saw the resource. */
  readonly inputs: Props | undefined;
  readonly tenant: TenantView | undefined;
}

export interface StackReview<K extends ConfigKey> {
  readonly resources: readonly StackResource[];
  readonly config: Pick<PackConfig, K>;
  /** Reports a violation, on a resource when `urn` is given (else on the stack). */
  report(tenant: TenantView | undefined, message: string, urn?: string): void;
}

export function acrossStack<K extends ConfigKey>(
  scope: { readonly config: readonly K[] },
  check: (review: StackReview<K>) => void,
): { configSchema: PolicyConfigSchema | undefined; validateStack: StackValidation } {
  return {
    configSchema: configSchema(scope.config),
    validateStack: (args: StackValidationArgs, reportViolation) => {
      const resources = args.resources.map(
        (r): StackResource => ({
          urn: r.urn,
          type: r.type,
          name: r.name,
          parent: r.parent?.urn,
          dependencies: r.dependencies.map((d) => d.urn),
          protect: r.opts.protect,
          outputs: r.props,
          inputs: ledger.resource(r.urn)?.props,
          tenant: ledger.tenantOf(r.urn),
        }),
      );
      check({
        resources,
        config: readConfig(scope.config, args.getConfig<Partial<Record<string, unknown>>>()),
        report: (tenant, message, urn) => reportViolation(`${tenantLabel(tenant)}: ${message}`, urn),
      });
    },
  };
}
