import { Title } from "@solidjs/meta";
import {
  createAsync,
  type RouteDefinition,
  revalidate,
  useSearchParams,
  useSubmission,
} from "@solidjs/router";
import { createEffect, createSignal, For, onCleanup, Show } from "solid-js";
import { isLiveSubscription } from "../../../database/subscriptions.ts";
import FormNotice from "../components/FormNotice.tsx";
import { formatDate, formatLimit, formatMoney } from "../components/format.ts";
import StatusBadge from "../components/StatusBadge.tsx";
import {
  type Billing,
  cancelSubscription,
  choosePlan,
  getBilling,
  openBillingPortal,
  type Plan,
  reactivateSubscription,
} from "../lib/billing.ts";
import { fieldError } from "../lib/formResult.ts";

export const route = { preload: () => getBilling() } satisfies RouteDefinition;

export default function BillingPage() {
  const data = createAsync(() => getBilling());
  const [params] = useSearchParams();
  const choose = useSubmission(choosePlan);
  const cancel = useSubmission(cancelSubscription);
  const reactivate = useSubmission(reactivateSubscription);
  const portal = useSubmission(openBillingPortal);
  // After a change, Stripe → webhook → worker updates our rows: refresh for a minute so the page
  // shows the result as soon as the worker has acted.
  const [pollUntil, setPollUntil] = createSignal(0);
  createEffect(() => {
    if (choose.result?.ok || cancel.result?.ok || reactivate.result?.ok) setPollUntil(Date.now() + 60_000);
  });
  createEffect(() => {
    if (pollUntil() <= Date.now()) return;
    const timer = setInterval(() => {
      if (Date.now() > pollUntil()) clearInterval(timer);
      else revalidate(getBilling.key);
    }, 1500);
    onCleanup(() => clearInterval(timer));
  });
  return (
    <>
      <Title>Billing · MindRoom Cloud</Title>
      <div class="page-head">
        <div>
          <h1>Billing</h1>
          <p>Plans are billed monthly. Change or cancel any time.</p>
        </div>
      </div>
      <Show when={params.welcome}>
        <p class="notice notice-info" role="status">
          Welcome to MindRoom Cloud! Pick a plan to create your instance.
        </p>
      </Show>
      <Show when={params.checkout === "cancelled"}>
        <p class="notice notice-warn" role="status">
          Checkout was cancelled; nothing was charged.
        </p>
      </Show>
      <Show when={data()}>
        {(d) => (
          <>
            <Summary data={d()} />
            <section aria-labelledby="plans-h" style={{ "margin-top": "1.5rem" }}>
              <h2 id="plans-h">Plans</h2>
              <FormNotice result={choose.result} error={choose.error} />
              <Show when={fieldError(choose.result, "tier")}>
                {(e) => (
                  <p class="error-text" role="alert">
                    {e()}
                  </p>
                )}
              </Show>
              <div class="plans">
                <For each={d().plans}>
                  {(plan) => <PlanCard plan={plan} data={d()} pending={Boolean(choose.pending)} />}
                </For>
              </div>
            </section>
            <section class="card" style={{ "margin-top": "1.5rem" }} aria-labelledby="manage-h">
              <h2 id="manage-h">Manage</h2>
              <div class="row">
                <Show when={d().hasBillingAccount}>
                  <form action={openBillingPortal} method="post">
                    <button class="btn" type="submit" disabled={portal.pending}>
                      Invoices and payment methods ↗
                    </button>
                  </form>
                </Show>
                <Show when={d().subscription && isLiveSubscription(d().subscription?.status ?? "")}>
                  <Show
                    when={d().subscription?.cancelAtPeriodEnd}
                    fallback={
                      <form action={cancelSubscription} method="post">
                        <button class="btn btn-danger" type="submit" disabled={cancel.pending}>
                          Cancel subscription
                        </button>
                      </form>
                    }
                  >
                    <form action={reactivateSubscription} method="post">
                      <button class="btn btn-primary" type="submit" disabled={reactivate.pending}>
                        Reactivate subscription
                      </button>
                    </form>
                  </Show>
                </Show>
              </div>
              <FormNotice
                result={cancel.result ?? reactivate.result ?? portal.result}
                error={cancel.error ?? reactivate.error ?? portal.error}
              />
            </section>
          </>
        )}
      </Show>
    </>
  );
}

function Summary(props: { data: Billing }) {
  const s = () => props.data.subscription;
  const i = () => props.data.instance;
  return (
    <section class="card" aria-labelledby="sub-h">
      <h2 id="sub-h">Your subscription</h2>
      <Show when={s()} fallback={<p class="muted">You have no subscription yet.</p>}>
        {(sub) => (
          <dl class="kv" data-testid="subscription">
            <dt>Plan</dt>
            <dd>{props.data.plans.find((p) => p.id === sub().tier)?.label ?? sub().tier ?? "—"}</dd>
            <dt>Status</dt>
            <dd>
              <StatusBadge
                state={sub().cancelAtPeriodEnd ? "deleting" : sub().status}
                label={sub().cancelAtPeriodEnd ? "Ends at period end" : undefined}
              />
            </dd>
            <Show when={sub().currentPeriodEnd}>
              <dt>{sub().cancelAtPeriodEnd ? "Ends on" : "Renews on"}</dt>
              <dd>{formatDate(sub().currentPeriodEnd)}</dd>
            </Show>
            <Show when={i()?.deletionDueAt}>
              <dt>Data deleted on</dt>
              <dd data-testid="deletion-date">{formatDate(i()?.deletionDueAt)}</dd>
            </Show>
            <Show when={i() && sub().tier && i()?.tier !== sub().tier}>
              <dt>Instance</dt>
              <dd>Updating to the new plan…</dd>
            </Show>
          </dl>
        )}
      </Show>
    </section>
  );
}

function PlanCard(props: { plan: Plan; data: Billing; pending: boolean }) {
  const sub = () => props.data.subscription;
  const live = () => Boolean(sub() && isLiveSubscription(sub()?.status ?? ""));
  const current = () => live() && sub()?.tier === props.plan.id;
  return (
    <article class={`card plan${current() ? " current" : ""}`} aria-labelledby={`plan-${props.plan.id}`}>
      <div class="spread">
        <h3 id={`plan-${props.plan.id}`}>{props.plan.label}</h3>
        <Show when={current()}>
          <span class="badge badge-info badge-plain">Current</span>
        </Show>
      </div>
      <div class="price">
        {formatMoney(props.plan.monthlyPriceCents)}
        <Show when={props.plan.monthlyPriceCents !== null}>
          <small> /month</small>
        </Show>
      </div>
      <ul>
        <li>
          {formatLimit(props.plan.agents)} {props.plan.agents === 1 ? "agent" : "agents"}
        </li>
        <li>{formatLimit(props.plan.messagesPerDay)} messages a day</li>
        <li>{formatLimit(props.plan.storageGb, " GB")} storage</li>
        <li>{props.plan.support.charAt(0).toUpperCase() + props.plan.support.slice(1)} support</li>
      </ul>
      <Show
        when={props.plan.purchasable}
        fallback={
          <a class="btn plan-cta" href="mailto:sales@mindroom.chat">
            Contact sales
          </a>
        }
      >
        <form action={choosePlan} method="post">
          <input type="hidden" name="tier" value={props.plan.id} />
          <button
            class={`btn btn-block ${current() ? "" : "btn-primary"}`}
            type="submit"
            disabled={current() || props.pending}
            aria-label={
              current()
                ? `${props.plan.label} is your current plan`
                : `${live() ? "Switch to" : "Choose"} the ${props.plan.label} plan`
            }
          >
            {current()
              ? "Current plan"
              : live()
                ? `Switch to ${props.plan.label}`
                : `Choose ${props.plan.label}`}
          </button>
        </form>
      </Show>
    </article>
  );
}
