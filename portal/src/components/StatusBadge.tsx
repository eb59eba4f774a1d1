/** A state word with a colour that means the same everywhere in the portal. */
export type Tone = "ok" | "warn" | "bad" | "info" | "plain";

const TONES: Record<string, Tone> = {
  running: "ok",
  succeeded: "ok",
  active: "ok",
  trialing: "ok",
  clean: "ok",
  provisioning: "info",
  pending: "info",
  queued: "info",
  waiting_for_capacity: "warn",
  deleting: "warn",
  suspended: "warn",
  past_due: "warn",
  drifted: "warn",
  incomplete: "warn",
  failed: "bad",
  halted: "bad",
  degraded: "bad",
  deleted: "plain",
  canceled: "plain",
  cancelled: "plain",
  unpaid: "bad",
  unknown: "plain",
};

const LABELS: Record<string, string> = {
  past_due: "Past due",
  incomplete_expired: "Expired",
};

export function toneOf(state: string): Tone {
  return TONES[state] ?? "plain";
}

export function labelOf(state: string): string {
  return LABELS[state] ?? state.charAt(0).toUpperCase() + state.slice(1).replaceAll("_", " ");
}

export default function StatusBadge(props: { state: string; label?: string }) {
  return <span class={`badge badge-${toneOf(props.state)}`}>{props.label ?? labelOf(props.state)}</span>;
}
