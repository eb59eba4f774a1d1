-- The request that caused an operation (the webhook delivery's or the portal request's
-- X-Request-Id), carried through the reconcile job, so one id finds every log line of it.
alter table public.operations add column if not exists request_id text
  check (request_id is null or request_id ~ '^[A-Za-z0-9._:-]{1,64}$');
