/**
 * Folder routes. A folder path may hold slashes: `/v1/folders/Company%20A%2FProject%201/insights`
 * (documented form) and `/v1/folders/Company%20A/Project%201/insights` both work; the second is
 * served by a wildcard route that splits the action off the end.
 */
import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { badRequest, notFound } from '../../domain/errors.ts';
import type { Principal } from '../../domain/access.ts';
import { DOCUMENT_ORIGIN_FILTERS, DOCUMENT_STATUSES, OCR_FILTERS, SENSITIVE_FILTERS, TEXT_SOURCES } from '../../domain/vocabulary.ts';
import type { InsightsService, ListDocumentsInput } from '../../services/insights.service.ts';
import type { DuplicatesService } from '../../services/duplicates.service.ts';
import { duplicatesOfFolder } from './duplicates.ts';
import { reviewQueueOf } from './reviews.ts';
import type { ReviewsService } from '../../services/reviews.service.ts';
import { changesOfFolder } from './changes.ts';
import type { ChangesService } from '../../services/changes.service.ts';
import { EXPORT_FORMATS, type ExportService } from '../../services/export.service.ts';
import { DocumentItemSchema, documentItem, ErrorSchema, FolderPathParam, InsightsSchema, splitAction, withFieldFilters } from '../schemas.ts';
import { parseFieldFilters } from '../../services/field-filters.ts';
import { cacheAnswer } from '../plugins/response-cache.ts';

const ListQuery = withFieldFilters({
  sort: z.enum(['path', 'name', 'size', 'mtime', 'modified', 'title']).default('path'),
  order: z.enum(['asc', 'desc']).default('asc'),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(2000).optional(),
  status: z.enum(DOCUMENT_STATUSES).optional(),
  format: z.string().max(50).optional(),
  extension: z.string().max(50).optional(),
  author: z.string().max(500).optional(),
  tag: z.string().max(80).optional().describe('Only documents whose latest classification has this tag'),
  modifiedFrom: z.coerce.date().optional(),
  modifiedTo: z.coerce.date().optional(),
  origin: z
    .enum(DOCUMENT_ORIGIN_FILTERS)
    .optional()
    .describe('Only files on disk, e-mail attachments, archive entries, or `embedded` (attachments and archive entries)'),
  ocr: z
    .enum(OCR_FILTERS)
    .optional()
    .describe('Only documents in this OCR state; `low-confidence`: read with a mean confidence under OCR_LOW_CONFIDENCE; `any`: every document that needed OCR'),
  textSource: z.enum(TEXT_SOURCES).optional().describe('Only documents whose text came from here'),
  stale: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional()
    .describe('`true`: only documents not modified for more than STALE_AFTER_YEARS years; `false`: only the others'),
  sensitive: z
    .enum(SENSITIVE_FILTERS)
    .optional()
    .describe('Only documents in which extraction found personal data of this kind (`any`: of any kind)'),
});

const ExportQuery = z.strictObject({
  format: z.enum(EXPORT_FORMATS).default('csv').describe('`csv` (UTF-8 with a BOM, formula-safe), `jsonl` (one JSON object a line) or `xlsx`'),
});

/** Actions of the wildcard route whose answers may come from the response cache (when they say so). */
const CACHED_ACTIONS = new Set(['insights', 'documents']);

const ListResponse = z.object({ folder: z.string(), items: z.array(DocumentItemSchema), nextCursor: z.string().nullable() });

export const folderRoutes =
  (deps: { duplicates: DuplicatesService; insights: InsightsService; exports: ExportService; reviews: ReviewsService; changes: ChangesService }): FastifyPluginAsyncZod =>
  async (app) => {
    // Answers about a folder a scan walked come from the database alone: they may be cached.
    const insights = async (path: string, req: FastifyRequest) => {
      const r = await deps.insights.folderInsights(path, req.principal);
      if (r.lastScannedAt !== null) cacheAnswer(req);
      return {
        ...r,
        oldestModified: r.oldestModified?.toISOString() ?? null,
        newestModified: r.newestModified?.toISOString() ?? null,
      };
    };
    const list = async (path: string, q: z.infer<typeof ListQuery>, req: FastifyRequest) => {
      const input: ListDocumentsInput = { path, ...q, fields: parseFieldFilters(q) };
      const page = await deps.insights.listDocuments(input, req.principal);
      if (page.scanned) cacheAnswer(req);
      return { folder: page.folder, items: page.items.map((d) => documentItem(d)), nextCursor: page.nextCursor };
    };
    // The body is a stream pulled by the socket (backpressure): one page of documents in memory at a time.
    const exportFolder = async (path: string, q: z.infer<typeof ExportQuery>, access: Principal, reply: FastifyReply) => {
      const out = await deps.exports.exportFolder(path, q.format, access);
      return reply
        .header('content-type', out.contentType)
        .header('content-disposition', `attachment; filename="${out.fileName}"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(out.body, { objectMode: false }));
    };

    app.get(
      '/v1/folders/:path/insights',
      {
        config: { responseCache: true },
        schema: {
          tags: ['folders'],
          summary: 'Folder insights: document count (with subfolders), breakdowns, size, dates, failures',
          params: z.object({ path: FolderPathParam }),
          response: { 200: InsightsSchema, 400: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (req) => insights(req.params.path, req),
    );

    app.get(
      '/v1/folders/:path/documents',
      {
        config: { responseCache: true },
        schema: {
          tags: ['folders'],
          summary: 'Documents in a folder and its subfolders, with metadata (cursor pagination, sort, filters)',
          params: z.object({ path: FolderPathParam }),
          querystring: ListQuery,
          response: { 200: ListResponse, 400: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (req) => list(req.params.path, req.query, req),
    );

    app.get(
      '/v1/folders/:path/export',
      {
        schema: {
          tags: ['folders'],
          summary: 'Every document of a folder and its subfolders with metadata, classification, duplicate group and personal-data counts, streamed as CSV, JSONL or XLSX',
          description:
            'Columns: file and document metadata, tags, primary category, summary; `duplicate_group` (the group key of GET /v1/folders/{path}/duplicates), `duplicate_kind` (exact or near), `duplicate_of` (the oldest file with the same bytes, for a later copy), `duplicate_similarity` (to the group\'s newest member); `personal_data_<kind>` (distinct values found per kind, 0 when none). Groups are computed over the folder before the first row is written.',
          params: z.object({ path: FolderPathParam }),
          querystring: ExportQuery,
          response: { 400: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (req, reply) => exportFolder(req.params.path, req.query, req.principal, reply),
    );

    // Same routes with literal slashes in the folder path.
    app.get(
      '/v1/folders/*',
      {
        config: { responseCache: (req) => CACHED_ACTIONS.has(splitAction((req.params as { '*': string })['*']).action) },
        schema: { hide: true, params: z.object({ '*': z.string().max(4200) }) },
      },
      async (req, reply) => {
        const { folder: path, action } = splitAction(req.params['*']);
        if (action === 'insights') return insights(path, req);
        if (action === 'duplicates') return duplicatesOfFolder(deps, path, req.query, req.principal);
        if (action === 'review') return reviewQueueOf(deps, path, req.query, req.principal);
        if (action === 'changes' || action === 'changes-by-day') return changesOfFolder(deps, action, path, req.query, req.principal);
        if (action === 'documents') {
          const q = ListQuery.safeParse(req.query);
          if (!q.success) throw badRequest('Query does not match the schema', { issues: q.error.issues.map((i) => i.message) });
          return list(path, q.data, req);
        }
        if (action === 'export') {
          const q = ExportQuery.safeParse(req.query);
          if (!q.success) throw badRequest('Query does not match the schema', { issues: q.error.issues.map((i) => i.message) });
          return exportFolder(path, q.data, req.principal, reply);
        }
        throw notFound(`No route for GET ${req.url.split('?')[0]}`);
      },
    );
  };
