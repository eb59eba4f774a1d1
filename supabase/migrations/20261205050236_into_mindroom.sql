-- Into MindRoom: what the customer sets up to use their instance.
--
-- instances.bridges: the Matrix bridges the customer enabled in the portal, an
--   input to the tenant's desired spec (the worker runs as many as the tier allows).
-- matrix_accounts: the customer's own account on their tenant's homeserver, made
--   from the portal. The password is never stored, here or anywhere.
-- provider_keys: the customer's model provider keys (OpenAI, Anthropic, OpenRouter,
--   Google), sealed to the reconcile worker's public key (X25519 + AES-256-GCM,
--   database/sealedSecrets.ts): the portal that stores them cannot open them again,
--   only the worker can, and only to hand them to the tenant's stack as Pulumi
--   secrets. Customers see which providers have a key, its last four characters and
--   when it was set; the sealed value is not even readable by them.

alter table public.instances
  add column bridges text[] not null default '{}'
    check (bridges <@ array['telegram', 'whatsapp', 'discord', 'slack']::text[]);

create table public.matrix_accounts (
  instance_id uuid primary key references public.instances (id) on delete cascade,
  matrix_user_id text not null check (matrix_user_id ~ '^@[a-z0-9._=/-]+:[a-z0-9.-]+$'),
  created_at timestamptz not null default now(),
  password_reset_at timestamptz
);

create table public.provider_keys (
  customer_id uuid not null references public.customers (id) on delete cascade,
  provider text not null check (provider in ('openai', 'anthropic', 'openrouter', 'google')),
  sealed text not null,
  last4 text not null check (char_length(last4) = 4),
  set_at timestamptz not null default now(),
  primary key (customer_id, provider)
);

alter table public.matrix_accounts enable row level security;
alter table public.provider_keys enable row level security;

create policy matrix_accounts_select_own_or_operator on public.matrix_accounts
  for select to authenticated
  using (
    instance_id in (select i.id from public.instances i where i.customer_id = (select public.current_customer_id()))
    or (select public.is_operator())
  );

create policy provider_keys_select_own_or_operator on public.provider_keys
  for select to authenticated
  using (customer_id = (select public.current_customer_id()) or (select public.is_operator()));

grant select, insert, update, delete on public.matrix_accounts to anon, authenticated, service_role;
-- The sealed value is for the worker (service role) only: API roles may read everything else.
grant select, insert, update, delete on public.provider_keys to service_role;
grant select (customer_id, provider, last4, set_at) on public.provider_keys to anon, authenticated;
