/**
 * The customer's own account on their tenant's homeserver, made from the
 * portal: which Matrix ID it is and when its password was last reset. The
 * password itself is never stored.
 */
import type { Queryable } from "./connection.ts";

export interface MatrixAccount {
  readonly instanceId: string;
  readonly matrixUserId: string;
  readonly createdAt: Date;
  readonly passwordResetAt: Date | null;
}

interface Row {
  instance_id: string;
  matrix_user_id: string;
  created_at: Date;
  password_reset_at: Date | null;
}

const fromRow = (r: Row): MatrixAccount => ({
  instanceId: r.instance_id,
  matrixUserId: r.matrix_user_id,
  createdAt: r.created_at,
  passwordResetAt: r.password_reset_at,
});

export async function findMatrixAccount(db: Queryable, instanceId: string): Promise<MatrixAccount | null> {
  const { rows } = await db.query<Row>("select * from public.matrix_accounts where instance_id = $1", [
    instanceId,
  ]);
  return rows[0] ? fromRow(rows[0]) : null;
}

export async function recordMatrixAccount(
  db: Queryable,
  instanceId: string,
  matrixUserId: string,
): Promise<MatrixAccount> {
  const { rows } = await db.query<Row>(
    `insert into public.matrix_accounts (instance_id, matrix_user_id) values ($1, $2)
     on conflict (instance_id) do update set matrix_user_id = excluded.matrix_user_id
     returning *`,
    [instanceId, matrixUserId],
  );
  return fromRow(rows[0] as Row);
}

export async function recordPasswordReset(db: Queryable, instanceId: string): Promise<void> {
  await db.query("update public.matrix_accounts set password_reset_at = now() where instance_id = $1", [
    instanceId,
  ]);
}
