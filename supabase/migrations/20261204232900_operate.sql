-- Operating tenants (issue 15): health, capacity, backups and the operations
-- that are not reconciles.
--
-- instances.health: what the worker's scheduled check last found (Dokku's
--   process report and, where probed, the readiness URL): unknown until the
--   first check of a running tenant, then healthy or degraded; health_report
--   holds the findings, certificate expiries and whether the HTTP probe ran.
--   Customers read their own (RLS), so findings are written for them.
-- instances.blocked_reason: why the desired spec cannot be applied now
--   (no host has room for a new tenant, or for an upgrade), shown to the
--   customer and operators; cleared when it applies.
-- actual_state 'waiting_for_capacity': a paid tenant that no host has room
--   for yet; it provisions as soon as one has.
-- instances.last_backup_at: the newest backup found in the tenant's prefix.
-- instances.backups_purged_at: every backup of a deleted tenant removed
--   after its retention (GDPR).
alter table public.instances drop constraint instances_actual_state_check;
alter table public.instances
  add constraint instances_actual_state_check check (
    actual_state in (
      'pending', 'waiting_for_capacity', 'provisioning', 'running', 'suspended', 'deleting', 'deleted', 'failed'
    )
  ),
  add column health text not null default 'unknown' check (health in ('unknown', 'healthy', 'degraded')),
  add column health_checked_at timestamptz,
  add column health_report jsonb,
  add column blocked_reason text,
  add column last_backup_at timestamptz,
  add column backups_purged_at timestamptz;

create index instances_health_idx on public.instances (health) where health = 'degraded';

-- Operations an operator or a schedule runs besides reconciles: backups,
-- restores, moves between hosts, re-adopting a lost stack.
alter table public.operations drop constraint operations_kind_check;
alter table public.operations
  add constraint operations_kind_check check (
    kind in ('up', 'destroy', 'preview', 'refresh', 'drift', 'backup', 'restore', 'move', 'import')
  );
alter table public.operations drop constraint operations_trigger_check;
alter table public.operations
  add constraint operations_trigger_check check (
    "trigger" in ('stripe', 'sweep', 'operator', 'customer', 'retry', 'schedule')
  );
