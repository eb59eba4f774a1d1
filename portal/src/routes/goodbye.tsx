import { Title } from "@solidjs/meta";
import { A } from "@solidjs/router";

export default function Goodbye() {
  return (
    <div class="narrow card">
      <Title>Account deleted · MindRoom Cloud</Title>
      <h1>Your account is deleted</h1>
      <p class="muted">
        Your subscription is cancelled and your instance is scheduled for deletion after the grace period.
        Thank you for trying MindRoom Cloud.
      </p>
      <A href="/">Back to the start page</A>
    </div>
  );
}
