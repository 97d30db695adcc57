import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { CLASSIFICATION_MODES } from '../../domain/vocabulary.ts';
import type { ClassificationsService } from '../../services/classifications.service.ts';
import { ErrorSchema, JobSchema } from '../schemas.ts';

const DryRunSchema = z
  .object({
    dryRun: z.literal(true),
    documents: z.number().int(),
    estimatedInputTokens: z.number().int(),
    estimatedOutputTokens: z.number().int(),
    estimatedCostUsd: z.number(),
    model: z.string(),
    taxonomy: z.object({ id: z.string(), name: z.string(), version: z.number().int() }),
    folderNotScanned: z.boolean(),
    mode: z.enum(['direct', 'batch']).describe('How the requests would go: `batch` is priced at the Batch API factor (LLM_BATCH_PRICE_FACTOR)'),
  })
  .meta({ id: 'ClassificationEstimate' });

export const classificationRoutes =
  (deps: { classifications: ClassificationsService }): FastifyPluginAsyncZod =>
  async (app) => {
    app.post(
      '/v1/classifications',
      {
        config: { audit: 'classification.start' },
        schema: {
          tags: ['classification'],
          summary: 'Classify a folder (or documents): tags from a taxonomy, a primary category and a summary per document',
          description:
            'Answers at once with a job (202; 200 with the identical active job). The folder is scanned first. Documents whose content already has a result under the same taxonomy version, model, prompt and summary language are skipped unless `force`. `dryRun` answers with the estimate without calling the model. `budgetUsd` stops the job cleanly before the estimate would pass it. `mode` chooses between direct requests and the Batch API.',
          body: z.strictObject({
            path: z.string().max(4096).optional(),
            documentIds: z.array(z.uuid()).min(1).max(10_000).optional(),
            taxonomy: z.string().max(100).optional().describe('Taxonomy id or name (default: internal-documents)'),
            summaryLanguage: z
              .string()
              .regex(/^[A-Za-z]{2,3}(-[A-Za-z]{2,4})?$/, 'a language code such as "nl" or "en"')
              .optional(),
            force: z.boolean().default(false),
            dryRun: z.boolean().default(false),
            budgetUsd: z.number().positive().max(1_000_000).optional(),
            mode: z
              .enum(CLASSIFICATION_MODES)
              .optional()
              .describe(
                '`direct`: one request per document, now. `batch`: through the Batch API (answered within 24 h at its lower price; what it misses is sent directly); 400 when the provider does not offer it. `auto` (default): the Batch API for at least LLM_BATCH_API_MIN_DOCUMENTS documents when the provider offers it.',
              ),
          }),
          response: { 200: z.union([JobSchema, DryRunSchema]), 202: JobSchema, 400: ErrorSchema, 404: ErrorSchema, 503: ErrorSchema },
        },
      },
      async (req, reply) => {
        const { dryRun, ...rest } = req.body;
        if (dryRun) return deps.classifications.dryRun({ ...rest, access: req.principal });
        const { job, created } = await deps.classifications.start({ ...rest, requestId: req.id, access: req.principal });
        return reply.status(created ? 202 : 200).send(job);
      },
    );
  };
