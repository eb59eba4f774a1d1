/**
 * Customers' model provider keys, sealed (sealedSecrets.ts). The portal writes
 * them sealed and reads back only which provider has one, its last four
 * characters and when it was set; the worker reads the sealed values to open
 * them for the tenant's stack.
 */
import type { Provider } from "../components/modelProviders.ts";
import type { Queryable } from "./connection.ts";

export interface ProviderKeyInfo {
  readonly provider: Provider;
  readonly last4: string;
  readonly setAt: Date;
}

export interface SealedProviderKey extends ProviderKeyInfo {
  readonly sealed: string;
}

export async function setProviderKey(
  db: Queryable,
  input: {
    readonly customerId: string;
    readonly provider: Provider;
    readonly sealed: string;
    readonly last4: string;
  },
): Promise<void> {
  await db.query(
    `insert into public.provider_keys (customer_id, provider, sealed, last4)
     values ($1, $2, $3, $4)
     on conflict (customer_id, provider) do update set sealed = excluded.sealed, last4 = excluded.last4, set_at = now()`,
    [input.customerId, input.provider, input.sealed, input.last4],
  );
}

/** Removes a key; true when there was one. */
export async function removeProviderKey(
  db: Queryable,
  customerId: string,
  provider: Provider,
): Promise<boolean> {
  const { rowCount } = await db.query(
    "delete from public.provider_keys where customer_id = $1 and provider = $2",
    [customerId, provider],
  );
  return (rowCount ?? 0) > 0;
}

/** What a customer may see of their keys (also what RLS lets them select). */
export async function listProviderKeys(db: Queryable, customerId: string): Promise<ProviderKeyInfo[]> {
  const { rows } = await db.query<{ provider: Provider; last4: string; set_at: Date }>(
    "select provider, last4, set_at from public.provider_keys where customer_id = $1 order by provider",
    [customerId],
  );
  return rows.map((r) => ({ provider: r.provider, last4: r.last4, setAt: r.set_at }));
}

/** The sealed keys, for the worker. */
export async function sealedProviderKeys(db: Queryable, customerId: string): Promise<SealedProviderKey[]> {
  const { rows } = await db.query<{ provider: Provider; last4: string; set_at: Date; sealed: string }>(
    "select provider, last4, set_at, sealed from public.provider_keys where customer_id = $1 order by provider",
    [customerId],
  );
  return rows.map((r) => ({ provider: r.provider, last4: r.last4, setAt: r.set_at, sealed: r.sealed }));
}
