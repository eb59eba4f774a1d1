-- The platform schema: customers (linked to Supabase auth.users), a projection of
-- their Stripe subscriptions, one instance per customer, the operations run on it,
-- the Stripe event log, the audit log and daily usage.
--
-- Access: row-level security on every table. A customer (role `authenticated`, a
-- JWT with their `sub`) reads only rows that belong to them; an operator (a row in
-- public.operators) reads everything; nobody writes through the API roles. The
-- webhook worker and the portal's server code write as the service role (or the
-- database owner), which bypasses RLS. Grants follow Supabase's defaults (the API
-- roles may touch every table), so the policies are the protection.
--
-- Runs on Supabase (auth schema present) and on plain Postgres after
-- database/supabase-compat.sql.

-- Shared trigger: keep updated_at honest without trusting callers.
create function public.set_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

-- Operators -------------------------------------------------------------------

create table public.operators (
  user_id uuid primary key references auth.users (id) on delete cascade,
  created_at timestamptz not null default now()
);

-- Security definer: policies call it on every table, and it must read operators
-- regardless of the caller's own policies (no recursion, no leak: it returns a bool).
create function public.is_operator() returns boolean
language sql
stable
security definer
set search_path = ''
as $$
  select exists (select 1 from public.operators o where o.user_id = (select auth.uid()))
$$;

-- Customers -------------------------------------------------------------------

create table public.customers (
  id uuid primary key default gen_random_uuid(),
  user_id uuid unique references auth.users (id) on delete set null,
  stripe_customer_id text unique,
  email text,
  display_name text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create trigger customers_updated_at before update on public.customers
  for each row execute function public.set_updated_at();

-- The caller's customer id (user_id is unique, so at most one). Security definer for
-- the same reason as is_operator(): policies on other tables use it.
create function public.current_customer_id() returns uuid
language sql
stable
security definer
set search_path = ''
as $$
  select c.id from public.customers c where c.user_id = (select auth.uid())
$$;

-- Subscriptions (a projection of Stripe's; the worker re-fetches and upserts) --

create table public.subscriptions (
  id text primary key, -- Stripe subscription id (sub_…)
  customer_id uuid not null references public.customers (id) on delete cascade,
  stripe_customer_id text not null,
  status text not null check (
    status in ('incomplete', 'incomplete_expired', 'trialing', 'active', 'past_due', 'canceled', 'unpaid', 'paused')
  ),
  price_id text,
  tier text,
  cancel_at_period_end boolean not null default false,
  current_period_end timestamptz,
  canceled_at timestamptz,
  ended_at timestamptz,
  trial_end timestamptz,
  stripe_created timestamptz,
  -- When the data was true at Stripe (event.created, or the fetch time): older writes are ignored.
  last_synced_at timestamptz not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index subscriptions_customer_id_idx on public.subscriptions (customer_id);
create index subscriptions_stripe_customer_id_idx on public.subscriptions (stripe_customer_id);
create trigger subscriptions_updated_at before update on public.subscriptions
  for each row execute function public.set_updated_at();

-- Instances (one tenant per customer) -----------------------------------------

create table public.instances (
  id uuid primary key default gen_random_uuid(),
  customer_id uuid not null unique references public.customers (id),
  slug text not null unique,
  tier text not null,
  desired_state text not null check (desired_state in ('running', 'suspended', 'deleted')),
  actual_state text not null default 'pending' check (
    actual_state in ('pending', 'provisioning', 'running', 'suspended', 'deleting', 'deleted', 'failed')
  ),
  host text,
  stack_name text,
  spec jsonb, -- the desired TenantSpec, without secrets
  spec_hash text,
  applied_spec_hash text, -- spec_hash of the last successful operation
  outputs jsonb,
  warning text, -- shown to the customer, e.g. payment past due
  deletion_due_at timestamptz,
  last_operation_id uuid,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create index instances_created_at_id_idx on public.instances (created_at, id);
create index instances_states_idx on public.instances (desired_state, actual_state);
create index instances_deletion_due_at_idx on public.instances (deletion_due_at) where deletion_due_at is not null;
create index instances_host_idx on public.instances (host);
create trigger instances_updated_at before update on public.instances
  for each row execute function public.set_updated_at();

-- Operations (each reconcile of an instance) -----------------------------------

create table public.operations (
  id uuid primary key default gen_random_uuid(),
  instance_id uuid not null references public.instances (id) on delete cascade,
  kind text not null check (kind in ('up', 'destroy', 'preview', 'refresh', 'drift')),
  "trigger" text not null check ("trigger" in ('stripe', 'sweep', 'operator', 'customer', 'retry')),
  requested_by text,
  reason text,
  spec_hash text,
  status text not null default 'queued' check (status in ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  progress jsonb, -- latest summary: {step, done, total, message}
  changes jsonb,
  outputs jsonb,
  error text,
  started_at timestamptz,
  finished_at timestamptz,
  duration_ms integer,
  created_at timestamptz not null default now()
);

create index operations_instance_id_created_at_idx on public.operations (instance_id, created_at desc);
create index operations_failed_idx on public.operations (finished_at) where status = 'failed';

alter table public.instances
  add constraint instances_last_operation_id_fkey
  foreign key (last_operation_id) references public.operations (id) on delete set null;

-- Stripe events (idempotency log: the id is the dedupe key) -------------------

create table public.stripe_events (
  id text primary key, -- evt_…
  type text not null,
  stripe_created timestamptz,
  livemode boolean,
  customer_id text, -- Stripe customer id (cus_…) the event concerns, when known
  object_id text, -- id of the event's data.object
  payload jsonb not null,
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  error text
);

create index stripe_events_customer_id_idx on public.stripe_events (customer_id);
create index stripe_events_unprocessed_idx on public.stripe_events (received_at) where processed_at is null;

-- Audit log (who changed what and why; no foreign keys: it outlives its subjects) --

create table public.audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  actor text not null, -- 'stripe', 'worker', 'sweep', 'operator:<email>', 'customer:<email>'
  actor_user_id uuid,
  customer_id uuid,
  instance_id uuid,
  action text not null,
  reason text,
  details jsonb
);

create index audit_log_customer_id_at_idx on public.audit_log (customer_id, at desc);
create index audit_log_instance_id_at_idx on public.audit_log (instance_id, at desc);

-- Usage (one row per instance and day) -----------------------------------------

create table public.usage (
  instance_id uuid not null references public.instances (id) on delete cascade,
  day date not null,
  agents integer,
  messages integer,
  storage_bytes bigint,
  primary key (instance_id, day)
);

-- Row-level security --------------------------------------------------------------
-- Only select policies, only for `authenticated`: anon sees nothing, and no API role
-- can insert, update or delete (with RLS on and no policy, writes affect no rows or
-- are refused). `(select …)` makes Postgres evaluate the JWT functions once per
-- statement instead of once per row.

alter table public.operators enable row level security;
alter table public.customers enable row level security;
alter table public.subscriptions enable row level security;
alter table public.instances enable row level security;
alter table public.operations enable row level security;
alter table public.stripe_events enable row level security;
alter table public.audit_log enable row level security;
alter table public.usage enable row level security;

create policy operators_select_own_or_operator on public.operators
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_operator()));

create policy customers_select_own_or_operator on public.customers
  for select to authenticated
  using (user_id = (select auth.uid()) or (select public.is_operator()));

create policy subscriptions_select_own_or_operator on public.subscriptions
  for select to authenticated
  using (customer_id = (select public.current_customer_id()) or (select public.is_operator()));

create policy instances_select_own_or_operator on public.instances
  for select to authenticated
  using (customer_id = (select public.current_customer_id()) or (select public.is_operator()));

create policy operations_select_own_or_operator on public.operations
  for select to authenticated
  using (
    instance_id in (select i.id from public.instances i where i.customer_id = (select public.current_customer_id()))
    or (select public.is_operator())
  );

create policy stripe_events_select_operator on public.stripe_events
  for select to authenticated
  using ((select public.is_operator()));

create policy audit_log_select_own_or_operator on public.audit_log
  for select to authenticated
  using (customer_id = (select public.current_customer_id()) or (select public.is_operator()));

create policy usage_select_own_or_operator on public.usage
  for select to authenticated
  using (
    instance_id in (select i.id from public.instances i where i.customer_id = (select public.current_customer_id()))
    or (select public.is_operator())
  );

-- Grants as Supabase's default privileges give them (explicit, so plain Postgres without
-- those defaults ends up the same). RLS above decides what each role actually sees.
grant select, insert, update, delete on
  public.operators, public.customers, public.subscriptions, public.instances,
  public.operations, public.stripe_events, public.audit_log, public.usage
  to anon, authenticated, service_role;
grant usage, select on all sequences in schema public to anon, authenticated, service_role;
grant execute on function public.is_operator(), public.current_customer_id() to anon, authenticated, service_role;
