/** A tenant's operations, newest first: what ran, why, who asked, how it ended. */
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

const TRIGGER: Record<string, string> = {
  stripe: "billing change",
  sweep: "scheduled check",
  operator: "our team",
  customer: "you",
  retry: "automatic retry",
};

export default function Timeline(props: { operations: readonly OperationRow[]; operator?: boolean }) {
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
                  Requested by{" "}
                  {props.operator
                    ? (op.requestedBy ?? op.trigger)
                    : (TRIGGER[op.trigger ?? ""] ?? op.trigger)}
                  <Show when={op.reason}> — {op.reason}</Show>
                </div>
                <Show when={op.status === "running" && op.progress}>
                  {(p) => <div class="small">{p().message ?? p().step}</div>}
                </Show>
                <Show when={op.error}>
                  <div class="error-text small">{op.error}</div>
                </Show>
              </div>
            </li>
          )}
        </For>
      </ol>
    </Show>
  );
}
