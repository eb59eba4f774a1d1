-- Into MindRoom's tables under the API roles' least privilege (20261205042245_least_privilege.sql).
--
-- 20261205050236_into_mindroom.sql granted anon and authenticated every write on
-- matrix_accounts and anon a read of provider_keys, and the default privileges left
-- authenticated a table-wide read of provider_keys, sealed value included. As for every
-- other table: anon holds nothing; customers (authenticated) only read, RLS choosing the
-- rows; of provider_keys they read what the portal shows (provider, last four, when),
-- never the sealed value, which is for the worker (service role) alone. The portal
-- writes both tables through the service role.

revoke all on public.matrix_accounts from anon;
revoke insert, update, delete, truncate, references, trigger on public.matrix_accounts from authenticated;

-- A table-level revoke takes the column grants with it; the shown columns are granted again.
revoke all on public.provider_keys from anon, authenticated;
grant select (customer_id, provider, last4, set_at) on public.provider_keys to authenticated;
