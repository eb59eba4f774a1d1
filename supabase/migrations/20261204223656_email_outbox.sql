-- Outgoing email, as an outbox (mail/README.md).
--
-- The decision to send is a row written in the same transaction as the state
-- change that causes it, so an email is never decided without its cause nor
-- the other way round. (customer_id, kind, event_key) is unique: one email per
-- event, whoever decides it again (a retried job, the sweep, a replayed
-- Stripe event). A sender drains pending rows under a row lock (for update
-- skip locked), sends over SMTP with a Message-ID derived from the row's id
-- and marks it sent in that same transaction. A sender killed before the mark leaves the
-- row pending, and the retry carries the same Message-ID.
--
-- Rows carry ids but no foreign keys, like the audit log: the record of what
-- a customer was told outlives their instance.
create table public.email_outbox (
  id uuid primary key,
  customer_id uuid,
  instance_id uuid,
  kind text not null check (kind ~ '^[a-z][a-z0-9_]*$'),
  event_key text not null check (length(event_key) between 1 and 200),
  recipient text not null check (recipient ~ '^[^\s@<>]+@[^\s@<>]+$'),
  -- What the template needs (dates, URLs, tier): no secrets, ever.
  facts jsonb not null default '{}'::jsonb check (jsonb_typeof(facts) = 'object'),
  -- Derived from the id and the sender's domain; recorded with the first attempt.
  message_id text unique,
  status text not null default 'pending' check (status in ('pending', 'sent', 'failed')),
  attempts integer not null default 0 check (attempts >= 0),
  next_attempt_at timestamptz not null default now(),
  last_error text,
  smtp_response text,
  sent_at timestamptz,
  created_at timestamptz not null default now(),
  constraint email_outbox_one_per_event unique nulls not distinct (customer_id, kind, event_key),
  constraint email_outbox_sent_has_time check ((status = 'sent') = (sent_at is not null))
);

create index email_outbox_due on public.email_outbox (next_attempt_at) where status = 'pending';
create index email_outbox_by_customer on public.email_outbox (customer_id, created_at desc);

-- Customers read what they were sent (the portal may list it); operators read all.
alter table public.email_outbox enable row level security;

create policy email_outbox_select_own_or_operator on public.email_outbox
  for select to authenticated
  using (customer_id = (select public.current_customer_id()) or (select public.is_operator()));

grant select, insert, update, delete on public.email_outbox to anon, authenticated, service_role;
