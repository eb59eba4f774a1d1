/**
 * Operators (`public.operators`): people who may use the operator console,
 * by their sign-in account (`auth.users`). Granted and revoked with
 * `mindroom-ops operators`, each change with an audit row.
 */
import type { Queryable } from "./connection.ts";

export interface OperatorAccount {
  readonly userId: string;
  readonly email: string;
  readonly since: Date;
}

/** No sign-in account has this email: the person signs up first. */
export class AccountNotFoundError extends Error {
  override readonly name = "AccountNotFoundError";
}

export async function findAccountByEmail(
  db: Queryable,
  email: string,
): Promise<{ id: string; email: string } | null> {
  const { rows } = await db.query<{ id: string; email: string }>(
    "select id::text, email from auth.users where lower(email) = lower($1) order by created_at limit 1",
    [email.trim()],
  );
  return rows[0] ?? null;
}

export async function listOperators(db: Queryable): Promise<OperatorAccount[]> {
  const { rows } = await db.query<{ user_id: string; email: string | null; created_at: Date }>(
    `select o.user_id::text, u.email, o.created_at from public.operators o
       left join auth.users u on u.id = o.user_id order by o.created_at, u.email`,
  );
  return rows.map((r) => ({ userId: r.user_id, email: r.email ?? "(account deleted)", since: r.created_at }));
}

/** Makes the account an operator; false when it already was one. */
export async function grantOperator(db: Queryable, userId: string): Promise<boolean> {
  const { rowCount } = await db.query(
    "insert into public.operators (user_id) values ($1) on conflict (user_id) do nothing",
    [userId],
  );
  return (rowCount ?? 0) > 0;
}

/** Takes the role away; false when the account was not an operator. */
export async function revokeOperator(db: Queryable, userId: string): Promise<boolean> {
  const { rowCount } = await db.query("delete from public.operators where user_id = $1", [userId]);
  return (rowCount ?? 0) > 0;
}
