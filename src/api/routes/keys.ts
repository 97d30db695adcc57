import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ROLES } from '../../domain/vocabulary.ts';
import type { KeysService } from '../../services/keys.service.ts';
import { ErrorSchema } from '../schemas.ts';

const KeySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    prefix: z.string().describe('Identifies the key in lists; the key itself is never shown again'),
    role: z.enum(ROLES),
    scopes: z.array(z.string()),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiKey' });

type KeyRecord = Awaited<ReturnType<KeysService['list']>>[number];

const view = (k: KeyRecord) => ({
  ...k,
  createdAt: k.createdAt.toISOString(),
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null,
  revokedAt: k.revokedAt?.toISOString() ?? null,
});

export const keyRoutes =
  (deps: { keys: KeysService; authRequired: boolean }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/me',
      {
        schema: {
          tags: ['access'],
          summary: 'Who the caller is: role and folder scopes of the key (or open access)',
          response: {
            200: z.object({
              keyId: z.string().nullable(),
              role: z.enum(ROLES),
              scopes: z.array(z.string()),
              authRequired: z.boolean(),
            }),
          },
        },
      },
      async (req) => ({ ...req.principal, authRequired: deps.authRequired }),
    );

    app.post(
      '/v1/keys',
      {
        config: { role: 'admin', audit: 'key.create' },
        schema: {
          tags: ['access'],
          summary: 'Create an API key (admin). The key is in this answer only; it is stored as a hash.',
          body: z.strictObject({
            name: z.string().trim().min(1).max(100),
            role: z.enum(ROLES),
            scopes: z.array(z.string().min(1).max(4096)).max(100).optional().describe('Folders the key may see; none: all'),
          }),
          response: { 201: KeySchema.extend({ key: z.string() }), 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema },
        },
      },
      async (req, reply) => {
        const { key, record } = await deps.keys.create(req.body);
        return reply.status(201).send({ ...view(record), key });
      },
    );

    app.get(
      '/v1/keys',
      {
        config: { role: 'admin' },
        schema: { tags: ['access'], summary: 'List API keys (admin), without secrets', response: { 200: z.object({ items: z.array(KeySchema) }) } },
      },
      async () => ({ items: (await deps.keys.list()).map(view) }),
    );

    app.delete(
      '/v1/keys/:id',
      {
        config: { role: 'admin', audit: 'key.revoke' },
        schema: {
          tags: ['access'],
          summary: 'Revoke an API key (admin)',
          params: z.object({ id: z.uuid() }),
          response: { 200: KeySchema, 404: ErrorSchema },
        },
      },
      async (req) => view(await deps.keys.revoke(req.params.id)),
    );

    app.get(
      '/v1/audit',
      {
        config: { role: 'admin' },
        schema: {
          tags: ['access'],
          summary: 'The audit log (admin): who started, cancelled, retried, created or revoked what',
          querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(100), before: z.string().regex(/^\d+$/).optional() }),
          response: {
            200: z.object({
              items: z.array(
                z.object({
                  id: z.string(),
                  at: z.string(),
                  keyId: z.string().nullable(),
                  action: z.string(),
                  target: z.string().nullable(),
                  status: z.number().nullable(),
                  ip: z.string().nullable(),
                  requestId: z.string().nullable(),
                }),
              ),
            }),
          },
        },
      },
      async (req) => ({ items: (await deps.keys.auditLog(req.query.limit, req.query.before)).map((e) => ({ ...e, at: e.at.toISOString() })) }),
    );
  };
