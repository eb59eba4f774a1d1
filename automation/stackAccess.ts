/**
 * The Automation API's `Stack` without the CLI processes an operation does not
 * need. Each pulumi process costs about 0.3 s and 0.25 CPU-s here, and the SDK
 * starts several per operation that carry nothing new:
 *
 * - `stack select` to get a `Stack` for a stack that exists (every command
 *   names its stack with `--stack` anyway);
 * - after `up`, `refresh` and `destroy`, `stack output` twice and `stack
 *   history`, for outputs and change counts the engine already streamed as
 *   events (the stack resource's outputs, the summary event).
 *
 * What the events lack falls back to the SDK's own calls, so a newer engine
 * that streams less costs time, never correctness.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  type EngineEvent,
  type LocalWorkspace,
  type OutputMap,
  Stack,
  type UpdateSummary,
} from "@pulumi/pulumi/automation/index.js";
import { parseCheckpoint } from "./stackCheckpoints.ts";

/**
 * Whether a stack exists in a `file://` backend, read from its layout
 * (`.pulumi/stacks/<project>/<stack>.json`, gzipped or not); `undefined` when
 * that cannot be told without the CLI (another backend, or a legacy layout).
 */
export function fileBackendHasStack(backendUrl: string, project: string, stack: string): boolean | undefined {
  if (!backendUrl.startsWith("file://")) return undefined;
  const root = join(backendUrl.slice("file://".length), ".pulumi");
  let meta = "";
  try {
    meta = readFileSync(join(root, "meta.yaml"), "utf8");
  } catch {
    // No backend written yet: no stack in it either, unless a legacy layout is there.
    return existsSync(join(root, "stacks")) ? undefined : false;
  }
  if (!/^version:\s*1\s*$/m.test(meta)) return undefined;
  const base = join(root, "stacks", project, `${stack}.json`);
  return existsSync(base) || existsSync(`${base}.gz`) || existsSync(`${base}.zst`);
}

/**
 * How many resources (the stack resource aside) the stack's last checkpoint
 * holds: the steps a refresh or a destroy will take, known before the engine
 * starts. Read from the file in a `file://` backend (no CLI process), else
 * through `pulumi stack export`; `undefined` when it cannot be read.
 */
export async function stateResourceCount(
  stack: Stack,
  backendUrl: string,
  project: string,
): Promise<number | undefined> {
  const resources = backendUrl.startsWith("file://")
    ? fileBackendResources(backendUrl, project, stack.name)
    : // Only a progress figure hangs on it: an export that fails leaves the total unknown.
      await stack.exportStack().then(
        (state) => (state.deployment as { resources?: { type?: string }[] } | undefined)?.resources,
        () => undefined,
      );
  return resources?.filter((r) => r.type !== "pulumi:pulumi:Stack").length;
}

function fileBackendResources(
  backendUrl: string,
  project: string,
  stack: string,
): readonly { type?: string }[] | undefined {
  if (fileBackendHasStack(backendUrl, project, stack) !== true) return undefined;
  const base = join(backendUrl.slice("file://".length), ".pulumi", "stacks", project, `${stack}.json`);
  const name = [base, `${base}.gz`, `${base}.zst`].find((path) => existsSync(path));
  try {
    return name ? parseCheckpoint(name, readFileSync(name)).resources : undefined;
  } catch {
    return undefined;
  }
}

/** A `Stack` for a stack known to exist, without running `pulumi stack select`. */
export function existingStack(name: string, workspace: LocalWorkspace): Stack {
  // The fields the SDK's constructor sets in "select" mode, minus the select itself.
  return Object.assign(Object.create(Stack.prototype) as Stack, {
    name,
    workspace,
    ready: Promise.resolve(),
  });
}

/** Outputs and change counts of one engine run, taken from its event stream. */
export class EngineSummary {
  private outputs: OutputMap | undefined;
  private summary: UpdateSummary | undefined;
  private readonly kind: UpdateSummary["kind"];
  private readonly started = new Date();

  constructor(kind: UpdateSummary["kind"]) {
    this.kind = kind;
  }

  /** Feed every engine event of the run. */
  observe(event: EngineEvent): void {
    const stackOutputs = event.resOutputsEvent?.metadata;
    if (stackOutputs?.type === "pulumi:pulumi:Stack" && stackOutputs.new?.outputs) {
      // Engine events mask secrets as "[secret]" (no --show-secrets), as `stack output --json` does.
      this.outputs = Object.fromEntries(
        Object.entries(stackOutputs.new.outputs).map(([k, value]) => [
          k,
          { value, secret: value === "[secret]" },
        ]),
      );
    }
    const summary = event.summaryEvent;
    if (summary) {
      this.summary = {
        kind: this.kind,
        startTime: this.started,
        endTime: new Date(),
        message: "",
        environment: {},
        config: {},
        result: "succeeded",
        resourceChanges: summary.resourceChanges,
      } as UpdateSummary;
    }
  }

  /**
   * `stack` as the SDK's operations see it, answering their follow-up calls from
   * the events. Use it only for the one operation these events belong to.
   */
  bind(stack: Stack): Stack {
    return Object.create(stack, {
      outputs: { value: async () => this.outputs ?? (await Stack.prototype.outputs.call(stack)) },
      info: {
        value: async (showSecrets?: boolean) =>
          this.summary ?? (await Stack.prototype.info.call(stack, showSecrets)),
      },
    }) as Stack;
  }
}
