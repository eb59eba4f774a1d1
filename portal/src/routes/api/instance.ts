/**
 * GET /api/instance: the signed-in customer's own instance, subscription and recent operations, as
 * customers may see them (server/customerFacing.ts).
 */
import { jsonRoute } from "../../server/apiRoute.ts";
import { forCustomer } from "../../server/customerFacing.ts";
import { customerView } from "../../server/customerView.ts";
import { asPerson } from "../../server/database.ts";
import { apiIdentity } from "../../server/identity.ts";

export function GET() {
  return jsonRoute(async () => {
    const identity = await apiIdentity();
    return forCustomer(await asPerson(identity.claims, (db) => customerView(db)));
  });
}
