/**
 * Usage against a plan limit, as a labelled progress bar (a real <progress>-like role for AT). A
 * figure the platform could not measure (`used` null) says so instead of showing 0.
 */
import { Show } from "solid-js";
import { formatCount, formatLimit } from "./format.ts";

export default function Meter(props: {
  label: string;
  used: number | null;
  limit: number | "unlimited";
  format?: (n: number) => string;
  unit?: string;
}) {
  const fmt = (n: number) => (props.format ? props.format(n) : formatCount(n));
  const used = () => props.used ?? 0;
  const pct = () =>
    props.limit === "unlimited" || props.used === null
      ? 0
      : Math.min(100, props.limit === 0 ? 100 : (used() / props.limit) * 100);
  const over = () => props.limit !== "unlimited" && props.used !== null && props.used > props.limit;
  const limitText = () =>
    props.limit === "unlimited"
      ? "Unlimited"
      : props.format
        ? props.format(props.limit)
        : formatLimit(props.limit, props.unit ?? "");
  return (
    <div class={`meter${over() ? " over" : ""}`}>
      <div class="spread">
        <span>{props.label}</span>
        <span class="muted">
          <Show when={props.used !== null} fallback={<>not measured · limit {limitText()}</>}>
            {fmt(used())} of {limitText()}
          </Show>
        </span>
      </div>
      {/* biome-ignore lint/a11y/useSemanticElements: a styled bar; <meter> renders differently in every browser */}
      <div
        class="progress"
        role="meter"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={props.limit === "unlimited" ? undefined : props.limit}
        aria-valuenow={props.used ?? undefined}
        aria-valuetext={
          props.used === null ? `not measured; limit ${limitText()}` : `${fmt(used())} of ${limitText()}`
        }
      >
        <span style={{ width: `${pct()}%` }} />
      </div>
    </div>
  );
}
