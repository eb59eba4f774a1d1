/**
 * Reading the tenant stack's outputs (components/tenant.ts `TenantOutputs`) as the worker recorded
 * them in `instances.outputs`. Tolerates the Automation API's `{ value, secret }` wrapping.
 */
export interface TenantUrls {
  readonly app?: string;
  readonly api?: string;
  readonly matrix?: string;
}

function unwrap(value: unknown): unknown {
  if (value && typeof value === "object" && "value" in value && "secret" in value) {
    return (value as { value: unknown }).value;
  }
  return value;
}

export function outputOf(outputs: Record<string, unknown> | null | undefined, key: string): unknown {
  return outputs ? unwrap(outputs[key]) : undefined;
}

const httpUrl = (v: unknown) => (typeof v === "string" && /^https?:\/\//.test(v) ? v : undefined);

export function tenantUrls(outputs: Record<string, unknown> | null | undefined): TenantUrls {
  const urls = outputOf(outputs, "urls");
  if (!urls || typeof urls !== "object") return {};
  const u = urls as Record<string, unknown>;
  const pick = (k: string) => httpUrl(unwrap(u[k]));
  return {
    ...(pick("app") ? { app: pick("app") } : {}),
    ...(pick("api") ? { api: pick("api") } : {}),
    ...(pick("matrix") ? { matrix: pick("matrix") } : {}),
  };
}
