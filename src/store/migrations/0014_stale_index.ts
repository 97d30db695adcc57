import { type Kysely, sql } from 'kysely';

/**
 * Stale documents of a folder (modified before a cutoff that moves with the clock, so nothing
 * about them is stored) are counted from an index on the modified date as insights and listings read it,
 * coalesce(doc_modified, mtime), with the path and size beside it, so the count and bytes of the
 * documents past the cutoff come from the index alone instead of the table.
 *
 * Idempotent (if not exists), so a test can give an older schema this index before the
 * repositories of today read with it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index if not exists documents_modified_path_idx on documents ((coalesce(doc_modified, mtime)), path)
    include (size) where deleted_at is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists documents_modified_path_idx`.execute(db);
}
