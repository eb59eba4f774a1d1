import { describe, expect, it } from "vitest";
import { sampleSpec } from "../testing/tenantSamples.ts";
import { AnalysisLedger, type Observable } from "./ledger.ts";
import { TYPES } from "./resourceTypes.ts";

const urn = (chain: string, name: string) => `urn:pulumi:s::p::${chain}::${name}`;
const seen = (
  type: string,
  name: string,
  chain: string,
  props: Record<string, unknown>,
  parent?: string,
): Observable => ({
  urn: urn(chain, name),
  type,
  name,
  props,
  opts: { protect: false, ...(parent ? { parent } : {}) },
});

const tenant = seen(TYPES.tenant, "tenant", TYPES.tenant, { spec: sampleSpec() });
const app = seen(TYPES.app, "tenant-runtime", `${TYPES.tenant}$${TYPES.app}`, { app: "mr-acme" }, tenant.urn);
const command = seen(
  TYPES.command,
  "tenant-runtime-app",
  `${TYPES.tenant}$${TYPES.app}$${TYPES.command}`,
  {},
  app.urn,
);

describe("AnalysisLedger", () => {
  it("finds a resource's tenant through its ancestors", () => {
    const ledger = new AnalysisLedger();
    for (const r of [tenant, app, command]) ledger.observe(r);
    expect(ledger.tenantOf(command.urn)?.names?.runtimeApp).toBe("mr-acme");
    expect(ledger.tenantOf(tenant.urn)?.urn).toBe(tenant.urn);
  });

  it("knows no tenant for a resource whose ancestors it has not seen", () => {
    const ledger = new AnalysisLedger();
    ledger.observe(command);
    expect(ledger.tenantOf(command.urn)).toBeUndefined();
  });

  it("keeps the latest registration of a URN", () => {
    const ledger = new AnalysisLedger();
    ledger.observe(tenant);
    expect(ledger.tenantOf(tenant.urn)?.spec.tier).toBe("starter");
    ledger.observe({ ...tenant, props: { spec: { ...sampleSpec(), tier: "free" } } });
    expect(ledger.tenantOf(tenant.urn)?.spec.tier).toBe("free");
  });

  it("hands each remediation finding to one validation", () => {
    const ledger = new AnalysisLedger();
    ledger.recordPlainSecrets(command.urn, ["stdin"]);
    expect(ledger.takePlainSecrets(command.urn)).toEqual(["stdin"]);
    expect(ledger.takePlainSecrets(command.urn)).toBeUndefined();
  });
});
