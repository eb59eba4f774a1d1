/**
 * The messages between the pool and its worker processes (over Node's IPC
 * channel). One request at a time per worker; progress streams back before the
 * single result.
 */
import type { TenantSpecInput } from "../../components/tenantSpec.ts";
import type { OperationResult } from "../operationResult.ts";
import type { ProgressEvent } from "../progress.ts";
import type { AutomationSettings } from "../settings.ts";
import type { PolicyPackOptions } from "../tenantStacks.ts";
import type { TenantSecrets } from "../tenantWorkspaces.ts";

/** The first message a worker gets: the caller's settings, so parent and workers always agree. */
export interface WorkerInit {
  readonly kind: "init";
  readonly settings: AutomationSettings;
  readonly policy: PolicyPackOptions | undefined;
}

/**
 * Every operation may carry its own policy pack options (else the pool's from init apply), and
 * runs under a tenant lease, whose holder id the pool adds when it sends the job. `progress`:
 * the caller listens to progress events (an up then previews its plan first, for the total).
 */
interface PolicyOverride {
  readonly policy?: PolicyPackOptions;
  readonly lease?: string;
  readonly progress?: boolean;
}

export type WorkRequest =
  | (PolicyOverride & {
      readonly id: number;
      readonly kind: "apply";
      readonly spec: TenantSpecInput;
      readonly secrets: TenantSecrets;
      /** Check the Dokku host for drift first (see UpOptions.probeDrift). */
      readonly probeDrift?: boolean;
    })
  | (PolicyOverride & {
      readonly id: number;
      readonly kind: "up";
      readonly tenant: string;
      readonly probeDrift?: boolean;
    })
  | (PolicyOverride & {
      readonly id: number;
      readonly kind: "preview" | "refresh" | "drift" | "rebuild";
      readonly tenant: string;
    })
  | (PolicyOverride & {
      readonly id: number;
      readonly kind: "destroy";
      readonly tenant: string;
      readonly removeStack: boolean;
    })
  | { readonly id: number; readonly kind: "cancel"; readonly target: number };

export type WorkReply =
  | { readonly id: number; readonly type: "progress"; readonly event: ProgressEvent }
  | { readonly id: number; readonly type: "result"; readonly result: OperationResult }
  | {
      readonly id: number;
      readonly type: "error";
      readonly error: { readonly kind: string; readonly message: string };
    };
