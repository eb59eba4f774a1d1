/** The frame around every page: skip link, brand, navigation for who is signed in, sign-out. */
import { createAsync, useLocation } from "@solidjs/router";
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
          <a href={session() ? "/dashboard" : "/"} class="brand">
            <span class="brand-mark" aria-hidden="true" />
            MindRoom Cloud
          </a>
          <nav class="nav" aria-label="Main">
            <Suspense>
              <Show when={session()}>
                <NavLink href="/dashboard">Dashboard</NavLink>
                <NavLink href="/usage">Usage</NavLink>
                <NavLink href="/mindroom">Chat &amp; bridges</NavLink>
                <NavLink href="/billing">Billing</NavLink>
                <NavLink href="/account">Account</NavLink>
                <Show when={session()?.operator}>
                  <NavLink href="/operator" end>
                    Tenants
                  </NavLink>
                  <NavLink href="/operator/platform">Platform</NavLink>
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
                    <a href="/login">Sign in</a>
                    <a href="/signup" class="btn btn-primary">
                      Start free
                    </a>
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

/**
 * A navigation link marked as `<A>` marks it (class `active` or `inactive`, `aria-current="page"` on
 * the page itself) for a fixed absolute path, without `<A>`'s per-link props merging and memos: those
 * cost about 0.15 ms of server rendering per link, on every page (docs/benchmarks.md, Portal).
 */
function NavLink(props: { href: string; end?: boolean; children: JSX.Element }) {
  const location = useLocation();
  const here = () => decodeURI(location.pathname).toLowerCase().replace(/\/$/, "");
  const active = () => here() === props.href || (!props.end && here().startsWith(`${props.href}/`));
  return (
    <a
      href={props.href}
      class={active() ? "active" : "inactive"}
      aria-current={here() === props.href ? "page" : undefined}
    >
      {props.children}
    </a>
  );
}
