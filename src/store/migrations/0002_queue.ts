import { type Kysely, sql } from 'kysely';

/**
 * The PostgreSQL job queue (queue/postgres.ts). One row per pending, running or failed job;
 * completed jobs are deleted (job history lives in `jobs`). Workers claim rows with
 * `FOR UPDATE SKIP LOCKED` and hold them under a lease (`locked_by`, `locked_until`) that a
 * heartbeat extends, so a job whose worker died is claimed again once its lease has expired.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table queue_jobs (
      id bigserial primary key,
      queue text not null,
      name text not null,
      job_key text,
      payload jsonb not null default 'null',
      priority integer not null default 0,
      run_at timestamptz not null default now(),
      status text not null default 'waiting' check (status in ('waiting', 'active', 'failed')),
      attempts integer not null default 0,
      max_attempts integer not null default 5 check (max_attempts >= 1),
      locked_by text,
      locked_until timestamptz,
      last_error text,
      created_at timestamptz not null default now(),
      failed_at timestamptz
    )`.execute(db);
  // Deterministic ids: one live (waiting/delayed/active) job per key; a failed job does not block
  // adding the same key again (that is how a failed job is retried).
  await sql`
    create unique index queue_jobs_live_key_uidx on queue_jobs (queue, job_key)
      where job_key is not null and status <> 'failed'`.execute(db);
  // The claim query's order, restricted to claimable rows so the index stays small.
  await sql`
    create index queue_jobs_ready_idx on queue_jobs (queue, priority, run_at, id)
      where status = 'waiting'`.execute(db);
  // Expired leases (worker lost) are found by this one.
  await sql`
    create index queue_jobs_lease_idx on queue_jobs (queue, locked_until)
      where status = 'active'`.execute(db);
  // Adding a job id again removes its failed copy (a retry); this finds it.
  await sql`
    create index queue_jobs_failed_key_idx on queue_jobs (queue, job_key)
      where status = 'failed'`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists queue_jobs`.execute(db);
}
