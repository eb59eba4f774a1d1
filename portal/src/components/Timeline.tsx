/**
 * A tenant's operations, newest first: what ran, who asked (and for operators, why), how it ended.
 * Customers' entries come from server/customerFacing.ts (plain-language problems, no names);
 * operators' from the rows as they are (`operatorEntries`).
 */
import { For, Show } from "solid-js";
import type { OperationRow } from "../server/customerView.ts";
import { formatDateTime, formatDuration } from "./format.ts";
import StatusBadge, { toneOf } from "./StatusBadge.tsx";

const KIND: Record<string, string> = {
  up: "Update",
  destroy: "Deletion",
  preview: "Preview",
  refresh: "Refresh",
  drift: "Drift check",
};

export interface TimelineEntry {
  readonly id: string;
  readonly kind: string;
  readonly status: string;
  readonly createdAt: string;
  readonly durationMs: number | null;
  readonly requestedBy: string;
  /** Why, in the requester's words (operators only). */
  readonly reason?: string | null;
  /** What it is doing, while it runs. */
  readonly activity?: string | null;
  readonly problem: string | null;
}

/** The operator's view: who asked by name, their reason, the engine's own progress and error. */
export function operatorEntries(rows: readonly OperationRow[]): TimelineEntry[] {
  return rows.map((op) => ({
    id: op.id,
    kind: op.kind,
    status: op.status,
    createdAt: op.createdAt,
    durationMs: op.durationMs,
    requestedBy: op.requestedBy ?? op.trigger ?? "unknown",
    reason: op.reason,
    activity: op.progress?.message ?? op.progress?.step ?? null,
    problem: op.error,
  }));
}

export default function Timeline(props: { operations: readonly TimelineEntry[] }) {
  return (
    <Show when={props.operations.length > 0} fallback={<p class="muted">Nothing has happened yet.</p>}>
      <ol class="timeline">
        <For each={props.operations}>
          {(op) => (
            <li>
              <span class={`dot ${toneOf(op.status)}`} aria-hidden="true" />
              <div>
                <div class="row">
                  <strong>{KIND[op.kind] ?? op.kind}</strong>
                  <StatusBadge state={op.status} />
                  <span class="muted small">{formatDateTime(op.createdAt)}</span>
                  <Show when={op.durationMs !== null}>
                    <span class="muted small">· {formatDuration(op.durationMs)}</span>
                  </Show>
                </div>
                <div class="muted small">
                  Requested by {op.requestedBy}
                  <Show when={op.reason}> — {op.reason}</Show>
                </div>
                <Show when={op.status === "running" && op.activity}>
                  {(a) => <div class="small">{a()}</div>}
                </Show>
                <Show when={op.problem}>
                  <div class="error-text small">{op.problem}</div>
                </Show>
              </div>
            </li>
          )}
        </For>
      </ol>
    </Show>
  );
}
