/**
 * Removing every tenant an engine test created, after its webhook services stopped, as another
 * machine would: the stacks' config comes from the platform database, their state from the backend
 * the services used (given by `settings`). Each destroy must succeed, so nothing is left on the host.
 */
import type pg from "pg";
import { expect } from "vitest";
import { Operations } from "../automation/operations.ts";
import type { AutomationSettings } from "../automation/settings.ts";

export async function destroyEveryTenant(pool: pg.Pool, settings: AutomationSettings): Promise<void> {
  const ops = await Operations.start(settings);
  try {
    const { rows } = await pool.query<{ slug: string }>("select slug from public.instances");
    const destroyed = await Promise.all(rows.map((r) => ops.pool.destroy(r.slug)));
    expect(destroyed.map((d) => [d.tenant, d.status, d.error?.message])).toEqual(
      rows.map((r) => [r.slug, "succeeded", undefined]),
    );
  } finally {
    await ops.close();
  }
}
