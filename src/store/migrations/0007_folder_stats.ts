import { type Kysely, sql } from 'kysely';

/**
 * Per-folder summary rows, so folder insights read a few rows per folder instead of every
 * document of the folder on every request.
 *
 * - `folder_stats` holds, per *direct* folder of a document (documents.folder) and per dimension
 *   (`dim`) and value (`key`), the number of live documents (`n`), their bytes (`size`) and, for
 *   dim 'cost', the spend and tokens of every classification of those documents. Insights of a
 *   folder sum the rows of the folder and of every folder inside it (a byte range on the "C"
 *   collated folder, as for paths).
 * - Writers never update `folder_stats`: statement-level triggers (transition tables, one
 *   aggregated insert per statement) append signed deltas to `folder_stat_deltas`. Appending takes
 *   no row locks, so two workers writing batches of the same folder never wait for each other or
 *   deadlock on a hot counter row, whatever order their statements come in. Readers add the
 *   deltas to the base rows. Every ~500 delta rows a writer folds the visible deltas into the base
 *   rows in place (`docsight_folder_stats_compact`: an upsert on (folder, dim, key), one compactor
 *   at a time by advisory lock, others skip), so the deltas stay few and the base does not bloat.
 * - A document contributes to: total, status, format, extension, author, year (of
 *   coalesce(doc_modified, mtime), in the writer's session time zone, as the insights query used the
 *   reader's: the same server default unless a client sets TimeZone), language,
 *   error (failed only); through its current classification to classified (extracted only), review,
 *   category and one tag row per tag; and every classification of it to cost. Deleted documents
 *   contribute nothing.
 * - Oldest/newest modified (min/max cannot be kept by counters once a document leaves) are read
 *   per direct folder from the partial index documents_folder_modified_idx: two index probes per
 *   folder.
 * - A classification changes a document's contribution too: its trigger first row-locks the
 *   documents concerned (id order), so a concurrent update of the same document is counted against
 *   the classification state it really met, never twice or not at all.
 * - Hard deletes (the application never deletes documents or classifications; a taxonomy removed by
 *   hand cascades) and TRUNCATE rebuild the folders concerned from scratch, in one statement:
 *   foreign-key cascades run before the statement's trigger, so deltas there would meet a half
 *   changed state.
 */
/**
 * The columns of a document (alias t) its own contribution is computed from: `args` are passed to
 * docsight_stats_document, `changed` are compared by the update trigger (only rows whose counted
 * columns changed are counted again). Migration 0028 adds personal data to both.
 */
export interface DocumentColumns {
  args: (t: string) => string;
  changed: (t: string) => string;
}

export const V1: DocumentColumns = {
  args: (t) => `${t}.deleted_at, ${t}.size, ${t}.status, ${t}.format, ${t}.extension, ${t}.author, coalesce(${t}.doc_modified, ${t}.mtime), ${t}.language, ${t}.error_code`,
  changed: (t) =>
    `${t}.deleted_at is null, ${t}.folder, ${t}.size, ${t}.status, ${t}.format, ${t}.extension, ${t}.author, coalesce(${t}.doc_modified, ${t}.mtime), ${t}.language, ${t}.error_code`,
};

/** Its year, as 0007 first computed it (migration 0028 spares infinite times). */
export const YEAR_V1 = 'extract(year from $7)::int::text';

/** What a live document counts for by itself, its year computed by `year` (of $7). */
export function statsDocumentSql(year: string): string {
  return `
    create or replace function docsight_stats_document(
      deleted_at timestamptz, size bigint, status text, format text, extension text, author text,
      modified timestamptz, language text, error_code text
    ) returns table (dim text, key text, n bigint, size bigint)
    language sql stable parallel safe as $$
      select v.dim, v.key, 1::bigint, $2
      from (values
        ('total', null::text),
        ('status', $3),
        ('format', $4),
        ('extension', $5),
        ('author', $6),
        ('year', ${year}),
        ('language', $8),
        ('error', case when $3 = 'failed' then $9 end)
      ) v (dim, key)
      where $1 is null and (v.dim <> 'error' or v.key is not null)
    $$`;
}

/** Everything folders_in contributes, from scratch (backfill and rebuilds): null = every folder. */
export function statsFromScratchSql({ args }: DocumentColumns): string {
  return `
    create or replace function docsight_stats_from_scratch(folders_in text[])
    returns table (folder text, dim text, key text, n bigint, size bigint, cost numeric, input_tokens bigint, output_tokens bigint)
    language sql stable as $$
      select x.folder, x.dim, x.key, sum(x.n)::bigint, sum(x.size)::bigint, sum(x.cost), sum(x.i)::bigint, sum(x.o)::bigint
      from (
        select d.folder, s.dim, s.key, s.n, s.size, 0::numeric as cost, 0::bigint as i, 0::bigint as o
        from documents d, docsight_stats_document(${args('d')}) s
        where d.deleted_at is null and (folders_in is null or d.folder = any (folders_in))
        union all
        select d.folder, s.dim, s.key, s.n, 0, 0, 0, 0
        from documents d join classifications c on c.id = d.classification_id, docsight_stats_current(d.deleted_at, d.status, c.needs_review, c.primary_category, c.tags) s
        where d.deleted_at is null and (folders_in is null or d.folder = any (folders_in))
        union all
        select d.folder, 'cost', null, 1, 0, c.cost_usd, c.input_tokens, c.output_tokens
        from documents d join classifications c on c.document_id = d.id
        where d.deleted_at is null and (folders_in is null or d.folder = any (folders_in))
      ) x
      group by x.folder, x.dim, x.key
      having sum(x.n) <> 0
    $$`;
}

/** The statement trigger of documents' inserts and updates: deltas of what changed. */
export function documentsStatsSql({ args, changed }: DocumentColumns): string {
  return `
    create or replace function docsight_documents_stats() returns trigger
    language plpgsql as $$
    declare
      last_id bigint;
      added bigint;
      current_ids uuid[];
      current_last bigint;
    begin
      if tg_op = 'INSERT' then
        with ins as (
          insert into folder_stat_deltas (folder, dim, key, n, size)
          select n.folder, s.dim, s.key, sum(s.n), sum(s.size)
          from new_rows n, docsight_stats_document(${args('n')}) s
          group by 1, 2, 3
          returning id
        )
        select max(id), count(*) into last_id, added from ins;
        select array_agg(n.id) into current_ids from new_rows n where n.classification_id is not null;
      else
        with ins as (
          insert into folder_stat_deltas (folder, dim, key, n, size, cost, input_tokens, output_tokens)
          select x.folder, x.dim, x.key, sum(x.n), sum(x.size), sum(x.cost), sum(x.i), sum(x.o)
          from (
            -- Only rows whose counted columns changed (most updates, e.g. search indexing, change none).
            select n.folder, s.dim, s.key, s.n, s.size, 0::numeric as cost, 0::bigint as i, 0::bigint as o
            from old_rows o join new_rows n on n.id = o.id,
                 docsight_stats_document(${args('n')}) s
            where (${changed('o')})
                  is distinct from (${changed('n')})
            union all
            select o.folder, s.dim, s.key, -s.n, -s.size, 0, 0, 0
            from old_rows o join new_rows n on n.id = o.id,
                 docsight_stats_document(${args('o')}) s
            where (${changed('o')})
                  is distinct from (${changed('n')})
            -- Spend follows the document: only a move or a (un)delete changes where it counts.
            union all
            select m.folder, 'cost', null, m.sign, 0, m.sign * c.cost_usd, m.sign * c.input_tokens, m.sign * c.output_tokens
            from (
              select n.id, n.folder, 1 as sign from old_rows o join new_rows n on n.id = o.id
              where (o.folder is distinct from n.folder or o.deleted_at is not null) and n.deleted_at is null
              union all
              select o.id, o.folder, -1 from old_rows o join new_rows n on n.id = o.id
              where (o.folder is distinct from n.folder or n.deleted_at is not null) and o.deleted_at is null
            ) m join classifications c on c.document_id = m.id
          ) x
          group by 1, 2, 3
          having sum(x.n) <> 0 or sum(x.size) <> 0 or sum(x.cost) <> 0 or sum(x.i) <> 0 or sum(x.o) <> 0
          returning id
        )
        select max(id), count(*) into last_id, added from ins;
        select array_agg(n.id) into current_ids
        from old_rows o join new_rows n on n.id = o.id
        where (o.classification_id is not null or n.classification_id is not null)
          and (o.folder is distinct from n.folder
               or (o.deleted_at is null) <> (n.deleted_at is null)
               or o.status is distinct from n.status
               or o.classification_id is distinct from n.classification_id);
      end if;
      current_last := docsight_folder_stats_current(current_ids);
      last_id := greatest(last_id, current_last);
      if last_id is not null and last_id / 512 <> (last_id - greatest(added, 1) - 64) / 512 then
        perform docsight_folder_stats_compact();
      end if;
      return null;
    end
    $$`;
}

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table folder_stats (
      folder text collate "C" not null,
      dim text not null,
      key text,
      n bigint not null default 0,
      size bigint not null default 0,
      cost numeric not null default 0,
      input_tokens bigint not null default 0,
      output_tokens bigint not null default 0
    )`.execute(db);
  // One row per (folder, dimension, value), null values included (PostgreSQL 15+), so compaction
  // adds to rows in place instead of rewriting every row of a folder.
  await sql`
    create unique index folder_stats_key_idx on folder_stats (folder, dim, key) nulls not distinct`.execute(db);
  await sql`
    create table folder_stat_deltas (
      id bigint generated always as identity primary key,
      folder text collate "C" not null,
      dim text not null,
      key text,
      n bigint not null default 0,
      size bigint not null default 0,
      cost numeric not null default 0,
      input_tokens bigint not null default 0,
      output_tokens bigint not null default 0
    )`.execute(db);
  await sql`create index folder_stat_deltas_folder_idx on folder_stat_deltas (folder, dim)`.execute(db);
  // What each live, classified document was counted for through its current classification.
  await sql`
    create table folder_stat_current (
      document_id uuid primary key,
      folder text collate "C" not null,
      classification_id uuid not null,
      status text not null,
      needs_review boolean not null,
      primary_category text,
      tags jsonb not null
    )`.execute(db);
  await sql`create index folder_stat_current_classification_idx on folder_stat_current (classification_id)`.execute(db);
  await sql`create index folder_stat_current_folder_idx on folder_stat_current (folder)`.execute(db);
  await sql`
    create index documents_folder_modified_idx on documents (folder, (coalesce(doc_modified, mtime)))
    where deleted_at is null`.execute(db);

  await sql.raw(statsDocumentSql(YEAR_V1)).execute(db);

  // What a live document counts for through its current classification (callers join it).
  await sql`
    create function docsight_stats_current(
      deleted_at timestamptz, status text, needs_review boolean, primary_category text, tags jsonb
    ) returns table (dim text, key text, n bigint)
    language sql stable parallel safe as $$
      select v.dim, v.key, 1::bigint
      from (
        select 'classified'::text as dim, null::text as key where $2 = 'extracted'
        union all select 'review', null where $3
        union all select 'category', $4
        union all select 'tag', t ->> 'label' from jsonb_array_elements($5) t
      ) v
      where $1 is null
    $$`.execute(db);

  // Everything folders_in contributes, from scratch (backfill and rebuilds): null = every folder.
  await sql.raw(statsFromScratchSql(V1)).execute(db);

  // Fold the visible deltas into the base rows, in place; rows no document counts for any more
  // go. One compactor at a time (others skip); the deltas of transactions still running are not
  // visible here, so they stay and are folded in later.
  await sql`
    create function docsight_folder_stats_compact() returns void
    language plpgsql as $$
    begin
      if not pg_try_advisory_xact_lock(hashtext('docsight_folder_stats')) then
        return;
      end if;
      with moved as (
        delete from folder_stat_deltas returning folder, dim, key, n, size, cost, input_tokens, output_tokens
      )
      insert into folder_stats as b (folder, dim, key, n, size, cost, input_tokens, output_tokens)
      select m.folder, m.dim, m.key, sum(m.n), sum(m.size), sum(m.cost), sum(m.input_tokens), sum(m.output_tokens)
      from moved m
      group by m.folder, m.dim, m.key
      on conflict (folder, dim, key) do update
        set n = b.n + excluded.n, size = b.size + excluded.size, cost = b.cost + excluded.cost,
            input_tokens = b.input_tokens + excluded.input_tokens, output_tokens = b.output_tokens + excluded.output_tokens;
      delete from folder_stats where n = 0 and size = 0 and cost = 0 and input_tokens = 0 and output_tokens = 0;
    end
    $$`.execute(db);

  // Recompute these folders (null: all) from scratch, each table in one statement (one snapshot):
  // deltas of transactions still running stay and apply on top. The deletes are referenced by the
  // inserts' one-time filters so that they run first (an unreferenced data-modifying WITH runs
  // after the main statement, whose rows would then meet the old ones in the unique indexes).
  await sql`
    create function docsight_folder_stats_rebuild(folders_in text[]) returns void
    language plpgsql as $$
    begin
      perform pg_advisory_xact_lock(hashtext('docsight_folder_stats'));
      with gone_deltas as (
        delete from folder_stat_deltas where folders_in is null or folder = any (folders_in) returning 1
      ), gone as (
        delete from folder_stats where folders_in is null or folder = any (folders_in) returning 1
      )
      insert into folder_stats (folder, dim, key, n, size, cost, input_tokens, output_tokens)
      select * from docsight_stats_from_scratch(folders_in)
      where (select count(*) from gone_deltas) + (select count(*) from gone) >= 0;
      with gone as (
        delete from folder_stat_current where folders_in is null or folder = any (folders_in) returning 1
      )
      insert into folder_stat_current (document_id, folder, classification_id, status, needs_review, primary_category, tags)
      select d.id, d.folder, c.id, d.status, c.needs_review, c.primary_category, c.tags
      from documents d join classifications c on c.id = d.classification_id
      where d.deleted_at is null and (folders_in is null or d.folder = any (folders_in))
        and (select count(*) from gone) >= 0;
    end
    $$`.execute(db);

  // The classification part of these documents, recomputed from what is there now, against what
  // was counted for them (folder_stat_current). Idempotent, so it does not matter which trigger of
  // a statement that writes both tables runs first (a CTE inserting classifications and pointing
  // documents at them fires both after both writes). Callers hold the documents' row locks, so the
  // second statement sees what the first did.
  await sql`
    create function docsight_folder_stats_current(ids uuid[]) returns bigint
    language plpgsql as $$
    declare
      last_id bigint;
    begin
      if coalesce(cardinality(ids), 0) = 0 then
        return null;
      end if;
      with old as (
        delete from folder_stat_current where document_id = any (ids) returning *
      ), now as (
        select d.folder, d.status, c.needs_review, c.primary_category, c.tags
        from documents d join classifications c on c.id = d.classification_id
        where d.id = any (ids) and d.deleted_at is null
      ), ins as (
        insert into folder_stat_deltas (folder, dim, key, n)
        select x.folder, x.dim, x.key, sum(x.n)
        from (
          select w.folder, s.dim, s.key, s.n
          from now w, docsight_stats_current(null, w.status, w.needs_review, w.primary_category, w.tags) s
          union all
          select o.folder, s.dim, s.key, -s.n
          from old o, docsight_stats_current(null, o.status, o.needs_review, o.primary_category, o.tags) s
        ) x
        group by 1, 2, 3
        having sum(x.n) <> 0
        returning id
      )
      select max(id) into last_id from ins;
      insert into folder_stat_current (document_id, folder, classification_id, status, needs_review, primary_category, tags)
      select d.id, d.folder, c.id, d.status, c.needs_review, c.primary_category, c.tags
      from documents d join classifications c on c.id = d.classification_id
      where d.id = any (ids) and d.deleted_at is null;
      return last_id;
    end
    $$`.execute(db);

  await sql.raw(documentsStatsSql(V1)).execute(db);

  await sql`
    create function docsight_classifications_stats() returns trigger
    language plpgsql as $$
    declare
      last_id bigint;
      added bigint;
      current_ids uuid[];
      current_last bigint;
    begin
      if tg_op = 'INSERT' then
        -- Serialise with concurrent writes of the same documents (see the migration's comment).
        perform 1 from documents d where d.id in (select document_id from new_rows) order by d.id for no key update;
        with ins as (
          insert into folder_stat_deltas (folder, dim, key, n, cost, input_tokens, output_tokens)
          select d.folder, 'cost', null, count(*), sum(c.cost_usd), sum(c.input_tokens), sum(c.output_tokens)
          from new_rows c join documents d on d.id = c.document_id
          where d.deleted_at is null
          group by 1
          returning id
        )
        select max(id), count(*) into last_id, added from ins;
        select array_agg(d.id) into current_ids
        from documents d where d.classification_id in (select id from new_rows);
      else
        perform 1 from documents d
        where d.id in (select document_id from new_rows union select document_id from old_rows)
        order by d.id for no key update;
        with ins as (
          insert into folder_stat_deltas (folder, dim, key, n, cost, input_tokens, output_tokens)
          select x.folder, 'cost', null, sum(x.n), sum(x.cost), sum(x.i), sum(x.o)
          from (
            select d.folder, 1 as n, c.cost_usd as cost, c.input_tokens::bigint as i, c.output_tokens::bigint as o
            from new_rows c join documents d on d.id = c.document_id
            where d.deleted_at is null
            union all
            select d.folder, -1, -c.cost_usd, -c.input_tokens, -c.output_tokens
            from old_rows c join documents d on d.id = c.document_id
            where d.deleted_at is null
          ) x
          group by 1
          having sum(x.n) <> 0 or sum(x.cost) <> 0 or sum(x.i) <> 0 or sum(x.o) <> 0
          returning id
        )
        select max(id), count(*) into last_id, added from ins;
        select array_agg(distinct x.id) into current_ids from (
          select d.id from documents d where d.classification_id in (select id from new_rows union select id from old_rows)
          union all
          select f.document_id from folder_stat_current f where f.classification_id in (select id from old_rows)
        ) x;
      end if;
      current_last := docsight_folder_stats_current(current_ids);
      last_id := greatest(last_id, current_last);
      if last_id is not null and last_id / 512 <> (last_id - greatest(added, 1) - 64) / 512 then
        perform docsight_folder_stats_compact();
      end if;
      return null;
    end
    $$`.execute(db);

  // Hard deletes and TRUNCATE: rebuild what they touched (never on the application's paths).
  await sql`
    create function docsight_documents_stats_rebuild() returns trigger
    language plpgsql as $$
    begin
      if tg_op = 'TRUNCATE' then
        perform docsight_folder_stats_rebuild(null);
      else
        perform docsight_folder_stats_rebuild(array(select distinct folder from old_rows));
      end if;
      return null;
    end
    $$`.execute(db);
  await sql`
    create function docsight_classifications_stats_rebuild() returns trigger
    language plpgsql as $$
    begin
      if tg_op = 'TRUNCATE' then
        perform docsight_folder_stats_rebuild(null);
      else
        perform docsight_folder_stats_rebuild(array(
          select distinct d.folder from documents d where d.id in (select document_id from old_rows)));
      end if;
      return null;
    end
    $$`.execute(db);

  await sql`
    create trigger documents_stats_insert after insert on documents
    referencing new table as new_rows for each statement execute function docsight_documents_stats()`.execute(db);
  await sql`
    create trigger documents_stats_update after update on documents
    referencing old table as old_rows new table as new_rows
    for each statement execute function docsight_documents_stats()`.execute(db);
  await sql`
    create trigger documents_stats_delete after delete on documents
    referencing old table as old_rows for each statement execute function docsight_documents_stats_rebuild()`.execute(db);
  await sql`
    create trigger documents_stats_truncate after truncate on documents
    for each statement execute function docsight_documents_stats_rebuild()`.execute(db);
  await sql`
    create trigger classifications_stats_insert after insert on classifications
    referencing new table as new_rows for each statement execute function docsight_classifications_stats()`.execute(db);
  await sql`
    create trigger classifications_stats_update after update on classifications
    referencing old table as old_rows new table as new_rows
    for each statement execute function docsight_classifications_stats()`.execute(db);
  await sql`
    create trigger classifications_stats_delete after delete on classifications
    referencing old table as old_rows for each statement execute function docsight_classifications_stats_rebuild()`.execute(db);
  await sql`
    create trigger classifications_stats_truncate after truncate on classifications
    for each statement execute function docsight_classifications_stats_rebuild()`.execute(db);

  // Backfill: everything there is now.
  await sql`select docsight_folder_stats_rebuild(null)`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const [t, table] of [
    ['documents_stats_insert', 'documents'],
    ['documents_stats_update', 'documents'],
    ['documents_stats_delete', 'documents'],
    ['documents_stats_truncate', 'documents'],
    ['classifications_stats_insert', 'classifications'],
    ['classifications_stats_update', 'classifications'],
    ['classifications_stats_delete', 'classifications'],
    ['classifications_stats_truncate', 'classifications'],
  ] as const) {
    await sql`drop trigger if exists ${sql.id(t)} on ${sql.table(table)}`.execute(db);
  }
  for (const f of [
    'docsight_documents_stats()',
    'docsight_classifications_stats()',
    'docsight_documents_stats_rebuild()',
    'docsight_classifications_stats_rebuild()',
    'docsight_folder_stats_rebuild(text[])',
    'docsight_folder_stats_compact()',
    'docsight_folder_stats_current(uuid[])',
    'docsight_stats_from_scratch(text[])',
    'docsight_stats_current(timestamptz, text, boolean, text, jsonb)',
    'docsight_stats_document(timestamptz, bigint, text, text, text, text, timestamptz, text, text)',
  ]) {
    await sql`drop function if exists ${sql.raw(f)}`.execute(db);
  }
  await sql`drop index if exists documents_folder_modified_idx`.execute(db);
  await sql`drop table if exists folder_stat_current`.execute(db);
  await sql`drop table if exists folder_stat_deltas`.execute(db);
  await sql`drop table if exists folder_stats`.execute(db);
}
