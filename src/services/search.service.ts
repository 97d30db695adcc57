/**
 * Search: full-text and faceted, over text, metadata, tags and summaries. The user's query is
 * parsed here into clauses (words, "phrases", prefix*, -exclusions, OR); PostgreSQL stems each
 * clause in the Dutch, English and language-neutral configurations, and the clauses are joined
 * into one tsquery from PostgreSQL's own output, so user input never reaches to_tsquery's syntax.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { badRequest, notFound } from '../domain/errors.ts';
import type { FieldType, SensitiveFilter } from '../domain/vocabulary.ts';
import { isWithin, normalizeRelativePath } from '../domain/paths.ts';
import {
  type FacetBucket,
  type QueryClause,
  type SearchFacets,
  type SearchFilters,
  type SearchHit,
  type SearchRepository,
  SNIPPET_START,
  SNIPPET_STOP,
} from '../store/search.repository.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { type FieldFilterInput, resolveFieldFilters } from './field-filters.ts';

/** The bounds of a search, for the API's documentation. */
export { FACET_LIMIT, RANK_CANDIDATES } from '../store/search.repository.ts';

/** Most clauses one query may have: each is stemmed three times and matched through the index. */
export const MAX_CLAUSES = 16;
/** Shortest prefix (letters or digits) searched as a prefix: shorter ones match most of the index. */
export const MIN_PREFIX_CHARS = 3;
/** Text characters a snippet is cut from; see the repository (ts_headline's cost follows it). */
const SNIPPET_CHARS = 1500;
const REINDEX_BATCH = 500;

export interface ParsedClause extends QueryClause {
  negated: boolean;
}

/** Alternatives (OR) of clauses that must all hold (AND). */
export type ParsedQuery = ParsedClause[][];

const CONTROL = /[\u0000-\u001f\u007f-\u009f\uE000\uE001]/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const WORD_CHAR = /[\p{L}\p{N}]/u;

/**
 * Parse a user's query. Never throws on odd input except when it cannot be searched meaningfully
 * (too many clauses, only exclusions): operators and punctuation outside the grammar are just
 * separators, control characters (NUL included) are dropped, an unclosed quote runs to the end.
 */
export function parseSearchQuery(input: string): ParsedQuery {
  const q = input.replace(LONE_SURROGATE, '\uFFFD').normalize('NFC').replace(CONTROL, ' ');
  const groups: ParsedQuery = [[]];
  let count = 0;
  const push = (c: ParsedClause) => {
    count++;
    if (count > MAX_CLAUSES) throw badRequest(`Too many search terms (at most ${MAX_CLAUSES})`);
    groups[groups.length - 1]?.push(c);
  };
  let i = 0;
  while (i < q.length) {
    const ch = q[i] as string;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    let negated = false;
    if (ch === '-' && i + 1 < q.length && !/\s/.test(q[i + 1] as string)) {
      negated = true;
      i++;
    }
    if (q[i] === '"') {
      const end = q.indexOf('"', i + 1);
      const text = q.slice(i + 1, end < 0 ? q.length : end);
      i = end < 0 ? q.length : end + 1;
      if (WORD_CHAR.test(text)) push({ kind: 'phrase', text, negated });
      continue;
    }
    let j = i;
    while (j < q.length && !/\s/.test(q[j] as string) && q[j] !== '"') j++;
    const raw = q.slice(i, j);
    i = j;
    if (!negated && raw.toUpperCase() === 'OR') {
      if ((groups.at(-1)?.length ?? 0) > 0) groups.push([]);
      continue;
    }
    const word = raw.replace(/^[-+]+/, '');
    const stem = word.replace(/\*+$/, '');
    if (!WORD_CHAR.test(stem)) continue;
    // The prefix is what the last run of letters/digits says (a:b* is "a" then "b" as a prefix).
    const lastRun = /[\p{L}\p{N}]+$/u.exec(stem)?.[0] ?? '';
    const prefix = stem !== word && [...lastRun].length >= MIN_PREFIX_CHARS;
    push({ kind: prefix ? 'prefix' : 'term', text: stem, negated });
  }
  const out = groups.filter((g) => g.length > 0);
  for (const g of out) {
    if (g.every((c) => c.negated)) throw badRequest('An exclusion (-word) needs at least one word to search for');
  }
  return out;
}

/**
 * Join stemmed clauses into a tsquery (text form). A word or phrase that some configuration drops
 * is a stop word in that language and is left out entirely (else "the contract" could never find
 * an English document, whose vector has no "the"); a prefix keeps whatever stems it has. A group
 * left without a positive clause is dropped. Returns null when nothing searchable remains.
 */
export function assembleTsquery(query: ParsedQuery, stemmed: string[][]): string | null {
  let k = 0;
  const groups: string[] = [];
  for (const group of query) {
    const parts: string[] = [];
    let positive = 0;
    for (const clause of group) {
      const forms = stemmed[k++] ?? [];
      const nonEmpty = forms.filter((f) => f !== '');
      if (nonEmpty.length === 0 || (clause.kind !== 'prefix' && nonEmpty.length < forms.length)) continue;
      const alternatives = [...new Set(nonEmpty)].map((f) => `(${f})`).join(' | ');
      parts.push(clause.negated ? `!(${alternatives})` : `(${alternatives})`);
      if (!clause.negated) positive++;
    }
    if (positive > 0) groups.push(`(${parts.join(' & ')})`);
  }
  return groups.length > 0 ? groups.join(' | ') : null;
}

/** A snippet as segments, so clients highlight without parsing (or trusting) markup. */
export type SnippetSegment = { text: string; match: boolean };

export function snippetSegments(headline: string | null): SnippetSegment[] {
  if (!headline) return [];
  const out: SnippetSegment[] = [];
  let rest = headline;
  while (rest.length > 0) {
    const start = rest.indexOf(SNIPPET_START);
    if (start < 0) {
      out.push({ text: rest, match: false });
      break;
    }
    if (start > 0) out.push({ text: rest.slice(0, start), match: false });
    const stop = rest.indexOf(SNIPPET_STOP, start + 1);
    const end = stop < 0 ? rest.length : stop;
    out.push({ text: rest.slice(start + 1, end), match: true });
    rest = stop < 0 ? '' : rest.slice(stop + 1);
  }
  return out.filter((s) => s.text.length > 0);
}

export interface SearchInput {
  q?: string;
  path?: string;
  tag?: string;
  type?: string;
  author?: string;
  modifiedFrom?: Date;
  modifiedTo?: Date;
  /** Only documents with personal data of this kind (`any`: of any kind). */
  sensitive?: SensitiveFilter;
  /** `field.<name>[.<op>]=value` filters (services/field-filters.ts), all of which must hold. */
  fields?: FieldFilterInput[];
  cursor?: string;
  limit: number;
  /**
   * Folders the caller may see (normalised, as a key's scopes are); empty or absent: every folder.
   * Results never come from outside them, and a `path` outside them is "not found".
   */
  scopes?: string[];
}

export interface SearchResultItem extends Omit<SearchHit, 'snippet'> {
  snippet: SnippetSegment[];
}

export interface SearchResult {
  /** The query as searched (a tsquery), or null when browsing without one. */
  interpreted: string | null;
  /** Matching documents; when `totalExact` is false, at least this many (and facets count these). */
  total: number;
  totalExact: boolean;
  /**
   * Documents inside the folder and filters whose text is not indexed yet: extracted moments ago,
   * their body is indexed by the workers when idle. Until then they are found by title, file
   * name, tags, category and summary only. 0: every text is searchable.
   */
  unindexed: number;
  /**
   * True when the query matched more documents than are ranked (see the repository's page()):
   * the order is by score among `rankedWithin` candidates (every title, tag and summary match up
   * to the bound, the documents the words are most frequent in, and the first matches found);
   * after those, pages go on with the other matches, unranked (score -1), so every match is
   * still reached once. False: every match was ranked and the order is exact.
   */
  approximate: boolean;
  /** How many matches were ranked when `approximate`; null when every match was. */
  rankedWithin: number | null;
  items: SearchResultItem[];
  facets: {
    tag: FacetBucket[];
    type: FacetBucket[];
    author: FacetBucket[];
    year: FacetBucket[];
    /** Per personal-data kind and `any`: the matches it was found in (the `sensitive` filter's values). */
    sensitive: SearchFacets['bySensitive'];
    fields: Record<string, FacetBucket[]>;
  };
  nextCursor: string | null;
}

/** [sort key as PostgreSQL printed it, id, fingerprint of the search it belongs to]. */
const SearchCursor = z.tuple([z.string().max(64), z.uuid(), z.string().max(16)]);
/** A score (>= 0), or -1 for the unranked matches that follow the ranked ones. */
const RANK_KEY = /^(\d+(\.\d+)?(e-?\d{1,2})?|-1)$/;
const DATE_KEY = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2}$/;

export interface SearchServiceDeps {
  search: SearchRepository;
  /** The types a custom field has in the taxonomies (for `field.` filters); absent: no field is known. */
  fieldTypes?: (name: string) => Promise<FieldType[]>;
}

/** Compiled queries kept (by query text): stemming is a database round trip per search otherwise. */
const COMPILED_CACHE = 1000;

export function createSearchService(deps: SearchServiceDeps) {
  // Map keeps insertion order: the first key is the oldest. The configurations only change with a
  // migration, which restarts the process, so entries never go stale.
  const compiled = new Map<string, string | null>();
  async function compile(text: string): Promise<string | null> {
    const hit = compiled.get(text);
    if (hit !== undefined) return hit;
    const parsed = parseSearchQuery(text);
    if (parsed.length === 0) throw badRequest('The query has no words to search for');
    const tsquery = assembleTsquery(parsed, await deps.search.compile(parsed.flat()));
    if (compiled.size >= COMPILED_CACHE) compiled.delete(compiled.keys().next().value ?? '');
    compiled.set(text, tsquery);
    return tsquery;
  }

  return {
    async search(input: SearchInput): Promise<SearchResult> {
      const folder = normalizeRelativePath(input.path ?? '');
      const scopes = (input.scopes ?? []).filter((s, i, all) => all.indexOf(s) === i);
      if (scopes.length > 0 && folder !== '' && !scopes.some((s) => isWithin(s, folder))) {
        throw notFound(`Folder not found: ${folder}`);
      }
      const filters: SearchFilters = {
        folder,
        scopes,
        tag: input.tag,
        format: input.type,
        author: input.author,
        modifiedFrom: input.modifiedFrom,
        modifiedTo: input.modifiedTo,
        sensitive: input.sensitive,
        fields: input.fields?.length ? await resolveFieldFilters(input.fields, deps.fieldTypes ?? (async () => [])) : undefined,
      };

      const text = input.q?.trim() ?? '';
      let tsquery: string | null = null;
      if (text !== '') {
        tsquery = await compile(text);
        // Only stop words ("the", "de"): nothing can match them.
        if (tsquery === null) return { interpreted: null, total: 0, totalExact: true, unindexed: 0, approximate: false, rankedWithin: null, items: [], facets: { tag: [], type: [], author: [], year: [], sensitive: [], fields: {} }, nextCursor: null };
      }

      const fingerprint = createHash('sha256')
        .update(JSON.stringify([tsquery, filters]))
        .digest('base64url')
        .slice(0, 12);
      let after: { key: string; id: string } | undefined;
      if (input.cursor) {
        const [key, id, fp] = decodeCursor(input.cursor, SearchCursor);
        if (fp !== fingerprint) throw badRequest('The cursor belongs to another search');
        if (!(tsquery !== null ? RANK_KEY : DATE_KEY).test(key)) throw badRequest('Invalid cursor');
        after = { key, id };
      }

      const { page, facets } = await deps.search.find({ tsquery, filters, limit: input.limit, after, snippetChars: SNIPPET_CHARS });
      return {
        interpreted: tsquery,
        total: facets.total,
        totalExact: facets.exact,
        unindexed: facets.pending,
        approximate: page.approximate,
        rankedWithin: page.rankedWithin,
        items: page.hits.map((h) => ({ ...h, snippet: snippetSegments(h.snippet) })),
        facets: { tag: facets.byTag, type: facets.byType, author: facets.byAuthor, year: facets.byYear, sensitive: facets.bySensitive, fields: facets.byField },
        nextCursor: page.last ? encodeCursor([page.last.key, page.last.id, fingerprint]) : null,
      };
    },

    /** Rebuild every document's search vector; `onProgress` gets the running count. */
    async reindex(onProgress?: (done: number) => void): Promise<number> {
      return deps.search.reindex({ batchSize: REINDEX_BATCH, onBatch: onProgress });
    },
  };
}

export type SearchService = ReturnType<typeof createSearchService>;
