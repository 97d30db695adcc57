import { type Kysely, sql } from 'kysely';

/**
 * Which batch of a classification job each document was planned in. A plan may run many times
 * for one job (while its scan is still extracting the folder, each look plans the documents
 * extracted so far; after a crash, the rerun): the primary key lets each document in at most
 * once per job, so none is classified twice by it, and an opened batch whose queue job was lost
 * can be enqueued again with its documents.
 *
 * Idempotent (if not exists), so a test can give an older schema this table before the
 * repositories of today write to it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table if not exists classify_planned (
      job_id uuid not null references jobs (id) on delete cascade,
      document_id uuid not null,
      batch_no int not null,
      -- Counted as skipped when planned (a result for its content was there): not sent.
      skipped boolean not null default false,
      primary key (job_id, document_id)
    )`.execute(db);
  await sql`create index if not exists classify_planned_batch_idx on classify_planned (job_id, batch_no)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists classify_planned`.execute(db);
}
