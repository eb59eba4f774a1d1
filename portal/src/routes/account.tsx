import { Title } from "@solidjs/meta";
import { A, createAsync, type RouteDefinition, useSearchParams, useSubmission } from "@solidjs/router";
import { Show } from "solid-js";
import Field from "../components/Field.tsx";
import FormNotice from "../components/FormNotice.tsx";
import { formatDate } from "../components/format.ts";
import { changePassword, deleteAccount, getAccount } from "../lib/account.ts";
import { fieldError } from "../lib/formResult.ts";

export const route = { preload: () => getAccount() } satisfies RouteDefinition;

export default function AccountPage() {
  const account = createAsync(() => getAccount());
  const deletion = useSubmission(deleteAccount);
  const password = useSubmission(changePassword);
  // A password-reset link lands here (`?password=new`, server/redirects.ts NEW_PASSWORD_PAGE).
  const [params] = useSearchParams();
  const resetting = () => params.password === "new";
  return (
    <>
      <Title>Account · MindRoom Cloud</Title>
      <div class="page-head">
        <div>
          <h1>Account</h1>
          <p>Your details, your data.</p>
        </div>
      </div>
      <div class="grid grid-2">
        <section class="card" aria-labelledby="you-h">
          <h2 id="you-h">You</h2>
          <Show when={account()}>
            {(a) => (
              <dl class="kv">
                <dt>Email</dt>
                <dd>{a().email}</dd>
                <Show when={a().displayName}>
                  <dt>Name</dt>
                  <dd>{a().displayName}</dd>
                </Show>
                <dt>Customer since</dt>
                <dd>{formatDate(a().since)}</dd>
              </dl>
            )}
          </Show>
        </section>
        <section class="card" aria-labelledby="export-h">
          <h2 id="export-h">Export your data</h2>
          <p class="muted">
            Download everything we hold about you — account, subscriptions, instance, activity and audit log —
            as JSON.
          </p>
          <a class="btn" href="/api/account/export" download="mindroom-cloud-export.json">
            Download my data (JSON)
          </a>
        </section>
      </div>
      <section class="card" aria-labelledby="password-h" style={{ "margin-top": "1rem" }}>
        <h2 id="password-h">{resetting() ? "Choose a new password" : "Password"}</h2>
        <p class="muted">
          <Show
            when={resetting()}
            fallback={
              <>
                A new password needs a recent sign-in. Signed in long ago?{" "}
                <A href="/password-reset">Email me a link</A> that signs you in and brings you back here.
              </>
            }
          >
            You are signed in by the emailed link: choose the password you will sign in with from now on.
          </Show>
        </p>
        <form action={changePassword} method="post" novalidate aria-label="Change password">
          <Field
            label="New password"
            name="password"
            id="new-password"
            type="password"
            autocomplete="new-password"
            autofocus={resetting()}
            error={fieldError(password.result, "password")}
          />
          <Field
            label="Repeat the new password"
            name="confirm"
            id="new-password-confirm"
            type="password"
            autocomplete="new-password"
            error={fieldError(password.result, "confirm")}
          />
          <FormNotice result={password.result} error={password.error} />
          <button class="btn" type="submit" disabled={password.pending}>
            {password.pending ? "Saving…" : "Set new password"}
          </button>
        </form>
      </section>
      <section class="card" aria-labelledby="delete-h" style={{ "margin-top": "1rem" }}>
        <h2 id="delete-h">Delete account</h2>
        <p class="muted">
          This cancels your subscription now and signs you out for good. Your instance is scheduled for
          deletion exactly as with a cancellation: its data is kept for the grace period, then deleted with
          its backups.
        </p>
        <form action={deleteAccount} method="post" novalidate aria-label="Delete account">
          <Field
            label="Type DELETE to confirm"
            name="confirm"
            id="delete-confirm"
            autocomplete="off"
            error={fieldError(deletion.result, "confirm")}
          />
          <FormNotice result={deletion.result} error={deletion.error} />
          <button class="btn btn-danger" type="submit" disabled={deletion.pending}>
            Delete my account
          </button>
        </form>
      </section>
    </>
  );
}
