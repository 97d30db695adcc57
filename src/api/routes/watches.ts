/**
 * Watches: folders of the local root kept in sync by filesystem events and a periodic full check.
 * Reading needs the viewer role; watching and unwatching start scans, so they need editor (as
 * POST /v1/scans does). Scoped keys see and manage only watches of folders in their scopes.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { WatchesService } from '../../services/watches.service.ts';
import { ErrorSchema } from '../schemas.ts';

const WatchSchema = z
  .object({
    id: z.uuid(),
    folder: z.string(),
    autoClassify: z.boolean().describe('New and changed documents are classified after each scan the watch starts'),
    createdAt: z.string(),
    lastCheckedAt: z.string().nullable().describe('When the folder was last scanned in full by the watch'),
  })
  .meta({ id: 'Watch' });

const WatchBody = z.strictObject({
  folder: z.string().max(4096).describe('Folder relative to the documents root ("." or "" for the root)'),
  autoClassify: z.boolean().optional().describe('Classify new and changed documents (default false; classification budgets apply)'),
});

export const watchRoutes =
  (deps: { watches: WatchesService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/watches',
      {
        schema: { tags: ['watches'], summary: 'Watched folders', response: { 200: z.object({ items: z.array(WatchSchema) }) } },
      },
      async (req) => ({ items: await deps.watches.list(req.principal) }),
    );

    app.post(
      '/v1/watches',
      {
        config: { role: 'editor', audit: 'watch.create' },
        schema: {
          tags: ['watches'],
          summary: 'Watch a folder of the local root (201; 200 with the updated watch when it was watched already)',
          body: WatchBody,
          response: { 200: WatchSchema, 201: WatchSchema, 400: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (req, reply) => {
        const r = await deps.watches.watch(req.body, req.principal);
        return reply.code(r.created ? 201 : 200).send(r.watch);
      },
    );

    app.delete(
      '/v1/watches/:id',
      {
        config: { role: 'editor', audit: 'watch.delete' },
        schema: {
          tags: ['watches'],
          summary: 'Stop watching a folder (its documents and history stay)',
          params: z.object({ id: z.uuid() }),
          response: { 204: z.null(), 400: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (req, reply) => {
        await deps.watches.unwatch(req.params.id, req.principal);
        return reply.code(204).send(null);
      },
    );
  };
