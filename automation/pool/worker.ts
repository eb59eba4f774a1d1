/**
 * A pool worker: a child process that runs tenant operations through the
 * Automation API, one at a time. Pulumi programs install process-wide handlers
 * (an uncaught error in one program fails every program in the process), so
 * each concurrent operation gets a process of its own.
 */

import type { OperationResult } from "../operationResult.ts";
import type { ProgressEvent } from "../progress.ts";
import {
  type Coordination,
  openCoordination,
  type PolicyPackOptions,
  TenantStacks,
} from "../tenantStacks.ts";
import type { WorkerInit, WorkReply, WorkRequest } from "./protocol.ts";

const send = (reply: WorkReply) => process.send?.(reply);
const running = new Map<number, AbortController>();
let init: WorkerInit | undefined;
/** This process's connections for leases and shared stack config, opened with the first TenantStacks. */
let coordination: Coordination | undefined;
/** One TenantStacks per distinct policy: the init's, and those operations bring (few: one per host list). */
const stacksByPolicy = new Map<string, Promise<TenantStacks>>();

function stacksFor(policy: PolicyPackOptions | undefined): Promise<TenantStacks> {
  if (!init) throw new Error("worker used before init");
  const chosen = policy ?? init.policy;
  const key = JSON.stringify(chosen ?? null);
  let stacks = stacksByPolicy.get(key);
  if (!stacks) {
    coordination ??= openCoordination(init.settings);
    stacks = TenantStacks.open(init.settings, chosen, coordination);
    stacksByPolicy.set(key, stacks);
  }
  return stacks;
}

async function handle(request: Exclude<WorkRequest, { kind: "cancel" }>): Promise<OperationResult> {
  // Registered before anything is awaited: a cancel right behind the job finds it.
  const controller = new AbortController();
  running.set(request.id, controller);
  const api = await stacksFor(request.policy).catch((error: unknown) => {
    running.delete(request.id);
    throw error;
  });
  const options = {
    signal: controller.signal,
    ...(request.lease ? { lease: request.lease } : {}),
    ...(request.progress
      ? { onProgress: (event: ProgressEvent) => send({ id: request.id, type: "progress", event }) }
      : {}),
  };
  try {
    switch (request.kind) {
      case "apply":
        return await api.apply(request.spec, request.secrets, {
          ...options,
          probeDrift: request.probeDrift === true,
        });
      case "preview":
        return await api.preview(request.tenant, options);
      case "up":
        return await api.up(request.tenant, { ...options, probeDrift: request.probeDrift === true });
      case "refresh":
        return await api.refresh(request.tenant, options);
      case "drift":
        return await api.drift(request.tenant, options);
      case "rebuild":
        return await api.rebuild(request.tenant, options);
      case "destroy":
        return await api.destroy(request.tenant, { ...options, removeStack: request.removeStack });
    }
  } finally {
    running.delete(request.id);
  }
}

process.on("message", (request: WorkRequest | WorkerInit) => {
  if (request.kind === "init") {
    init = request;
    void stacksFor(undefined);
    return;
  }
  if (request.kind === "cancel") {
    running.get(request.target)?.abort();
    return;
  }
  handle(request).then(
    (result) => send({ id: request.id, type: "result", result }),
    (error: Error) =>
      send({ id: request.id, type: "error", error: { kind: error.name, message: error.message } }),
  );
});

// A worker whose pool went away must not leave its pulumi processes running.
process.on("disconnect", () => process.kill(-process.pid, "SIGKILL"));
