/**
 * The customer row behind a person. Created by server code (service role) when someone signs up
 * or first signs in; customers have no write access to the table themselves.
 */
import { servicePool } from "./database.ts";

export async function ensureCustomer(
  userId: string,
  email: string,
  displayName: string | null = null,
): Promise<void> {
  await servicePool().query(
    `insert into public.customers (user_id, email, display_name) values ($1, $2, $3)
     on conflict (user_id) do update set email = excluded.email,
       display_name = coalesce(public.customers.display_name, excluded.display_name), updated_at = now()`,
    [userId, email, displayName],
  );
}
