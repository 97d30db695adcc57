import { type Kysely, sql } from 'kysely';

/**
 * Reviewer corrections and evaluations (issue 18).
 *
 * - `classification_reviews`: one per document, content (sha256) and taxonomy: the labels a
 *   reviewer settled on, who (key id and name) and when. The corrected result is also written as a
 *   classification row of model 'review' and the document points at it, so listings, exports,
 *   search and the folder statistics (migration 0007) show it with no second code path. `path` is
 *   copied in (collate "C", indexed) so the reviewed count of a folder is a range of one index.
 * - `evaluation_labels`: imported gold labels, per taxonomy and document path.
 * - `evaluations`: kept runs, with the metrics computed once the run's classification job ended.
 * - `classifications.latency_ms`: how long the document's requests took (null: older results).
 * - A partial index on current results that need review: the review queue walks it oldest first.
 *
 * Idempotent (if not exists), as 0010+.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table classifications add column if not exists latency_ms integer`.execute(db);
  await sql`
    create index if not exists classifications_review_queue_idx on classifications (created_at, id)
    where needs_review`.execute(db);
  await sql`
    create table if not exists classification_reviews (
      id uuid primary key default gen_random_uuid(),
      document_id uuid not null references documents (id) on delete cascade,
      path text collate "C" not null,
      content_sha256 text not null,
      taxonomy_id uuid not null references taxonomies (id) on delete cascade,
      taxonomy_version integer not null,
      tags jsonb not null,
      primary_category text not null,
      accepted boolean not null,
      base_classification_id uuid references classifications (id) on delete set null,
      classification_id uuid not null references classifications (id) on delete cascade,
      reviewed_by uuid,
      reviewer_name text,
      reviewed_at timestamptz not null default now(),
      unique (document_id, content_sha256, taxonomy_id)
    )`.execute(db);
  await sql`create index if not exists classification_reviews_path_idx on classification_reviews (path) include (classification_id, document_id)`.execute(db);
  await sql`create index if not exists classification_reviews_taxonomy_idx on classification_reviews (taxonomy_id, path)`.execute(db);
  await sql`
    create table if not exists evaluation_labels (
      taxonomy_id uuid not null references taxonomies (id) on delete cascade,
      path text collate "C" not null,
      tags jsonb not null,
      primary_category text,
      imported_by uuid,
      imported_at timestamptz not null default now(),
      primary key (taxonomy_id, path)
    )`.execute(db);
  await sql`
    create table if not exists evaluations (
      id uuid primary key default gen_random_uuid(),
      path text not null,
      taxonomy_id uuid not null references taxonomies (id) on delete cascade,
      taxonomy_name text not null,
      taxonomy_version integer not null,
      model text not null,
      prompt_version text not null,
      status text not null default 'running',
      job_id uuid references jobs (id) on delete set null,
      documents integer not null default 0,
      gold jsonb not null,
      metrics jsonb,
      error_code text,
      error_message text,
      created_by uuid,
      created_at timestamptz not null default now(),
      finished_at timestamptz
    )`.execute(db);
  await sql`create index if not exists evaluations_created_idx on evaluations (created_at desc, id desc)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists evaluations`.execute(db);
  await sql`drop table if exists evaluation_labels`.execute(db);
  await sql`drop table if exists classification_reviews`.execute(db);
  await sql`drop index if exists classifications_review_queue_idx`.execute(db);
  await sql`alter table classifications drop column if exists latency_ms`.execute(db);
}
