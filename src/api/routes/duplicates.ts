/**
 * Duplicates and versions: a folder's groups of exact and near copies, and the documents like one
 * document. Folder paths with literal slashes reach `duplicatesOfFolder` through the folder
 * routes' wildcard.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Principal } from '../../domain/access.ts';
import { badRequest } from '../../domain/errors.ts';
import type { DuplicatesPage } from '../../contract.ts';
import type { DuplicatesService } from '../../services/duplicates.service.ts';
import { DuplicatesSummarySchema, ErrorSchema, FolderPathParam } from '../schemas.ts';

export const DuplicatesQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});

const VersionHintSchema = z.string().describe('`v<N>`, `final`, `draft` or `copy`, from the file name');

/** What a group member and a similar document both say about the file. */
const FileFactsSchema = z.object({
  id: z.uuid(),
  path: z.string(),
  name: z.string(),
  size: z.number(),
  modified: z.string().describe('The document\'s own modified date, else the file\'s'),
  versionHints: z.array(VersionHintSchema),
});


const GroupSchema = z
  .object({
    key: z.string(),
    kind: z.enum(['exact', 'near']),
    similarity: z.number().describe('Lowest estimated similarity between members matched to each other'),
    size: z.number(),
    wastedBytes: z.number(),
    members: z.array(
      FileFactsSchema.extend({
        sha256: z.string(),
        similarity: z.number().describe('Estimated similarity to the newest member'),
        exactCopy: z.boolean(),
      }),
    ),
  })
  .meta({ id: 'DuplicateGroup' });

const PageSchema = z.object({
  folder: z.string(),
  threshold: z.number(),
  summary: DuplicatesSummarySchema,
  items: z.array(GroupSchema),
  nextCursor: z.string().nullable(),
});

const SimilarSchema = z.object({
  threshold: z.number(),
  items: z.array(FileFactsSchema.extend({ similarity: z.number(), identical: z.boolean().describe('The same bytes') })),
});

/** The folder's duplicates page from a raw query (the wildcard route validates it here). */
export function duplicatesOfFolder(deps: { duplicates: DuplicatesService }, path: string, query: unknown, access: Principal): Promise<DuplicatesPage> {
  const q = DuplicatesQuery.safeParse(query);
  if (!q.success) throw badRequest('Query does not match the schema', { issues: q.error.issues.map((i) => i.message) });
  return deps.duplicates.forFolder(path, access, q.data);
}

export const duplicateRoutes =
  (deps: { duplicates: DuplicatesService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/folders/:path/duplicates',
      {
        schema: {
          tags: ['folders'],
          summary:
            'Groups of exact copies (same bytes) and near copies or versions (estimated similarity at or over DUPLICATE_SIMILARITY) ' +
            'among the folder\'s files, most wasted bytes first; members oldest first with the version words in their names',
          params: z.object({ path: FolderPathParam }),
          querystring: DuplicatesQuery,
          response: { 200: PageSchema, 400: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (req) => deps.duplicates.forFolder(req.params.path, req.principal, req.query),
    );

    app.get(
      '/v1/documents/:id/similar',
      {
        schema: {
          tags: ['documents'],
          summary: 'Documents the caller may see with the same bytes as this one, or an estimated similarity at or over DUPLICATE_SIMILARITY',
          params: z.object({ id: z.uuid() }),
          response: { 200: SimilarSchema, 400: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (req) => deps.duplicates.similar(req.params.id, req.principal),
    );
  };
