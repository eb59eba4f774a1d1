-- The Dokku hosts tenants live on, as data (they were only the DOKKU_HOSTS variable).
--
-- A host is known by its SSH URL (the same string instances.host holds). Its public
-- key is pinned when an operator adds it (`mindroom-ops hosts add`, trust on first
-- use) and every later connection refuses another key. Capacity is what the host
-- can give tenants (measured, or set by the operator); `schedule` says whether new
-- tenants may be placed there: `active`, `cordoned` (keeps its tenants, takes no new
-- ones) or `draining` (cordoned, and its tenants are being moved away). `readiness`
-- is the last check of what tenants need (plugins, Let's Encrypt renewal, global
-- settings); null means never checked (a host seeded from DOKKU_HOSTS is trusted as
-- configured until its first check).
--
-- Operators read it (the console's host list); nobody writes through the API roles
-- (RLS, no write policy): the operator CLI and the worker write as the service role.

create table public.hosts (
  url text primary key check (
    url ~ '^ssh://[a-z_][a-z0-9_-]{0,31}@([a-z0-9.-]+|\[[0-9a-f:]+\]):[0-9]{1,5}$'
  ),
  address text not null check (address <> ''),
  host_key text check (host_key ~ '^(ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa) [A-Za-z0-9+/=]+$'),
  memory_mb integer not null check (memory_mb > 0),
  cpus numeric(6, 2) not null check (cpus > 0),
  proxied boolean not null default false,
  schedule text not null default 'active' check (schedule in ('active', 'cordoned', 'draining')),
  schedule_reason text,
  readiness jsonb,
  checked_at timestamptz,
  added_by text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create trigger hosts_updated_at before update on public.hosts
  for each row execute function public.set_updated_at();

alter table public.hosts enable row level security;

create policy hosts_select_operator on public.hosts
  for select to authenticated
  using ((select public.is_operator()));

-- As Supabase's default privileges grant them (explicit for plain Postgres); RLS decides.
grant select, insert, update, delete on public.hosts to anon, authenticated, service_role;
