/** A forgotten password: ask for a link that signs in and opens the form for a new one. */
import { Title } from "@solidjs/meta";
import { A, useSubmission } from "@solidjs/router";
import Field from "../components/Field.tsx";
import FormNotice from "../components/FormNotice.tsx";
import { fieldError } from "../lib/formResult.ts";
import { requestPasswordReset } from "../lib/session.ts";

export default function PasswordReset() {
  const reset = useSubmission(requestPasswordReset);
  return (
    <div class="narrow">
      <Title>Reset your password · MindRoom Cloud</Title>
      <div class="card">
        <h1>Reset your password</h1>
        <p class="muted">
          We email you a link that signs you in once and opens the page where you choose a new password.
        </p>
        <form action={requestPasswordReset} method="post" novalidate aria-label="Reset your password">
          <Field
            label="Email"
            name="email"
            id="reset-email"
            type="email"
            autocomplete="email"
            error={fieldError(reset.result, "email")}
          />
          <FormNotice result={reset.result} error={reset.error} />
          <button class="btn btn-primary btn-block" type="submit" disabled={reset.pending}>
            {reset.pending ? "Sending…" : "Email me a reset link"}
          </button>
        </form>
      </div>
      <p class="muted small" style={{ "text-align": "center", "margin-top": "1rem" }}>
        Remembered it? <A href="/login">Sign in</A>
      </p>
    </div>
  );
}
