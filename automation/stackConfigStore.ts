/**
 * A stack's config as every machine sees it: what `Pulumi.<stack>.yaml` holds
 * (the config, with secret values encrypted by the stack's secrets provider,
 * and that provider's salt or key), kept in the platform database
 * (`automation.stack_configs`) instead of one machine's folder. Before an
 * operation the machine running it writes its local file from here; after it,
 * what the operation changed (a new spec, repair tokens) is stored back.
 *
 * A write is accepted only from the tenant's live lease holder, so a holder
 * that lost its lease (and is being stopped) cannot overwrite what the next
 * holder wrote.
 */
import type { StackSettings } from "@pulumi/pulumi/automation/index.js";
import pg from "pg";

export class StaleConfigWriteError extends Error {
  override readonly name = "StaleConfigWriteError";
}

export class StackConfigStore {
  private readonly pool: pg.Pool;

  private constructor(pool: pg.Pool) {
    this.pool = pool;
  }

  static open(databaseUrl: string): StackConfigStore {
    const pool = new pg.Pool({
      connectionString: databaseUrl,
      max: 1,
      application_name: "mindroom-stack-config",
    });
    pool.on("error", () => undefined);
    return new StackConfigStore(pool);
  }

  /** The stack's shared settings, or undefined when none were stored yet. */
  async load(stack: string): Promise<StackSettings | undefined> {
    const { rows } = await this.pool.query<{ settings: StackSettings }>(
      "select settings from automation.stack_configs where stack = $1",
      [stack],
    );
    return rows[0]?.settings;
  }

  /** Stores the stack's settings, as the holder of the tenant's lease `holder`. */
  async save(stack: string, settings: StackSettings, holder: string): Promise<void> {
    const { rowCount } = await this.pool.query(
      `insert into automation.stack_configs (stack, settings, written_by)
       select $1, $2::jsonb, $3
        where exists (
          select 1 from automation.tenant_leases
           where holder = $3 and tenant = $1 and released_at is null and expires_at > clock_timestamp())
       on conflict (stack) do update
         set settings = excluded.settings, written_by = excluded.written_by, updated_at = clock_timestamp()`,
      [stack, JSON.stringify(settings), holder],
    );
    if ((rowCount ?? 0) === 0)
      throw new StaleConfigWriteError(
        `the config of ${stack} was not stored: lease ${holder} no longer holds the tenant`,
      );
  }

  /** After the stack is removed. */
  async remove(stack: string): Promise<void> {
    await this.pool.query("delete from automation.stack_configs where stack = $1", [stack]);
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}
