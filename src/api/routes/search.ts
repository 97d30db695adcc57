/** GET /v1/search: ranked full-text results with snippets and facet counts, in cursor pages. */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DOCUMENT_STATUSES, SENSITIVE_FILTERS } from '../../domain/vocabulary.ts';
import { FACET_LIMIT, RANK_CANDIDATES, type SearchService } from '../../services/search.service.ts';
import { ErrorSchema, withFieldFilters } from '../schemas.ts';
import { parseFieldFilters } from '../../services/field-filters.ts';

const SearchQuery = withFieldFilters({
  q: z
    .string()
    .max(1000)
    .optional()
    .describe(
      'Words (all must match), "quoted phrases", prefixes (aanbest*, 3+ letters), -exclusions and OR. Case and accents do not matter; Dutch and English word forms match. Empty: browse by date.',
    ),
  path: z.string().max(4096).optional().describe('Only documents inside this folder (relative to the documents root)'),
  tag: z.string().max(80).optional().describe('Only documents whose latest classification has this tag'),
  type: z.string().max(50).optional().describe('Only documents of this format (docx, pdf, xlsx, ...)'),
  author: z.string().max(500).optional(),
  modifiedFrom: z.coerce.date().optional(),
  modifiedTo: z.coerce.date().optional(),
  sensitive: z.enum(SENSITIVE_FILTERS).optional().describe('Only documents in which extraction found personal data of this kind (`any`: of any kind)'),
  cursor: z.string().max(2000).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(10),
});

const Bucket = z.object({ key: z.string().nullable(), count: z.number().int() });

const SearchResponse = z
  .object({
    interpreted: z.string().nullable().describe('The query as searched (a PostgreSQL tsquery); null without one'),
    total: z.number().int().describe('Documents matching the query and filters (at least this many when totalExact is false)'),
    totalExact: z
      .boolean()
      .describe(
        `False past ${FACET_LIMIT} matches: total and facets then cover the first ${FACET_LIMIT} found (for a word in more than a few percent of documents, found in a fixed sample of one document in eight)`,
      ),
    approximate: z
      .boolean()
      .describe(
        `True past ${RANK_CANDIDATES} matches: the order is by score among \`rankedWithin\` candidates, and the other matches follow unranked (score -1); every match is still reached once. How the candidates and the score are chosen: docs/api.md, "Search"`,
      ),
    rankedWithin: z.number().int().nullable().describe('How many matches were ranked when `approximate`; null when every match was'),
    unindexed: z
      .number()
      .int()
      .describe(
        'Documents inside the folder and filters whose text is not searchable yet: text is indexed in the background moments after extraction (titles, names, tags and summaries at once). 0 when search is up to date',
      ),
    items: z.array(
      z.object({
        id: z.uuid(),
        path: z.string(),
        name: z.string(),
        title: z.string().nullable(),
        author: z.string().nullable(),
        type: z.string().nullable(),
        language: z.string().nullable(),
        status: z.enum(DOCUMENT_STATUSES),
        modified: z.string(),
        tags: z.array(z.object({ label: z.string(), confidence: z.number(), needsReview: z.boolean() })).nullable(),
        primaryCategory: z.string().nullable(),
        score: z.number(),
        snippet: z
          .array(z.object({ text: z.string(), match: z.boolean() }))
          .describe('Text around the matches, as segments; `match` marks the highlighted words'),
      }),
    ),
    facets: z
      .object({
        tag: z.array(Bucket),
        type: z.array(Bucket),
        author: z.array(Bucket),
        year: z.array(Bucket),
        sensitive: z
          .array(z.object({ key: z.enum(SENSITIVE_FILTERS), count: z.number().int() }))
          .describe('Matches in which extraction found personal data, per kind, and under `any` of any kind (total minus `any`: none found); keys are values of the `sensitive` filter'),
        fields: z.record(z.string(), z.array(Bucket)).describe('Counts by value of each enum and boolean custom field, by field name (documents without a value are not counted)'),
      })
      .describe('Counts over every match (top 20 keys each); type, author and year add up to total'),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'SearchResult' });

export const searchRoutes =
  (deps: { search: SearchService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/search',
      {
        schema: {
          tags: ['documents'],
          summary: 'Search documents: ranked results with highlighted snippets, facets and cursor pages',
          querystring: SearchQuery,
          response: { 200: SearchResponse, 400: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (req) => {
        const { q, path, tag, type, author, modifiedFrom, modifiedTo, sensitive, cursor, limit } = req.query;
        const r = await deps.search.search({
          q,
          path,
          tag,
          type,
          author,
          modifiedFrom,
          modifiedTo,
          sensitive,
          fields: parseFieldFilters(req.query),
          cursor,
          limit,
          scopes: req.principal.scopes,
        });
        return {
          interpreted: r.interpreted,
          total: r.total,
          totalExact: r.totalExact,
          unindexed: r.unindexed,
          approximate: r.approximate,
          rankedWithin: r.rankedWithin,
          items: r.items.map((h) => ({
            id: h.id,
            path: h.path,
            name: h.name,
            title: h.title,
            author: h.author,
            type: h.format,
            language: h.language,
            status: h.status,
            modified: h.modified.toISOString(),
            tags: h.tags,
            primaryCategory: h.primaryCategory,
            score: h.rank,
            snippet: h.snippet,
          })),
          facets: r.facets,
          nextCursor: r.nextCursor,
        };
      },
    );
  };
