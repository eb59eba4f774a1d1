-- Rate limits that must hold across processes (the portal's sign-in, sign-up, sign-in links and
-- server functions; several portal processes behind one load balancer share them). One row per
-- counted key (`<rule>:<address bucket>` or `<rule>:<sha-256 of an account>`), as in the generic
-- cell rate algorithm: `tat` is when the key's budget is whole again, `emission` what one request
-- adds, `tolerance` how far ahead of now `tat` may run (the burst). A request is allowed when
-- tat - now <= tolerance, and then moves tat forward by emission; the decision and the update are
-- one upsert, so concurrent requests on one key are counted exactly.
--
-- Unlogged: counters are not worth a WAL write each, and a crash that forgets them only resets
-- the limits. Rows whose tat has passed count as absent and are swept by the portal.
create unlogged table public.rate_limits (
  key text primary key check (char_length(key) <= 200),
  tat timestamptz not null,
  emission interval not null,
  tolerance interval not null
);

-- Only the portal's server code (service role or the owner) counts; no API role reads or writes.
alter table public.rate_limits enable row level security;
revoke all on public.rate_limits from anon, authenticated;
grant select, insert, update, delete on public.rate_limits to service_role;
