import { type Kysely, sql } from 'kysely';

/**
 * What changed, and what is watched.
 *
 * `document_changes` is the history scans write: one row per document that was added, changed
 * (old and new sha256), moved (old and new path, same document id) or deleted, with the job that
 * found it. It outlives the documents it names (no foreign key): a purged document's history stays.
 * `folder` and `old_folder` are where the document is and was, so a folder's timeline is a range
 * read over either.
 *
 * `watches` are the local root's folders kept in sync by filesystem events (one process holds them).
 *
 * Idempotent (if not exists), like 0010+.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table if not exists document_changes (
      id bigserial primary key,
      at timestamptz not null default now(),
      job_id uuid,
      document_id uuid not null,
      kind text not null check (kind in ('added', 'changed', 'moved', 'deleted')),
      folder text not null,
      path text not null,
      old_folder text,
      old_path text,
      old_sha256 text,
      new_sha256 text
    )`.execute(db);
  await sql`create index if not exists document_changes_folder_idx on document_changes (folder, id)`.execute(db);
  await sql`create index if not exists document_changes_old_folder_idx on document_changes (old_folder, id) where old_folder is not null`.execute(db);
  await sql`create index if not exists document_changes_at_idx on document_changes (at)`.execute(db);
  // Moves are matched by content among files that disappeared: by sha256, deleted ones only.
  await sql`
    create index if not exists documents_deleted_sha256_idx on documents (sha256)
    where deleted_at is not null and parent_id is null and sha256 is not null`.execute(db);
  // Purging past the retention period reads deleted rows by when they were deleted.
  await sql`create index if not exists documents_deleted_at_idx on documents (deleted_at) where deleted_at is not null`.execute(db);
  await sql`
    create table if not exists watches (
      id uuid primary key default gen_random_uuid(),
      folder text not null unique,
      auto_classify boolean not null default false,
      created_by uuid,
      created_at timestamptz not null default now(),
      last_checked_at timestamptz
    )`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists watches`.execute(db);
  await sql`drop index if exists documents_deleted_at_idx`.execute(db);
  await sql`drop index if exists documents_deleted_sha256_idx`.execute(db);
  await sql`drop table if exists document_changes`.execute(db);
}
