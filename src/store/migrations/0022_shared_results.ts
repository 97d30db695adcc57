import { type Kysely, sql } from 'kysely';

/**
 * Results shared by content: exact copies (the same sha256) take the result made for one of them
 * under the same key instead of a request of their own, so a classification batch looks results
 * up by content and key. The unique index leads with the document, which cannot answer that.
 *
 * Idempotent (if not exists), so a test can give an older schema this index before the
 * repositories of today read with it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index if not exists classifications_content_key_idx on classifications
    (content_sha256, taxonomy_id, taxonomy_version, model, prompt_version, summary_language)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists classifications_content_key_idx`.execute(db);
}
