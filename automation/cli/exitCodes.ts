/**
 * Exit codes of the operator CLIs, as the Pulumi CLI defines them (v3.226.1+,
 * https://www.pulumi.com/docs/iac/cli/exit-codes/), so a script or CI job reads
 * `mindroom-ops` the way it reads `pulumi`. An unexpected error is 1: it never
 * reads as a usage error (2) or as "changes found" (7).
 */
import type { OperationResult } from "../operationResult.ts";

export const EXIT = {
  ok: 0,
  /** Anything that fits no category below, an unexpected error included. */
  failure: 1,
  /** Invalid arguments or configuration, or a confirmation (--yes) missing without a terminal. */
  usage: 2,
  /** A resource operation failed during the operation (preview, up, refresh, drift, destroy). */
  deployment: 4,
  /** A mandatory policy of the policy pack blocked the operation. */
  policy: 5,
  /** The tenant (its stack) or the named object does not exist. */
  notFound: 6,
  /** Changes or drift were found where none were expected (--expect-no-changes, drift). */
  changes: 7,
  /** The operation was cancelled (Ctrl-C, or the confirmation was declined). */
  cancelled: 8,
  /** The operation ran out of time (MINDROOM_OPERATION_TIMEOUT). */
  timeout: 9,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The lines every CLI's --help ends with. */
export const EXIT_CODES_HELP = `Exit codes (as the Pulumi CLI's): 0 success, 1 any other failure, 2 usage or configuration error,
4 a resource operation failed, 5 blocked by a policy, 6 no such tenant/stack, 7 changes or drift
found (drift, --expect-no-changes), 8 cancelled, 9 timed out. With --all, the most severe.`;

/** Wrong arguments: exit 2 with the command's help. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Errors that are the operator's input or configuration, by name (they live in many modules). */
const CONFIGURATION_ERRORS = new Set([
  "UsageError",
  "SettingsError",
  "DatabaseSettingsError",
  "WebhookSettingsError",
  "ReconcileSettingsError",
  "PriceTiersError",
  "TenantSpecError",
  "TenantInputError",
  "StripeApiBaseError",
]);
const NOT_FOUND_ERRORS = new Set(["TenantNotFoundError", "HostNotFoundError", "DeadLetterNotFoundError"]);

/** The exit code for an error thrown out of a command: only known kinds get a specific code. */
export function exitCodeForError(error: unknown): ExitCode {
  if (!(error instanceof Error)) return EXIT.failure;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && code.startsWith("ERR_PARSE_ARGS")) return EXIT.usage;
  if (CONFIGURATION_ERRORS.has(error.name) || error instanceof UsageError) return EXIT.usage;
  if (NOT_FOUND_ERRORS.has(error.name)) return EXIT.notFound;
  return EXIT.failure;
}

/** Whether the result found anything: drift, or a change of any kind. */
export function hasChanges(result: OperationResult): boolean {
  if ((result.drift?.length ?? 0) > 0) return true;
  return Object.entries(result.changes).some(([op, n]) => op !== "same" && n > 0);
}

/**
 * The exit code for one operation's result. `expectNoChanges` (and `drift`,
 * which always expects none) turns found changes into 7.
 */
export function exitCodeForResult(result: OperationResult, expectNoChanges = false): ExitCode {
  if (result.status === "cancelled") return EXIT.cancelled;
  if (result.status === "failed") {
    if (result.error?.kind === "Timeout") return EXIT.timeout;
    if (result.error?.kind === "TenantNotFoundError") return EXIT.notFound;
    // A rebuild refused before the engine ran: nothing failed on a resource.
    if (result.error?.kind === "StackRebuildRefusedError") return EXIT.failure;
    if (result.policyViolations.some((v) => v.level === "mandatory")) return EXIT.policy;
    return EXIT.deployment;
  }
  if ((expectNoChanges || result.operation === "drift") && hasChanges(result)) return EXIT.changes;
  return EXIT.ok;
}

/** Most severe first: a failure of any tenant outranks a policy block, which outranks found changes. */
const SEVERITY: readonly ExitCode[] = [
  EXIT.failure,
  EXIT.usage,
  EXIT.deployment,
  EXIT.timeout,
  EXIT.cancelled,
  EXIT.notFound,
  EXIT.policy,
  EXIT.changes,
  EXIT.ok,
];

/** One code for several tenants' results (--all): the most severe. */
export function combineExitCodes(codes: readonly ExitCode[]): ExitCode {
  return SEVERITY.find((c) => codes.includes(c)) ?? EXIT.ok;
}
