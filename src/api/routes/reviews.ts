/**
 * Reviewer corrections: a folder's review queue and the correction of a document's result.
 * Folder paths with literal slashes reach `reviewQueueOf` through the folder routes' wildcard.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ReviewQueuePage } from '../../contract.ts';
import type { Principal } from '../../domain/access.ts';
import { badRequest } from '../../domain/errors.ts';
import type { InsightsService } from '../../services/insights.service.ts';
import type { ReviewsService } from '../../services/reviews.service.ts';
import { DocumentDetailSchema, documentDetail, ErrorSchema, FieldValuesSchema, FolderPathParam } from '../schemas.ts';

export const ReviewQueueQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(200).default(20),
  cursor: z.string().max(200).optional(),
});

const TagSchema = z.object({ label: z.string(), confidence: z.number(), needsReview: z.boolean() });

const ReviewQueueSchema = z
  .object({
    folder: z.string(),
    items: z.array(
      z.object({
        id: z.uuid(),
        path: z.string(),
        name: z.string(),
        classificationId: z.uuid(),
        taxonomyId: z.uuid(),
        taxonomyVersion: z.number().int(),
        model: z.string(),
        tags: z.array(TagSchema),
        primaryCategory: z.string(),
        summary: z.string(),
        fields: FieldValuesSchema.describe("The result's custom field values by name (null: not found), typed by the taxonomy version's definitions"),
        classifiedAt: z.string(),
      }),
    ),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'ReviewQueue' });

const Label = z.string().trim().min(1).max(200);

const CorrectionSchema = z
  .strictObject({
    tags: z.array(Label).min(1).max(100).optional().describe('The full set of tags (replaces the current ones)'),
    add: z.array(Label).max(100).optional().describe('Tags to add (after `tags`)'),
    remove: z.array(Label).max(100).optional().describe('Tags to remove (after `add`)'),
    primaryCategory: Label.optional().describe('The primary category; it joins the tags when it is not among them'),
    fields: z
      .record(z.string().max(100), z.union([z.string().max(1000), z.number(), z.boolean(), z.null()]))
      .optional()
      .describe(
        'Custom field values to set ({name: value|null}), read as the model\'s answers are (400 invalid_field for a name the taxonomy does not define ' +
          'or a value its type cannot read); the other fields keep their values. Values set here count as gold in evaluations.',
      ),
    accept: z.literal(true).optional().describe('Accept the current result as it is (alone), or mark the correction as a review (with changes)'),
  })
  .meta({ id: 'ClassificationCorrection' });

/** The folder's review queue from a raw query (the wildcard route validates it here). */
export async function reviewQueueOf(deps: { reviews: ReviewsService }, path: string, query: unknown, access: Principal): Promise<ReviewQueuePage> {
  const q = ReviewQueueQuery.safeParse(query);
  if (!q.success) throw badRequest('Query does not match the schema', { issues: q.error.issues.map((i) => i.message) });
  const page = await deps.reviews.queue(path, q.data, access);
  return { ...page, items: page.items.map(({ position: _, ...i }) => ({ ...i, classifiedAt: i.classifiedAt.toISOString() })) };
}

export const reviewRoutes =
  (deps: { reviews: ReviewsService; insights: InsightsService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.get(
      '/v1/folders/:path/review',
      {
        schema: {
          tags: ['folders'],
          summary: 'The review queue: documents of the folder (and its subfolders) whose current result has a tag under REVIEW_CONFIDENCE_THRESHOLD, oldest result first',
          params: z.object({ path: FolderPathParam }),
          querystring: ReviewQueueQuery,
          response: { 200: ReviewQueueSchema, 400: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (req) => reviewQueueOf(deps, req.params.path, req.query, req.principal),
    );

    app.patch(
      '/v1/documents/:id/classification',
      {
        config: { audit: 'classification.review', role: 'editor' },
        schema: {
          tags: ['documents'],
          summary: "Correct (or accept) a document's classification: the reviewer's result, stored with who and when",
          description:
            'Starts from the current result: `tags` replaces the set, then `add` and `remove` apply; `primaryCategory` sets the primary category ' +
            '(it joins the tags). `accept: true` alone accepts the result unchanged. Labels must be in the taxonomy of the result (400 ' +
            '`label_outside_taxonomy`); a document without a result answers 409 `not_classified`. The correction becomes the document\'s ' +
            'result (model `review`) and stays so over later automatic runs of the same content and taxonomy unless one is started with `force`. ' +
            'Answers with the document, as GET /v1/documents/{id}.',
          params: z.object({ id: z.uuid() }),
          body: CorrectionSchema,
          response: { 200: DocumentDetailSchema, 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
        },
      },
      async (req) => {
        await deps.reviews.correct(req.params.id, req.body, req.principal);
        const { doc, history, children, sameContent } = await deps.insights.getDocument(req.params.id, req.principal);
        return documentDetail(doc, history, children, sameContent);
      },
    );
  };
