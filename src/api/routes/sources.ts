/**
 * Bucket sources (admin, unscoped: a source is deployment-wide). Credentials go in, never out:
 * answers say only whether a source has stored credentials.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isScoped, type Principal } from '../../domain/access.ts';
import { AppError } from '../../domain/errors.ts';
import { SOURCE_KINDS, SOURCE_NAME_PATTERN } from '../../domain/vocabulary.ts';
import type { SourcesService } from '../../services/sources.service.ts';
import { ErrorSchema } from '../schemas.ts';

const SourceSchema = z
  .object({
    name: z.string(),
    kind: z.enum(SOURCE_KINDS),
    bucket: z.string(),
    prefix: z.string().describe("Key prefix ('' or ending in '/')"),
    endpoint: z.string().nullable(),
    region: z.string().nullable(),
    forcePathStyle: z.boolean(),
    credentials: z.enum(['stored', 'environment']).describe('`stored`: encrypted with SECRETS_KEY; `environment`: the AWS default chain of each process'),
    watchIntervalSeconds: z.number().int().nullable(),
    watchedAt: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Source' });

const name = z.string().regex(SOURCE_NAME_PATTERN, 'a slug: 2-63 lowercase letters, digits and single hyphens').describe('First segment of every folder path in the source');
const settings = {
  bucket: z.string().min(3).max(63),
  prefix: z.string().max(1024).optional().describe('Only keys under this prefix are documents'),
  endpoint: z.string().max(2048).nullable().optional().describe('http(s) URL of an S3-compatible server (MinIO, R2, Ceph); absent: AWS S3'),
  region: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/)
    .nullable()
    .optional(),
  forcePathStyle: z.boolean().optional().describe('Path-style URLs (http://host/bucket/key), as MinIO and s3rver need'),
  accessKeyId: z.string().min(1).max(256).nullable().optional().describe('Stored encrypted (SECRETS_KEY); never returned'),
  secretAccessKey: z.string().min(1).max(1024).nullable().optional().describe('Stored encrypted (SECRETS_KEY); never returned'),
  watchIntervalSeconds: z.number().int().min(10).max(86_400).nullable().optional().describe('List the bucket for changes this often; absent: only on request'),
};

const errors = { 400: ErrorSchema, 401: ErrorSchema, 403: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema };

/** Sources are deployment-wide: a key scoped to some folders may not see or change them. */
function assertUnscoped(p: Principal | undefined): void {
  if (p && isScoped(p)) throw new AppError('forbidden', 'Sources are managed with an admin key without folder scopes');
}

export const sourceRoutes =
  (deps: { sources: SourcesService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/sources',
      {
        config: { role: 'admin' },
        schema: { tags: ['sources'], summary: 'List bucket sources (admin); DOCS_ROOT is the default source and not listed', response: { 200: z.object({ items: z.array(SourceSchema) }), ...errors } },
      },
      async (req) => {
        assertUnscoped(req.principal);
        return { items: await deps.sources.list() };
      },
    );

    app.post(
      '/v1/sources',
      {
        config: { role: 'admin', audit: 'source.create' },
        schema: {
          tags: ['sources'],
          summary: 'Add an S3-compatible bucket as a source (admin); its folders are `<name>/<key prefix>`',
          body: z.strictObject({ name, kind: z.enum(SOURCE_KINDS), ...settings }),
          response: { 201: SourceSchema, ...errors },
        },
      },
      async (req, reply) => {
        assertUnscoped(req.principal);
        return reply.status(201).send(await deps.sources.create(req.body));
      },
    );

    app.get(
      '/v1/sources/:name',
      {
        config: { role: 'admin' },
        schema: { tags: ['sources'], summary: 'One bucket source (admin)', params: z.object({ name: z.string().max(63) }), response: { 200: SourceSchema, ...errors } },
      },
      async (req) => {
        assertUnscoped(req.principal);
        return deps.sources.get(req.params.name);
      },
    );

    app.patch(
      '/v1/sources/:name',
      {
        config: { role: 'admin', audit: 'source.update' },
        schema: {
          tags: ['sources'],
          summary: 'Change a bucket source (admin); credentials given replace the stored ones (null for both: use the environment)',
          params: z.object({ name: z.string().max(63) }),
          body: z.strictObject({ ...settings, bucket: settings.bucket.optional() }),
          response: { 200: SourceSchema, ...errors },
        },
      },
      async (req) => {
        assertUnscoped(req.principal);
        return deps.sources.update(req.params.name, req.body);
      },
    );

    app.delete(
      '/v1/sources/:name',
      {
        config: { role: 'admin', audit: 'source.remove' },
        schema: {
          tags: ['sources'],
          summary: 'Remove a bucket source (admin); its documents are kept, marked deleted',
          params: z.object({ name: z.string().max(63) }),
          response: { 200: SourceSchema, ...errors },
        },
      },
      async (req) => {
        assertUnscoped(req.principal);
        return deps.sources.remove(req.params.name);
      },
    );
  };
