/**
 * The portal's one Postgres pool. Reads run through `withUser` (role `authenticated` with the
 * verified JWT claims, so RLS decides what a person sees); `servicePool()` is the owner
 * connection for the few writes the portal makes on a person's behalf after checking them
 * (audit rows, the customer row on sign-up, operator actions).
 */
import pg from "pg";
import { type JwtClaims, withUser } from "../../../database/asUser.ts";
import { portalSettings } from "./settings.ts";

let pool: pg.Pool | undefined;

export function servicePool(): pg.Pool {
  if (!pool) {
    pool = new pg.Pool({
      connectionString: portalSettings().databaseUrl,
      max: 10,
      application_name: "mindroom-portal",
    });
    // An idle client's error (server restart) must not crash the process; the next query reconnects.
    pool.on("error", () => undefined);
  }
  return pool;
}

/** Run `fn` as the signed-in person: RLS applies to every statement inside. */
export function asPerson<T>(claims: JwtClaims, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  return withUser(servicePool(), claims, fn);
}
