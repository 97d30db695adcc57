import { type Kysely, sql } from 'kysely';

/**
 * Search, second shape: the body vector leaves the write path and ranking stops reading it.
 *
 * - `search_body`: the text's vector (weight C, with positions: phrases need them), in its own
 *   column, computed from text and language only. Not by the trigger any more: a document whose
 *   text or language changed gets `search_body = null, search_pending = true`, and the indexer
 *   (services/search-indexing.service.ts: workers, when idle; `docsight reindex-search`) fills it in batches.
 *   Until then the document is found by its head (title, name, tags, category, summary), which
 *   the trigger still keeps current at once. A classification never touches the body.
 * - `search_terms`: a small vector of the body's most frequent lexemes (at most 48, at most 4
 *   positions each, weight C like the body), stored inline, and `search_length`, the body's word
 *   count (its positions). Ranking reads head || terms and divides by log2(length) as ts_rank's
 *   normalization 1 did over the whole vector, never reading the TOASTed body; the terms' own
 *   index finds the documents a common word is central to.
 * - Matching uses head || body through an expression index, so a query can have one word in the
 *   title and another in the text. `search_vector` (head || body stored) goes: it duplicated the
 *   body and was rewritten, parse included, whenever a classification changed.
 * - Existing rows keep their body without a re-parse: the weight-C part of `search_vector` is the
 *   body (the head has weights A and B only).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table documents
      add column search_body tsvector,
      add column search_terms tsvector,
      add column search_length integer,
      add column search_pending boolean not null default false`.execute(db);

  // The body's most frequent lexemes (strict: no body, no terms), in tsvector text form (quotes doubled, backslashes escaped),
  // with their first positions, so ts_rank still sees how often a word occurs.
  await sql`
    create function docsight_search_terms(body tsvector) returns tsvector
    language sql immutable strict parallel safe as $$
      select setweight(coalesce(string_agg(
               '''' || replace(replace(t.lexeme, E'\\\\', E'\\\\\\\\'), '''', '''''') || ''':' || array_to_string(t.positions[1:4], ','),
               ' ')::tsvector, ''::tsvector), 'C')
      from (select lexeme, positions from unnest(body) where positions is not null
            order by cardinality(positions) desc, lexeme limit 48) t
    $$`.execute(db);
  // Words in the body (lexeme positions; stop words have none), for ranking's length normalization.
  await sql`
    create function docsight_search_length(body tsvector) returns integer
    language sql immutable strict parallel safe as $$
      select coalesce(sum(cardinality(positions)), 0)::int from unnest(body)
    $$`.execute(db);

  await sql`
    update documents
       set search_body = ts_filter(search_vector, '{c}'),
           search_terms = docsight_search_terms(ts_filter(search_vector, '{c}')),
           search_length = docsight_search_length(ts_filter(search_vector, '{c}')),
           search_pending = (search_vector is null and coalesce(text, '') <> '')`.execute(db);

  await sql`
    create or replace function docsight_documents_search_vector() returns trigger
    language plpgsql as $$
    declare
      c_tags jsonb;
      c_category text;
      c_summary text;
    begin
      -- The head is small: recompute it whenever one of its inputs changed.
      if tg_op = 'INSERT'
         or new.title is distinct from old.title
         or new.name is distinct from old.name
         or new.language is distinct from old.language
         or new.classification_id is distinct from old.classification_id
         or old.search_head is null then
        if new.classification_id is not null then
          select c.tags, c.primary_category, c.summary into c_tags, c_category, c_summary
          from classifications c where c.id = new.classification_id;
        end if;
        new.search_tags := docsight_search_tags(c_tags);
        new.search_head := docsight_search_head(new.language, new.title, new.name, c_tags, c_category, c_summary);
      end if;
      -- The body is not parsed here (it costs ~30% of extraction): the indexer does it.
      if tg_op = 'INSERT'
         or new.text is distinct from old.text
         or new.language is distinct from old.language then
        new.search_body := null;
        new.search_terms := null;
        new.search_length := null;
        new.search_pending := coalesce(new.text, '') <> '';
      end if;
      return new;
    end
    $$`.execute(db);

  await sql`
    create or replace function docsight_classifications_search_vector() returns trigger
    language plpgsql as $$
    begin
      update documents d
         set search_tags = docsight_search_tags(new.tags),
             search_head = docsight_search_head(d.language, d.title, d.name, new.tags, new.primary_category, new.summary)
       where d.id = new.document_id and d.classification_id = new.id;
      return null;
    end
    $$`.execute(db);

  await sql`drop index if exists documents_search_idx`.execute(db);
  await sql`alter table documents drop column search_vector`.execute(db);
  // The expression is repeated verbatim in search.repository.ts (MATCH): the planner matches it.
  await sql`
    create index documents_search_match_idx on documents
    using gin ((coalesce(search_head, ''::tsvector) || coalesce(search_body, ''::tsvector)))
    where deleted_at is null`.execute(db);
  await sql`create index documents_search_terms_idx on documents using gin (search_terms) where deleted_at is null`.execute(db);
  // What the indexer takes next, and how many are waiting inside a folder (path ranges).
  await sql`create index documents_search_pending_idx on documents (path) where search_pending and deleted_at is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists documents_search_pending_idx`.execute(db);
  await sql`drop index if exists documents_search_terms_idx`.execute(db);
  await sql`drop index if exists documents_search_match_idx`.execute(db);
  await sql`alter table documents add column search_vector tsvector`.execute(db);
  await sql`
    create or replace function docsight_documents_search_vector() returns trigger
    language plpgsql as $$
    declare
      c_tags jsonb;
      c_category text;
      c_summary text;
    begin
      if tg_op = 'UPDATE'
         and new.title is not distinct from old.title
         and new.name is not distinct from old.name
         and new.language is not distinct from old.language
         and new.classification_id is not distinct from old.classification_id
         and new.text is not distinct from old.text
         and old.search_vector is not null then
        return new;
      end if;
      if new.classification_id is not null then
        select c.tags, c.primary_category, c.summary into c_tags, c_category, c_summary
        from classifications c where c.id = new.classification_id;
      end if;
      new.search_tags := docsight_search_tags(c_tags);
      new.search_head := docsight_search_head(new.language, new.title, new.name, c_tags, c_category, c_summary);
      new.search_vector := new.search_head || docsight_search_body(new.language, new.text);
      return new;
    end
    $$`.execute(db);
  await sql`
    create or replace function docsight_classifications_search_vector() returns trigger
    language plpgsql as $$
    begin
      update documents d
         set search_tags = docsight_search_tags(new.tags),
             search_head = docsight_search_head(d.language, d.title, d.name, new.tags, new.primary_category, new.summary),
             search_vector = docsight_search_head(d.language, d.title, d.name, new.tags, new.primary_category, new.summary)
                             || docsight_search_body(d.language, d.text)
       where d.id = new.document_id and d.classification_id = new.id;
      return null;
    end
    $$`.execute(db);
  await sql`update documents set search_vector = coalesce(search_head, ''::tsvector) || docsight_search_body(language, text)`.execute(db);
  await sql`create index documents_search_idx on documents using gin (search_vector) where deleted_at is null`.execute(db);
  await sql`alter table documents drop column search_pending, drop column search_length, drop column search_terms, drop column search_body`.execute(db);
  await sql`drop function if exists docsight_search_length(tsvector)`.execute(db);
  await sql`drop function if exists docsight_search_terms(tsvector)`.execute(db);
}
