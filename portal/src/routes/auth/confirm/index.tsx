/**
 * Where emailed links land (sign-in links; with Supabase also sign-up confirmations). Opening the
 * link changes nothing: this page asks the person to continue, and only that button's POST to
 * `continue.ts` (from this page, so it passes the middleware's same-origin check) redeems the
 * link. So a link that someone else requested cannot sign this browser into their account behind
 * its owner's back (login CSRF), and a mail scanner that fetches every link cannot use it up.
 */
import { Title } from "@solidjs/meta";
import { useLocation, useSearchParams } from "@solidjs/router";
import { Show } from "solid-js";

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}$/;

export default function Confirm() {
  const [params] = useSearchParams();
  const location = useLocation();
  const email = () => (typeof params.email === "string" && EMAIL.test(params.email) ? params.email : null);
  return (
    <div class="narrow card">
      <Title>Sign in · MindRoom Cloud</Title>
      <h1>Continue to MindRoom Cloud</h1>
      <p class="muted">
        <Show when={email()} fallback="You opened a sign-in link from your email.">
          {(e) => (
            <>
              You opened a sign-in link for <strong>{e()}</strong>.
            </>
          )}
        </Show>{" "}
        If you did not ask for it, close this page: nothing happens until you continue.
      </p>
      <form method="post" action={`/auth/confirm/continue${location.search}`}>
        <button class="btn btn-primary btn-block" type="submit">
          Continue
        </button>
      </form>
    </div>
  );
}
