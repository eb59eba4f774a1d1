/** GET /api/instance: the signed-in customer's own instance, subscription and recent operations. */
import { jsonRoute } from "../../server/apiRoute.ts";
import { customerView } from "../../server/customerView.ts";
import { asPerson } from "../../server/database.ts";
import { apiIdentity } from "../../server/identity.ts";

export function GET() {
  return jsonRoute(async () => {
    const identity = await apiIdentity();
    return asPerson(identity.claims, (db) => customerView(db));
  });
}
