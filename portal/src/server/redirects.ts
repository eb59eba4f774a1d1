/**
 * Where the portal may send someone after signing in (`next`), after an emailed link, or back to
 * the page a refused server-function call came from: only its own signed-in pages, each with the
 * query its page reads, parsed by that page's schema. The answer is rebuilt from the parsed
 * parts, never echoed: a value that is not exactly a known page becomes the dashboard. An allow
 * list rather than a "same-site path" check, because a same-site path can still be the server
 * function endpoint (`/_server?id=…&args=…`), an API route, or a route added later that acts on
 * a GET.
 */
import { z } from "zod";
import { tenantFilterSchema } from "./tenantsTable.ts";

export const DEFAULT_PAGE = "/dashboard";
/** Where a password-reset link lands: the account page, opened at its password form. */
export const NEW_PASSWORD_PAGE = "/account?password=new";

/** Longest `next` worth parsing; a real one is a short path. */
const MAX_LENGTH = 1024;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Query = Record<string, string>;

interface Page {
  /** Matches the decoded path exactly. */
  readonly path: string | RegExp;
  /** The query the page reads: parsed values, or nothing when it reads none. */
  readonly query?: (raw: Query) => Query;
}

/** Keeps only what the schema accepts; one bad value drops that key, never the page. */
function keep<S extends z.ZodRawShape>(shape: S): (raw: Query) => Query {
  return (raw) => {
    const out: Query = {};
    for (const [key, schema] of Object.entries(shape)) {
      const parsed = (schema as z.ZodType).safeParse(raw[key]);
      if (parsed.success && parsed.data !== undefined && parsed.data !== "") out[key] = String(parsed.data);
    }
    return out;
  };
}

/** The operator's filters, as the tenants table parses them; defaults are left out of the link. */
function operatorFilters(raw: Query): Query {
  const defaults = tenantFilterSchema.parse({});
  return Object.fromEntries(
    Object.entries(keep(tenantFilterSchema.shape)(raw)).filter(
      ([key, value]) => String(defaults[key as keyof typeof defaults]) !== value,
    ),
  );
}

/** The signed-in pages (`src/routes`): the only places a redirect may lead. */
const PAGES: readonly Page[] = [
  { path: "/dashboard", query: keep({ checkout: z.literal("success").optional() }) },
  {
    path: "/billing",
    query: keep({ welcome: z.literal("1").optional(), checkout: z.literal("cancelled").optional() }),
  },
  { path: "/usage" },
  { path: "/account", query: keep({ password: z.literal("new").optional() }) },
  { path: "/operator", query: operatorFilters },
  { path: "/operator/platform" },
  { path: /^\/operator\/tenants\/([0-9a-f-]{36})$/ },
];

function matches(page: Page, path: string): boolean {
  if (typeof page.path === "string") return page.path === path;
  const id = page.path.exec(path)?.[1];
  return id !== undefined && UUID.test(id);
}

/**
 * The known page `raw` names, rebuilt (`/billing?welcome=1`), or undefined. Accepts only a path
 * on this origin: a scheme, a host (`//evil`, `/\evil`), control characters, or a path that is not
 * one of the pages above are all refused.
 */
export function knownPage(raw: unknown): string | undefined {
  if (typeof raw !== "string" || raw.length === 0 || raw.length > MAX_LENGTH) return undefined;
  // A path, not a URL: browsers treat `\` like `/`, so `/\evil.example` is another host.
  if (!raw.startsWith("/") || raw.startsWith("//") || /[\\\s\p{Cc}]/u.test(raw)) return undefined;
  let url: URL;
  try {
    url = new URL(raw, "https://portal.invalid");
  } catch {
    return undefined;
  }
  if (url.origin !== "https://portal.invalid") return undefined;
  const page = PAGES.find((p) => matches(p, url.pathname));
  if (!page) return undefined;
  const query = page.query?.(Object.fromEntries(url.searchParams)) ?? {};
  const search = new URLSearchParams(query).toString();
  return search ? `${url.pathname}?${search}` : url.pathname;
}

/** A known page, or the dashboard: what every redirect built from input uses. */
export function landingPage(raw: unknown): string {
  return knownPage(raw) ?? DEFAULT_PAGE;
}

/** The zod form of {@link landingPage}, for form schemas (`next`). */
export const landingPageSchema = z.unknown().optional().transform(landingPage);

/** `/login?next=…` for a page someone must sign in to see (only ever a known page). */
export function signInFor(raw: unknown): string {
  return `/login?next=${encodeURIComponent(landingPage(raw))}`;
}
