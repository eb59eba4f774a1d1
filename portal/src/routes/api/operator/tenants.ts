/** GET /api/operator/tenants?q=&tier=&state=&drift=&failing=&sort=&page=&pageSize=: one page of the tenants table. */
import { BadRequestError, jsonRoute } from "../../../server/apiRoute.ts";
import { asPerson } from "../../../server/database.ts";
import { apiIdentity } from "../../../server/identity.ts";
import { tenantFilterSchema, tenantsPage } from "../../../server/tenantsTable.ts";

export function GET({ request }: { request: Request }) {
  return jsonRoute(async () => {
    const identity = await apiIdentity({ operator: true });
    const parsed = tenantFilterSchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
    if (!parsed.success)
      throw new BadRequestError(
        parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "),
      );
    return asPerson(identity.claims, (db) => tenantsPage(db, parsed.data));
  });
}
