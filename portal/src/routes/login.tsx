import { Title } from "@solidjs/meta";
import { A, useSearchParams, useSubmission } from "@solidjs/router";
import { Show } from "solid-js";
import Field from "../components/Field.tsx";
import FormNotice from "../components/FormNotice.tsx";
import { fieldError } from "../lib/formResult.ts";
import { sendMagicLink, signIn } from "../lib/session.ts";

export default function Login() {
  const [params] = useSearchParams();
  const next = () => (typeof params.next === "string" ? params.next : "/dashboard");
  const password = useSubmission(signIn);
  const magic = useSubmission(sendMagicLink);
  return (
    <div class="narrow">
      <Title>Sign in · MindRoom Cloud</Title>
      <div class="card">
        <h1>Sign in</h1>
        <p class="muted">Welcome back. Sign in to manage your MindRoom instance.</p>
        <Show when={params.error}>
          <p class="notice notice-bad" role="alert">
            That sign-in link is invalid or has expired. Request a new one below.
          </p>
        </Show>
        <form action={signIn} method="post" novalidate aria-label="Sign in with password">
          <input type="hidden" name="next" value={next()} />
          <Field
            label="Email"
            name="email"
            id="login-email"
            type="email"
            autocomplete="email"
            error={fieldError(password.result, "email")}
          />
          <Field
            label="Password"
            name="password"
            id="login-password"
            type="password"
            autocomplete="current-password"
            error={fieldError(password.result, "password")}
          />
          <FormNotice result={password.result} error={password.error} />
          <button class="btn btn-primary btn-block" type="submit" disabled={password.pending}>
            {password.pending ? "Signing in…" : "Sign in"}
          </button>
          <p class="small" style={{ "margin-top": "0.5rem" }}>
            <A href="/password-reset">Forgot your password?</A>
          </p>
        </form>
        <div class="divider">or get a one-time link</div>
        <form action={sendMagicLink} method="post" novalidate aria-label="Sign in with a magic link">
          <input type="hidden" name="next" value={next()} />
          <Field
            label="Email for a sign-in link"
            name="email"
            id="magic-email"
            type="email"
            autocomplete="email"
            error={fieldError(magic.result, "email")}
          />
          <FormNotice result={magic.result} error={magic.error} />
          <button class="btn btn-block" type="submit" disabled={magic.pending}>
            {magic.pending ? "Sending…" : "Email me a sign-in link"}
          </button>
        </form>
      </div>
      <p class="muted small" style={{ "text-align": "center", "margin-top": "1rem" }}>
        New here? <A href="/signup">Create an account</A>
      </p>
    </div>
  );
}
