/** Usage against a plan limit, as a labelled progress bar (a real <progress>-like role for AT). */
import { formatCount, formatLimit } from "./format.ts";

export default function Meter(props: {
  label: string;
  used: number;
  limit: number | "unlimited";
  format?: (n: number) => string;
  unit?: string;
}) {
  const fmt = (n: number) => (props.format ? props.format(n) : formatCount(n));
  const pct = () =>
    props.limit === "unlimited"
      ? 0
      : Math.min(100, props.limit === 0 ? 100 : (props.used / props.limit) * 100);
  const over = () => props.limit !== "unlimited" && props.used > props.limit;
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
          {fmt(props.used)} of {limitText()}
        </span>
      </div>
      {/* biome-ignore lint/a11y/useSemanticElements: a styled bar; <meter> renders differently in every browser */}
      <div
        class="progress"
        role="meter"
        aria-label={props.label}
        aria-valuemin={0}
        aria-valuemax={props.limit === "unlimited" ? undefined : props.limit}
        aria-valuenow={props.used}
        aria-valuetext={`${fmt(props.used)} of ${limitText()}`}
      >
        <span style={{ width: `${pct()}%` }} />
      </div>
    </div>
  );
}
