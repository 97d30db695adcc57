/**
 * Full-text search over documents: the only SQL of search. The tsvector column, its configurations
 * and triggers are defined in migrations/0004_search.ts; this file compiles query clauses into
 * tsqueries with those configurations, reads ranked pages and facet counts, and rebuilds the column.
 *
 * "Inside folder" is the byte range of domain/paths.ts on the "C"-collated path, never LIKE.
 */
import { type RawBuilder, sql } from 'kysely';
import { descendantRange } from '../domain/paths.ts';
import type { Db } from './database.ts';
import type { DocumentStatus } from './schema.ts';

/** One clause of a parsed query, before stemming. */
export interface QueryClause {
  kind: 'term' | 'phrase' | 'prefix';
  text: string;
}

/** Configurations a query is tried in, so it finds documents of either language (and of none). */
export const SEARCH_CONFIGS = ['docsight_dutch', 'docsight_english', 'docsight_simple'] as const;

export interface SearchFilters {
  /** Normalised folder ('' = root); results are inside it. */
  folder: string;
  /**
   * Normalised folders the caller may see (empty or undefined: everything). Results are inside
   * at least one of them, whatever the other filters say.
   */
  scopes?: string[];
  tag?: string;
  format?: string;
  author?: string;
  modifiedFrom?: Date;
  modifiedTo?: Date;
}

export interface SearchPageQuery {
  /** A tsquery in PostgreSQL's own text form (from compile()), or null to browse by date. */
  tsquery: string | null;
  filters: SearchFilters;
  limit: number;
  /** Keyset position: the sort key (as PostgreSQL printed it) and id of the previous page's last row. */
  after?: { key: string; id: string };
  /** Characters of text (from the start) that snippets are cut from. */
  snippetChars: number;
}

export interface SearchHit {
  id: string;
  path: string;
  name: string;
  title: string | null;
  author: string | null;
  format: string | null;
  language: string | null;
  status: DocumentStatus;
  modified: Date;
  tags: { label: string; confidence: number; needsReview: boolean }[] | null;
  primaryCategory: string | null;
  rank: number;
  /** ts_headline output with matches between SNIPPET_START and SNIPPET_STOP. */
  snippet: string | null;
}

export interface FacetBucket {
  key: string | null;
  count: number;
}

export interface SearchFacets {
  /** Matches (FACET_LIMIT at most when not exact). */
  total: number;
  /** False when there were more than FACET_LIMIT matches: counts cover the first FACET_LIMIT. */
  exact: boolean;
  byTag: FacetBucket[];
  byType: FacetBucket[];
  byAuthor: FacetBucket[];
  byYear: FacetBucket[];
}

/**
 * Highlight markers: private-use characters, stripped from the text first, so a document cannot
 * forge a highlight and no markup (HTML) ever reaches a client that might render it.
 */
export const SNIPPET_START = '\uE000';
export const SNIPPET_STOP = '\uE001';
const HEADLINE_OPTIONS = `StartSel=${SNIPPET_START}, StopSel=${SNIPPET_STOP}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "`;

/** Buckets returned per facet (the total is exact regardless). */
const FACET_TOP = 20;
/** Matches counted into the total and facets (see facets()). */
export const FACET_LIMIT = 2000;
/** Candidates ranked per query (see page()). */
const RANK_CANDIDATES = 400;
const HEAD_CANDIDATES = 100;

function whereFilters(f: SearchFilters, tsquery: string | null): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [sql`d.deleted_at is null`];
  if (tsquery !== null) parts.push(sql`d.search_vector @@ ${tsquery}::tsquery`);
  const range = descendantRange(f.folder);
  if (range) parts.push(sql`d.path >= ${range.lower} and d.path < ${range.upper}`);
  const scopes = f.scopes ?? [];
  if (scopes.length > 0 && !scopes.includes('')) {
    const ranges = scopes.map((s) => {
      const r = descendantRange(s);
      // A scope is a folder; its own path is never a document, so its range is all it covers.
      return r ? sql`(d.path >= ${r.lower} and d.path < ${r.upper})` : sql`true`;
    });
    parts.push(sql`(${sql.join(ranges, sql` or `)})`);
  }
  if (f.format !== undefined) parts.push(sql`d.format = ${f.format}`);
  if (f.author !== undefined) parts.push(sql`d.author = ${f.author}`);
  if (f.tag !== undefined) {
    parts.push(sql`d.search_tags @> array[${f.tag}]::text[]`);
  }
  if (f.modifiedFrom) parts.push(sql`coalesce(d.doc_modified, d.mtime) >= ${f.modifiedFrom}`);
  if (f.modifiedTo) parts.push(sql`coalesce(d.doc_modified, d.mtime) < ${f.modifiedTo}`);
  return sql.join(parts, sql` and `);
}

export function createSearchRepository(db: Db) {
  return {
    /**
     * Stem each clause in every configuration. Returns, per clause, one tsquery text per
     * configuration ('' where the configuration drops it, e.g. a stop word). The clause texts are
     * parameters of plainto_tsquery/phraseto_tsquery, which accept any input; a prefix appends
     * `:*` to the text form of the stemmed query, never to user input.
     */
    async compile(clauses: QueryClause[]): Promise<string[][]> {
      if (clauses.length === 0) return [];
      const r = await sql<{ i: number; cfg: number; q: string }>`
        select c.i::int as i, g.n::int as cfg, (case c.kind
            when 'phrase' then phraseto_tsquery(g.cfg, c.txt)
            when 'prefix' then (
              select case when numnode(p) = 0 then p else (p::text || ':*')::tsquery end
              from plainto_tsquery(g.cfg, c.txt) p)
            else plainto_tsquery(g.cfg, c.txt)
          end)::text as q
        from unnest(${clauses.map((c) => c.kind)}::text[], ${clauses.map((c) => c.text)}::text[]) with ordinality as c(kind, txt, i),
             unnest(${[...SEARCH_CONFIGS]}::regconfig[]) with ordinality as g(cfg, n)`.execute(db);
      const out = clauses.map(() => SEARCH_CONFIGS.map(() => ''));
      for (const row of r.rows) {
        const clause = out[row.i - 1];
        if (clause) clause[row.cfg - 1] = row.q;
      }
      return out;
    },

    /**
     * One page of hits, best first (or newest first without a query). Ranking reads each
     * candidate's whole vector, so it is bounded: the candidates are up to HEAD_CANDIDATES matches
     * in the head (title, name, tags, category, summary: where the obvious match says it) plus up
     * to RANK_CANDIDATES matches anywhere. Below that many matches the ranking is exact.
     */
    async page(q: SearchPageQuery): Promise<{ hits: SearchHit[]; last?: { key: string; id: string } }> {
      const t = q.tsquery;
      const keyType = sql.raw(t !== null ? 'real' : 'timestamptz');
      const afterSql = q.after
        ? sql`where (p.sort_value < ${q.after.key}::${keyType} or (p.sort_value = ${q.after.key}::${keyType} and p.id > ${q.after.id}::uuid))`
        : sql``;
      const candidates =
        t !== null
          ? sql`
            select c.id, ts_rank(d.search_vector, ${t}::tsquery, 1) as sort_value
            from (
              (select d.id from documents d where ${whereFilters(q.filters, null)} and d.search_head @@ ${t}::tsquery limit ${HEAD_CANDIDATES})
              union
              (select d.id from documents d where ${whereFilters(q.filters, t)} limit ${RANK_CANDIDATES})
            ) c
            join documents d on d.id = c.id
            -- a head match may still be excluded by a -word in the text
            where d.search_vector @@ ${t}::tsquery`
          : sql`select d.id, coalesce(d.doc_modified, d.mtime) as sort_value from documents d where ${whereFilters(q.filters, null)}`;
      // Snippets are made for the page's rows only (outer query, after the limit), from a bounded
      // prefix of the text: ts_headline re-parses its input, so its cost follows the length.
      const snippet =
        t !== null
          ? sql`ts_headline(docsight_search_config(t.language),
                 translate(left(coalesce(t.text, cl.summary, ''), ${q.snippetChars}), ${SNIPPET_START + SNIPPET_STOP}, ''),
                 ${t}::tsquery, ${HEADLINE_OPTIONS})`
          : sql`null::text`;
      const r = await sql<{
        id: string;
        path: string;
        name: string;
        title: string | null;
        author: string | null;
        format: string | null;
        language: string | null;
        status: DocumentStatus;
        modified: Date;
        tags: SearchHit['tags'];
        primary_category: string | null;
        rank: number;
        sort_key: string;
        snippet: string | null;
      }>`
        select p.id, t.path, t.name, t.title, t.author, t.format, t.language, t.status,
               coalesce(t.doc_modified, t.mtime) as modified,
               cl.tags, cl.primary_category, p.sort_value::text as sort_key, ${snippet} as snippet,
               ${t !== null ? sql`p.sort_value` : sql`0::real`} as rank
        from (
          select p.id, p.sort_value from (${candidates}) p
          ${afterSql}
          order by p.sort_value desc, p.id
          limit ${q.limit}
        ) p
        join documents t on t.id = p.id
        left join classifications cl on cl.id = t.classification_id
        order by p.sort_value desc, p.id`.execute(db);
      const hits = r.rows.map((row) => ({
        id: row.id,
        path: row.path,
        name: row.name,
        title: row.title,
        author: row.author,
        format: row.format,
        language: row.language,
        status: row.status,
        modified: row.modified,
        tags: row.tags,
        primaryCategory: row.primary_category,
        rank: Number(row.rank),
        snippet: row.snippet,
      }));
      const lastRow = r.rows.at(-1);
      return { hits, last: lastRow && r.rows.length === q.limit ? { key: lastRow.sort_key, id: lastRow.id } : undefined };
    },

    /**
     * Counts by tag, type (format), author and year over the matches, and their total: exact up to
     * FACET_LIMIT matches; beyond, over the first FACET_LIMIT found (`exact: false`), because
     * counting reads every matching row and a word in half the corpus would cost a full scan.
     */
    async facets(tsquery: string | null, filters: SearchFilters): Promise<SearchFacets> {
      const where = whereFilters(filters, tsquery);
      const r = await sql<{ facet: string; key: string | null; count: number }>`
        with m as materialized (
          select d.format, d.author, extract(year from coalesce(d.doc_modified, d.mtime))::int as year, d.search_tags
          from documents d where ${where}
          limit ${FACET_LIMIT + 1}
        ), f as (
          select * from m limit ${FACET_LIMIT}
        ), counts as (
          select 'total' as facet, null::text as key, count(*)::int as count from m
          union all select 'type', format, count(*)::int from f group by format
          union all select 'author', author, count(*)::int from f group by author
          union all select 'year', year::text, count(*)::int from f group by year
          union all select 'tag', tag, count(*)::int from f, unnest(f.search_tags) tag group by tag
        )
        select facet, key, count from (
          select *, row_number() over (partition by facet order by count desc, key) as n from counts
        ) x where n <= ${FACET_TOP}`.execute(db);
      const out: SearchFacets = { total: 0, exact: true, byTag: [], byType: [], byAuthor: [], byYear: [] };
      for (const row of r.rows) {
        const bucket = { key: row.key, count: row.count };
        if (row.facet === 'total') out.total = row.count;
        else if (row.facet === 'type') out.byType.push(bucket);
        else if (row.facet === 'author') out.byAuthor.push(bucket);
        else if (row.facet === 'year') out.byYear.push(bucket);
        else if (row.facet === 'tag') out.byTag.push(bucket);
      }
      if (out.total > FACET_LIMIT) {
        // The extra row only tells that there are more.
        out.exact = false;
        out.total = FACET_LIMIT;
      }
      const byCount = (a: FacetBucket, z: FacetBucket) => z.count - a.count || String(a.key).localeCompare(String(z.key));
      for (const list of [out.byTag, out.byType, out.byAuthor]) list.sort(byCount);
      out.byYear.sort((a, z) => String(z.key).localeCompare(String(a.key)));
      return out;
    },

    /**
     * Recompute the search vector of every document (after a change to the configurations or to
     * docsight_search_vector()), in batches by id so no transaction holds many rows. Setting the
     * column directly does not fire the documents trigger (it watches the inputs only).
     */
    async reindex(opts: { batchSize: number; onBatch?: (done: number) => void }): Promise<number> {
      let last = '00000000-0000-0000-0000-000000000000';
      let done = 0;
      for (;;) {
        const r = await sql<{ id: string }>`
          update documents d
             set search_tags = x.tags, search_head = x.head, search_vector = x.head || docsight_search_body(d.language, d.text)
            from (
              select b.id, docsight_search_tags(c.tags) as tags,
                     docsight_search_head(b.language, b.title, b.name, c.tags, c.primary_category, c.summary) as head
              from (select id, language, title, name, classification_id from documents
                    where id > ${last}::uuid order by id limit ${opts.batchSize}) b
              left join classifications c on c.id = b.classification_id
            ) x
           where d.id = x.id
          returning d.id`.execute(db);
        if (r.rows.length === 0) return done;
        done += r.rows.length;
        last = r.rows.reduce((max, row) => (row.id > max ? row.id : max), last);
        opts.onBatch?.(done);
      }
    },
  };
}

export type SearchRepository = ReturnType<typeof createSearchRepository>;
