/**
 * A daily usage chart, rendered as SVG on the server: one bar per day, a dashed line at the plan's
 * limit when it is on the scale, and a mark for days the platform measured nothing (not a zero bar).
 * For assistive technology the SVG is one image with a title and a summary; the figures themselves
 * are in the table beside it (UsageTable).
 */
import { For, Show } from "solid-js";

export interface ChartDay {
  readonly day: string;
  readonly value: number | null;
}

const WIDTH = 720;
const HEIGHT = 180;
// Room on the left for the scale's top label ("10.0 GB").
const AXIS = 64;
const TOP = 12;

export default function UsageChart(props: {
  id: string;
  title: string;
  days: readonly ChartDay[];
  limit: number | "unlimited";
  format: (n: number) => string;
}) {
  const values = () => props.days.map((d) => d.value).filter((v): v is number => v !== null);
  const peak = () => Math.max(0, ...values());
  // The scale: the highest day, or the limit when usage is near it (so the line shows how close).
  const top = () => {
    const limit = props.limit === "unlimited" ? 0 : props.limit;
    const highest = peak() > 0 ? peak() * 1.15 : 1;
    return limit > 0 && limit <= highest * 1.5 ? Math.max(limit * 1.05, highest) : highest;
  };
  const slot = () => (WIDTH - AXIS) / Math.max(1, props.days.length);
  const y = (v: number) => HEIGHT - AXIS - ((HEIGHT - AXIS - TOP) * v) / top();
  // The limit's height, when it is on the scale.
  const limitY = () => (props.limit !== "unlimited" && props.limit <= top() ? y(props.limit) : null);
  const summary = () => {
    const measuredDays = values().length;
    if (measuredDays === 0) return `No measurements in the last ${props.days.length} days.`;
    const last = [...props.days].reverse().find((d) => d.value !== null);
    return `Measured on ${measuredDays} of the last ${props.days.length} days; highest ${props.format(peak())}, latest ${props.format(last?.value ?? 0)} on ${last?.day}${props.limit === "unlimited" ? "" : `, limit ${props.format(props.limit)}`}.`;
  };
  return (
    <figure class="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-labelledby={`${props.id}-title ${props.id}-desc`}
        data-testid={props.id}
      >
        <title id={`${props.id}-title`}>{props.title}</title>
        <desc id={`${props.id}-desc`}>{summary()}</desc>
        <line class="axis" x1={AXIS} y1={HEIGHT - AXIS} x2={WIDTH} y2={HEIGHT - AXIS} />
        <text class="tick" x={AXIS - 4} y={TOP + 4} text-anchor="end">
          {props.format(top())}
        </text>
        <text class="tick" x={AXIS - 4} y={HEIGHT - AXIS} text-anchor="end">
          0
        </text>
        <For each={props.days}>
          {(d, i) => {
            const x = () => AXIS + i() * slot() + slot() * 0.15;
            const w = () => slot() * 0.7;
            return (
              <Show
                when={d.value !== null}
                fallback={
                  <rect class="bar-missing" x={x()} y={HEIGHT - AXIS - 3} width={w()} height={3}>
                    <title>{`${d.day}: not measured`}</title>
                  </rect>
                }
              >
                <rect
                  class="bar"
                  x={x()}
                  y={y(d.value ?? 0)}
                  width={w()}
                  height={Math.max(1, HEIGHT - AXIS - y(d.value ?? 0))}
                >
                  <title>{`${d.day}: ${props.format(d.value ?? 0)}`}</title>
                </rect>
              </Show>
            );
          }}
        </For>
        <Show when={limitY()}>
          {(ly) => (
            <>
              <line class="limit" x1={AXIS} x2={WIDTH} y1={ly()} y2={ly()} />
              <text class="tick" x={WIDTH - 4} y={ly() - 4} text-anchor="end">
                {`limit ${props.limit === "unlimited" ? "" : props.format(props.limit)}`}
              </text>
            </>
          )}
        </Show>
        <text class="tick" x={AXIS} y={HEIGHT - 8}>
          {props.days[0]?.day}
        </text>
        <text class="tick" x={WIDTH} y={HEIGHT - 8} text-anchor="end">
          {props.days.at(-1)?.day}
        </text>
      </svg>
      <figcaption>{summary()}</figcaption>
    </figure>
  );
}
