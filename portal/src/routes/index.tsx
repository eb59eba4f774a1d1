import { Title } from "@solidjs/meta";
import { A } from "@solidjs/router";
import { For, Show } from "solid-js";
import { TIER_IDS, TIERS } from "../../../components/tiers.ts";
import { formatLimit, formatMoney } from "../components/format.ts";

export default function Home() {
  return (
    <>
      <Title>MindRoom Cloud · your AI agents, hosted</Title>
      <section class="hero">
        <h1>Your AI agents, on your own homeserver</h1>
        <p>
          MindRoom Cloud runs MindRoom with a private Matrix homeserver for you: isolated, backed up every six
          hours, and ready in about a minute.
        </p>
        <div class="row" style={{ "justify-content": "center" }}>
          <A href="/signup" class="btn btn-primary">
            Start free
          </A>
          <A href="/login" class="btn">
            Sign in
          </A>
        </div>
      </section>
      <section aria-labelledby="pricing-h">
        <h2 id="pricing-h" style={{ "text-align": "center", "margin-bottom": "1rem" }}>
          Simple pricing
        </h2>
        <div class="plans">
          <For each={TIER_IDS.map((id) => TIERS[id])}>
            {(t) => (
              <article class="card plan" aria-labelledby={`home-${t.id}`}>
                <h3 id={`home-${t.id}`}>{t.label}</h3>
                <div class="price">
                  {formatMoney(t.monthlyPriceCents)}
                  <Show when={t.monthlyPriceCents !== null}>
                    <small> /month</small>
                  </Show>
                </div>
                <ul>
                  <li>
                    {formatLimit(t.agents)} {t.agents === 1 ? "agent" : "agents"}
                  </li>
                  <li>{formatLimit(t.messagesPerDay)} messages a day</li>
                  <li>{formatLimit(t.storageGb, " GB")} storage</li>
                </ul>
              </article>
            )}
          </For>
        </div>
      </section>
    </>
  );
}
