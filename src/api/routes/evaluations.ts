/**
 * Evaluations: gold labels in (JSON Lines), runs that score the classifier against them, kept
 * runs, and two runs side by side.
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { EVALUATION_STATUSES } from '../../domain/vocabulary.ts';
import type { EvaluationsService } from '../../services/evaluations.service.ts';
import { ErrorSchema } from '../schemas.ts';

/** Largest labels import (JSON Lines): 413 payload_too_large above. */
export const LABELS_BODY_LIMIT = 8 * 1024 * 1024;

const JSON_LINES_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/x-jsonlines'];

const Averages = z.object({ precision: z.number(), recall: z.number(), f1: z.number() });
const LabelMetrics = Averages.extend({
  label: z.string(),
  support: z.number().int().describe('Documents with the label in the gold set'),
  predicted: z.number().int().describe('Documents the model gave the label'),
  tp: z.number().int(),
  fp: z.number().int(),
  fn: z.number().int(),
}).meta({ id: 'EvaluationLabelMetrics' });

const FieldAccuracy = z
  .object({
    field: z.string(),
    compared: z.number().int().describe('Scored documents whose gold label gives the field (a gold null included)'),
    correct: z.number().int(),
    accuracy: z.number().nullable(),
  })
  .meta({ id: 'EvaluationFieldAccuracy' });

const MetricsSchema = z
  .object({
    documents: z.number().int(),
    scored: z.number().int().describe('Labelled documents with a prediction'),
    unpredicted: z.number().int().describe('Labelled documents without one (failed, or not classified by this model)'),
    perLabel: z.array(LabelMetrics).describe('Every label in the gold set or the predictions; most support first'),
    micro: Averages,
    macro: Averages,
    primaryAccuracy: z.number().nullable(),
    primaryCompared: z.number().int(),
    confusion: z
      .object({ labels: z.array(z.string()), counts: z.array(z.array(z.number().int())) })
      .describe('Primary categories: gold on rows, predicted on columns, in `labels` order'),
    costUsd: z.object({ total: z.number(), perDocument: z.number().nullable() }),
    latencyMs: z.object({ mean: z.number().nullable(), p50: z.number().nullable(), p95: z.number().nullable() }),
    fields: z.array(FieldAccuracy).describe('Exact-match accuracy per custom field, over the scored documents whose gold label gives its value'),
  })
  .meta({ id: 'EvaluationMetrics' });

const EvaluationSchema = z
  .object({
    id: z.uuid(),
    path: z.string(),
    taxonomy: z.object({ id: z.uuid(), name: z.string(), version: z.number().int() }),
    model: z.string(),
    promptVersion: z.string(),
    status: z.enum(EVALUATION_STATUSES),
    jobId: z.uuid().nullable().describe('The classification job of the labelled documents without a result to reuse (null: all reused)'),
    documents: z.number().int(),
    goldSources: z.object({ imported: z.number().int(), reviews: z.number().int() }),
    metrics: MetricsSchema.nullable().describe('Once the classification job has ended'),
    error: z.object({ code: z.string(), message: z.string() }).nullable(),
    createdAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'Evaluation' });

const LabelDelta = z.object({
  label: z.string(),
  a: LabelMetrics.nullable(),
  b: LabelMetrics.nullable(),
  precision: z.number(),
  recall: z.number(),
  f1: z.number(),
  support: z.number().int(),
});

const ComparisonSchema = z
  .object({
    a: EvaluationSchema,
    b: EvaluationSchema,
    delta: z
      .object({
        perLabel: z.array(LabelDelta),
        fields: z.array(z.object({ field: z.string(), a: FieldAccuracy.nullable(), b: FieldAccuracy.nullable(), accuracy: z.number().nullable() })),
        micro: Averages,
        macro: Averages,
        primaryAccuracy: z.number().nullable(),
        costPerDocumentUsd: z.number().nullable(),
        latencyMeanMs: z.number().nullable(),
      })
      .describe('b − a; a label on one side only counts as 0 on the other'),
  })
  .meta({ id: 'EvaluationComparison' });

const ImportReportSchema = z
  .object({
    taxonomy: z.object({ id: z.uuid(), name: z.string(), version: z.number().int() }),
    imported: z.number().int(),
    errors: z.array(z.object({ line: z.number().int(), code: z.string(), message: z.string() })),
  })
  .meta({ id: 'LabelImportReport' });

export const evaluationRoutes =
  (deps: { evaluations: EvaluationsService }): FastifyPluginAsyncZod =>
  async (app) => {
    // JSON Lines bodies arrive as text; each line is parsed and checked by the service.
    app.addContentTypeParser(JSON_LINES_TYPES, { parseAs: 'string', bodyLimit: LABELS_BODY_LIMIT }, (_req, body, done) => done(null, body));

    app.post(
      '/v1/evaluations/labels',
      {
        bodyLimit: LABELS_BODY_LIMIT,
        config: { audit: 'evaluation.labels' },
        schema: {
          tags: ['evaluation'],
          summary: 'Import gold labels: JSON Lines, one `{"path", "tags": [...], "primaryCategory"?, "fields"?}` per line',
          description:
            'Content type application/x-ndjson (or application/jsonl, text/plain), at most 8 MiB (413 above). Each line is checked on its own: ' +
            'JSON, shape, a document at the path (in scope), labels in the taxonomy; good lines are stored (a path labelled again is replaced) ' +
            'and bad ones reported by line number. A primary category joins the tags. `fields` ({name: value|null}) gives gold custom field values: ' +
            'a field the taxonomy does not define refuses the line (unknown_field), and a value is read as the classifier\'s answers are ' +
            '(invalid_field_value when it cannot be).',
          querystring: z.strictObject({ taxonomy: z.string().min(1).max(100).describe('Taxonomy id or name') }),
          body: z.string(),
          response: { 200: ImportReportSchema, 400: ErrorSchema, 404: ErrorSchema, 413: ErrorSchema },
        },
      },
      async (req) => deps.evaluations.importLabels(req.body, req.query.taxonomy, req.principal),
    );

    app.post(
      '/v1/evaluations',
      {
        config: { audit: 'evaluation.start' },
        schema: {
          tags: ['evaluation'],
          summary: 'Evaluate classification on the labelled documents of a folder',
          description:
            'Reuses the results of the labelled documents under the taxonomy version, model and prompt version; classifies the rest with a ' +
            'classification job (when the prompt version is the workers\' own and the taxonomy version is current) and answers at once (202). ' +
            'A model other than the workers\' own is asked on the same provider; its results are kept beside the documents\' own and never ' +
            'replace what documents, listings and insights show. ' +
            'Poll GET /v1/evaluations/{id}: metrics appear once the job has ended.',
          body: z.strictObject({
            path: z.string().max(4096),
            taxonomy: z.string().max(100).optional().describe('Taxonomy id or name (default: internal-documents)'),
            taxonomyVersion: z.number().int().positive().optional().describe('Default: the current version'),
            model: z.string().min(1).max(200).optional().describe("Default: the workers' model (LLM_MODEL); another is asked on the same provider"),
            promptVersion: z.string().min(1).max(100).optional().describe("Default: the workers' prompt version"),
          }),
          response: { 202: EvaluationSchema, 400: ErrorSchema, 404: ErrorSchema, 503: ErrorSchema },
        },
      },
      async (req, reply) => reply.status(202).send(await deps.evaluations.start({ ...req.body, requestId: req.id }, req.principal)),
    );

    app.get(
      '/v1/evaluations',
      {
        schema: {
          tags: ['evaluation'],
          summary: 'Kept evaluation runs, newest first',
          querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(100).default(20), cursor: z.string().max(200).optional() }),
          response: { 200: z.object({ items: z.array(EvaluationSchema), nextCursor: z.string().nullable() }), 400: ErrorSchema },
        },
      },
      async (req) => deps.evaluations.list(req.query, req.principal),
    );

    app.get(
      '/v1/evaluations/compare',
      {
        schema: {
          tags: ['evaluation'],
          summary: 'Two evaluation runs side by side, with per-label deltas (b − a)',
          querystring: z.strictObject({ a: z.uuid(), b: z.uuid() }),
          response: { 200: ComparisonSchema, 400: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema },
        },
      },
      async (req) => deps.evaluations.compare(req.query.a, req.query.b, req.principal),
    );

    app.get(
      '/v1/evaluations/:id',
      {
        schema: {
          tags: ['evaluation'],
          summary: 'One evaluation run: status, and its metrics once its classification job has ended',
          params: z.object({ id: z.uuid() }),
          response: { 200: EvaluationSchema, 400: ErrorSchema, 404: ErrorSchema },
        },
      },
      async (req) => deps.evaluations.get(req.params.id, req.principal),
    );
  };
