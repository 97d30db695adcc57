import { type Kysely, sql } from 'kysely';

/**
 * Bucket sources (issue 17): S3-compatible buckets beside the documents root. A source's name is
 * the first segment of the paths of its documents (`<name>/<key>`), so documents, folders,
 * insights, search and scopes need no column of their own. Credentials are stored only as
 * AES-256-GCM ciphertext (services/secrets.ts); null means "the environment's credentials".
 *
 * `documents.etag` is the object's ETag at its last extraction: with size and LastModified it
 * tells an unchanged object without downloading it. Null for files of the documents root.
 *
 * Idempotent (if not exists), like 0010 and later.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table if not exists sources (
      name text primary key,
      kind text not null check (kind in ('s3')),
      bucket text not null,
      prefix text not null default '',
      endpoint text,
      region text,
      force_path_style boolean not null default false,
      access_key_id_enc text,
      secret_access_key_enc text,
      watch_interval_seconds integer check (watch_interval_seconds is null or watch_interval_seconds >= 10),
      watched_at timestamptz,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    )`.execute(db);
  await sql`alter table documents add column if not exists etag text`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table documents drop column if exists etag`.execute(db);
  await sql`drop table if exists sources`.execute(db);
}
