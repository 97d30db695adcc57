import { type Kysely, sql } from 'kysely';

/**
 * Full-text search: a weighted tsvector per document, kept current by triggers, with accent
 * folding (unaccent) and the document's own language configuration.
 *
 * - Three text search configurations, copies of dutch, english and simple whose `word` token
 *   types (words with non-ASCII letters) pass through `unaccent` first, so "café", "cafe" and
 *   "Café" meet. Queries use the same configurations, so both sides fold the same way.
 * - `docsight_search_head()` and `docsight_search_body()` are the one definition of what is
 *   indexed: title, file name and tag labels (A), primary category and summary (B) make the head;
 *   the text (C) the body; search_vector = head || body. Inputs are cut to a bounded
 *   prefix: a tsvector cannot exceed 1 MB, and an error inside the trigger would fail the whole
 *   extraction batch, so the bound (100,000 text characters: at most ~6 bytes of tsvector per
 *   input character) makes that impossible for any input.
 * - The documents trigger recomputes only when an input changed; the classifications trigger
 *   covers a forced reclassification that rewrites the same classification row in place.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Trusted extension (PostgreSQL 13+): the database owner may create it without superuser.
  await sql`create extension if not exists unaccent`.execute(db);
  for (const [name, base, stem] of [
    ['docsight_dutch', 'dutch', 'dutch_stem'],
    ['docsight_english', 'english', 'english_stem'],
    ['docsight_simple', 'simple', 'simple'],
  ] as const) {
    await sql`create text search configuration ${sql.id(name)} (copy = ${sql.id('pg_catalog', base)})`.execute(db);
    await sql`
      alter text search configuration ${sql.id(name)}
        alter mapping for hword, hword_part, word with unaccent, ${sql.id(stem)}`.execute(db);
  }

  // ISO 639-3 (what extraction stores) → configuration. Anything else: no stemming, no stop words.
  await sql`
    create function docsight_search_config(language text) returns regconfig
    language sql immutable parallel safe as $$
      select case language
        when 'nld' then 'docsight_dutch'::regconfig
        when 'eng' then 'docsight_english'::regconfig
        else 'docsight_simple'::regconfig
      end
    $$`.execute(db);

  // Tag labels of a classification's tags (jsonb [{label, ...}]); anything malformed gives none.
  await sql`
    create function docsight_search_tags(tags jsonb) returns text[]
    language sql immutable parallel safe as $$
      select coalesce(array_agg(distinct left(t ->> 'label', 200)) filter (where t ->> 'label' is not null), '{}')
      from jsonb_array_elements(case when jsonb_typeof(tags) = 'array' then tags else '[]'::jsonb end) t
    $$`.execute(db);

  // The "head": what a document is called and what it is about (title, file name, tags, category,
  // summary). Small, so it stays inline; its own index finds the best candidates of a common word.
  await sql`
    create function docsight_search_head(
      language text, title text, name text, tags jsonb, category text, summary text
    ) returns tsvector
    language sql immutable parallel safe as $$
      select
        setweight(to_tsvector(cfg, left(coalesce(title, ''), 1000)), 'A') ||
        -- "risk_analysis-2023.docx" → "risk analysis 2023": the extension is noise, separators split words
        setweight(to_tsvector(cfg, translate(regexp_replace(left(coalesce(name, ''), 300), '\\.[^.]*$', ''), '_-.', '   ')), 'A') ||
        setweight(to_tsvector(cfg, array_to_string(docsight_search_tags(tags), ' ')), 'A') ||
        setweight(to_tsvector(cfg, left(coalesce(category, ''), 200)), 'B') ||
        setweight(to_tsvector(cfg, left(coalesce(summary, ''), 5000)), 'B')
      from (select docsight_search_config(language) as cfg) c
    $$`.execute(db);
  await sql`
    create function docsight_search_body(language text, body text) returns tsvector
    language sql immutable parallel safe as $$
      select setweight(to_tsvector(docsight_search_config(language), left(coalesce(body, ''), 100000)), 'C')
    $$`.execute(db);

  await sql`
    alter table documents
      add column search_head tsvector,
      add column search_vector tsvector,
      add column search_tags text[]`.execute(db);

  await sql`
    create function docsight_documents_search_vector() returns trigger
    language plpgsql as $$
    declare
      c_tags jsonb;
      c_category text;
      c_summary text;
    begin
      -- Rescans rewrite rows whose inputs did not change: keep the vector instead of re-parsing text.
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
    create trigger documents_search_vector
    before insert or update of title, name, text, language, classification_id on documents
    for each row execute function docsight_documents_search_vector()`.execute(db);

  await sql`
    create function docsight_classifications_search_vector() returns trigger
    language plpgsql as $$
    begin
      -- By primary key (document_id), not by classification_id, which has no index.
      update documents d
         set search_tags = docsight_search_tags(new.tags),
             search_head = docsight_search_head(d.language, d.title, d.name, new.tags, new.primary_category, new.summary),
             search_vector = docsight_search_head(d.language, d.title, d.name, new.tags, new.primary_category, new.summary)
                             || docsight_search_body(d.language, d.text)
       where d.id = new.document_id and d.classification_id = new.id;
      return null;
    end
    $$`.execute(db);
  await sql`
    create trigger classifications_search_vector
    after update of tags, primary_category, summary on classifications
    for each row execute function docsight_classifications_search_vector()`.execute(db);

  // Existing rows: the trigger does the work (it recomputes when search_vector is null).
  // `docsight reindex-search` does the same in batches.
  await sql`update documents set title = title`.execute(db);

  // Deleted documents are never searched: leave them out of the indexes.
  await sql`create index documents_search_idx on documents using gin (search_vector) where deleted_at is null`.execute(db);
  await sql`create index documents_search_head_idx on documents using gin (search_head) where deleted_at is null`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop trigger if exists classifications_search_vector on classifications`.execute(db);
  await sql`drop function if exists docsight_classifications_search_vector()`.execute(db);
  await sql`drop trigger if exists documents_search_vector on documents`.execute(db);
  await sql`drop function if exists docsight_documents_search_vector()`.execute(db);
  await sql`alter table documents drop column if exists search_vector, drop column if exists search_head, drop column if exists search_tags`.execute(db);
  await sql`drop function if exists docsight_search_body(text, text)`.execute(db);
  await sql`drop function if exists docsight_search_head(text, text, text, jsonb, text, text)`.execute(db);
  await sql`drop function if exists docsight_search_tags(jsonb)`.execute(db);
  await sql`drop function if exists docsight_search_config(text)`.execute(db);
  for (const name of ['docsight_dutch', 'docsight_english', 'docsight_simple']) {
    await sql`drop text search configuration if exists ${sql.id(name)}`.execute(db);
  }
}
