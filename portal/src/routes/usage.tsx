import { Title } from "@solidjs/meta";
import { createAsync, type RouteDefinition } from "@solidjs/router";
import { Show } from "solid-js";
import { storageQuotaBytes } from "../../../components/tiers.ts";
import DataTable from "../components/DataTable.tsx";
import { formatBytes, formatCount, formatLimit } from "../components/format.ts";
import Meter from "../components/Meter.tsx";
import UsageChart, { type ChartDay } from "../components/UsageChart.tsx";
import { getUsage, type UsagePage } from "../lib/usage.ts";

export const route = { preload: () => getUsage() } satisfies RouteDefinition;

export default function UsageRoute() {
  const data = createAsync(() => getUsage());
  return (
    <>
      <Title>Usage · MindRoom Cloud</Title>
      <div class="page-head">
        <div>
          <h1>Usage</h1>
          <p>
            What your MindRoom
            <Show when={data()?.instance}>{(i) => <> ({i().slug})</>}</Show> used over the last 30 days, as
            measured on its host.
          </p>
        </div>
      </div>
      <Show when={data()}>
        {(d) => (
          <Show
            when={d().instance}
            fallback={
              <section class="card">
                <p>
                  No instance yet. <a href="/billing">Choose a plan</a> to get one.
                </p>
              </section>
            }
          >
            <UsageView data={d()} />
          </Show>
        )}
      </Show>
    </>
  );
}

function figure(value: number | null, format: (n: number) => string = formatCount): string {
  return value === null ? "not measured" : format(value);
}

function UsageView(props: { data: UsagePage }) {
  const latest = () =>
    [...props.data.days].reverse().find((d) => d.storageBytes !== null || d.agents !== null);
  const tier = () => props.data.tier;
  const storageLimit = () => {
    const t = tier();
    return t ? storageQuotaBytes(t) : "unlimited";
  };
  return (
    <>
      <section class="card" aria-labelledby="now-h">
        <h2 id="now-h">Latest measurement</h2>
        <p class="muted small">
          <Show when={latest()} fallback="Nothing measured yet: usage is measured on the host every hour.">
            {(l) => <>Measured on {l().day} (UTC).</>}
          </Show>
        </p>
        <Show when={tier()}>
          {(t) => (
            <div data-testid="usage-now">
              <Meter
                label="Storage"
                used={latest()?.storageBytes ?? null}
                limit={storageLimit()}
                format={formatBytes}
              />
              <Meter label="Agents" used={latest()?.agents ?? null} limit={t().agents} />
              <Meter label="Messages today" used={latest()?.messages ?? null} limit={t().messagesPerDay} />
            </div>
          )}
        </Show>
        <p class="muted small">
          Messages are not measured yet: your MindRoom keeps them in its own databases, which the platform
          does not read. You get an email when a measured figure reaches 80 % and 100 % of your plan.
        </p>
      </section>
      <HistoryCard
        id="storage"
        heading="Storage, last 30 days"
        title="Storage used per day, last 30 days"
        days={props.data.days.map((d) => ({ day: d.day, value: d.storageBytes }))}
        limit={storageLimit()}
        format={formatBytes}
      />
      <HistoryCard
        id="agents"
        heading="Agents, last 30 days"
        title="Agents configured per day, last 30 days"
        days={props.data.days.map((d) => ({ day: d.day, value: d.agents }))}
        limit={tier()?.agents ?? "unlimited"}
        format={formatCount}
      />
      <section class="card" aria-labelledby="daily-h">
        <h2 id="daily-h">Daily figures</h2>
        <DataTable
          columns={["Day (UTC)", "Storage", "Agents", "Messages"]}
          rows={[...props.data.days].reverse()}
          caption="Usage per day, newest first"
          testId="usage-table"
        >
          {(d) => (
            <tr>
              <th scope="row">{d.day}</th>
              <td>{figure(d.storageBytes, formatBytes)}</td>
              <td>{figure(d.agents)}</td>
              <td>{figure(d.messages)}</td>
            </tr>
          )}
        </DataTable>
        <Show when={tier()}>
          {(t) => (
            <p class="muted small">
              Your {t().label} plan: storage {formatLimit(t().storageGb, " GB")}, agents{" "}
              {formatLimit(t().agents)}, messages {formatLimit(t().messagesPerDay)} per day.
            </p>
          )}
        </Show>
      </section>
    </>
  );
}

/** One measured figure over the last 30 days: its chart, under a heading. */
function HistoryCard(props: {
  id: string;
  heading: string;
  title: string;
  days: readonly ChartDay[];
  limit: number | "unlimited";
  format: (n: number) => string;
}) {
  return (
    <section class="card" aria-labelledby={`${props.id}-h`}>
      <h2 id={`${props.id}-h`}>{props.heading}</h2>
      <UsageChart
        id={`${props.id}-chart`}
        title={props.title}
        days={props.days}
        limit={props.limit}
        format={props.format}
      />
    </section>
  );
}
