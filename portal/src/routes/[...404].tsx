import { Title } from "@solidjs/meta";
import { A } from "@solidjs/router";
import { HttpStatusCode } from "@solidjs/start";

export default function NotFound() {
  return (
    <div class="narrow card">
      <Title>Not found · MindRoom Cloud</Title>
      <HttpStatusCode code={404} />
      <h1>Page not found</h1>
      <p class="muted">There is nothing at this address.</p>
      <A href="/dashboard">Go to your dashboard</A>
    </div>
  );
}
