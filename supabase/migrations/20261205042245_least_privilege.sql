-- Database roles with no more rights than they use.
--
-- The API roles used to hold every privilege on every table in public (Supabase's
-- defaults), with row-level security as the only guard. What they use is less:
-- - `anon` (no signed-in user) reads nothing and writes nothing: nothing here is
--   public. It keeps no privilege on tables, sequences or functions in public.
-- - `authenticated` (a signed-in customer or operator, through the portal's
--   withUser) only reads, and RLS decides which rows. Every write goes through the
--   service role (the worker, the portal's server code), so insert, update,
--   delete, truncate, references and trigger are revoked: a missing or broken
--   write policy can no longer let a customer change a row.
-- - functions in public run for the roles that need them: the RLS helpers for
--   `authenticated` and `service_role` (not for PUBLIC, Postgres' default).
-- The same for tables, sequences and functions created later (default privileges
-- of the role that runs migrations), so a new table starts read-only for
-- customers and closed to anon. `service_role` keeps what it had.

revoke all on all tables in schema public from anon;
revoke insert, update, delete, truncate, references, trigger on all tables in schema public from authenticated;
revoke all on all sequences in schema public from anon, authenticated;
revoke execute on all functions in schema public from public, anon, authenticated;
grant execute on function public.is_operator(), public.current_customer_id() to authenticated, service_role;

alter default privileges in schema public revoke all on tables from anon;
alter default privileges in schema public
  revoke insert, update, delete, truncate, references, trigger on tables from authenticated;
alter default privileges in schema public revoke all on sequences from anon, authenticated;
alter default privileges in schema public revoke execute on functions from public, anon, authenticated;
