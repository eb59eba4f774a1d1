/**
 * Moving a tenant to another Dokku host, step by step (movePlan.ts names the
 * steps and why in that order). Each step either finds its work done in the
 * journal or does it in a way that can be repeated (the backup of a stopped
 * tenant, an up, a restore that replaces data whole, a destroy whose deletes
 * tolerate absence), and the journal is saved after each, so a move cut off
 * anywhere converges when it is run again. The caller holds the tenant's
 * lease throughout.
 */
import { type BackupDeps, takeBackup } from "../backups/backup.ts";
import { type RestoreDeps, restoreTenant } from "../backups/restore.ts";
import type { TenantData } from "../backups/tenantData.ts";
import { type Checkpoint, type MoveJournal, type MoveStep, nextStep } from "./movePlan.ts";

/** What each step does; the adapters behind them (Dokku host, bucket, Pulumi) are the caller's. */
export interface MoveActions {
  /** A fresh backup on the old host, its apps left stopped; returns the time naming the set. */
  backup(): Promise<Date>;
  /** The old stack's checkpoint (`pulumi stack export`). */
  exportCheckpoint(): Promise<Checkpoint>;
  /** Points the tenant's desired spec at the new host (recorded) and brings it up there. */
  switchHost(): Promise<void>;
  /** Restores the move's backup set on the new host. */
  restore(backupAt: Date): Promise<void>;
  /** Removes what the checkpoint holds from the old host (tolerating what is gone already). */
  removeFromOldHost(checkpoint: Checkpoint): Promise<void>;
}

export interface MoveJournalStore {
  save(journal: MoveJournal): Promise<void>;
  /** The move is done: the journal goes. */
  finish(): Promise<void>;
}

/** A journal that lost what an earlier step recorded: the move cannot go on safely. */
export class MoveJournalError extends Error {
  override readonly name = "MoveJournalError";
}

export interface MoveReport {
  readonly from: string;
  readonly to: string;
  readonly backupAt: Date;
  /** The steps this run did (a resumed move skips those done before). */
  readonly ran: readonly MoveStep[];
}

/** Runs the journal's steps from the one it stopped at. `signal` stops it between steps. */
export async function runMove(
  start: MoveJournal,
  actions: MoveActions,
  store: MoveJournalStore,
  onStep: (line: string) => void = () => undefined,
  signal?: AbortSignal,
): Promise<MoveReport> {
  let journal = start;
  const ran: MoveStep[] = [];
  const need = <T>(value: T | null, what: string): T => {
    if (value === null)
      throw new MoveJournalError(`the move's journal has no ${what} at its ${journal.step} step`);
    return value;
  };
  await store.save(journal);
  for (let step: MoveStep | null = journal.step; step !== null; step = nextStep(step)) {
    signal?.throwIfAborted();
    journal = { ...journal, step };
    ran.push(step);
    switch (step) {
      case "backup":
        onStep(`backing up on ${journal.from} (the apps stay stopped: nothing written after it is lost)`);
        journal = { ...journal, backupAt: await actions.backup() };
        break;
      case "checkpoint":
        onStep("saving the old stack's checkpoint");
        journal = { ...journal, checkpoint: await actions.exportCheckpoint() };
        break;
      case "switch":
        onStep(`pointing the tenant at ${journal.to} and bringing it up there`);
        await actions.switchHost();
        break;
      case "restore": {
        const at = need(journal.backupAt, "backup");
        onStep(`restoring the backup of ${at.toISOString()} on ${journal.to}`);
        await actions.restore(at);
        break;
      }
      case "cleanup":
        onStep(`removing the tenant from ${journal.from}`);
        await actions.removeFromOldHost(need(journal.checkpoint, "checkpoint"));
        break;
    }
    const next = nextStep(step);
    if (next !== null) await store.save({ ...journal, step: next });
  }
  await store.finish();
  return { from: journal.from, to: journal.to, backupAt: need(journal.backupAt, "backup"), ran };
}

/**
 * The data steps between two hosts: the backup on the old host with its apps
 * left stopped (takeBackup restarts them only for a running tenant), and the
 * restore of exactly that set on the new one.
 */
export function dataActions(
  deps: BackupDeps & RestoreDeps,
  from: TenantData,
  to: TenantData,
): Pick<MoveActions, "backup" | "restore"> {
  return {
    async backup() {
      const taken = await takeBackup(deps, { ...from, running: false });
      const at = taken[0]?.takenAt;
      if (!at) throw new MoveJournalError("the backup took no objects");
      return at;
    },
    async restore(at) {
      await restoreTenant(deps, to, { at });
    },
  };
}
