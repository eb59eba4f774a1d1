-- Keeps `auth.users` (what our tables reference and `auth.uid()` names) in step with
-- the identity server's `kratos.identities`: one row per identity, same id, its email.
-- Applied after the identity server's own migrations (the table must exist) and after
-- database/supabase-compat.sql (which creates `auth.users` on a plain Postgres).
-- Idempotent: run on every start.

create or replace function kratos.mindroom_sync_auth_user() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' then
    delete from auth.users where id = old.id;
    return old;
  end if;
  insert into auth.users (id, aud, "role", email, raw_app_meta_data, raw_user_meta_data, confirmed_at, created_at, updated_at)
  values (
    new.id, 'authenticated', 'authenticated', lower(new.traits ->> 'email'),
    '{"provider": "email", "providers": ["email"]}'::jsonb, '{}'::jsonb,
    -- Email autoconfirm locally: an account is confirmed when it is created.
    new.created_at, new.created_at, new.updated_at
  )
  on conflict (id) do update set email = excluded.email, updated_at = excluded.updated_at;
  return new;
end
$$;

drop trigger if exists mindroom_sync_auth_user on kratos.identities;
create trigger mindroom_sync_auth_user
  after insert or update of traits or delete on kratos.identities
  for each row execute function kratos.mindroom_sync_auth_user();

-- Identities created before the trigger existed.
insert into auth.users (id, aud, "role", email, raw_app_meta_data, raw_user_meta_data, confirmed_at, created_at, updated_at)
select id, 'authenticated', 'authenticated', lower(traits ->> 'email'),
  '{"provider": "email", "providers": ["email"]}'::jsonb, '{}'::jsonb, created_at, created_at, updated_at
from kratos.identities
on conflict (id) do nothing;
