-- One operation per tenant across every control-plane machine, and stack config that
-- no machine keeps to itself (automation/tenantLease.ts, automation/stackConfigStore.ts).
--
-- A lease is a row per tenure: who holds the tenant (a random holder id, with the host
-- and pid it runs on, for people and for Pulumi's lock files), since when, and until
-- when unless renewed. At most one unreleased lease per tenant (a partial unique index);
-- a holder renews its lease every few seconds and stops its own work before the lease
-- can expire, so a lease that has expired belongs to a holder that is gone (killed,
-- partitioned, its machine down), and the next holder closes it and takes over. Times
-- are the database's clock, never a machine's. Released and expired tenures stay for a
-- while: they tell which Pulumi lock files were written by holders that are gone.
--
-- The stack config (what `Pulumi.<stack>.yaml` holds: the config and the secrets
-- provider's salt or key; secret values stay encrypted by the stack's secrets provider)
-- is kept here and written to the machine running the next operation, so every machine
-- runs a stack with the same config. A write is accepted only from the tenant's live
-- lease holder: a holder that lost its lease cannot overwrite what the next one wrote.
--
-- Operations record the lease they ran under, so a later reconcile marks one
-- interrupted only when that lease is gone.
--
-- The `automation` schema is not exposed through the API (only `public` is) and only
-- the service role may use it.

create schema if not exists automation;

create table automation.tenant_leases (
  holder uuid primary key,
  tenant text not null check (tenant ~ '^[a-z][a-z0-9]*(-[a-z0-9]+)*$' and length(tenant) between 3 and 30),
  operation text not null check (operation ~ '^[a-z][a-z0-9-]{0,31}$'),
  holder_host text not null check (holder_host ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$'),
  holder_pid integer not null check (holder_pid > 0),
  acquired_at timestamptz not null default clock_timestamp(),
  renewed_at timestamptz not null default clock_timestamp(),
  expires_at timestamptz not null,
  released_at timestamptz,
  check (expires_at > acquired_at),
  check (released_at is null or released_at >= acquired_at)
);

create unique index tenant_leases_one_live_per_tenant on automation.tenant_leases (tenant)
  where released_at is null;
create index tenant_leases_tenant_acquired_idx on automation.tenant_leases (tenant, acquired_at desc);

create table automation.stack_configs (
  stack text primary key check (stack ~ '^[a-z][a-z0-9]*(-[a-z0-9]+)*$' and length(stack) between 3 and 30),
  settings jsonb not null check (jsonb_typeof(settings) = 'object'),
  written_by uuid not null,
  updated_at timestamptz not null default clock_timestamp()
);

alter table public.operations add column lease_holder uuid;

revoke all on schema automation from public;
grant usage on schema automation to service_role;
grant select, insert, update, delete on automation.tenant_leases, automation.stack_configs to service_role;
