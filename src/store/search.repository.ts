/**
 * Full-text search over documents: the only SQL of search. The vectors, their configurations and
 * triggers are defined in migrations/0004_search.ts and 0006_search_body.ts; this file compiles
 * query clauses into tsqueries with those configurations, reads ranked pages and facet counts,
 * fills the body vectors of documents waiting for it (the indexer), and rebuilds every vector.
 *
 * "Inside folder" is the byte range of domain/paths.ts on the "C"-collated path, never LIKE.
 */
import { type RawBuilder, sql } from 'kysely';
import { descendantRange } from '../domain/paths.ts';
import type { Db } from './database.ts';
import { type FieldFilter, fieldFiltersSql } from './field-filters.ts';
import type { DocumentStatus } from './schema.ts';
import type { SensitiveFilter } from '../domain/vocabulary.ts';

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
  /** Only documents with personal data of this kind (`any`: of any kind), migration 0012. */
  sensitive?: SensitiveFilter;
  /** Custom field filters on the latest classification (migration 0019), all of which must hold. */
  fields?: FieldFilter[];
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
  /** Matches (the facet limit at most when not exact). */
  total: number;
  /** Documents inside the folder and filters whose text is not indexed yet (found by head only). */
  pending: number;
  /**
   * False when there were more matches than the facet limit: counts cover the first that many
   * found (for a common word, in the sample of one document in eight: see find()).
   */
  exact: boolean;
  byTag: FacetBucket[];
  byType: FacetBucket[];
  byAuthor: FacetBucket[];
  byYear: FacetBucket[];
  /**
   * Personal data (migration 0012): per kind, the matches extraction found it in, and under `any`
   * those with any kind (the rest have none found); keys are the `sensitive` filter's values.
   */
  bySensitive: { key: SensitiveFilter; count: number }[];
  /** Counts by value of each enum and boolean custom field (migration 0019), by field name. */
  byField: Record<string, FacetBucket[]>;
}

/**
 * Highlight markers: private-use characters, stripped from the text first, so a document cannot
 * forge a highlight and no markup (HTML) ever reaches a client that might render it.
 */
export const SNIPPET_START = '\uE000';
export const SNIPPET_STOP = '\uE001';
const HEADLINE_OPTIONS = `StartSel=${SNIPPET_START}, StopSel=${SNIPPET_STOP}, MaxWords=30, MinWords=12, MaxFragments=2, FragmentDelimiter=" … "`;

/** Facet names of custom fields: this prefix and the field's name. */
const FIELD_FACET = 'field:';
/**
 * Counts by value of the enum and boolean custom fields of the matches counted (`f`), a facet per
 * field; their values are few by definition, unlike free text, numbers and dates.
 */
const FIELD_FACET_COUNTS = sql`select ${FIELD_FACET} || cf.name, cf.text_value, count(*)::int
  from f join classification_fields cf on cf.classification_id = f.classification_id
  where cf.type in ('enum', 'boolean') group by cf.name, cf.text_value`;

/** Buckets returned per facet (the total is exact regardless). */
const FACET_TOP = 20;
/** Matches counted into the total and facets (see find()). */
export const FACET_LIMIT = 500;
/** Candidates per source ranked per query (see find()). */
export const RANK_CANDIDATES = 100;

/**
 * What a query matches: head (title, name, tags, category, summary) and body together, so one
 * word may be in the title and another in the text. Verbatim the expression of the GIN index
 * documents_search_match_idx (migration 0006), or the planner would not use it.
 */
const MATCH = sql`(coalesce(d.search_head, ''::tsvector) || coalesce(d.search_body, ''::tsvector))`;
/**
 * One document in eight (by a byte of its random id): verbatim the predicate of the partial index
 * documents_search_sample_idx (migration 0009), the match index of those documents only.
 */
const SAMPLED = sql`get_byte(uuid_send(d.id), 15) < 32`;
/**
 * The score: ts_rank over the head and the body's most frequent words (small, inline), divided by
 * log2 of the words in the document, as ts_rank's normalization 1 does over a whole vector; the
 * body's length is stored (search_length), so the TOASTed body is never read. The logarithm is in
 * double precision because numeric's log(2, n) costs many times ts_rank itself.
 */
const score = (tsquery: string) => sql`ts_rank(coalesce(d.search_head, ''::tsvector) || coalesce(d.search_terms, ''::tsvector), ${tsquery}::tsquery, 0)
  / (ln((2 + coalesce(d.search_length, 0) + length(coalesce(d.search_head, ''::tsvector)))::float8) / ln(2::float8))::real`;

/**
 * A head or terms match implies a MATCH for a query of words, prefixes and phrases (the body's
 * positions keep their distances in head || body); only an exclusion (!) can turn it false, and
 * a phrase is rechecked too, to be safe where positions were capped. Operators appear in
 * PostgreSQL's text form of a tsquery outside quotes only, so a false "yes" costs a recheck.
 */
const needsRecheck = (tsquery: string) => tsquery.includes('!') || tsquery.includes('<');

function whereFilters(f: SearchFilters, tsquery: string | null): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [sql`d.deleted_at is null`];
  if (tsquery !== null) parts.push(sql`${MATCH} @@ ${tsquery}::tsquery`);
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
  if (f.sensitive === 'any') parts.push(sql`cardinality(d.pii_kinds) > 0`);
  else if (f.sensitive !== undefined) parts.push(sql`d.pii_kinds @> array[${f.sensitive}]::text[]`);
  if (f.fields?.length) parts.push(fieldFiltersSql(f.fields, sql`d.classification_id`));
  return sql.join(parts, sql` and `);
}

/**
 * The facet counts over `f` (the matches counted: format, author, year, search_tags, pii_kinds, classification_id),
 * one row per [facet, key, count]; both statements (browse and query) use it, so they agree.
 */
const FACET_COUNTS = sql`
  select 'type' as facet, format as key, count(*)::int as count from f group by format
  union all select 'author', author, count(*)::int from f group by author
  union all select 'year', year::text, count(*)::int from f group by year
  union all select 'tag', tag, count(*)::int from f, unnest(f.search_tags) tag group by tag
  union all select 'sensitive', kind, count(*)::int from f, unnest(f.pii_kinds) kind group by kind
  union all select 'sensitive', 'any', count(*)::int from f where cardinality(f.pii_kinds) > 0 having count(*) > 0
  union all ${FIELD_FACET_COUNTS}`;

/** A page of hits and how they were ordered. */
export interface SearchPage {
  hits: SearchHit[];
  /** Keyset position after the last hit; absent on the last page. */
  last?: { key: string; id: string };
  /** True when some matches were not ranked (more than the candidate bound): see find(). */
  approximate: boolean;
  /** How many matches were ranked when `approximate`; null when every match was. */
  rankedWithin: number | null;
}

interface PageRow {
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
}

/** What a page row carries of its document (t) and classification (cl); p.id is the hit. */
const HIT_COLUMNS = sql`p.id, t.path, t.name, t.title, t.author, t.format, t.language, t.status,
  coalesce(t.doc_modified, t.mtime) as modified, cl.tags, cl.primary_category`;

function finishPage(rows: PageRow[], limit: number, order: { approximate: boolean; rankedWithin: number | null }): SearchPage {
  const hits = rows.map((row) => ({
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
  const lastRow = rows.at(-1);
  return { hits, last: lastRow && rows.length === limit ? { key: lastRow.sort_key, id: lastRow.id } : undefined, ...order };
}

/** Facet rows ([facet, key, count], FACET_TOP per facet) into buckets; a total past the limit is not exact. */
function facetsFrom(rows: [string, string | null, number][], counts: { total: number; pending: number }, limit: number): SearchFacets {
  const out: SearchFacets = { total: Math.min(counts.total, limit), pending: counts.pending, exact: counts.total <= limit, byTag: [], byType: [], byAuthor: [], byYear: [], bySensitive: [], byField: {} };
  for (const [facet, key, count] of rows) {
    const bucket = { key, count };
    if (facet.startsWith(FIELD_FACET)) (out.byField[facet.slice(FIELD_FACET.length)] ??= []).push(bucket);
    else if (facet === 'type') out.byType.push(bucket);
    else if (facet === 'author') out.byAuthor.push(bucket);
    else if (facet === 'year') out.byYear.push(bucket);
    else if (facet === 'tag') out.byTag.push(bucket);
    // Keys come from pii_kinds (PII_KINDS, written by extraction only) and the literal 'any'.
    else if (facet === 'sensitive' && key !== null) out.bySensitive.push({ key: key as SensitiveFilter, count });
  }
  const byCount = (a: FacetBucket, z: FacetBucket) => z.count - a.count || String(a.key).localeCompare(String(z.key));
  for (const list of [out.byTag, out.byType, out.byAuthor, ...Object.values(out.byField)]) list.sort(byCount);
  out.bySensitive.sort(byCount);
  out.byYear.sort((a, z) => String(z.key).localeCompare(String(a.key)));
  return out;
}

/**
 * Snippets are made for the page's rows only (after the limit), from a bounded prefix of the
 * text: ts_headline re-parses its input, so its cost follows the length, and substr (unlike left)
 * decompresses only the prefix of a TOASTed text.
 */
const snippet = (tsquery: string, chars: number) => sql`ts_headline(docsight_search_config(t.language),
  translate(coalesce(substr(t.text, 1, ${chars}), left(cl.summary, ${chars}), ''), ${SNIPPET_START + SNIPPET_STOP}, ''),
  ${tsquery}::tsquery, ${HEADLINE_OPTIONS})`;

export interface SearchRepositoryOptions {
  /** Candidates per source ranked per query (see find()); small in tests to exercise the bound. */
  rankCandidates?: number;
  /** Matches counted into the total and facets (see find()). */
  facetLimit?: number;
}

export function createSearchRepository(db: Db, opts: SearchRepositoryOptions = {}) {
  const rankCandidates = opts.rankCandidates ?? RANK_CANDIDATES;
  // Exact ranking ranks every match read for the facets, so they must read at least that many.
  const facetLimit = Math.max(opts.facetLimit ?? FACET_LIMIT, rankCandidates);
  /** Newest first, without a query. */
  async function browse(q: SearchPageQuery): Promise<SearchPage> {
    const after = q.after
      ? sql`and (coalesce(d.doc_modified, d.mtime) < ${q.after.key}::timestamptz
                 or (coalesce(d.doc_modified, d.mtime) = ${q.after.key}::timestamptz and d.id > ${q.after.id}::uuid))`
      : sql``;
    const r = await sql<PageRow>`
      select ${HIT_COLUMNS}, null::text as snippet, 0::real as rank, p.sort_value::text as sort_key
      from (
        select d.id, coalesce(d.doc_modified, d.mtime) as sort_value from documents d
        where ${whereFilters(q.filters, null)} ${after}
        order by sort_value desc, d.id limit ${q.limit}
      ) p
      join documents t on t.id = p.id
      left join classifications cl on cl.id = t.classification_id
      order by p.sort_value desc, p.id`.execute(db);
    return finishPage(r.rows, q.limit, { approximate: false, rankedWithin: null });
  }

  /**
   * Counts by tag, type (format), author and year of the documents browsed (no query), and their
   * total: exact up to `facetLimit` documents; beyond, over the first `facetLimit` found
   * (`exact: false`), because counting reads every row and the root holds every document.
   */
  async function countFacets(filters: SearchFilters): Promise<SearchFacets> {
    const r = await sql<{ matches: number; pending: number; facets: [string, string | null, number][] | null }>`
      with m as materialized (
        select d.format, d.author, extract(year from coalesce(d.doc_modified, d.mtime))::int as year, d.search_tags, d.pii_kinds, d.classification_id
        from documents d where ${whereFilters(filters, null)}
        limit ${facetLimit + 1}
      ), f as (
        select * from m limit ${facetLimit}
      ), counts as (${FACET_COUNTS})
      select (select count(*)::int from m) as matches,
             (select count(*)::int from documents d where ${whereFilters(filters, null)} and d.search_pending) as pending,
             (select json_agg(json_build_array(facet, key, count)) from (
                select *, row_number() over (partition by facet order by count desc, key) as n from counts
              ) x where n <= ${FACET_TOP}) as facets`.execute(db);
    const row = r.rows[0];
    return facetsFrom(row?.facets ?? [], { total: row?.matches ?? 0, pending: row?.pending ?? 0 }, facetLimit);
  }

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
     * One page of hits with the facets of the whole search: best first for a query, newest first
     * without one.
     *
     * With a query, one statement reads the matches once (the first `facetLimit` + 1 the match
     * index gives: a GIN index cannot stop early, so every request pays for the full list of
     * matches, and reading it twice would double that) for the total, the facets and the
     * candidates. It first reads the sample index (one document in eight, migration 0009):
     * when that alone gives more than `facetLimit` matches (a word in more than ~4% of documents),
     * those are the matches read, and a common word costs an eighth of its list; otherwise (the
     * sample's list was short, so cheap) the whole index. The choice follows from the
     * data, not from statistics, so every page of a search makes the same one.
     *
     * The score is ts_rank over the head (weights A, B) and the body's most frequent words (C),
     * divided by the text's length: what the document says it is about; it never reads the
     * TOASTed body. GIN cannot return a ranked top-k either, so:
     * - up to `rankCandidates` matches, every match is ranked: the order is exact;
     * - beyond, the ranked candidates are the matches in the head and the documents the word is
     *   among the most frequent of (each through its own small index, up to `rankCandidates`
     *   each), plus the first `rankCandidates` matches found (score 0, below any head or frequent
     *   match). The page says so (`approximate`, `rankedWithin`), and once the candidates are paged
     *   through, the other matches follow in id order with sort key -1 (scores are >= 0), so
     *   cursors still reach every match, once.
     * - total and facets count the first `facetLimit` matches read (`exact: false` past them):
     *   for a common word, matches in the sample.
     */
    async find(q: SearchPageQuery): Promise<{ page: SearchPage; facets: SearchFacets }> {
      const t = q.tsquery;
      if (t === null) {
        const [page, facets] = await Promise.all([browse(q), countFacets(q.filters)]);
        return { page, facets };
      }

      const n = rankCandidates;
      // A head or terms match may still be excluded by a -word in the text (see needsRecheck).
      const recheck = needsRecheck(t) ? sql`${MATCH} @@ ${t}::tsquery` : sql`true`;
      const matchColumns = sql`d.id, d.format, d.author, extract(year from coalesce(d.doc_modified, d.mtime))::int as year, d.search_tags, d.pii_kinds, d.classification_id`;
      // The same statement text for every page of a search, so the candidate set is the same too.
      // The matches counted: from the sample index when it alone holds more than are counted (a
      // common word: its list there is an eighth as long), else the first found in the whole index.
      const matchesAndCandidates = sql`
        sampled as materialized (
          select ${matchColumns} from documents d where ${whereFilters(q.filters, t)} and ${SAMPLED}
          limit ${facetLimit + 1}
        ),
        enough as (select count(*) > ${facetLimit} as yes from sampled),
        m as materialized (
          select * from sampled where (select yes from enough)
          union all
          (select ${matchColumns} from documents d
           where not (select yes from enough) and ${whereFilters(q.filters, t)}
           limit ${facetLimit + 1})
        ),
        stats as (select count(*)::int as matches from m),
        scored as materialized (
          -- Each source scores the rows it read (a second read by id was most of ranking's cost);
          -- a document from two sources has the same score in both, so the union keeps it once.
          select c.id, c.sort_value
          from (
            (select d.id, ${score(t)} as sort_value, true as matched
             from m join documents d on d.id = m.id where (select matches from stats) <= ${n})
            union
            (select d.id, ${score(t)}, ${recheck} from documents d
             where (select matches from stats) > ${n} and ${whereFilters(q.filters, null)} and d.search_head @@ ${t}::tsquery limit ${n})
            union
            (select d.id, ${score(t)}, ${recheck} from documents d
             where (select matches from stats) > ${n} and ${whereFilters(q.filters, null)} and d.search_terms @@ ${t}::tsquery limit ${n})
          ) c
          where c.matched
        ),
        candidates as (
          select id, sort_value from scored
          union all
          (select m.id, 0::real from m where (select matches from stats) > ${n} and not exists (select 1 from scored s where s.id = m.id) limit ${n})
        )`;
      const inTail = q.after !== undefined && Number(q.after.key) < 0;
      const after = inTail
        ? sql`where false`
        : q.after
          ? sql`where (c.sort_value < ${q.after.key}::real or (c.sort_value = ${q.after.key}::real and c.id > ${q.after.id}::uuid))`
          : sql``;
      // One row of counts and facets, joined to the page's rows (none past the candidates).
      const r = await sql<PageRow & { matches: number; ranked: number; pending: number; facets: [string, string | null, number][] | null }>`
        with ${matchesAndCandidates},
        f as (select * from m limit ${facetLimit}),
        counts as (${FACET_COUNTS}),
        top as (
          select json_agg(json_build_array(facet, key, count)) as facets from (
            select *, row_number() over (partition by facet order by count desc, key) as n from counts
          ) x where n <= ${FACET_TOP}
        )
        select s.matches, (select count(*) from candidates)::int as ranked, top.facets,
               (select count(*)::int from documents d where ${whereFilters(q.filters, null)} and d.search_pending) as pending,
               p.*
        from stats s cross join top
        left join (
          select ${HIT_COLUMNS}, ${snippet(t, q.snippetChars)} as snippet, p.sort_value as rank, p.sort_value::text as sort_key, p.sort_value
          from (
            select c.id, c.sort_value from candidates c ${after}
            order by c.sort_value desc, c.id limit ${q.limit}
          ) p
          join documents t on t.id = p.id
          left join classifications cl on cl.id = t.classification_id
        ) p on true
        order by p.sort_value desc, p.id`.execute(db);
      const head = r.rows[0];
      const matches = head?.matches ?? 0;
      const approximate = matches > n;
      const hits: PageRow[] = r.rows.filter((row) => row.id !== null);
      // Past the ranked candidates: the other matches, in id order.
      if (approximate && hits.length < q.limit) {
        const tailAfter = inTail && q.after ? sql`and d.id > ${q.after.id}::uuid` : sql``;
        const tail = await sql<PageRow>`
          with ${matchesAndCandidates}
          select ${HIT_COLUMNS}, ${snippet(t, q.snippetChars)} as snippet, -1::real as rank, '-1' as sort_key
          from (
            select d.id from documents d
            where ${whereFilters(q.filters, t)} ${tailAfter}
              and not exists (select 1 from candidates c where c.id = d.id)
            order by d.id limit ${q.limit - hits.length}
          ) p
          join documents t on t.id = p.id
          left join classifications cl on cl.id = t.classification_id
          order by p.id`.execute(db);
        hits.push(...tail.rows);
      }
      const facets = facetsFrom(head?.facets ?? [], { total: matches, pending: head?.pending ?? 0 }, facetLimit);
      return { page: finishPage(hits, q.limit, { approximate, rankedWithin: approximate ? (head?.ranked ?? 0) : null }), facets };
    },

    /**
     * The indexer: fill the body vector (and its frequent words) of up to `limit` documents waiting
     * for it (`search_pending`, set by the documents trigger when text or language changed), in
     * one short transaction. Rows are locked first (SKIP LOCKED: workers share the work and never
     * wait for each other or for an extraction holding a row); the update then reads the locked,
     * latest text, so a text written meanwhile is never indexed stale and marked done. `ids`
     * narrows it to some documents. Returns how many were indexed (0: nothing waits).
     */
    async indexPending(limit: number, ids?: string[]): Promise<number> {
      return db.transaction().execute(async (trx) => {
        const locked = await sql<{ id: string }>`
          select d.id from documents d
          where d.search_pending and d.deleted_at is null ${ids ? sql`and d.id = any(${ids}::uuid[])` : sql``}
          order by d.path
          limit ${limit}
          for update skip locked`.execute(trx);
        if (locked.rows.length === 0) return 0;
        await sql`
          update documents d
             set search_body = x.body, search_terms = docsight_search_terms(x.body),
                 search_length = docsight_search_length(x.body), search_pending = false
            from (select id, docsight_search_body(language, text) as body from documents
                  where id = any(${locked.rows.map((r) => r.id)}::uuid[])) x
           where d.id = x.id`.execute(trx);
        return locked.rows.length;
      });
    },

    /**
     * Recompute every document's vectors (after a change to the configurations or to the
     * functions of migrations 0004/0006), in batches by id so no transaction holds many rows.
     * Setting the columns directly does not fire the documents trigger (it watches the inputs).
     */
    async reindex(opts: { batchSize: number; onBatch?: (done: number) => void }): Promise<number> {
      let last = '00000000-0000-0000-0000-000000000000';
      let done = 0;
      for (;;) {
        const r = await sql<{ id: string }>`
          update documents d
             set search_tags = x.tags, search_head = x.head, search_body = x.body,
                 search_terms = docsight_search_terms(x.body), search_length = docsight_search_length(x.body),
                 search_pending = false
            from (
              select b.id, docsight_search_tags(c.tags) as tags,
                     docsight_search_head(b.language, b.title, b.name, c.tags, c.primary_category, c.summary) as head,
                     docsight_search_body(b.language, b.text) as body
              from (select id, language, title, name, text, classification_id from documents
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
