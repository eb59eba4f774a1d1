import { Title } from "@solidjs/meta";
import { createAsync, type RouteDefinition, revalidate, useSubmission } from "@solidjs/router";
import { createEffect, For, onCleanup, Show } from "solid-js";
import Field from "../components/Field.tsx";
import FormNotice from "../components/FormNotice.tsx";
import { formatDate, formatLimit } from "../components/format.ts";
import { fieldError } from "../lib/formResult.ts";
import {
  createMatrixAccount,
  deleteModelKey,
  getMindRoomSetup,
  resetMatrixPassword,
  saveModelKey,
  setBridge,
} from "../lib/mindroom.ts";
import type { MindRoomSetup } from "../server/mindroomSetup.ts";

export const route = { preload: () => getMindRoomSetup() } satisfies RouteDefinition;

export default function MindRoomPage() {
  const setup = createAsync(() => getMindRoomSetup());
  // A bridge the worker has not started or stopped yet: refresh until it has.
  createEffect(() => {
    const s = setup();
    if (!s?.bridges.some((b) => b.enabled !== b.running)) return;
    const timer = setInterval(() => revalidate(getMindRoomSetup.key), 2000);
    onCleanup(() => clearInterval(timer));
  });
  return (
    <>
      <Title>Your MindRoom · MindRoom Cloud</Title>
      <div class="page-head">
        <div>
          <h1>Chat, models and bridges</h1>
          <p>Your Matrix account, the model keys your agents use, and the chat networks they reach.</p>
        </div>
        <a class="btn btn-primary" href="/sso/mindroom" target="_blank" rel="noopener">
          Open MindRoom ↗
        </a>
      </div>
      <Show when={setup()}>
        {(s) => (
          <Show
            when={s().tenant}
            fallback={
              <section class="card">
                <p class="muted">
                  You have no MindRoom instance yet: choose a plan on the Billing page first.
                </p>
              </section>
            }
          >
            <div class="grid grid-2">
              <MatrixCard setup={s()} />
              <KeysCard setup={s()} />
            </div>
            <BridgesCard setup={s()} />
          </Show>
        )}
      </Show>
    </>
  );
}

function MatrixCard(props: { setup: MindRoomSetup }) {
  const created = useSubmission(createMatrixAccount);
  const reset = useSubmission(resetMatrixPassword);
  const m = () => props.setup.matrix;
  return (
    <section class="card" aria-labelledby="matrix-h">
      <h2 id="matrix-h">Your Matrix account</h2>
      <Show
        when={m().userId}
        fallback={
          <>
            <p class="muted">
              Talk to your agents from any Matrix client. Choose a username and a password: we do not keep the
              password, only your homeserver does.
            </p>
            <form
              action={createMatrixAccount}
              method="post"
              novalidate
              aria-label="Create your Matrix account"
            >
              <Field
                label="Username"
                name="username"
                id="matrix-username"
                autocomplete="username"
                hint={`Your Matrix ID will be @username:${m().serverName ?? "your-homeserver"}`}
                error={fieldError(created.result, "username")}
              />
              <Field
                label="Password"
                name="password"
                id="matrix-password"
                type="password"
                autocomplete="new-password"
                error={fieldError(created.result, "password")}
              />
              <Field
                label="Repeat password"
                name="confirm"
                id="matrix-confirm"
                type="password"
                autocomplete="new-password"
                error={fieldError(created.result, "confirm")}
              />
              <FormNotice result={created.result} error={created.error} />
              <button class="btn btn-primary" type="submit" disabled={created.pending}>
                {created.pending ? "Creating…" : "Create Matrix account"}
              </button>
            </form>
          </>
        }
      >
        <dl class="kv">
          <dt>Matrix ID</dt>
          <dd class="mono" data-testid="matrix-id">
            {m().userId}
          </dd>
          <dt>Homeserver</dt>
          <dd class="mono" data-testid="homeserver-url">
            {m().homeserverUrl}
          </dd>
          <Show when={m().passwordResetAt}>
            <dt>Password changed</dt>
            <dd>{formatDate(m().passwordResetAt)}</dd>
          </Show>
        </dl>
        <Show when={m().clientUrl}>
          {(url) => (
            <a class="btn" href={url()} target="_blank" rel="noopener" data-testid="matrix-client">
              Open a Matrix client ↗
            </a>
          )}
        </Show>
        <form action={resetMatrixPassword} method="post" novalidate aria-label="Reset your Matrix password">
          <h3>Forgot the password?</h3>
          <Field
            label="New password"
            name="password"
            id="matrix-new-password"
            type="password"
            autocomplete="new-password"
            error={fieldError(reset.result, "password")}
          />
          <Field
            label="Repeat new password"
            name="confirm"
            id="matrix-new-confirm"
            type="password"
            autocomplete="new-password"
            error={fieldError(reset.result, "confirm")}
          />
          <FormNotice result={reset.result} error={reset.error} />
          <button class="btn" type="submit" disabled={reset.pending}>
            {reset.pending ? "Changing…" : "Set new password"}
          </button>
        </form>
      </Show>
    </section>
  );
}

function KeysCard(props: { setup: MindRoomSetup }) {
  const saved = useSubmission(saveModelKey);
  const removed = useSubmission(deleteModelKey);
  return (
    <section class="card" aria-labelledby="keys-h">
      <h2 id="keys-h">Model keys</h2>
      <p class="muted">
        Your agents use your own provider keys. We store them encrypted and never show them again; only the
        last four characters appear here.
      </p>
      <table class="keys small" data-testid="model-keys">
        <caption class="sr-only">Your model provider keys</caption>
        <thead>
          <tr>
            <th scope="col">Provider</th>
            <th scope="col">Key</th>
            <th scope="col">Set</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          <For each={props.setup.keys}>
            {(k) => (
              <tr>
                <td>{k.label}</td>
                <td class="mono">{k.last4 ? `••••${k.last4}` : "not set"}</td>
                <td>{k.setAt ? formatDate(k.setAt) : "—"}</td>
                <td>
                  <Show when={k.last4}>
                    <form action={deleteModelKey} method="post" aria-label={`Remove the ${k.label} key`}>
                      <input type="hidden" name="provider" value={k.provider} />
                      <button class="btn btn-small" type="submit" aria-label={`Remove the ${k.label} key`}>
                        Remove
                      </button>
                    </form>
                  </Show>
                </td>
              </tr>
            )}
          </For>
        </tbody>
      </table>
      <FormNotice result={removed.result} error={removed.error} />
      <Show
        when={props.setup.keysAvailable}
        fallback={<p class="muted">Model keys cannot be entered on this platform yet.</p>}
      >
        <form action={saveModelKey} method="post" novalidate aria-label="Set a model key">
          <div class="field">
            <label for="key-provider">Provider</label>
            <select id="key-provider" name="provider">
              <For each={props.setup.keys}>{(k) => <option value={k.provider}>{k.label}</option>}</For>
            </select>
          </div>
          <Field
            label="API key"
            name="key"
            id="key-value"
            type="password"
            autocomplete="off"
            error={fieldError(saved.result, "key")}
          />
          <FormNotice result={saved.result} error={saved.error} />
          <button class="btn btn-primary" type="submit" disabled={saved.pending}>
            {saved.pending ? "Saving…" : "Save key"}
          </button>
        </form>
      </Show>
    </section>
  );
}

function BridgesCard(props: { setup: MindRoomSetup }) {
  const toggled = useSubmission(setBridge);
  const state = (b: MindRoomSetup["bridges"][number]) =>
    b.enabled ? (b.running ? "Running" : "Starting…") : b.running ? "Stopping…" : "Off";
  return (
    <section class="card" aria-labelledby="bridges-h" style={{ "margin-top": "1rem" }}>
      <h2 id="bridges-h">Bridges</h2>
      <p class="muted">
        Reach your agents from other chat networks. Your plan includes {formatLimit(props.setup.bridgeLimit)}{" "}
        bridge{props.setup.bridgeLimit === 1 ? "" : "s"}.
      </p>
      <FormNotice result={toggled.result} error={toggled.error} />
      <ul class="bridges" data-testid="bridges">
        <For each={props.setup.bridges}>
          {(b) => (
            <li class="bridge-row">
              <span>
                <strong>{b.label}</strong> <span class="muted small">{state(b)}</span>
              </span>
              <form
                action={setBridge}
                method="post"
                aria-label={`${b.enabled ? "Disable" : "Enable"} ${b.label}`}
              >
                <input type="hidden" name="bridge" value={b.kind} />
                <input type="hidden" name="enable" value={b.enabled ? "false" : "true"} />
                <button
                  class={b.enabled ? "btn" : "btn btn-primary"}
                  type="submit"
                  disabled={toggled.pending}
                >
                  {b.enabled ? `Disable ${b.label}` : `Enable ${b.label}`}
                </button>
              </form>
            </li>
          )}
        </For>
      </ul>
    </section>
  );
}
