/**
 * What a Postgres error's SQLSTATE says about whom it concerns: a statement's data (class 22, e.g.
 * a \u0000 no jsonb can hold), a constraint (23) or a transaction's bad luck (40: deadlock,
 * serialization) concern the rows being written; anything else (no code: the connection failed;
 * 08 connection, 53 resources, 57 shutdown) concerns the database as a whole.
 */
function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** Class 22: a value Postgres cannot take. The same write fails the same way every time. */
export function isDataException(error: unknown): boolean {
  return sqlState(error)?.startsWith("22") ?? false;
}

/** The rows written caused it (classes 22, 23, 40): writing them apart may succeed for the others. */
export function concernsTheRows(error: unknown): boolean {
  const state = sqlState(error);
  return state !== undefined && ["22", "23", "40"].includes(state.slice(0, 2));
}
