/**
 * What changed in a folder: the changes scans recorded (cursor pages) and their counts per day for
 * a timeline. Folder paths with literal slashes reach `changesOfFolder` through the folder routes'
 * wildcard.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Principal } from '../../domain/access.ts';
import { badRequest } from '../../domain/errors.ts';
import { CHANGE_KINDS } from '../../domain/vocabulary.ts';
import type { ChangeDays, ChangesPage } from '../../contract.ts';
import type { ChangesService } from '../../services/changes.service.ts';
import { ErrorSchema, FolderPathParam } from '../schemas.ts';

const ChangesQuery = z.strictObject({
  since: z.coerce.date().optional().describe('Only changes recorded at or after this instant (ISO 8601); default: every change kept'),
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

const DaysQuery = z.strictObject({
  since: z.coerce.date().optional().describe('First instant counted (ISO 8601); default: 30 days ago'),
});

const ChangeSchema = z
  .object({
    id: z.string(),
    at: z.string(),
    kind: z.enum(CHANGE_KINDS),
    documentId: z.uuid(),
    path: z.string().nullable().describe('Where the document is (null: outside the key\'s scopes)'),
    oldPath: z.string().nullable().describe('Where it was, for `moved`'),
    oldSha256: z.string().nullable().describe('Content before, for `changed`, `moved` and `deleted`'),
    newSha256: z.string().nullable().describe('Content after, for `added`, `changed` and `moved`'),
    jobId: z.uuid().nullable().describe('The scan that found it'),
  })
  .meta({ id: 'Change' });

const ChangesPageSchema = z.object({ folder: z.string(), items: z.array(ChangeSchema), nextCursor: z.string().nullable() });

const ChangeDaysSchema = z.object({
  folder: z.string(),
  since: z.string(),
  days: z.array(z.object({ day: z.string().describe('UTC day, YYYY-MM-DD'), added: z.number(), changed: z.number(), moved: z.number(), deleted: z.number() })),
});

function parsed<T>(schema: z.ZodType<T>, query: unknown): T {
  const q = schema.safeParse(query);
  if (!q.success) throw badRequest('Query does not match the schema', { issues: q.error.issues.map((i) => i.message) });
  return q.data;
}

/** A folder's changes (`changes`) or their counts per day (`changes-by-day`) from a raw query (the wildcard route). */
export function changesOfFolder(deps: { changes: ChangesService }, action: 'changes' | 'changes-by-day', path: string, query: unknown, access: Principal): Promise<ChangesPage | ChangeDays> {
  if (action === 'changes') return deps.changes.list({ path, ...parsed(ChangesQuery, query) }, access);
  return deps.changes.perDay({ path, ...parsed(DaysQuery, query) }, access);
}

export const changeRoutes =
  (deps: { changes: ChangesService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/folders/:path/changes',
      {
        schema: {
          tags: ['folders'],
          summary: 'What scans found changed in a folder and its subfolders: added, changed (old and new sha256), moved (old and new path), deleted; oldest first',
          params: z.object({ path: FolderPathParam }),
          querystring: ChangesQuery,
          response: { 200: ChangesPageSchema, 400: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (req) => deps.changes.list({ path: req.params.path, ...req.query }, req.principal),
    );

    app.get(
      '/v1/folders/:path/changes-by-day',
      {
        schema: {
          tags: ['folders'],
          summary: 'A folder\'s changes counted per UTC day and kind, for a timeline',
          params: z.object({ path: FolderPathParam }),
          querystring: DaysQuery,
          response: { 200: ChangeDaysSchema, 400: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (req) => deps.changes.perDay({ path: req.params.path, ...req.query }, req.principal),
    );
  };
