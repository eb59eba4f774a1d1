-- Controls that people put on an instance, which the reconcile worker reads
-- alongside Stripe's truth (data flows one way: these are inputs to the
-- desired state, never written by the worker).
--
-- held_at / hold_reason: an operator's suspension. While set, a tenant whose
--   subscription would run is suspended instead; a cancellation still deletes it.
--   The customer can read the reason (RLS lets them read their own instance row),
--   so it is written for them.
-- restart_generation: bumped by a customer's (or operator's) restart request;
--   the tenant spec carries it, and a new value restarts the tenant's apps once.
alter table public.instances
  add column held_at timestamptz,
  add column hold_reason text,
  add column restart_generation integer not null default 0 check (restart_generation >= 0),
  add constraint instances_hold_has_reason check ((held_at is null) = (hold_reason is null));
