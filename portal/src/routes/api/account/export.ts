/** GET /api/account/export: everything about the signed-in person, as a JSON download. */
import { accountExport } from "../../../server/accountExport.ts";
import { jsonRoute } from "../../../server/apiRoute.ts";
import { asPerson } from "../../../server/database.ts";
import { apiIdentity } from "../../../server/identity.ts";

export function GET() {
  return jsonRoute(
    async () => {
      const identity = await apiIdentity();
      return asPerson(identity.claims, (db) => accountExport(db, identity.email));
    },
    { "content-disposition": 'attachment; filename="mindroom-cloud-export.json"' },
  );
}
