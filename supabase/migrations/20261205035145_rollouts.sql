-- Fleet rollouts: moving every tenant to a new MindRoom runtime image.
--
-- An operator starts one (mindroom-ops rollout --image …@sha256:…); the worker
-- advances it through the queue wave by wave (wave 0 is the canary): it sets
-- each tenant's runtime image, queues the tenant's reconcile, and waits for the
-- applied spec, halting on the first failed operation. A halted rollout resumes
-- where it stopped. Operators read every row (RLS); the API roles write none.

-- The tenant's runtime image when a rollout set one (null: the platform's MINDROOM_RUNTIME_IMAGE).
alter table public.instances add column runtime_image text;

create table public.rollouts (
  id uuid primary key default gen_random_uuid(),
  image text not null,
  canary integer not null check (canary >= 0),
  batch_size integer not null check (batch_size >= 1),
  status text not null default 'running' check (status in ('running', 'halted', 'succeeded')),
  requested_by text not null,
  error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  finished_at timestamptz,
  check ((status = 'succeeded') = (finished_at is not null))
);

-- At most one rollout in flight (running or halted): a second would race the first.
create unique index rollouts_one_open_idx on public.rollouts ((true)) where status <> 'succeeded';

create table public.rollout_tenants (
  rollout_id uuid not null references public.rollouts (id) on delete cascade,
  instance_id uuid not null references public.instances (id) on delete cascade,
  -- 0 is the canary wave, then 1, 2, … in batches.
  wave integer not null check (wave >= 0),
  previous_image text,
  status text not null default 'pending' check (status in ('pending', 'applying', 'succeeded', 'failed')),
  error text,
  started_at timestamptz,
  finished_at timestamptz,
  primary key (rollout_id, instance_id)
);

create index rollout_tenants_wave_idx on public.rollout_tenants (rollout_id, wave);

alter table public.rollouts enable row level security;
alter table public.rollout_tenants enable row level security;

create policy rollouts_select_operator on public.rollouts
  for select to authenticated
  using ((select public.is_operator()));

create policy rollout_tenants_select_operator on public.rollout_tenants
  for select to authenticated
  using ((select public.is_operator()));

-- As Supabase's default privileges grant them (explicit for plain Postgres); RLS decides.
grant select, insert, update, delete on public.rollouts, public.rollout_tenants to anon, authenticated, service_role;
