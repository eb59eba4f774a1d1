/**
 * Real-engine tenant stacks against the Dokku test host: the same inline
 * program the automation layer runs, configured the way it configures it.
 */
import { readFileSync } from "node:fs";
import type { TenantSpecInput } from "../components/tenantSpec.ts";
import { tenantProgram } from "../stacks/tenantProgram.ts";
import type { DokkuTarget } from "./dokkuTarget.ts";
import { type EngineStack, engineStack, hostKeyOf } from "./engineStack.ts";
import { SAMPLE_ROOT_SECRET, sampleSpecInput } from "./tenantSamples.ts";

/** A spec for a tenant on the test host (DNS and backups off: no Cloudflare or AWS here). */
export function hostSpec(
  target: Pick<DokkuTarget, "shellUrl" | "host" | "knownHostsPath">,
  slug: string,
  overrides: Partial<TenantSpecInput> = {},
): TenantSpecInput {
  return sampleSpecInput({
    slug,
    host: { url: target.shellUrl, hostKey: hostKeyOf(target), address: target.host },
    ...overrides,
  });
}

export async function tenantStack(
  target: DokkuTarget,
  spec: TenantSpecInput,
  stackName = String(spec.slug),
): Promise<EngineStack> {
  const engine = await engineStack("mindroom-tenant", stackName, tenantProgram);
  await configure(engine, target, spec);
  return engine;
}

/** Applies the whole config, as the automation layer does before every operation. */
export async function configure(
  engine: EngineStack,
  target: Pick<DokkuTarget, "keyPath">,
  spec: TenantSpecInput,
): Promise<void> {
  await engine.stack.setAllConfig({
    "mindroom:tenant": { value: JSON.stringify(spec) },
    "mindroom:rootSecret": { value: SAMPLE_ROOT_SECRET, secret: true },
    "mindroom:sshPrivateKey": { value: readFileSync(target.keyPath, "utf8"), secret: true },
  });
}
