/**
 * GET /sso/mindroom[?redirect_to=<a URL of the tenant's dashboard>]: "Open MindRoom". The tenant's
 * runtime sends people who are not signed in here too (its `MINDROOM_PLATFORM_SSO_URL`). The owner
 * gets a fresh single-use ticket and goes on to their runtime's `/api/auth/platform-sso`; anyone
 * else signs in first, or goes back to the dashboard with a reason it shows.
 */
import { PLATFORM_SSO_PATH } from "../../../../components/tenantEnvironment.ts";
import { optionalIdentity } from "../../server/identity.ts";
import { ownTenant } from "../../server/ownTenant.ts";
import { ssoRedirectUrl } from "../../server/platformSso.ts";
import { portalSettings } from "../../server/settings.ts";

function go(location: string): Response {
  // The ticket rides in the Location: keep it out of caches and of any Referer.
  return new Response(null, {
    status: 303,
    headers: { location, "cache-control": "no-store", "referrer-policy": "no-referrer" },
  });
}

export async function GET({ request }: { request: Request }) {
  const url = new URL(request.url);
  const redirectTo = url.searchParams.get("redirect_to");
  const identity = await optionalIdentity();
  if (!identity) {
    const back = `${PLATFORM_SSO_PATH}${url.search}`;
    return go(`/login?next=${encodeURIComponent(back)}`);
  }
  const accessKey = portalSettings().tenantAccessKey;
  if (!accessKey) return go("/dashboard?sso=unavailable");
  const tenant = await ownTenant(identity);
  if (!tenant?.appUrl) return go("/dashboard?sso=no-instance");
  if (tenant.actualState !== "running") return go("/dashboard?sso=not-running");
  // The runtime lets in exactly the account its spec names; until the worker has applied it, wait.
  if (tenant.ownerAccountId !== identity.userId) return go("/dashboard?sso=not-ready");
  return go(
    ssoRedirectUrl({
      accessKey,
      slug: tenant.slug,
      appUrl: tenant.appUrl,
      accountId: identity.userId,
      email: identity.email,
      redirectTo,
    }),
  );
}
