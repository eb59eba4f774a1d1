import { Title } from "@solidjs/meta";
import { createAsync, useSearchParams } from "@solidjs/router";
import { For, Show } from "solid-js";
import { TIER_IDS } from "../../../../components/tiers.ts";
import { ACTUAL_STATES } from "../../../../database/instanceStates.ts";
import { formatDateTime } from "../../components/format.ts";
import StatusBadge from "../../components/StatusBadge.tsx";
import { getTenants } from "../../lib/operator.ts";

const DRIFTS = ["drifted", "pending", "clean", "unknown"];

type Params = Record<string, string | undefined>;

function flat(params: Record<string, string | string[] | undefined>): Params {
  const out: Params = {};
  for (const [k, v] of Object.entries(params)) out[k] = Array.isArray(v) ? v[0] : v;
  return out;
}

/**
 * Links here are plain `<a>`: the router still navigates them client-side (it handles every
 * same-origin anchor), and `<A>`'s active-state bookkeeping cost about 0.15 ms of server rendering
 * per link, most of this page's rendering time with 50 rows (docs/benchmarks.md, Portal).
 */
export default function TenantsPage() {
  const [params] = useSearchParams();
  const query = () => flat(params);
  const page = createAsync(() => getTenants(query()));
  const link = (p: number) => {
    const q = new URLSearchParams(
      Object.entries({ ...query(), page: String(p) }).filter(([, v]) => v) as [string, string][],
    );
    return `/operator?${q}`;
  };
  const sortLink = (sort: string) =>
    `/operator?${new URLSearchParams({ ...clean(query()), sort, page: "1" })}`;
  return (
    <>
      <Title>Tenants · Operator · MindRoom Cloud</Title>
      <div class="page-head">
        <div>
          <h1>Tenants</h1>
          <p>Every instance, its state, drift and recent failures.</p>
        </div>
        <Show when={page()}>
          {(p) => <span class="muted">{p().total.toLocaleString("en-US")} matching</span>}
        </Show>
      </div>
      <form method="get" action="/operator" class="filters card" aria-label="Filter tenants">
        <div class="field">
          <label for="flt-q">Search</label>
          <input
            id="flt-q"
            name="q"
            type="search"
            placeholder="slug, email, host or id"
            value={query().q ?? ""}
          />
        </div>
        <Select id="flt-tier" name="tier" label="Tier" options={TIER_IDS} value={query().tier} />
        <Select id="flt-state" name="state" label="State" options={ACTUAL_STATES} value={query().state} />
        <Select id="flt-drift" name="drift" label="Drift" options={DRIFTS} value={query().drift} />
        <div class="field">
          <label for="flt-failing">Failures</label>
          <select id="flt-failing" name="failing">
            <option value="">Any</option>
            <option value="yes" selected={query().failing === "yes"}>
              With failures
            </option>
          </select>
        </div>
        <div class="row">
          <input type="hidden" name="sort" value={query().sort ?? "slug"} />
          <button class="btn btn-primary" type="submit">
            Filter
          </button>
          <a href="/operator" class="small">
            Reset
          </a>
        </div>
      </form>
      <div class="table-wrap">
        <table>
          <caption class="skip-link">Tenants</caption>
          <thead>
            <tr>
              <th scope="col">
                <a href={sortLink("slug")}>Tenant</a>
              </th>
              <th scope="col">
                <a href={sortLink("tier")}>Tier</a>
              </th>
              <th scope="col">
                <a href={sortLink("state")}>State</a>
              </th>
              <th scope="col">Host</th>
              <th scope="col">Drift</th>
              <th scope="col">
                <a href={sortLink("updated")}>Last operation</a>
              </th>
              <th scope="col">
                <a href={sortLink("failures")}>Failures (7 d)</a>
              </th>
            </tr>
          </thead>
          <tbody>
            <For each={page()?.rows} fallback={<EmptyRow />}>
              {(t) => (
                <tr>
                  <td>
                    <a href={`/operator/tenants/${t.id}`} class="mono">
                      {t.slug}
                    </a>
                    <div class="muted small">{t.email}</div>
                  </td>
                  <td>{t.tier}</td>
                  <td>
                    <StatusBadge state={t.actualState} />
                    <Show when={t.actualState === "running" && t.health === "degraded"}>
                      {" "}
                      <StatusBadge state="degraded" />
                    </Show>
                    <Show when={t.desiredState !== t.actualState && t.desiredState !== "running"}>
                      <div class="muted small">→ {t.desiredState}</div>
                    </Show>
                  </td>
                  <td class="mono small">{t.host ?? "—"}</td>
                  <td>
                    <StatusBadge state={t.drift} />
                  </td>
                  <td class="small">
                    <Show when={t.lastOperation} fallback="—">
                      {(o) => (
                        <>
                          {o().kind} <StatusBadge state={o().status} />
                          <div class="muted">{formatDateTime(o().at)}</div>
                        </>
                      )}
                    </Show>
                  </td>
                  <td>
                    <Show when={t.failures > 0 || t.lastError} fallback={<span class="muted">0</span>}>
                      <span class="error-text" title={t.lastError ?? ""}>
                        {t.failures}
                        <Show when={t.lastError}> · last error</Show>
                      </span>
                    </Show>
                  </td>
                </tr>
              )}
            </For>
          </tbody>
        </table>
      </div>
      <Show when={page()}>
        {(p) => (
          <nav class="pager" aria-label="Pages">
            <span class="muted small">
              Page {p().page} of {Math.max(1, Math.ceil(p().total / p().pageSize))}
            </span>
            <div class="row">
              <Show when={p().page > 1}>
                <a class="btn" href={link(p().page - 1)}>
                  ← Previous
                </a>
              </Show>
              <Show when={p().page * p().pageSize < p().total}>
                <a class="btn" href={link(p().page + 1)}>
                  Next →
                </a>
              </Show>
            </div>
          </nav>
        )}
      </Show>
    </>
  );
}

function clean(q: Params): Record<string, string> {
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v)) as Record<string, string>;
}

function EmptyRow() {
  return (
    <tr>
      <td colspan="7" class="muted">
        No tenants match these filters.
      </td>
    </tr>
  );
}

function Select(props: {
  id: string;
  name: string;
  label: string;
  options: readonly string[];
  value: string | undefined;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select id={props.id} name={props.name}>
        <option value="">Any</option>
        <For each={props.options}>
          {(o) => (
            <option value={o} selected={props.value === o}>
              {o}
            </option>
          )}
        </For>
      </select>
    </div>
  );
}
