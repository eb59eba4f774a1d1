/**
 * The programs that build sample tenants: the stack program itself when stack
 * config can express the sample, else the same component built inline (for
 * specs the schema refuses, extra resources, other outputs, more tenants).
 */
import * as pulumi from "@pulumi/pulumi";
import { MindRoomTenant } from "../../components/tenant.ts";
import { parseTenantSpec, type TenantSpec, type TenantSpecInput } from "../../components/tenantSpec.ts";
import { tenantProgram } from "../../stacks/tenantProgram.ts";
import { SAMPLE_ROOT_SECRET } from "../../testing/tenantSamples.ts";
import { SAMPLE_ORIGIN, SAMPLE_SSH_KEY, type TenantSample } from "./samples.ts";

/** Stack config of a sample for the stack program (stacks/tenantProgram.ts). */
export function sampleStackConfig(sample: TenantSample): Record<string, { value: string; secret?: boolean }> {
  return {
    "mindroom:tenant": { value: JSON.stringify(sample.spec) },
    "mindroom:rootSecret": { value: SAMPLE_ROOT_SECRET, secret: true },
    "mindroom:sshPrivateKey": { value: SAMPLE_SSH_KEY, secret: true },
    ...(sample.origin
      ? {
          "mindroom:originCertificate": { value: SAMPLE_ORIGIN.certificate, secret: true },
          "mindroom:originKey": { value: SAMPLE_ORIGIN.key, secret: true },
        }
      : {}),
  };
}

/** True when the stack program, configured with {@link sampleStackConfig}, builds the sample as it is. */
export function isPlain(sample: TenantSample): boolean {
  return !sample.unchecked && !sample.extra && !sample.outputs && !sample.moreTenants;
}

function tenantOf(
  name: string,
  spec: TenantSpecInput,
  unchecked: boolean | undefined,
  origin: boolean | undefined,
) {
  // An unchecked spec is the schema's output shape with its defaults filled in, as a component would receive it.
  const parsed: TenantSpec = unchecked
    ? ({ suspended: false, purgeData: false, homeserver: "tuwunel", ...spec } as TenantSpec)
    : parseTenantSpec(spec);
  return new MindRoomTenant(name, {
    spec: parsed,
    rootSecret: pulumi.secret(SAMPLE_ROOT_SECRET),
    sshPrivateKey: pulumi.secret(SAMPLE_SSH_KEY),
    ...(origin
      ? {
          originCertificate: {
            certificate: pulumi.secret(SAMPLE_ORIGIN.certificate),
            key: pulumi.secret(SAMPLE_ORIGIN.key),
          },
        }
      : {}),
  });
}

/**
 * The program that builds `sample`: the stack program itself when config can
 * express the sample, else the same component built inline. `engine` registers
 * the sample's transform with the engine (under mocks, the recorder applies it).
 */
export function sampleProgram(
  sample: TenantSample,
  mode: "engine" | "mock",
): () => Promise<Record<string, unknown>> {
  return async () => {
    if (mode === "engine" && sample.transform) {
      const transform = sample.transform;
      pulumi.runtime.registerResourceTransform((args) => {
        const props = transform({ type: args.type, name: args.name, props: args.props });
        return props ? { props, opts: args.opts } : undefined;
      });
    }
    if (isPlain(sample)) return { ...(await tenantProgram()) };
    const tenant = tenantOf("tenant", sample.spec, sample.unchecked, sample.origin);
    for (const [i, spec] of (sample.moreTenants ?? []).entries()) {
      tenantOf(`tenant-${i + 2}`, spec, sample.unchecked, sample.origin);
    }
    sample.extra?.(tenant);
    return sample.outputs ? sample.outputs(tenant.outputs) : { ...tenant.outputs };
  };
}
