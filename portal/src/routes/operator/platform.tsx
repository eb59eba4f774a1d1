import { Title } from "@solidjs/meta";
import { A, createAsync } from "@solidjs/router";
import { For, Show } from "solid-js";
import { TIER_IDS } from "../../../../components/tiers.ts";
import { ACTUAL_STATES } from "../../../../database/instanceStates.ts";
import DataTable from "../../components/DataTable.tsx";
import { formatDateTime, formatMoney } from "../../components/format.ts";
import StatusBadge from "../../components/StatusBadge.tsx";
import { getPlatform } from "../../lib/operator.ts";

export default function PlatformPage() {
  const data = createAsync(() => getPlatform());
  const cell = (tier: string, state: string) =>
    data()?.byTierAndState.find((r) => r.tier === tier && r.state === state)?.count ?? 0;
  return (
    <>
      <Title>Platform · Operator · MindRoom Cloud</Title>
      <div class="page-head">
        <div>
          <h1>Platform</h1>
          <p>Tenants, revenue and failures at a glance.</p>
        </div>
      </div>
      <Show when={data()}>
        {(d) => (
          <>
            <div class="grid grid-4">
              <div class="card">
                <div class="stat-label">Tenants</div>
                <div class="stat">{d().tenants.toLocaleString("en-US")}</div>
              </div>
              <div class="card">
                <div class="stat-label">MRR</div>
                <div class="stat" data-testid="mrr">
                  {formatMoney(d().mrrCents)}
                </div>
                <Show when={d().customPriced > 0}>
                  <div class="muted small">+ {d().customPriced} custom-priced</div>
                </Show>
              </div>
              <div class="card">
                <div class="stat-label">Paying subscriptions</div>
                <div class="stat">{d().payingSubscriptions.toLocaleString("en-US")}</div>
              </div>
              <div class="card">
                <div class="stat-label">Failed operations (24 h)</div>
                <div class="stat">{d().failedLastDay.length}</div>
              </div>
            </div>
            <section style={{ "margin-top": "1.5rem" }} aria-labelledby="grid-h">
              <h2 id="grid-h">Tenants by tier and state</h2>
              <DataTable columns={["Tier", ...ACTUAL_STATES]} rows={TIER_IDS}>
                {(t) => (
                  <tr>
                    <th scope="row">{t}</th>
                    <For each={ACTUAL_STATES}>
                      {(s) => (
                        <td>
                          <Show when={cell(t, s) > 0} fallback={<span class="muted">0</span>}>
                            <A href={`/operator?tier=${t}&state=${s}`}>{cell(t, s)}</A>
                          </Show>
                        </td>
                      )}
                    </For>
                  </tr>
                )}
              </DataTable>
            </section>
            <section style={{ "margin-top": "1.5rem" }} aria-labelledby="failed-h">
              <h2 id="failed-h">Failed operations in the last 24 hours</h2>
              <DataTable
                columns={["When", "Tenant", "Operation", "Error"]}
                rows={d().failedLastDay}
                empty="None. All quiet."
              >
                {(o) => (
                  <tr>
                    <td class="small">{formatDateTime(o.createdAt)}</td>
                    <td>
                      <A class="mono" href={`/operator/tenants/${o.instanceId}`}>
                        {o.slug}
                      </A>
                    </td>
                    <td>
                      {o.kind} <StatusBadge state={o.status} />
                    </td>
                    <td class="small error-text">{o.error ?? "—"}</td>
                  </tr>
                )}
              </DataTable>
            </section>
            <section style={{ "margin-top": "1.5rem" }} aria-labelledby="rollouts-h">
              <h2 id="rollouts-h">Rollouts</h2>
              <DataTable
                columns={["Started", "Image", "Status", "Progress", "Halted on"]}
                rows={d().rollouts}
                empty="None yet. Start one with mindroom-ops rollout --image …."
                testId="rollouts"
              >
                {(r) => (
                  <tr>
                    <td class="small">
                      {formatDateTime(r.createdAt)}
                      <div class="muted">{r.requestedBy}</div>
                    </td>
                    <td class="mono small">{r.image}</td>
                    <td>
                      <StatusBadge state={r.status} />
                    </td>
                    <td class="small">
                      {r.moved} of {r.tenants} moved
                      {r.applying > 0 ? `, ${r.applying} applying` : ""}
                      {r.failed > 0 ? `, ${r.failed} failed` : ""}
                      <div class="muted">
                        canary {r.canary}, batches of {r.batchSize}
                      </div>
                    </td>
                    <td class="small error-text">{r.error ?? "—"}</td>
                  </tr>
                )}
              </DataTable>
            </section>
          </>
        )}
      </Show>
    </>
  );
}
