/**
 * One transaction on a pooled client: committed when `fn` returns, rolled back
 * when it throws. A client whose rollback failed is destroyed, not returned to
 * the pool, so a broken connection never serves the next caller.
 */
import type pg from "pg";

export async function transaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("begin");
    try {
      const result = await fn(client);
      await client.query("commit");
      return result;
    } catch (error) {
      await client.query("rollback").catch((rollbackError: Error) => {
        broken = rollbackError;
      });
      throw error;
    }
  } finally {
    client.release(broken);
  }
}
