import { type Kysely, sql } from 'kysely';

/**
 * Batch API batches (issue 18): one row per classification batch sent through the provider's
 * Batch API, holding the provider's batch id, so the poll (a delayed queue job) finds it again
 * after a worker restart, and a cancelled job can cancel it. `document_ids`: the documents the
 * batch holds, each under its id as custom_id; the rest of the job batch went directly.
 *
 * Idempotent (if not exists), so a test can give an older schema this table before the
 * repositories of today write to it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table if not exists llm_batches (
      job_id uuid not null references jobs (id) on delete cascade,
      batch_no int not null,
      provider_batch_id text not null,
      input_file_id text not null,
      status text not null,
      document_ids uuid[] not null,
      polls int not null default 0,
      submitted_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      ended_at timestamptz,
      primary key (job_id, batch_no)
    )`.execute(db);
  await sql`create index if not exists llm_batches_open_idx on llm_batches (job_id) where ended_at is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists llm_batches`.execute(db);
}
