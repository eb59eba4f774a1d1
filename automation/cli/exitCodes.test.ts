import { describe, expect, it } from "vitest";
import type { OperationResult } from "../operationResult.ts";
import { TenantNotFoundError } from "../operationResult.ts";
import { SettingsError } from "../settings.ts";
import { combineExitCodes, EXIT, exitCodeForError, exitCodeForResult, UsageError } from "./exitCodes.ts";

const result = (partial: Partial<OperationResult>): OperationResult => ({
  tenant: "acme",
  operation: "preview",
  status: "succeeded",
  changes: { same: 12 },
  durationMs: 1,
  policyViolations: [],
  ...partial,
});

describe("exit codes", () => {
  it("maps results as the Pulumi CLI does", () => {
    expect(exitCodeForResult(result({}))).toBe(EXIT.ok);
    expect(exitCodeForResult(result({ changes: { update: 1, same: 11 } }))).toBe(EXIT.ok);
    expect(exitCodeForResult(result({ changes: { update: 1 } }), true)).toBe(EXIT.changes);
    expect(exitCodeForResult(result({ changes: { same: 12 } }), true)).toBe(EXIT.ok);
    expect(exitCodeForResult(result({ operation: "drift", changes: { drifted: 1 } }))).toBe(EXIT.changes);
    expect(
      exitCodeForResult(
        result({ operation: "drift", drift: [{ id: "x", expected: "a", observed: "b", repair: [] }] }),
      ),
    ).toBe(EXIT.changes);
    expect(exitCodeForResult(result({ status: "cancelled" }))).toBe(EXIT.cancelled);
    expect(exitCodeForResult(result({ status: "failed", error: { kind: "Timeout", message: "" } }))).toBe(
      EXIT.timeout,
    );
    expect(
      exitCodeForResult(result({ status: "failed", error: { kind: "TenantNotFoundError", message: "" } })),
    ).toBe(EXIT.notFound);
    expect(
      exitCodeForResult(
        result({
          status: "failed",
          error: { kind: "CommandError", message: "" },
          policyViolations: [{ policy: "p", level: "mandatory", message: "m" }],
        }),
      ),
    ).toBe(EXIT.policy);
    expect(
      exitCodeForResult(
        result({
          status: "failed",
          error: { kind: "CommandError", message: "" },
          policyViolations: [{ policy: "p", level: "advisory", message: "m" }],
        }),
      ),
    ).toBe(EXIT.deployment);
  });

  it("never turns an unexpected error into usage (2) or changes (7)", () => {
    expect(exitCodeForError(new TypeError("x is undefined"))).toBe(EXIT.failure);
    expect(exitCodeForError(new Error("ENOTDIR"))).toBe(EXIT.failure);
    expect(exitCodeForError("thrown string")).toBe(EXIT.failure);
    expect(exitCodeForError(new UsageError("name a tenant"))).toBe(EXIT.usage);
    expect(exitCodeForError(new SettingsError("bad"))).toBe(EXIT.usage);
    expect(
      exitCodeForError(Object.assign(new TypeError("bad flag"), { code: "ERR_PARSE_ARGS_UNKNOWN_OPTION" })),
    ).toBe(EXIT.usage);
    expect(exitCodeForError(new TenantNotFoundError("no stack"))).toBe(EXIT.notFound);
  });

  it("combines several tenants' codes into the most severe", () => {
    expect(combineExitCodes([EXIT.ok, EXIT.changes, EXIT.ok])).toBe(EXIT.changes);
    expect(combineExitCodes([EXIT.changes, EXIT.policy])).toBe(EXIT.policy);
    expect(combineExitCodes([EXIT.policy, EXIT.deployment, EXIT.cancelled])).toBe(EXIT.deployment);
    expect(combineExitCodes([EXIT.timeout, EXIT.failure])).toBe(EXIT.failure);
    expect(combineExitCodes([])).toBe(EXIT.ok);
  });
});
