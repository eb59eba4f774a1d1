-- Requests an operator makes of the worker: live stack outputs and previews.
--
-- The portal is internet-facing and holds no infrastructure credentials (no SSH key,
-- no root secret, no state backend): it writes a request here and queues it, the
-- reconcile worker (the only process that talks to Pulumi and the hosts) carries it
-- out and writes the answer back, and the portal reads it. Operators read every row
-- (RLS); the API roles write none.

create table public.operator_requests (
  id uuid primary key default gen_random_uuid(),
  instance_id uuid not null references public.instances (id) on delete cascade,
  kind text not null check (kind in ('outputs', 'preview')),
  requested_by text not null,
  requested_by_user_id uuid,
  reason text,
  status text not null default 'queued' check (status in ('queued', 'running', 'succeeded', 'failed')),
  result jsonb,
  error text,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz,
  check ((status in ('succeeded', 'failed')) = (finished_at is not null))
);

create index operator_requests_instance_id_created_at_idx
  on public.operator_requests (instance_id, created_at desc);

alter table public.operator_requests enable row level security;

create policy operator_requests_select_operator on public.operator_requests
  for select to authenticated
  using ((select public.is_operator()));

-- As Supabase's default privileges grant them (explicit for plain Postgres); RLS decides.
grant select, insert, update, delete on public.operator_requests to anon, authenticated, service_role;
