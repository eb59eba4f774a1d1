/** The usage page's data: the last 30 days of the person's own instance, and their plan's limits. */
import { query } from "@solidjs/router";
import { isTierId, type Tier, tier as tierOf } from "../../../components/tiers.ts";
import { asPerson } from "../server/database.ts";
import { requireIdentity } from "../server/identity.ts";
import { type UsageHistory, usageHistory } from "../server/usageHistory.ts";

export interface UsagePage extends UsageHistory {
  readonly tier: Tier | null;
}

export const getUsage = query(async (): Promise<UsagePage> => {
  "use server";
  const identity = await requireIdentity();
  const history = await asPerson(identity.claims, (db) => usageHistory(db, 30));
  const id = history.instance?.tier;
  return { ...history, tier: id && isTierId(id) ? tierOf(id) : null };
}, "usage");
