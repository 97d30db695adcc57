import { type Kysely, sql } from 'kysely';

/**
 * Duplicates and versions. Exact copies share a sha256 (an index finds the copies of one
 * document). Near copies share MinHash signature slots (extract/minhash.ts): each document's
 * signature is kept (`minhash`, the 32-bit values as int4) and cut into bands (documents.repository.ts
 * says how); documents with an equal band hash are candidates (locality-sensitive hashing), found
 * by the (band, hash) index instead of comparing every pair.
 *
 * Idempotent (if not exists), so a test can give an older schema these before the repositories
 * of today write to them.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table documents add column if not exists minhash int4[]`.execute(db);
  await sql`create index if not exists documents_sha256_idx on documents (sha256) where deleted_at is null and sha256 is not null`.execute(db);
  await createBandRows(db);
}

/** The band rows (0021 moves them into a column of the document; its down brings them back). */
export async function createBandRows(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table if not exists document_bands (
      document_id uuid not null references documents (id) on delete cascade,
      band smallint not null,
      hash bigint not null,
      primary key (document_id, band)
    )`.execute(db);
  await sql`create index if not exists document_bands_hash_idx on document_bands (band, hash)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists document_bands`.execute(db);
  await sql`drop index if exists documents_sha256_idx`.execute(db);
  await sql`alter table documents drop column if exists minhash`.execute(db);
}
