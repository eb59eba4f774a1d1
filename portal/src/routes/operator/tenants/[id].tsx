import { Title } from "@solidjs/meta";
import { A, createAsync, type RouteDefinition, revalidate, useParams, useSubmission } from "@solidjs/router";
import { createSignal, For, type JSX, Show } from "solid-js";
import DataTable from "../../../components/DataTable.tsx";
import { ReasonField } from "../../../components/Field.tsx";
import FormNotice from "../../../components/FormNotice.tsx";
import { formatDate, formatDateTime } from "../../../components/format.ts";
import PlanDiff from "../../../components/PlanDiff.tsx";
import StatusBadge from "../../../components/StatusBadge.tsx";
import Timeline, { operatorEntries } from "../../../components/Timeline.tsx";
import { fieldError } from "../../../lib/formResult.ts";
import {
  getLiveOutputs,
  getTenant,
  previewTenant,
  reconcileNow,
  resumeTenant,
  retryDeadLetter,
  suspendTenant,
  type TenantPageData,
} from "../../../lib/operator.ts";

export const route = {
  preload: ({ params }) => getTenant(params.id ?? ""),
} satisfies RouteDefinition;

export default function TenantPage() {
  const params = useParams();
  const tenant = createAsync(() => getTenant(params.id ?? ""));
  return (
    <>
      <Title>Tenant · Operator · MindRoom Cloud</Title>
      <p class="small">
        <A href="/operator">← All tenants</A>
      </p>
      <Show when={tenant() !== undefined}>
        <Show when={tenant()} fallback={<p class="notice notice-bad">No tenant with this id.</p>}>
          {(t) => <TenantView t={t()} />}
        </Show>
      </Show>
    </>
  );
}

function TenantView(props: { t: TenantPageData }) {
  const t = () => props.t;
  return (
    <>
      <div class="page-head">
        <div>
          <h1 class="mono">{t().instance.slug}</h1>
          <p>
            {t().customer.email ?? "no email"} · {t().instance.tier} · host{" "}
            <span class="mono">{t().instance.host ?? "not placed"}</span>
          </p>
        </div>
        <div class="row">
          <StatusBadge state={t().instance.actualState} />
          <Show when={t().instance.actualState === "running" && t().instance.health === "degraded"}>
            <StatusBadge state="degraded" />
          </Show>
          <span class="muted small">desired: {t().instance.desiredState}</span>
        </div>
      </div>
      <Show when={t().instance.actualState === "running" && t().instance.health === "degraded"}>
        <p class="notice notice-bad" data-testid="degraded">
          Degraded: {t().instance.healthFindings.join("; ")}
        </p>
      </Show>
      <Show when={t().instance.blockedReason}>
        <p class="notice notice-warn">Blocked: {t().instance.blockedReason}</p>
      </Show>
      <Show when={t().instance.lastError}>
        <p class="notice notice-bad">Last error: {t().instance.lastError}</p>
      </Show>
      <div class="grid grid-2">
        <section class="card" aria-labelledby="facts-h">
          <h2 id="facts-h">Facts</h2>
          <dl class="kv small">
            <dt>Instance id</dt>
            <dd class="mono">{t().instance.id}</dd>
            <dt>Customer</dt>
            <dd class="mono">{t().customer.id}</dd>
            <dt>Stripe customer</dt>
            <dd class="mono">{t().customer.stripeCustomerId ?? "—"}</dd>
            <dt>Subscription</dt>
            <dd>
              <Show when={t().subscription} fallback="—">
                {(s) => (
                  <>
                    <span class="mono">{s().id}</span> <StatusBadge state={s().status} /> {s().tier}
                    <Show when={s().cancelAtPeriodEnd}> · ends {formatDate(s().currentPeriodEnd)}</Show>
                  </>
                )}
              </Show>
            </dd>
            <dt>Spec</dt>
            <dd class="mono">
              {t().instance.specHash?.slice(0, 12) ?? "—"}
              <Show when={t().instance.specHash && t().instance.specHash !== t().instance.appliedSpecHash}>
                {" "}
                <span class="badge badge-warn">not applied yet</span>
              </Show>
            </dd>
            <Show when={t().instance.deletionDueAt}>
              <dt>Deletion due</dt>
              <dd>{formatDateTime(t().instance.deletionDueAt)}</dd>
            </Show>
            <dt>Updated</dt>
            <dd>{formatDateTime(t().instance.updatedAt)}</dd>
          </dl>
        </section>
        <Actions t={t()} />
      </div>
      <Outputs t={t()} />
      <div class="grid grid-2" style={{ "margin-top": "1rem" }}>
        <section class="card" aria-labelledby="ops-h">
          <h2 id="ops-h">Operations</h2>
          <Timeline operations={operatorEntries(t().operations)} />
        </section>
        <div>
          <DeadLetters t={t()} />
          <section class="card" aria-labelledby="audit-h">
            <h2 id="audit-h">Audit log</h2>
            <DataTable
              columns={["When", "Who", "What", "Why"]}
              rows={t().audit}
              empty="No audited actions yet."
            >
              {(a) => (
                <tr>
                  <td class="small">{formatDateTime(a.at)}</td>
                  <td class="small">{a.actor}</td>
                  <td class="small mono">{a.action}</td>
                  <td class="small">{a.reason ?? "—"}</td>
                </tr>
              )}
            </DataTable>
          </section>
        </div>
      </div>
    </>
  );
}

function Outputs(props: { t: TenantPageData }) {
  const [live, setLive] = createSignal(false);
  const liveOutputs = createAsync(async () => (live() ? getLiveOutputs(props.t.instance.id) : undefined));
  return (
    <section class="card" aria-labelledby="outputs-h" style={{ "margin-top": "1rem" }}>
      <div class="spread">
        <h2 id="outputs-h">Stack outputs</h2>
        <button
          class="btn"
          type="button"
          onClick={() => (live() ? revalidate(getLiveOutputs.key) : setLive(true))}
        >
          {live() ? "Refresh live outputs" : "Read live outputs"}
        </button>
      </div>
      <div class="grid grid-2">
        <div>
          <h3>Recorded</h3>
          <pre class="json" data-testid="recorded-outputs" tabindex="0">
            {JSON.stringify(props.t.instance.outputs ?? {}, null, 2)}
          </pre>
        </div>
        <div data-testid="live-outputs">
          <h3>Live (automation layer)</h3>
          <Show
            when={live()}
            fallback={<p class="muted">Not read yet: the worker reads them from the tenant's stack.</p>}
          >
            <Show when={liveOutputs()} fallback={<p class="muted">Reading…</p>}>
              {(o) => (
                <Show
                  when={!("error" in o() && Object.keys(o()).length === 1)}
                  fallback={<p class="error-text">{String((o() as { error: string }).error)}</p>}
                >
                  <pre class="json" tabindex="0">
                    {JSON.stringify(o(), null, 2)}
                  </pre>
                </Show>
              )}
            </Show>
          </Show>
        </div>
      </div>
    </section>
  );
}

function ActionForm(props: {
  action: Parameters<typeof useSubmission>[0];
  id: string;
  instanceId: string;
  label: string;
  danger?: boolean;
  children?: JSX.Element;
}) {
  const submission = useSubmission(props.action as typeof reconcileNow);
  return (
    <form action={props.action as typeof reconcileNow} method="post" novalidate aria-label={props.label}>
      <input type="hidden" name="instanceId" value={props.instanceId} />
      <ReasonField id={props.id} error={fieldError(submission.result, "reason")} />
      {props.children}
      <button
        class={`btn ${props.danger ? "btn-danger" : "btn-primary"}`}
        type="submit"
        disabled={submission.pending}
      >
        {submission.pending ? "Working…" : props.label}
      </button>
      <FormNotice result={submission.result} error={submission.error} />
    </form>
  );
}

function Actions(props: { t: TenantPageData }) {
  const [tab, setTab] = createSignal<"reconcile" | "hold" | "preview">("reconcile");
  const preview = useSubmission(previewTenant);
  const held = () => props.t.instance.hold !== null;
  // A function, so the hold tab's label follows the tenant after an action revalidates it.
  const tabs = () =>
    [
      ["reconcile", "Reconcile"],
      ["hold", held() ? "Resume" : "Suspend"],
      ["preview", "Preview"],
    ] as const;
  return (
    <section class="card" aria-labelledby="act-h">
      <h2 id="act-h">Actions</h2>
      <div class="tabs" role="tablist" aria-label="Tenant actions">
        <For each={tabs()}>
          {([key, label]) => (
            <button
              type="button"
              role="tab"
              id={`tab-${key}`}
              aria-selected={tab() === key}
              aria-controls={`panel-${key}`}
              onClick={() => setTab(key)}
            >
              {label}
            </button>
          )}
        </For>
      </div>
      <div role="tabpanel" id={`panel-${tab()}`} aria-labelledby={`tab-${tab()}`}>
        <Show when={tab() === "reconcile"}>
          <p class="muted small">
            Queues a reconcile: the worker re-reads Stripe and applies the desired spec.
          </p>
          <ActionForm
            action={reconcileNow}
            id="reason-reconcile"
            instanceId={props.t.instance.id}
            label="Reconcile now"
          />
        </Show>
        <Show when={tab() === "hold"}>
          <Show
            when={held()}
            fallback={
              <>
                <p class="muted small">
                  Scales the apps to zero until resumed, whatever the subscription says; all data is kept. The
                  customer sees the reason.
                </p>
                <ActionForm
                  action={suspendTenant}
                  id="reason-suspend"
                  instanceId={props.t.instance.id}
                  label="Suspend tenant"
                  danger
                />
              </>
            }
          >
            <p class="muted small" data-testid="hold">
              Held since {formatDateTime(props.t.instance.hold?.since ?? "")}: {props.t.instance.hold?.reason}
              . Resuming lets the subscription decide again.
            </p>
            <ActionForm
              action={resumeTenant}
              id="reason-resume"
              instanceId={props.t.instance.id}
              label="Resume tenant"
            />
          </Show>
        </Show>
        <Show when={tab() === "preview"}>
          <p class="muted small">
            Runs a preview through the automation layer and shows what an update would change.
          </p>
          <ActionForm
            action={previewTenant}
            id="reason-preview"
            instanceId={props.t.instance.id}
            label="Run preview"
          />
          <Show when={preview.result && "preview" in preview.result ? preview.result : undefined}>
            {(r) => <PlanDiff preview={(r() as { preview: unknown }).preview} />}
          </Show>
        </Show>
      </div>
    </section>
  );
}

function DeadLetters(props: { t: TenantPageData }) {
  const retry = useSubmission(retryDeadLetter);
  return (
    <section class="card" aria-labelledby="dl-h">
      <h2 id="dl-h">Failed jobs</h2>
      <Show when={props.t.deadLetters.length > 0} fallback={<p class="muted">No failed jobs waiting.</p>}>
        <form action={retryDeadLetter} method="post" novalidate aria-label="Retry a failed job">
          <input type="hidden" name="instanceId" value={props.t.instance.id} />
          <fieldset>
            <legend>Choose the job to retry</legend>
            <For each={props.t.deadLetters}>
              {(d, i) => (
                <div class="row" style={{ "align-items": "flex-start", "margin-bottom": "0.5rem" }}>
                  <input
                    type="radio"
                    name="deadLetterId"
                    id={`dl-${d.id}`}
                    value={d.id}
                    checked={i() === 0}
                  />
                  <label for={`dl-${d.id}`} class="small">
                    {d.reason} · {d.retries} retries · {formatDateTime(d.deadLetteredAt)}
                    <div class="error-text">{d.error}</div>
                  </label>
                </div>
              )}
            </For>
          </fieldset>
          <ReasonField id="reason-retry" error={fieldError(retry.result, "reason")} />
          <button class="btn btn-primary" type="submit" disabled={retry.pending}>
            Retry job
          </button>
          <FormNotice result={retry.result} error={retry.error} />
        </form>
      </Show>
    </section>
  );
}
