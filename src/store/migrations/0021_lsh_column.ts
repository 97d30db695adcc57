import { type Kysely, sql } from 'kysely';
import { createBandRows } from './0013_duplicates.ts';

/**
 * The LSH bands of a document's MinHash signature (0013) move from 20 rows of `document_bands` into
 * one array column of the document, `lsh`, generated from `minhash` and indexed with GIN. Written
 * as rows, each extracted document cost 20 inserts, 40 index entries and 20 foreign-key checks (and
 * 20 deletes when extracted again): on the pipeline benchmark the band rows cost several times the
 * update of the document itself. Generated, the bands can never disagree with the signature, and no
 * writer has to remember them.
 *
 * Bands as before: 20 bands of 6 slots (of 128), each hashed with its band number as the seed; the
 * element at position n (1-based) is band n-1. Documents sharing a band are candidates; the
 * grouping verifies each on the whole signature.
 *
 * Idempotent (if not exists, or replace), so a test can give an older schema this before the
 * repositories of today read and write it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function docsight_lsh_bands(sig int4[]) returns int8[]
    language sql immutable strict parallel safe as $$
      select array(select hashtextextended(sig[b * 6 + 1 : b * 6 + 6]::text, b) from generate_series(0, 19) as b order by b)
    $$`.execute(db);
  await sql`alter table documents add column if not exists lsh int8[] generated always as (docsight_lsh_bands(minhash)) stored`.execute(db);
  await sql`create index if not exists documents_lsh_idx on documents using gin (lsh)`.execute(db);
  await sql`drop table if exists document_bands`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await createBandRows(db);
  await sql`
    insert into document_bands (document_id, band, hash)
    select d.id, b.band - 1, b.hash from documents d cross join unnest(d.lsh) with ordinality as b(hash, band)
    where d.lsh is not null
    on conflict do nothing`.execute(db);
  await sql`drop index if exists documents_lsh_idx`.execute(db);
  await sql`alter table documents drop column if exists lsh`.execute(db);
  await sql`drop function if exists docsight_lsh_bands(int4[])`.execute(db);
}
