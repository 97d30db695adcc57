import { type Kysely, sql } from 'kysely';

/**
 * Listings sorted by file modification time (the original design's get_folder_files_metadata:
 * the newest ten of a folder) walk an index in that order and stop at the page's end, instead of
 * reading and sorting every document of the folder on each request.
 *
 * Idempotent (if not exists), as 0010-0014.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index if not exists documents_mtime_idx on documents (mtime, id) where deleted_at is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists documents_mtime_idx`.execute(db);
}
