import { type Kysely, sql } from 'kysely';

/**
 * Personal data extraction found in a document (src/pii): `pii` holds the masked summary (count
 * and at most three masked samples per kind, never a clear value), `pii_kinds` the kinds found,
 * for the `sensitive` filters. Its GIN index answers "has this kind" (`@>`) and, being partial,
 * holds only the minority of documents with any, which the folder roll-up reads.
 *
 * Idempotent (if not exists), so a test can give an older schema these columns before the
 * repositories of today write to them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table documents add column if not exists pii jsonb`.execute(db);
  await sql`alter table documents add column if not exists pii_kinds text[] not null default '{}'`.execute(db);
  await sql`
    create index if not exists documents_pii_kinds_idx on documents using gin (pii_kinds)
    where cardinality(pii_kinds) > 0 and deleted_at is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists documents_pii_kinds_idx`.execute(db);
  await sql`alter table documents drop column if exists pii_kinds`.execute(db);
  await sql`alter table documents drop column if exists pii`.execute(db);
}
