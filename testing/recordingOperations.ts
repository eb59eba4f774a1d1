/**
 * A test double of the automation layer's narrow port (TenantOperations): it
 * records each apply and destroy and answers like the worker pool does, so
 * reconcile decisions can be tested on real Postgres and the local Stripe API
 * without engine time. `failNext` makes the next call fail as the engine would;
 * `beforeApply` holds an apply mid-run (a running operation); `leases` may be
 * the real ones (automation/tenantLease.ts) instead of an in-memory stand-in.
 */
import { randomUUID } from "node:crypto";
import type { OperationResult } from "../automation/operationResult.ts";
import { TenantBusyError, type TenantLease } from "../automation/tenantLease.ts";
import type { TenantSecrets } from "../automation/tenantWorkspaces.ts";
import type { TenantSpec } from "../components/tenantSpec.ts";
import type { TenantOperations } from "../webhooks/reconcile/applyOperation.ts";
import { SAMPLE_ROOT_SECRET } from "./tenantSamples.ts";

export class RecordingOperations implements TenantOperations {
  readonly calls: {
    op: "apply" | "destroy";
    slug: string;
    spec?: TenantSpec;
    providerKeys?: TenantSecrets["providerKeys"];
  }[] = [];
  failNext = false;
  /** Awaited at the start of every apply. */
  beforeApply: (() => Promise<void>) | undefined;
  /** Tenants whose lease is held right now by the in-memory stand-in (one holder each, as the real leases allow). */
  readonly leased = new Set<string>();
  readonly leases: TenantOperations["leases"];

  constructor(options: { readonly leases?: TenantOperations["leases"] } = {}) {
    this.leases = options.leases ?? this.memoryLeases;
  }

  private readonly memoryLeases = {
    acquire: async (tenant: string): Promise<TenantLease> => {
      if (this.leased.has(tenant)) throw new TenantBusyError(tenant, undefined);
      this.leased.add(tenant);
      let released = false;
      return {
        holder: randomUUID(),
        tenant,
        lost: new AbortController().signal,
        release: async () => {
          if (!released) this.leased.delete(tenant);
          released = true;
        },
      };
    },
  };
  readonly pool = {
    apply: async (spec: TenantSpec, secrets: TenantSecrets): Promise<OperationResult> => {
      await this.beforeApply?.();
      this.calls.push({ op: "apply", slug: spec.slug, spec, providerKeys: secrets.providerKeys });
      return this.result(spec.slug, "up", {
        tier: spec.tier,
        status: spec.suspended ? "suspended" : "running",
        // The component's URLs (components/tenant.ts TenantOutputs).
        urls: {
          app: `https://${spec.slug}.${spec.baseDomain}`,
          api: `https://${spec.slug}.api.${spec.baseDomain}`,
          matrix: `https://${spec.slug}.matrix.${spec.baseDomain}`,
        },
      });
    },
    destroy: async (slug: string): Promise<OperationResult> => {
      this.calls.push({ op: "destroy", slug });
      return this.result(slug, "destroy");
    },
  };
  secrets() {
    return { rootSecret: SAMPLE_ROOT_SECRET, sshPrivateKey: "not used by the double" };
  }
  private result(
    tenant: string,
    operation: "up" | "destroy",
    outputs?: Record<string, unknown>,
  ): OperationResult {
    const failed = this.failNext;
    this.failNext = false;
    return {
      tenant,
      operation,
      status: failed ? "failed" : "succeeded",
      changes: failed ? {} : { update: 1 },
      durationMs: 5,
      policyViolations: [],
      ...(outputs && !failed ? { outputs } : {}),
      ...(failed ? { error: { kind: "CommandError", message: "ssh: connect to host refused" } } : {}),
    };
  }
}
