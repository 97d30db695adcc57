/**
 * Evaluation: how good is tagging on your own documents? Gold labels come from an import (JSON
 * Lines) or from reviewer corrections; an imported label wins over a correction of the same
 * document (an imported set is curated on purpose, a correction is made on the way). A run reuses
 * the results of the labelled documents under its taxonomy version, model and prompt version and
 * classifies the rest through the ordinary classification job (so it is async); once that job has
 * ended, the metrics (domain/evaluation-metrics.ts) are computed once and kept with the run.
 *
 * Gold custom field values come from imports and from the fields a reviewer set in a correction;
 * the fields a correction merely keeps from the result it corrects are the model's own answer, and
 * scoring them would score the model against itself.
 */
import { z } from 'zod';
import type { Evaluation, EvaluationComparison, EvaluationMetrics, LabelImportError, LabelImportReport } from '../contract.ts';
import { canSee, type Principal } from '../domain/access.ts';
import { AppError, badRequest, notFound } from '../domain/errors.ts';
import { compareEvaluations, computeEvaluation, type EvaluationItem } from '../domain/evaluation-metrics.ts';
import { type FieldValue, readFieldValues } from '../domain/fields.ts';
import { normalizeRelativePath } from '../domain/paths.ts';
import { FINAL_JOB_STATUSES, type LabelLineErrorCode, REVIEW_MODEL } from '../domain/vocabulary.ts';
import type { EvaluationRow, EvaluationsRepository, LabelledDocument } from '../store/evaluations.repository.ts';
import type { JobsRepository } from '../store/jobs.repository.ts';
import type { ReviewsRepository } from '../store/reviews.repository.ts';
import type { ClassificationsService } from './classifications.service.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { canonicalLabels, PG_TIME_TEXT } from './reviews.service.ts';
import type { TaxonomiesService } from './taxonomies.service.ts';

/** Lines of one import, and documents of one run (a classification job names at most 10,000). */
export const MAX_LABEL_LINES = 50_000;
export const MAX_EVALUATION_DOCUMENTS = 10_000;

export interface EvaluationsServiceDeps {
  evaluations: EvaluationsRepository;
  reviews: Pick<ReviewsRepository, 'goldInFolder'>;
  jobs: Pick<JobsRepository, 'findById'>;
  taxonomies: TaxonomiesService;
  classifications: Pick<ClassificationsService, 'start'>;
  /** The model and prompt version workers classify with (absent: no provider: runs only reuse). */
  classifier?: { model: string; promptVersion: string };
  knownFolder(path: string, access: Principal): Promise<{ rel: string }>;
}

const LabelLine = z.strictObject({
  path: z.string().min(1).max(4096),
  tags: z.array(z.string().min(1).max(200)).min(1).max(100),
  primaryCategory: z.string().min(1).max(200).optional(),
  /** Gold custom field values: checked against the taxonomy's definitions (readFieldValues). */
  fields: z.record(z.string().max(100), z.unknown()).optional(),
});

const FieldValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);

/** One labelled document of a run, as kept with it. */
interface GoldEntry {
  documentId: string;
  path: string;
  sha256: string;
  tags: string[];
  primaryCategory: string | null;
  /** Gold custom field values (imported labels only); absent or null: none. */
  fields?: Record<string, FieldValue> | null;
  source: 'imported' | 'review';
}

const GoldSnapshot = z.array(
  z.object({
    documentId: z.string(),
    path: z.string(),
    sha256: z.string(),
    tags: z.array(z.string()),
    primaryCategory: z.string().nullable(),
    fields: z.record(z.string(), FieldValueSchema).nullable().optional(),
    source: z.enum(['imported', 'review']),
  }),
);

/** Kept metrics as answered; runs kept before custom fields were scored have none. */
function metricsView(stored: unknown): EvaluationMetrics | null {
  const m = stored as EvaluationMetrics | null;
  return m ? { ...m, fields: m.fields ?? [] } : null;
}

const ListCursor = z.tuple([z.string().regex(PG_TIME_TEXT), z.uuid()]);

export function createEvaluationsService(deps: EvaluationsServiceDeps) {
  const lineError = (line: number, code: LabelLineErrorCode, message: string): LabelImportError => ({ line, code, message });

  async function taxonomyOf(name: string, version?: number) {
    return deps.taxonomies.get(name, version);
  }

  /** The run's documents and their gold labels: imported labels first, then corrections of other documents. */
  async function goldOf(folder: string, taxonomyId: string): Promise<GoldEntry[]> {
    const [imported, reviews] = await Promise.all([deps.evaluations.labelsInFolder(folder, taxonomyId), deps.reviews.goldInFolder(folder, taxonomyId)]);
    const docs = new Map((await deps.evaluations.documentsAt(imported.map((l) => l.path))).map((d) => [d.path, d]));
    const out = new Map<string, GoldEntry>();
    for (const l of imported) {
      const d = docs.get(l.path);
      if (d) out.set(d.id, { documentId: d.id, path: d.path, sha256: d.sha256, tags: l.tags, primaryCategory: l.primaryCategory, fields: l.fields, source: 'imported' });
    }
    for (const r of reviews) {
      if (out.has(r.documentId)) continue;
      out.set(r.documentId, { documentId: r.documentId, path: r.path, sha256: r.contentSha256, tags: r.tags, primaryCategory: r.primaryCategory, fields: r.fields, source: 'review' });
    }
    return [...out.values()].sort((a, z) => (a.path < z.path ? -1 : a.path > z.path ? 1 : 0));
  }

  async function metricsOf(row: EvaluationRow, gold: GoldEntry[]): Promise<EvaluationMetrics> {
    const docs: LabelledDocument[] = gold.map((g) => ({ id: g.documentId, path: g.path, sha256: g.sha256 }));
    const predictions = await deps.evaluations.predictions(docs, row);
    const items: EvaluationItem[] = gold.map((g) => ({ gold: { tags: g.tags, primaryCategory: g.primaryCategory, fields: g.fields ?? null }, predicted: predictions.get(g.documentId) ?? null }));
    return computeEvaluation(items);
  }

  /** A running evaluation whose job has ended gets its metrics now (once: the first reader writes them). */
  async function settle(row: EvaluationRow): Promise<EvaluationRow> {
    if (row.status !== 'running') return row;
    const job = row.jobId ? await deps.jobs.findById(row.jobId) : undefined;
    if (job && !(FINAL_JOB_STATUSES as readonly string[]).includes(job.status)) return row;
    const gold = GoldSnapshot.parse(row.gold);
    const metrics = await metricsOf(row, gold);
    const failed = job !== undefined && job.status !== 'completed';
    await deps.evaluations.finish(row.id, {
      status: failed ? 'failed' : 'completed',
      metrics,
      ...(failed ? { errorCode: job.errorCode ?? job.status, errorMessage: job.errorMessage ?? `The classification job ended ${job.status}` } : {}),
    });
    return (await deps.evaluations.find(row.id)) ?? row;
  }

  function view(row: EvaluationRow): Evaluation {
    const gold = GoldSnapshot.safeParse(row.gold);
    const entries = gold.success ? gold.data : [];
    return {
      id: row.id,
      path: row.path,
      taxonomy: { id: row.taxonomyId, name: row.taxonomyName, version: row.taxonomyVersion },
      model: row.model,
      promptVersion: row.promptVersion,
      status: row.status as Evaluation['status'],
      jobId: row.jobId,
      documents: row.documents,
      goldSources: { imported: entries.filter((e) => e.source === 'imported').length, reviews: entries.filter((e) => e.source === 'review').length },
      metrics: metricsView(row.metrics),
      error: row.errorCode ? { code: row.errorCode, message: row.errorMessage ?? '' } : null,
      createdAt: row.createdAt.toISOString(),
      finishedAt: row.finishedAt?.toISOString() ?? null,
    };
  }

  async function visible(id: string, access: Principal): Promise<EvaluationRow> {
    const row = await deps.evaluations.find(id);
    if (!row || !canSee(access, row.path)) throw notFound(`Evaluation not found: ${id}`);
    return settle(row);
  }

  return {
    /**
     * Import gold labels from JSON Lines. Every line is checked on its own (JSON, shape, path in
     * the documents root and in scope, a document there, labels and fields in the taxonomy); good lines are
     * stored (a path labelled again is replaced), bad ones reported with their line number.
     */
    async importLabels(body: string, taxonomyName: string, access: Principal): Promise<LabelImportReport> {
      const taxonomy = await taxonomyOf(taxonomyName);
      const lines = body.split(/\r?\n/);
      if (lines.length > MAX_LABEL_LINES) throw badRequest(`At most ${MAX_LABEL_LINES} lines per import`);
      const errors: LabelImportError[] = [];
      const good: { line: number; path: string; tags: string[]; primaryCategory: string | null; fields: Record<string, FieldValue> | null }[] = [];
      lines.forEach((text, i) => {
        const line = i + 1;
        if (text.trim() === '') return;
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          errors.push(lineError(line, 'invalid_json', 'Not a JSON object'));
          return;
        }
        const parsed = LabelLine.safeParse(json);
        if (!parsed.success) {
          errors.push(lineError(line, 'invalid_line', parsed.error.issues.map((x) => `${x.path.join('.') || 'line'}: ${x.message}`).join('; ')));
          return;
        }
        let path: string;
        try {
          path = normalizeRelativePath(parsed.data.path);
        } catch (err) {
          errors.push(lineError(line, 'path_outside_root', err instanceof Error ? err.message : 'Invalid path'));
          return;
        }
        const fields = readFieldValues(parsed.data.fields, taxonomy.fields);
        if (!('fields' in fields)) {
          errors.push(lineError(line, fields.problem, fields.message));
          return;
        }
        try {
          const tags = canonicalLabels(parsed.data.tags, taxonomy.labels);
          const primary = parsed.data.primaryCategory === undefined ? null : (canonicalLabels([parsed.data.primaryCategory], taxonomy.labels)[0] ?? null);
          // As in a correction: a primary category is one of the document's tags.
          if (primary !== null && !tags.includes(primary)) tags.unshift(primary);
          good.push({ line, path, tags, primaryCategory: primary, fields: fields.fields });
        } catch (err) {
          if (err instanceof AppError) errors.push(lineError(line, 'label_outside_taxonomy', err.message));
          else throw err;
        }
      });
      const known = await deps.evaluations.knownPaths([...new Set(good.map((g) => g.path))]);
      const stored = good.filter((g) => {
        if (canSee(access, g.path) && known.has(g.path)) return true;
        errors.push(lineError(g.line, 'not_found', `No document at ${g.path}`));
        return false;
      });
      await deps.evaluations.saveLabels(taxonomy.id, stored, access.keyId);
      errors.sort((a, z) => a.line - z.line);
      return { taxonomy: { id: taxonomy.id, name: taxonomy.name, version: taxonomy.version }, imported: stored.length, errors };
    },

    async start(
      req: { path: string; taxonomy?: string; taxonomyVersion?: number; model?: string; promptVersion?: string; requestId?: string },
      access: Principal,
    ): Promise<Evaluation> {
      const folder = await deps.knownFolder(req.path, access);
      const taxonomy = await deps.taxonomies.get(req.taxonomy ?? 'internal-documents', req.taxonomyVersion);
      const model = req.model ?? deps.classifier?.model;
      const promptVersion = req.promptVersion ?? deps.classifier?.promptVersion;
      if (!model || !promptVersion) throw new AppError('provider_not_configured', 'No LLM provider is configured: name the model and prompt version of the results to evaluate');
      const gold = await goldOf(folder.rel, taxonomy.id);
      if (gold.length === 0) throw badRequest(`No gold labels under taxonomy "${taxonomy.name}" for documents in ${folder.rel || '.'}: import labels or review documents first`);
      if (gold.length > MAX_EVALUATION_DOCUMENTS) throw badRequest(`At most ${MAX_EVALUATION_DOCUMENTS} labelled documents per evaluation`);
      const key = { taxonomyId: taxonomy.id, taxonomyVersion: taxonomy.version, model, promptVersion };
      const have = await deps.evaluations.predictions(gold.map((g) => ({ id: g.documentId, path: g.path, sha256: g.sha256 })), key);
      const missing = gold.filter((g) => !have.has(g.documentId)).map((g) => g.documentId);
      // Workers classify with their prompt, under the taxonomy's current version, with any model of
      // their provider (another model's results are kept beside the documents' own, which they do
      // not replace); any other run can only score the results already there (the rest count as
      // unpredicted). A correction is never a model: its results are scored, never made.
      const canClassify =
        deps.classifier !== undefined && model !== REVIEW_MODEL && promptVersion === deps.classifier.promptVersion && taxonomy.version === taxonomy.currentVersion;
      let jobId: string | null = null;
      if (missing.length > 0 && canClassify) {
        const { job } = await deps.classifications.start({
          documentIds: missing,
          taxonomy: taxonomy.id,
          model,
          access,
          ...(req.requestId ? { requestId: req.requestId } : {}),
        });
        jobId = job.id;
      }
      const row = await deps.evaluations.create({
        path: folder.rel,
        taxonomyId: taxonomy.id,
        taxonomyName: taxonomy.name,
        taxonomyVersion: taxonomy.version,
        model,
        promptVersion,
        jobId,
        documents: gold.length,
        gold,
        createdBy: access.keyId,
      });
      return view(await settle(row));
    },

    async get(id: string, access: Principal): Promise<Evaluation> {
      return view(await visible(id, access));
    },

    /** Kept runs, newest first (those of folders the caller can see). */
    async list(q: { limit: number; cursor?: string }, access: Principal): Promise<{ items: Evaluation[]; nextCursor: string | null }> {
      const before = q.cursor ? decodeCursor(q.cursor, ListCursor) : undefined;
      const rows = await deps.evaluations.list(q.limit, before ? { at: before[0], id: before[1] } : undefined);
      const last = rows.at(-1);
      const settled = await Promise.all(rows.filter((r) => canSee(access, r.path)).map(settle));
      return {
        items: settled.map(view),
        nextCursor: last && rows.length === q.limit ? encodeCursor([last.position, last.id]) : null,
      };
    },

    /** Two finished runs side by side, with b − a per label. */
    async compare(a: string, b: string, access: Principal): Promise<EvaluationComparison> {
      const [ra, rb] = await Promise.all([visible(a, access), visible(b, access)]);
      const va = view(ra);
      const vb = view(rb);
      if (!va.metrics || !vb.metrics) throw new AppError('conflict', 'Both evaluations must have finished to be compared');
      return { a: va, b: vb, delta: compareEvaluations(va.metrics, vb.metrics) };
    },
  };
}

export type EvaluationsService = ReturnType<typeof createEvaluationsService>;
