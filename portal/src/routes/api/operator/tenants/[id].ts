/** GET /api/operator/tenants/:id: one tenant with its operations and audit log (operators only). */
import { BadRequestError, jsonRoute } from "../../../../server/apiRoute.ts";
import { asPerson } from "../../../../server/database.ts";
import { AccessDeniedError, apiIdentity } from "../../../../server/identity.ts";
import { tenantDetail } from "../../../../server/operatorView.ts";

export function GET({ params }: { params: Record<string, string | undefined> }) {
  return jsonRoute(async () => {
    const identity = await apiIdentity({ operator: true });
    const id = params.id ?? "";
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw new BadRequestError("not a tenant id");
    const detail = await asPerson(identity.claims, (db) => tenantDetail(db, id));
    if (!detail) throw new AccessDeniedError(403, "no such tenant");
    return detail;
  });
}
