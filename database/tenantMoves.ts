/**
 * Moves in progress (`automation.tenant_moves`): the journal fleet/tenantMove.ts
 * writes after every step, so a move cut off anywhere is finished by running
 * it again on any control-plane machine.
 */
import { z } from "zod";
import { MOVE_STEPS, type MoveJournal } from "../fleet/movePlan.ts";
import type { Queryable } from "./connection.ts";
import { jsonb } from "./jsonColumns.ts";

const row = z.object({
  from_host: z.string(),
  to_host: z.string(),
  step: z.enum(MOVE_STEPS),
  backup_at: z.date().nullable(),
  checkpoint: z.object({ version: z.number(), deployment: z.record(z.string(), z.unknown()) }).nullable(),
});

/** The instance's unfinished move, or null. */
export async function findMove(db: Queryable, instanceId: string): Promise<MoveJournal | null> {
  const { rows } = await db.query(
    "select from_host, to_host, step, backup_at, checkpoint from automation.tenant_moves where instance_id = $1",
    [instanceId],
  );
  if (rows.length === 0) return null;
  const r = row.parse(rows[0]);
  return { from: r.from_host, to: r.to_host, step: r.step, backupAt: r.backup_at, checkpoint: r.checkpoint };
}

/** Records the journal as it stands now (inserted for a new move). */
export async function saveMove(db: Queryable, instanceId: string, journal: MoveJournal): Promise<void> {
  await db.query(
    `insert into automation.tenant_moves (instance_id, from_host, to_host, step, backup_at, checkpoint)
     values ($1, $2, $3, $4, $5, $6::jsonb)
     on conflict (instance_id) do update set
       step = excluded.step, backup_at = excluded.backup_at, checkpoint = excluded.checkpoint,
       updated_at = clock_timestamp()`,
    [instanceId, journal.from, journal.to, journal.step, journal.backupAt, jsonb(journal.checkpoint)],
  );
}

/** The move is done: its journal goes (no-op when there is none). */
export async function finishMove(db: Queryable, instanceId: string): Promise<void> {
  await db.query("delete from automation.tenant_moves where instance_id = $1", [instanceId]);
}
