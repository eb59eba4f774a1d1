import { Title } from "@solidjs/meta";
import {
  A,
  createAsync,
  type RouteDefinition,
  revalidate,
  useSearchParams,
  useSubmission,
} from "@solidjs/router";
import { createEffect, For, Match, onCleanup, Show, Switch } from "solid-js";
import { storageQuotaBytes } from "../../../components/tiers.ts";
import { canRestart } from "../../../database/instanceStates.ts";
import { isPaidSubscription } from "../../../database/subscriptions.ts";
import FormNotice from "../components/FormNotice.tsx";
import { formatBytes, formatDate, formatDateTime, formatLimit } from "../components/format.ts";
import Meter from "../components/Meter.tsx";
import StatusBadge, { labelOf } from "../components/StatusBadge.tsx";
import Timeline from "../components/Timeline.tsx";
import { type Dashboard, getDashboard, instanceAction } from "../lib/dashboard.ts";
import { SSO_NOTICES } from "../lib/mindroom.ts";

export const route = { preload: () => getDashboard() } satisfies RouteDefinition;

/** States that change without the person doing anything: the page refreshes itself while in them. */
function settling(d: Dashboard): boolean {
  const i = d.instance;
  if (!i) return d.subscription !== null && isPaidSubscription(d.subscription.status);
  // Waiting for capacity too: the tenant provisions by itself once a host has room.
  if (["pending", "waiting_for_capacity", "provisioning", "deleting"].includes(i.actualState)) return true;
  if (d.operations.some((o) => o.status === "queued" || o.status === "running")) return true;
  // A billing change the worker has not applied yet (e.g. a new tier).
  return d.subscription?.tier != null && d.subscription.tier !== i.tier;
}

export default function DashboardPage() {
  const data = createAsync(() => getDashboard());
  const [params] = useSearchParams();
  createEffect(() => {
    const d = data();
    if (!d || (!settling(d) && params.checkout !== "success")) return;
    const timer = setInterval(() => revalidate(getDashboard.key), 2000);
    onCleanup(() => clearInterval(timer));
  });
  return (
    <>
      <Title>Dashboard · MindRoom Cloud</Title>
      <Show when={data()}>{(d) => <DashboardView data={d()} />}</Show>
    </>
  );
}

function DashboardView(props: { data: Dashboard }) {
  const d = () => props.data;
  return (
    <>
      <div class="page-head">
        <div>
          <h1>Your MindRoom</h1>
          <p>
            <Show when={d().instance} fallback="No instance yet.">
              {(i) => (
                <>
                  <span class="mono">{i().slug}</span> · {d().tier?.label ?? i().tier} plan
                </>
              )}
            </Show>
          </p>
        </div>
        <Show when={d().instance}>
          <StatusBadge state={stateWord(d())} label={stateLabel(d())} />
        </Show>
      </div>
      <Show when={d().instance?.actualState !== "waiting_for_capacity" && d().instance?.blockedReason}>
        {(reason) => (
          <p class="notice notice-warn" role="status" data-testid="blocked">
            {reason()}
          </p>
        )}
      </Show>
      <SsoNotice />
      <Show when={d().instance?.warning}>
        {(w) => (
          <p class="notice notice-warn" role="status">
            {w()} <A href="/billing">Review billing</A>
          </p>
        )}
      </Show>
      <Show when={d().instance} fallback={<NoInstance data={d()} />}>
        <div class="grid grid-2">
          <StateCard data={d()} />
          <PlanCard data={d()} />
        </div>
        <div class="grid grid-2" style={{ "margin-top": "1rem" }}>
          <ActionsCard data={d()} />
          <section class="card" aria-labelledby="timeline-h">
            <h2 id="timeline-h">Activity</h2>
            <Timeline operations={d().operations} />
          </section>
        </div>
      </Show>
    </>
  );
}

/** Why "Open MindRoom" came back here instead of signing the person in (`/sso/mindroom`). */
function SsoNotice() {
  const [params] = useSearchParams();
  const text = () => {
    const reason = params.sso;
    return typeof reason === "string" && reason in SSO_NOTICES
      ? SSO_NOTICES[reason as keyof typeof SSO_NOTICES]
      : null;
  };
  return (
    <Show when={text()}>
      {(t) => (
        <p class="notice notice-warn" role="status" data-testid="sso-notice">
          {t()}
        </p>
      )}
    </Show>
  );
}

function stateWord(d: Dashboard): string {
  const i = d.instance;
  if (!i) return "pending";
  if (i.deletionDueAt && i.actualState !== "deleted") return "deleting";
  if (i.actualState === "running" && i.health === "degraded") return "degraded";
  return i.actualState;
}

function stateLabel(d: Dashboard): string {
  const i = d.instance;
  if (i?.deletionDueAt && i.actualState !== "deleted") return "Scheduled for deletion";
  const word = stateWord(d);
  return word === "pending" ? "Provisioning" : labelOf(word);
}

function NoInstance(props: { data: Dashboard }) {
  return (
    <section class="card" aria-labelledby="start-h">
      <Show
        when={props.data.subscription && isPaidSubscription(props.data.subscription.status)}
        fallback={
          <>
            <h2 id="start-h">Let's get your MindRoom running</h2>
            <p class="muted">
              Choose a plan and we set up your own MindRoom with a private Matrix homeserver. It takes about a
              minute.
            </p>
            <A href="/billing" class="btn btn-primary">
              Choose a plan
            </A>
          </>
        }
      >
        <h2 id="start-h">Setting things up</h2>
        <p class="muted">Your payment went through. We are reserving a home for your instance…</p>
        <div class="progress indeterminate" role="progressbar" aria-label="Preparing your instance">
          <span />
        </div>
      </Show>
    </section>
  );
}

function StateCard(props: { data: Dashboard }) {
  const i = () => props.data.instance;
  const running = () => props.data.operations.find((o) => o.status === "running" || o.status === "queued");
  const urls = () => i()?.urls ?? {};
  // The worker sets deletion_due_at when a subscription has ended (data kept for the grace period).
  const scheduled = () => Boolean(i()?.deletionDueAt);
  return (
    <section class="card" aria-labelledby="state-h">
      <h2 id="state-h">Instance</h2>
      <Switch>
        <Match when={scheduled() && i()?.actualState !== "deleted"}>
          <div class="state">
            <span class="state-dot warn" aria-hidden="true" />
            <div>
              <h3>Scheduled for deletion on {formatDate(i()?.deletionDueAt)}</h3>
              <p class="muted">
                Your subscription has ended. Your data is kept until{" "}
                <strong>{formatDate(i()?.deletionDueAt)}</strong>; after that the instance and its backups are
                deleted for good.
              </p>
              <A href="/billing" class="btn">
                Keep my instance
              </A>
            </div>
          </div>
        </Match>
        <Match when={["pending", "provisioning"].includes(i()?.actualState ?? "")}>
          <div class="state">
            <span class="state-dot info" aria-hidden="true" />
            <div style={{ flex: 1 }}>
              <h3>Setting up your instance</h3>
              <Progress op={running()} />
            </div>
          </div>
        </Match>
        <Match when={i()?.actualState === "waiting_for_capacity"}>
          <div class="state" data-testid="waiting-for-capacity">
            <span class="state-dot warn" aria-hidden="true" />
            <div style={{ flex: 1 }}>
              <h3>Waiting for capacity</h3>
              <p class="muted">
                {i()?.blockedReason ??
                  "Every server is full right now. Your instance starts by itself as soon as one has room; our operators have been alerted."}
              </p>
            </div>
          </div>
        </Match>
        <Match when={i()?.actualState === "running" && i()?.health === "degraded"}>
          <div class="state" data-testid="degraded">
            <span class="state-dot bad" aria-hidden="true" />
            <div>
              <h3>Degraded</h3>
              <p class="muted">
                Your instance is not working as it should. We have been alerted and are looking into it.
              </p>
              <ul class="small">
                <For each={i()?.healthFindings}>{(finding) => <li>{finding}</li>}</For>
              </ul>
              <Show when={i()?.healthCheckedAt}>
                <p class="small muted">Last checked {formatDateTime(i()?.healthCheckedAt)}.</p>
              </Show>
            </div>
          </div>
        </Match>
        <Match when={i()?.actualState === "running"}>
          <div class="state">
            <span class="state-dot ok" aria-hidden="true" />
            <div>
              <h3>Running</h3>
              <p class="muted">Everything is up. Your agents are ready.</p>
            </div>
          </div>
        </Match>
        <Match when={i()?.actualState === "suspended"}>
          <div class="state">
            <span class="state-dot warn" aria-hidden="true" />
            <div>
              <h3>Suspended</h3>
              <Show
                when={i()?.hold}
                fallback={
                  <>
                    <p class="muted">
                      Your instance is stopped and all data is kept. It starts again as soon as billing is
                      sorted out.
                    </p>
                    <A href="/billing" class="btn">
                      Go to billing
                    </A>
                  </>
                }
              >
                <p class="muted" data-testid="hold">
                  Our support team has paused your instance ({i()?.hold?.reason}); all data is kept. Contact
                  support to have it started again.
                </p>
              </Show>
            </div>
          </div>
        </Match>
        <Match when={i()?.actualState === "failed"}>
          <div class="state">
            <span class="state-dot bad" aria-hidden="true" />
            <div>
              <h3>Something went wrong</h3>
              <p class="muted">
                The last change could not be completed. We have been notified; you can also re-run it below.
              </p>
              <Show when={i()?.problem}>
                <p class="error-text small">{i()?.problem}</p>
              </Show>
            </div>
          </div>
        </Match>
        <Match when={i()?.actualState === "deleting" || i()?.actualState === "deleted"}>
          <div class="state">
            <span class="state-dot" aria-hidden="true" />
            <div>
              <h3>{i()?.actualState === "deleted" ? "Deleted" : "Being deleted"}</h3>
              <p class="muted">This instance no longer runs. Choose a plan to start a new one.</p>
            </div>
          </div>
        </Match>
      </Switch>
      <Show when={urls().app || urls().matrix}>
        <div class="links">
          <Show when={urls().app}>
            {(u) => (
              <a
                class="btn btn-primary"
                href="/sso/mindroom"
                target="_blank"
                rel="noopener"
                data-testid="open-mindroom"
                title={`Sign in to ${u()}`}
              >
                Open MindRoom ↗
              </a>
            )}
          </Show>
          <A class="btn" href="/mindroom" data-testid="setup-link">
            Chat, models and bridges
          </A>
        </div>
        <dl class="kv small" style={{ "margin-top": "0.9rem" }}>
          <Show when={urls().app}>
            <dt>App</dt>
            <dd class="mono">{urls().app}</dd>
          </Show>
          <Show when={urls().api}>
            <dt>API</dt>
            <dd class="mono">{urls().api}</dd>
          </Show>
          <Show when={urls().matrix}>
            <dt>Homeserver</dt>
            <dd class="mono">{urls().matrix}</dd>
          </Show>
        </dl>
      </Show>
    </section>
  );
}

function Progress(props: { op: Dashboard["operations"][number] | undefined }) {
  const p = () => props.op?.progress ?? null;
  const pct = () => {
    const q = p();
    return q?.total ? Math.round(((q.done ?? 0) / q.total) * 100) : null;
  };
  return (
    <>
      <p class="muted" aria-live="polite">
        {props.op?.activity ?? (props.op?.status === "queued" ? "Waiting for a worker…" : "Preparing…")}
        <Show when={pct() !== null}> ({pct()}%)</Show>
      </p>
      <Show
        when={pct() !== null}
        fallback={
          <div class="progress indeterminate" role="progressbar" aria-label="Provisioning progress">
            <span />
          </div>
        }
      >
        <div
          class="progress"
          role="progressbar"
          aria-label="Provisioning progress"
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={pct() ?? 0}
        >
          <span style={{ width: `${pct()}%` }} />
        </div>
      </Show>
    </>
  );
}

function PlanCard(props: { data: Dashboard }) {
  const t = () => props.data.tier;
  const u = () => props.data.usage;
  const pendingTier = () => {
    const s = props.data.subscription?.tier;
    return s && s !== props.data.instance?.tier ? s : null;
  };
  return (
    <section class="card" aria-labelledby="plan-h">
      <div class="spread">
        <h2 id="plan-h">{t()?.label ?? "—"} plan</h2>
        <A href="/billing" class="small">
          Change plan
        </A>
      </div>
      <Show when={pendingTier()}>
        {(p) => (
          <p class="notice notice-info" role="status">
            Switching to {p()}: new limits apply once your instance is updated.
          </p>
        )}
      </Show>
      <Show when={t()}>
        {(tier) => (
          <>
            <Meter label="Agents" used={u()?.agents ?? null} limit={tier().agents} />
            <Meter label="Messages today" used={u()?.messages ?? null} limit={tier().messagesPerDay} />
            <Meter
              label="Storage"
              used={u()?.storageBytes ?? null}
              limit={storageQuotaBytes(tier())}
              format={formatBytes}
            />
            <p class="small">
              <a href="/usage">Usage over the last 30 days</a>
            </p>
            <dl class="kv small" data-testid="limits">
              <dt>Agents</dt>
              <dd>{formatLimit(tier().agents)}</dd>
              <dt>Messages per day</dt>
              <dd>{formatLimit(tier().messagesPerDay)}</dd>
              <dt>Storage</dt>
              <dd>{formatLimit(tier().storageGb, " GB")}</dd>
              <dt>Support</dt>
              <dd>{tier().support.charAt(0).toUpperCase() + tier().support.slice(1)}</dd>
            </dl>
          </>
        )}
      </Show>
    </section>
  );
}

function ActionsCard(props: { data: Dashboard }) {
  const submission = useSubmission(instanceAction);
  const state = () => props.data.instance?.actualState ?? "";
  return (
    <section class="card" aria-labelledby="actions-h">
      <h2 id="actions-h">Actions</h2>
      <p class="muted small">Changes are queued and applied by our provisioning service within moments.</p>
      <div class="row">
        <form action={instanceAction} method="post">
          <input type="hidden" name="action" value="restart" />
          <button class="btn" type="submit" disabled={submission.pending || !canRestart(state())}>
            Restart instance
          </button>
        </form>
        <Show when={state() === "failed"}>
          <form action={instanceAction} method="post">
            <input type="hidden" name="action" value="retry" />
            <button class="btn btn-primary" type="submit" disabled={submission.pending}>
              Re-run provisioning
            </button>
          </form>
        </Show>
      </div>
      <FormNotice result={submission.result} error={submission.error} />
    </section>
  );
}
