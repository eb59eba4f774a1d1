/**
 * One transaction on a pooled client: committed when `fn` returns, rolled back
 * when it throws. A client whose rollback failed, or whose connection dropped
 * meanwhile, is destroyed, not returned to the pool, so a broken connection
 * never serves the next caller.
 */
import type pg from "pg";

export async function transaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // pg-pool takes its own 'error' listener off a client while it is checked out: a connection that
  // drops between two statements (Postgres restarted or killed) would emit 'error' unheard, which
  // ends the process. The next statement fails anyway; note why, so the client is discarded.
  const onError = (error: Error) => {
    broken ??= error;
  };
  client.on("error", onError);
  try {
    await client.query("begin");
    try {
      const result = await fn(client);
      await client.query("commit");
      return result;
    } catch (error) {
      await client.query("rollback").catch((rollbackError: Error) => {
        broken ??= rollbackError;
      });
      throw error;
    }
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}
