import { type Kysely, sql } from 'kysely';

/**
 * Documents inside documents, and OCR.
 *
 * An e-mail's attachments and an archive's entries are documents of their own (parent_id), in
 * their file's folder, addressed `<parent path>#<n>/<name>`; `file_id` is the file on disk they
 * came from and `embedded_at` their index path inside it, so a later stage can read them again
 * without keeping their bytes. They are never seen by a walk: they live and die with their file.
 *
 * OCR is a stage of its own after extraction: a document whose pages have no usable text is
 * `ocr_status = 'pending'` until an OCR job reads it; its counts are on the job (ocr_*), so a scan
 * completes only when its OCR has ended too. `ocr_results` keeps what OCR read, keyed by content,
 * languages and engine, so an unchanged scan is never read twice.
 *
 * Idempotent (if not exists), so a test can give an older schema these columns before the
 * repositories of today write to it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table documents
      add column if not exists parent_id uuid references documents (id) on delete cascade,
      add column if not exists file_id uuid references documents (id) on delete cascade,
      add column if not exists embedded_at integer[],
      add column if not exists origin text not null default 'file' check (origin in ('file', 'attachment', 'archive-entry')),
      add column if not exists text_source text check (text_source in ('text-layer', 'ocr', 'mixed')),
      add column if not exists ocr_status text check (ocr_status in ('pending', 'done', 'failed', 'skipped')),
      add column if not exists ocr_job_id uuid,
      add column if not exists ocr_pages integer,
      add column if not exists ocr_confidence real,
      add column if not exists ocr_languages text[],
      add column if not exists ocr_low_confidence boolean,
      add column if not exists ocr_error_code text,
      add column if not exists ocr_error_message text`.execute(db);
  await sql`create index if not exists documents_file_idx on documents (file_id) where file_id is not null`.execute(db);
  await sql`create index if not exists documents_parent_idx on documents (parent_id) where parent_id is not null`.execute(db);
  // Insights count scanned documents and attachments per folder range: both are a minority.
  await sql`create index if not exists documents_ocr_idx on documents (path) where ocr_status is not null and deleted_at is null`.execute(db);
  await sql`create index if not exists documents_embedded_idx on documents (path) where origin <> 'file' and deleted_at is null`.execute(db);
  await sql`create index if not exists documents_ocr_pending_idx on documents (ocr_job_id) where ocr_status = 'pending'`.execute(db);
  await sql`
    create table if not exists ocr_results (
      sha256 text not null,
      languages text not null,
      engine text not null,
      text text not null,
      text_source text not null,
      pages integer not null,
      confidence real,
      created_at timestamptz not null default now(),
      primary key (sha256, languages, engine)
    )`.execute(db);
  await sql`
    alter table jobs
      add column if not exists ocr_documents integer not null default 0,
      add column if not exists ocr_documents_done integer not null default 0,
      add column if not exists ocr_pages_total integer not null default 0,
      add column if not exists ocr_pages_done integer not null default 0,
      add column if not exists ocr_started_at timestamptz`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table jobs
      drop column ocr_documents, drop column ocr_documents_done, drop column ocr_pages_total,
      drop column ocr_pages_done, drop column ocr_started_at`.execute(db);
  await sql`drop table if exists ocr_results`.execute(db);
  await sql`delete from documents where parent_id is not null`.execute(db);
  await sql`
    alter table documents
      drop column parent_id, drop column file_id, drop column embedded_at, drop column origin,
      drop column text_source, drop column ocr_status, drop column ocr_job_id, drop column ocr_pages,
      drop column ocr_confidence, drop column ocr_languages, drop column ocr_low_confidence,
      drop column ocr_error_code, drop column ocr_error_message`.execute(db);
}
