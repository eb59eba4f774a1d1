/**
 * Runs a Pulumi program under the SDK's mocks and records what the engine would
 * hand the pack: every registration in order with its parent, dependencies,
 * `protect` and inputs (secrets kept), and each component's registered outputs.
 * This is how the pack meets the tenant's Cloudflare and AWS resources, whose
 * providers cannot run here.
 *
 * The mocks' `newResource` hook sees neither parents nor dependencies, so the
 * recorder wraps the mock monitor's own `registerResource`. Like the engine, it
 * applies resource transforms before recording (the mock monitor runs none).
 */

import { Secret } from "@pulumi/policy";
import * as pulumi from "@pulumi/pulumi";
import type {
  RegisterResourceOutputsRequest,
  RegisterResourceRequest,
  RegisterResourceResponse,
} from "@pulumi/pulumi/proto/resource_pb.js";
import { TYPES } from "../resourceTypes.ts";
import { type SampleResource, UNKNOWN } from "./validationArgs.ts";

/** What a resource transform sees and may replace (the props), as in `registerResourceTransform`. */
export type SampleTransform = (resource: {
  readonly type: string;
  readonly name: string;
  readonly props: Record<string, unknown>;
}) => Record<string, unknown> | undefined;

type Callback<T> = (error: Error | null, response?: T) => void;

/** The two monitor calls the recorder listens to. */
interface RecordingMonitor {
  registerResource(request: RegisterResourceRequest, callback: Callback<RegisterResourceResponse>): void;
  registerResourceOutputs(request: RegisterResourceOutputsRequest, callback: Callback<unknown>): void;
}

/**
 * What the SDK deserialized → what the policy SDK hands policies: a secret
 * becomes `Secret`, a value not known yet the engine's wire sentinel.
 */
function fromWire(value: unknown): unknown {
  if (pulumi.isUnknown(value)) return UNKNOWN;
  if (Array.isArray(value)) return value.map(fromWire);
  if (typeof value !== "object" || value === null) return value;
  const record = value as Record<string, unknown>;
  if (record[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig)
    return new Secret(fromWire(record.value));
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fromWire(v)]));
}

function recordFromWire(value: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromWire(v)]));
}

function isMonitor(value: unknown): value is RecordingMonitor {
  return (
    typeof value === "object" &&
    value !== null &&
    typeof Reflect.get(value, "registerResource") === "function" &&
    typeof Reflect.get(value, "registerResourceOutputs") === "function"
  );
}

interface Registration {
  readonly request: RegisterResourceRequest;
  urn?: string;
  inputs: Record<string, unknown>;
  outputs?: Record<string, unknown>;
}

export interface ProgramRun {
  /** The stack resource first, then every registration in order. */
  readonly resources: SampleResource[];
}

/**
 * Runs `program` under mocks and returns what the pack would see; the program's
 * result becomes the stack outputs. `preview` makes provider outputs unknown.
 */
export async function recordProgram(
  program: () => Promise<Record<string, unknown> | undefined> | Record<string, unknown> | undefined,
  options: { project?: string; stack?: string; preview?: boolean; transform?: SampleTransform } = {},
): Promise<ProgramRun> {
  const project = options.project ?? "mindroom-tenant";
  const stack = options.stack ?? `mock-${process.pid}`;
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({
        id: options.preview ? undefined : `${args.name}-id`,
        state: { ...args.inputs },
      }),
      call: (args) => args.inputs,
    },
    project,
    stack,
    options.preview ?? false,
  );
  const monitor = pulumi.runtime.getMonitor();
  if (!isMonitor(monitor)) throw new Error("the mock monitor does not look like a resource monitor any more");
  const registrations: Registration[] = [];
  const byUrn = new Map<string, Registration>();
  const register = monitor.registerResource.bind(monitor);
  const registerOutputs = monitor.registerResourceOutputs.bind(monitor);
  Object.assign(monitor, {
    registerResource(request: RegisterResourceRequest, callback: Callback<RegisterResourceResponse>) {
      const object = request.getObject();
      let inputs: Record<string, unknown> = object ? pulumi.runtime.deserializeProperties(object, true) : {};
      const transformed = options.transform?.({
        type: request.getType(),
        name: request.getName(),
        props: inputs,
      });
      if (transformed) inputs = transformed;
      const registration: Registration = { request, inputs };
      registrations.push(registration);
      register(request, (error, response) => {
        if (response) {
          registration.urn = response.getUrn();
          byUrn.set(response.getUrn(), registration);
        }
        callback(error, response);
      });
    },
    registerResourceOutputs(request: RegisterResourceOutputsRequest, callback: Callback<unknown>) {
      const registration = byUrn.get(request.getUrn());
      const outputs = request.getOutputs();
      if (registration && outputs) {
        registration.outputs = pulumi.runtime.deserializeProperties(outputs, true);
      }
      registerOutputs(request, callback);
    },
  } satisfies RecordingMonitor);

  const result = (await program()) ?? {};
  // Registrations finish asynchronously: wait until no new one arrives.
  for (let seen = -1; seen !== registrations.length || registrations.some((r) => !r.urn); ) {
    seen = registrations.length;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }

  const stackUrn = `urn:pulumi:${stack}::${project}::${TYPES.stack}::${project}-${stack}`;
  const resources: SampleResource[] = [
    {
      type: TYPES.stack,
      name: `${project}-${stack}`,
      urn: stackUrn,
      inputs: {},
      outputs: recordFromWire(result),
    },
    ...registrations.map((r): SampleResource => {
      const inputs = recordFromWire(r.inputs);
      return {
        type: r.request.getType(),
        name: r.request.getName(),
        urn: r.urn ?? "",
        parent: r.request.getParent() || stackUrn,
        inputs,
        // A custom resource's mock state is its inputs; a component's outputs are what it registered.
        outputs: r.request.getCustom() ? inputs : recordFromWire(r.outputs ?? {}),
        dependencies: r.request.getDependenciesList(),
        protect: r.request.getProtect() ?? false,
      };
    }),
  ];
  return { resources };
}
