import { type Kysely, sql } from 'kysely';

/**
 * A sample of the match index, for words that most documents contain.
 *
 * A GIN index cannot stop early: a search reads the whole list of matches of its words before
 * the first row, ~10 ms for a word in 60% of 100,000 documents, and the total, facets and ranking
 * candidates of such a search only ever use the first 500 matches found. This partial index holds
 * the same expression (head || body) for one document in eight, chosen by a byte of the id (ids
 * are random: gen_random_uuid), so the list of a common word there is an eighth as long. A search
 * reads it first and takes its total, facets and first candidates from it when it holds more
 * matches than are counted; otherwise it reads the whole index as before (search.repository.ts).
 *
 * The predicate is repeated verbatim in search.repository.ts (SAMPLED): the planner uses a partial
 * index only for a query whose conditions imply its predicate.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index documents_search_sample_idx on documents
    using gin ((coalesce(search_head, ''::tsvector) || coalesce(search_body, ''::tsvector)))
    where deleted_at is null and get_byte(uuid_send(id), 15) < 32`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists documents_search_sample_idx`.execute(db);
}
