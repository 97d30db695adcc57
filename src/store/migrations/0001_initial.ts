import { type Kysely, sql } from 'kysely';

/**
 * Documents, folders and jobs. Paths use the "C" collation so that "inside folder X" is a byte
 * range on the unique path index (path >= 'X/' and path < 'X0'), never LIKE 'X%' (which would
 * also match the sibling "X2").
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table folders (
      path text collate "C" primary key,
      parent_path text collate "C",
      last_scan_job_id uuid,
      last_scanned_at timestamptz,
      first_seen_at timestamptz not null default now()
    )`.execute(db);

  await sql`
    create table documents (
      id uuid primary key default gen_random_uuid(),
      path text collate "C" not null unique,
      folder text collate "C" not null,
      name text not null,
      extension text not null,
      size bigint not null,
      mtime timestamptz not null,
      sha256 text,
      mime_type text,
      format text,
      status text not null default 'pending'
        check (status in ('pending', 'extracted', 'unsupported', 'failed')),
      error_code text,
      error_message text,
      title text,
      author text,
      doc_created timestamptz,
      doc_modified timestamptz,
      language text,
      page_count integer,
      word_count integer,
      metadata jsonb not null default '{}',
      text text,
      text_truncated boolean not null default false,
      extraction_count integer not null default 0,
      first_seen_at timestamptz not null default now(),
      last_seen_at timestamptz not null default now(),
      extracted_at timestamptz,
      deleted_at timestamptz,
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`create index documents_folder_idx on documents (folder)`.execute(db);

  await sql`
    create table jobs (
      id uuid primary key default gen_random_uuid(),
      kind text not null,
      status text not null default 'queued'
        check (status in ('queued', 'running', 'completed', 'failed', 'cancelled')),
      parent_id uuid references jobs (id) on delete cascade,
      folder_path text collate "C",
      params jsonb not null default '{}',
      dedupe_key text,
      total integer not null default 0,
      done integer not null default 0,
      failed integer not null default 0,
      skipped integer not null default 0,
      discovery_done boolean not null default false,
      stats jsonb not null default '{}',
      error_code text,
      error_message text,
      request_id text,
      created_at timestamptz not null default now(),
      started_at timestamptz,
      finished_at timestamptz,
      updated_at timestamptz not null default now()
    )`.execute(db);
  // One active job per identical request: a second submission finds the first.
  await sql`
    create unique index jobs_active_dedupe_idx on jobs (dedupe_key)
    where status in ('queued', 'running')`.execute(db);
  await sql`create index jobs_created_idx on jobs (created_at desc, id desc)`.execute(db);
  await sql`create index jobs_parent_idx on jobs (parent_id) where parent_id is not null`.execute(db);

  // A batch counts into its job's progress exactly once, even when its queue job runs twice:
  // its row is created once (adding to the job's total) and completed once (adding the outcome).
  await sql`
    create table job_batches (
      job_id uuid not null references jobs (id) on delete cascade,
      batch_no integer not null,
      total integer not null,
      done integer not null default 0,
      failed integer not null default 0,
      skipped integer not null default 0,
      created_at timestamptz not null default now(),
      completed_at timestamptz,
      primary key (job_id, batch_no)
    )`.execute(db);

  await sql`
    create table job_failures (
      job_id uuid not null references jobs (id) on delete cascade,
      document_id uuid not null references documents (id) on delete cascade,
      path text not null,
      code text not null,
      message text not null,
      created_at timestamptz not null default now(),
      primary key (job_id, document_id)
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['job_failures', 'job_batches', 'jobs', 'documents', 'folders']) {
    await sql`drop table if exists ${sql.table(t)}`.execute(db);
  }
}
