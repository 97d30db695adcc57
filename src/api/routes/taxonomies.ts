import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { FIELD_TYPES } from '../../domain/vocabulary.ts';
import { FieldsInput, LabelsInput, type TaxonomiesService, TaxonomyName } from '../../services/taxonomies.service.ts';
import { ErrorSchema } from '../schemas.ts';

export const TaxonomySchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    description: z.string().nullable(),
    version: z.number().int(),
    currentVersion: z.number().int(),
    labels: z.array(z.object({ name: z.string(), description: z.string().optional() })),
    fields: z
      .array(z.object({ name: z.string(), type: z.enum(FIELD_TYPES), description: z.string().optional(), values: z.array(z.string()).optional() }))
      .describe('Custom fields extracted with the tags (docs/api.md, "Custom fields")'),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Taxonomy' });

type TaxonomyRecord = Awaited<ReturnType<TaxonomiesService['get']>>;

const view = (t: TaxonomyRecord) => ({ ...t, createdAt: t.createdAt.toISOString(), updatedAt: t.updatedAt.toISOString() });

export const taxonomyRoutes =
  (deps: { taxonomies: TaxonomiesService }): FastifyPluginAsyncZod =>
  async (app) => {
    const svc = deps.taxonomies;
    app.get(
      '/v1/taxonomies',
      { schema: { tags: ['taxonomies'], summary: 'List taxonomies (current versions)', response: { 200: z.object({ items: z.array(TaxonomySchema) }) } } },
      async () => ({ items: (await svc.list()).map(view) }),
    );
    app.get(
      '/v1/taxonomies/:id',
      {
        schema: {
          tags: ['taxonomies'],
          summary: 'One taxonomy by id or name; any version with ?version=',
          params: z.object({ id: z.string().max(100) }),
          querystring: z.strictObject({ version: z.coerce.number().int().min(1).optional() }),
          response: { 200: TaxonomySchema, 404: ErrorSchema },
        },
      },
      async (req) => view(await svc.get(req.params.id, req.query.version)),
    );
    app.post(
      '/v1/taxonomies',
      {
        config: { audit: 'taxonomy.create' },
        schema: {
          tags: ['taxonomies'],
          summary: 'Create a taxonomy: labels with descriptions (the descriptions go into the prompt), and optional custom fields',
          body: z.strictObject({
            name: TaxonomyName,
            description: z.string().max(1000).optional(),
            labels: LabelsInput,
            fields: FieldsInput.optional().describe(
              'Custom fields `{name, type: string|number|date|boolean|enum, description?, values?}` (values: for enum only); invalid definitions answer 400 `invalid_field`',
            ),
          }),
          response: { 201: TaxonomySchema, 400: ErrorSchema, 409: ErrorSchema },
        },
      },
      async (req, reply) => reply.status(201).send(view(await svc.create(req.body))),
    );
    app.put(
      '/v1/taxonomies/:id',
      {
        config: { audit: 'taxonomy.update' },
        schema: {
          tags: ['taxonomies'],
          summary: 'Edit a taxonomy: makes a new version (results keep the version they used)',
          params: z.object({ id: z.string().max(100) }),
          body: z.strictObject({
            description: z.string().max(1000).optional(),
            labels: LabelsInput,
            fields: FieldsInput.optional().describe("Custom fields of the new version; absent: the current version's fields, []: none"),
          }),
          response: { 200: TaxonomySchema, 400: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (req) => view(await svc.update(req.params.id, req.body)),
    );
  };
