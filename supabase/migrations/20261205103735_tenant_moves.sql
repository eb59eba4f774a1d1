-- Tenant moves between Dokku hosts (`mindroom-ops move`, fleet/tenantMove.ts): one row per
-- move in progress, written after every step, so a move cut off anywhere (a dropped
-- connection, a killed process) is finished by running it again, on any control-plane
-- machine. It holds where the move goes, the next step, the time naming its backup set, and
-- the old stack's checkpoint (`pulumi stack export`: secret values stay encrypted by the
-- stack's secrets provider), which removes the tenant from its old host at the end. The row
-- goes when the move is done. In the `automation` schema: the service role's alone.

create table automation.tenant_moves (
  instance_id uuid primary key references public.instances (id) on delete cascade,
  from_host text not null,
  to_host text not null check (to_host <> from_host),
  step text not null check (step in ('backup', 'checkpoint', 'switch', 'restore', 'cleanup')),
  backup_at timestamptz,
  checkpoint jsonb check (checkpoint is null or jsonb_typeof(checkpoint) = 'object'),
  started_at timestamptz not null default clock_timestamp(),
  updated_at timestamptz not null default clock_timestamp(),
  check (step in ('backup') or backup_at is not null),
  check (step in ('backup', 'checkpoint') or checkpoint is not null)
);

grant select, insert, update, delete on automation.tenant_moves to service_role;
