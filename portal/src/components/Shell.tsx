/** The frame around every page: skip link, brand, navigation for who is signed in, sign-out. */
import { A, createAsync } from "@solidjs/router";
import { type JSX, Show, Suspense } from "solid-js";
import { getSessionInfo, signOut } from "../lib/session.ts";

export default function Shell(props: { children?: JSX.Element }) {
  const session = createAsync(() => getSessionInfo());
  return (
    <>
      <a class="skip-link" href="#content">
        Skip to content
      </a>
      <header class="topbar">
        <div class="topbar-inner">
          <A href={session() ? "/dashboard" : "/"} class="brand">
            <span class="brand-mark" aria-hidden="true" />
            MindRoom Cloud
          </A>
          <nav class="nav" aria-label="Main">
            <Suspense>
              <Show when={session()}>
                <A href="/dashboard" activeClass="active">
                  Dashboard
                </A>
                <A href="/billing" activeClass="active">
                  Billing
                </A>
                <A href="/account" activeClass="active">
                  Account
                </A>
                <Show when={session()?.operator}>
                  <A href="/operator" activeClass="active" end>
                    Tenants
                  </A>
                  <A href="/operator/platform" activeClass="active">
                    Platform
                  </A>
                </Show>
              </Show>
            </Suspense>
          </nav>
          <div class="who">
            <Suspense>
              <Show
                when={session()}
                fallback={
                  <>
                    <A href="/login">Sign in</A>
                    <A href="/signup" class="btn btn-primary">
                      Start free
                    </A>
                  </>
                }
              >
                {(s) => (
                  <>
                    <span>
                      {s().email}
                      <Show when={s().operator}> · operator</Show>
                    </span>
                    <form action={signOut} method="post">
                      <button type="submit" class="btn">
                        Sign out
                      </button>
                    </form>
                  </>
                )}
              </Show>
            </Suspense>
          </div>
        </div>
      </header>
      <main id="content" tabindex="-1">
        <Suspense fallback={<p class="muted">Loading…</p>}>{props.children}</Suspense>
      </main>
      <footer class="site">MindRoom Cloud · your AI agents on your own Matrix homeserver</footer>
    </>
  );
}
