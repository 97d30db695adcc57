import { type Kysely, sql } from 'kysely';

/**
 * Webhooks and their transactional outbox.
 *
 * `webhooks` holds the subscriptions (the signing secret sealed by services/secrets.ts, never in
 * the clear when SECRETS_KEY is set). `webhook_events` is what happened, `webhook_deliveries` one
 * event owed to one webhook (claimed by one deliverer at a time: `for update skip locked` plus a
 * lease), `webhook_attempts` the delivery log.
 *
 * Jobs reach a final status in several statements (the last batch, the last OCR document, the end
 * of discovery, a failure, a cancel): a trigger on `jobs` records each ending in `job_endings` in
 * the transaction that ended the job, so no path (today's or a future one) can end a job without
 * its event, and nothing is recorded for a transaction that rolls back. The deliverer turns the
 * endings into events (services/webhooks.service.ts). Nothing is recorded while no webhook is
 * enabled, so the table costs nothing to those who use none.
 *
 * Idempotent (if not exists, or replace), so a test can give an older schema these before the
 * repositories of today write to them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table if not exists webhooks (
      id uuid primary key default gen_random_uuid(),
      url text not null,
      events text[] not null,
      folder_path text,
      secret text not null,
      enabled boolean not null default true,
      consecutive_failures integer not null default 0,
      disabled_at timestamptz,
      disabled_reason text,
      created_by uuid references api_keys (id) on delete set null,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create table if not exists webhook_events (
      id uuid primary key default gen_random_uuid(),
      type text not null,
      folder_path text,
      data jsonb not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index if not exists webhook_events_created_idx on webhook_events (created_at)`.execute(db);
  await sql`
    create table if not exists webhook_deliveries (
      id uuid primary key default gen_random_uuid(),
      webhook_id uuid not null references webhooks (id) on delete cascade,
      event_id uuid not null references webhook_events (id) on delete cascade,
      status text not null default 'pending' check (status in ('pending', 'delivered', 'failed')),
      attempts integer not null default 0,
      next_attempt_at timestamptz not null default now(),
      leased_until timestamptz,
      last_status_code integer,
      last_error text,
      created_at timestamptz not null default now(),
      finished_at timestamptz,
      unique (webhook_id, event_id)
    )`.execute(db);
  await sql`create index if not exists webhook_deliveries_due_idx on webhook_deliveries (next_attempt_at) where status = 'pending'`.execute(db);
  await sql`create index if not exists webhook_deliveries_event_idx on webhook_deliveries (event_id)`.execute(db);
  await sql`
    create table if not exists webhook_attempts (
      id bigserial primary key,
      delivery_id uuid not null references webhook_deliveries (id) on delete cascade,
      webhook_id uuid not null references webhooks (id) on delete cascade,
      attempt integer not null,
      status_code integer,
      error text,
      duration_ms integer not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index if not exists webhook_attempts_webhook_idx on webhook_attempts (webhook_id, id desc)`.execute(db);
  await sql`create index if not exists webhook_attempts_delivery_idx on webhook_attempts (delivery_id)`.execute(db);
  await sql`
    create table if not exists job_endings (
      id bigserial primary key,
      job_id uuid not null,
      status text not null,
      created_at timestamptz not null default now()
    )`.execute(db);
  await sql`
    create or replace function docsight_job_ended() returns trigger language plpgsql as $$
    begin
      if exists (select 1 from webhooks where enabled) then
        insert into job_endings (job_id, status) values (new.id, new.status);
      end if;
      return null;
    end $$`.execute(db);
  await sql`drop trigger if exists jobs_ended on jobs`.execute(db);
  await sql`
    create trigger jobs_ended after update of status on jobs for each row
    when (old.status in ('queued', 'running') and new.status in ('completed', 'failed', 'cancelled'))
    execute function docsight_job_ended()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger if exists jobs_ended on jobs`.execute(db);
  await sql`drop function if exists docsight_job_ended()`.execute(db);
  await sql`drop table if exists job_endings`.execute(db);
  await sql`drop table if exists webhook_attempts`.execute(db);
  await sql`drop table if exists webhook_deliveries`.execute(db);
  await sql`drop table if exists webhook_events`.execute(db);
  await sql`drop table if exists webhooks`.execute(db);
}
