/**
 * The automation layer for one operator command (mindroom-ops and its `move`):
 * the data folder's object store served while the command runs (the stack state
 * lives there when it is local, and the platform may be down), and the worker
 * pool started with the fleet from the hosts table (DOKKU_HOSTS only seeds it),
 * so the policy pack knows every host. `close` stops both; the database stays
 * the caller's.
 */
import type { Database } from "../../database/connection.ts";
import { fleetHosts, type Host, listHosts } from "../../database/hosts.ts";
import { openObjectStore } from "../../object-store/server.ts";
import type { Operations } from "../operations.ts";
import type { AutomationSettings } from "../settings.ts";

export interface CommandOperations {
  readonly ops: Operations;
  close(): Promise<void>;
}

/** Starts it on `database`; `hosts` is the hosts table when the caller has read it already. */
export async function startCommandOperations(
  settings: AutomationSettings,
  database: Pick<Database, "pool" | "url">,
  hosts?: readonly Host[],
): Promise<CommandOperations> {
  // Loaded only now: the automation layer (Pulumi's SDK) takes seconds, a usage error should not.
  const { Operations } = await import("../operations.ts");
  const store = settings.localObjectStore ? await openObjectStore(settings.localObjectStore) : undefined;
  try {
    const table = hosts ?? (await listHosts(database.pool));
    const ops = await Operations.start({
      ...settings,
      hosts: fleetHosts(table, settings.hosts),
      databaseUrl: database.url,
    });
    return {
      ops,
      async close() {
        await ops.close();
        await store?.stop();
      },
    };
  } catch (error) {
    await store?.stop();
    throw error;
  }
}
