import { Title } from "@solidjs/meta";
import { A, useSubmission } from "@solidjs/router";
import Field from "../components/Field.tsx";
import FormNotice from "../components/FormNotice.tsx";
import { fieldError } from "../lib/formResult.ts";
import { signUp } from "../lib/session.ts";

export default function Signup() {
  const submission = useSubmission(signUp);
  const err = (f: string) => fieldError(submission.result, f);
  return (
    <div class="narrow">
      <Title>Create your account · MindRoom Cloud</Title>
      <div class="card">
        <h1>Create your account</h1>
        <p class="muted">Start on the free plan; upgrade whenever you need more agents.</p>
        <form action={signUp} method="post" novalidate aria-label="Create an account">
          <Field
            label="Name (optional)"
            name="name"
            id="signup-name"
            autocomplete="name"
            error={err("name")}
          />
          <Field
            label="Email"
            name="email"
            id="signup-email"
            type="email"
            autocomplete="email"
            error={err("email")}
          />
          <Field
            label="Password"
            name="password"
            id="signup-password"
            type="password"
            autocomplete="new-password"
            hint="At least 8 characters."
            error={err("password")}
          />
          <Field
            label="Repeat password"
            name="confirm"
            id="signup-confirm"
            type="password"
            autocomplete="new-password"
            error={err("confirm")}
          />
          <FormNotice result={submission.result} error={submission.error} />
          <button class="btn btn-primary btn-block" type="submit" disabled={submission.pending}>
            {submission.pending ? "Creating your account…" : "Create account"}
          </button>
        </form>
      </div>
      <p class="muted small" style={{ "text-align": "center", "margin-top": "1rem" }}>
        Already have an account? <A href="/login">Sign in</A>
      </p>
    </div>
  );
}
