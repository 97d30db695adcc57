/**
 * Classifying a batch of documents: each content is sent to the model once (one request for tags,
 * category and summary together; exact copies share the result) and its result saved as it arrives; transient provider failures
 * retry the batch with the queue's backoff, and on the last attempt a document fails with its
 * reason while the rest of the folder goes on. The batch completes with its token and cost sums
 * in one transaction. Requests in flight are bounded where they leave (the provider's fetch, per
 * HTTP attempt, retries first: classify/concurrency.ts), not here.
 */
import { setMaxListeners } from 'node:events';
import { type ClassifyInput, type Classifier, type CompletionRequest, type CompletionResponse, classificationFailure } from '../classify/index.ts';
import { JobFailure } from '../domain/errors.ts';
import { type ClassifyJobParams, classifyJobParamsSchema, type JobPayloads } from '../domain/work.ts';
import type { ClassificationOutput, ClassificationsRepository, ClassifyInputRow, ResultKey } from '../store/classifications.repository.ts';
import type { FailureRow, JobsRepository } from '../store/jobs.repository.ts';
import type { TaxonomiesRepository } from '../store/taxonomies.repository.ts';
import type { UnitOfWork } from '../store/unit-of-work.ts';
import { type BatchApiDeps, batchApiStep, cancelBatchApiBatches } from './classification-batch-api.ts';

export type StoredResult = ClassificationOutput;

export type ClassifyOutcome =
  | { ok: true; result: StoredResult }
  | { ok: false; code: string; message: string; retryable: boolean };

export interface ClassifyService {
  readonly model: string;
  readonly promptVersion: string;
  readonly providerName: string;
  /** Estimated cost in USD of classifying this input (0 when it cannot be planned); `batch`: at the Batch API's price. */
  estimateCostUsd(input: ClassifyInput, opts?: { batch?: boolean }): number;
  /** `answer`: the Batch API's answer to `batchRequest(input)`, used instead of sending the request. */
  classify(input: ClassifyInput, signal?: AbortSignal, answer?: CompletionResponse): Promise<ClassifyOutcome>;
  /** The document's one request for a Batch API batch; undefined when it needs more than one. */
  batchRequest(input: ClassifyInput): CompletionRequest | undefined;
}

/** The library's classifier with confidence review flags, and failures as values. */
export function createClassifyService(opts: {
  classifier: Classifier;
  /** Tags under this confidence are kept but flagged for review. */
  reviewThreshold: number;
  summaryMaxWords: number;
}): ClassifyService {
  const { classifier } = opts;
  return {
    model: classifier.model,
    promptVersion: classifier.promptVersion,
    providerName: classifier.providerName,
    estimateCostUsd(input, estimateOpts) {
      try {
        return classifier.estimate({ summaryMaxWords: opts.summaryMaxWords, ...input }, estimateOpts).costUsd;
      } catch {
        return 0;
      }
    },
    batchRequest(input) {
      return classifier.batchRequest({ summaryMaxWords: opts.summaryMaxWords, ...input });
    },
    async classify(input, signal, answer) {
      try {
        const r = await classifier.classify({ summaryMaxWords: opts.summaryMaxWords, ...input }, { signal, ...(answer ? { answer } : {}) });
        const tags = r.tags.map((t) => ({ label: t.label, confidence: t.confidence, needsReview: t.confidence < opts.reviewThreshold }));
        return {
          ok: true,
          result: {
            tags,
            primaryCategory: r.primaryCategory,
            summary: r.summary,
            language: r.summaryLanguage,
            strategy: r.strategy,
            chunks: r.chunks,
            inputTokens: r.usage.inputTokens,
            outputTokens: r.usage.outputTokens,
            costUsd: r.costUsd,
            needsReview: tags.some((t) => t.needsReview),
            warnings: r.warnings,
            fields: r.fields,
          },
        };
      } catch (err) {
        const f = classificationFailure(err);
        return { ok: false, code: f.code, message: f.message, retryable: f.retryable };
      }
    },
  };
}

/**
 * The key under which a result is reused: same content, taxonomy version, model, prompt and
 * summary language. The model is the job's when it names one (an evaluation of another model),
 * else the workers' own.
 */
export function resultKey(p: ClassifyJobParams, workers: Pick<ClassifyService, 'model' | 'promptVersion'>): ResultKey {
  return {
    taxonomyId: p.taxonomyId,
    taxonomyVersion: p.taxonomyVersion,
    model: p.model ?? workers.model,
    promptVersion: workers.promptVersion,
    summaryLanguage: p.summaryLanguage ?? 'auto',
  };
}

/** Is the job cancelled? Read at most every 500 ms, however many documents ask. */
function cancellationCheck(isActive: () => Promise<boolean>): () => Promise<boolean> {
  let checkedAt = 0;
  let pending: Promise<boolean> | undefined;
  let last = false;
  return async () => {
    if (last) return true;
    if (Date.now() - checkedAt > 500) {
      checkedAt = Date.now();
      pending = isActive().then((active) => {
        last = !active;
        return last;
      });
    }
    return pending ? pending : last;
  };
}

/** Some documents of the batch hit a transient provider error: the queue runs the batch again. */
export class BatchNeedsRetry extends Error {
  override name = 'BatchNeedsRetry';
}

export interface ClassificationBatchDeps {
  jobs: JobsRepository;
  classifications: ClassificationsRepository;
  taxonomies: TaxonomiesRepository;
  unitOfWork: UnitOfWork;
  /** Absent when this worker has no LLM provider configured. */
  classifier?: ClassifyService;
  /** Absent when the provider offers no Batch API: a job planned for it is then sent directly. */
  batchApi?: BatchApiDeps;
}

/** Which run of the batch this is, as the queue counts it. */
export interface BatchAttempt {
  attempt: number;
  maxAttempts: number;
  signal: AbortSignal;
}

export function createClassificationBatchService(deps: ClassificationBatchDeps) {
  const { jobs, classifications } = deps;
  return {
    /** Classify one batch (a no-op when it was completed by an earlier run or its job ended). */
    async runBatch(payload: JobPayloads['classify'], run: BatchAttempt): Promise<void> {
      const { signal } = run;
      // Every document of the batch in flight listens on the job's signal (its provider call does):
      // that many listeners is expected, not a leak.
      setMaxListeners(payload.documentIds.length * 2 + 10, signal);
      // Read together: each batch pays these round trips before its first request.
      const [shouldRun, job, rows] = await Promise.all([
        jobs.shouldRunBatch(payload.jobId, payload.batchNo),
        jobs.findById(payload.jobId),
        classifications.inputs(payload.documentIds),
      ]);
      if (!shouldRun) {
        // A look at a Batch API batch whose job was cancelled: the batch goes too, should the cancel itself have missed it.
        if (payload.poll && deps.batchApi) await cancelBatchApiBatches(deps.batchApi, payload.jobId);
        return;
      }
      if (!job) return;
      const params = classifyJobParamsSchema.parse(job.params);
      const classifier = deps.classifier;
      if (!classifier) throw new JobFailure('provider_not_configured', 'This worker has no LLM provider configured (OPENAI_API_KEY / OPENAI_BASE_URL)');
      const key = resultKey(params, classifier);
      const [taxonomy, already, sharedAll] = await Promise.all([
        deps.taxonomies.find(params.taxonomyId, params.taxonomyVersion),
        classifications.existing(
          rows.map((r) => ({ id: r.id, path: r.path, sha256: r.sha256 ?? '' })),
          key,
        ),
        classifications.sharedResults([...new Set(rows.flatMap((r) => (r.sha256 && r.text !== null ? [r.sha256] : [])))], key, params.force ? job.id : null),
      ]);
      if (!taxonomy) throw new JobFailure('taxonomy_gone', `Taxonomy ${params.taxonomyId} v${params.taxonomyVersion} is gone`);
      const failures: FailureRow[] = [];
      const transient: string[] = [];
      // Another model's results (an evaluation's) are kept beside the document's own, not in its place.
      const besideCurrent = key.model !== classifier.model;
      let spent = job.costUsd;
      const cancelled = cancellationCheck(() => jobs.isActive(job.id));
      const inputOf = (doc: ClassifyInputRow, text: string): ClassifyInput => ({
        text,
        title: doc.title ?? undefined,
        fileName: doc.name,
        documentLanguage: doc.language ?? undefined,
        taxonomy: { id: taxonomy.id, version: taxonomy.version, name: taxonomy.name, labels: taxonomy.labels, fields: taxonomy.fields },
        summaryLanguage: params.summaryLanguage ?? undefined,
        ...(besideCurrent ? { model: key.model } : {}),
      });
      // Exact copies (the same content) are classified once: one request per content, and every
      // copy saves that result. A result already made for the content under this key (by this job,
      // or by any unless forced) is shared without a request.
      const byContent = new Map<string, ClassifyInputRow[]>();
      for (const doc of rows) {
        // Done by an earlier run of this batch: keep it.
        if (already.get(doc.id) === job.id) continue;
        if (!doc.sha256 || doc.text === null) {
          failures.push({ documentId: doc.id, path: doc.path, code: 'no_text', message: 'The document has no extracted text' });
          continue;
        }
        byContent.set(doc.sha256, [...(byContent.get(doc.sha256) ?? []), doc]);
      }
      const shared = new Map([...sharedAll].filter(([sha]) => byContent.has(sha)));
      const saveFor = (doc: ClassifyInputRow, result: StoredResult, latencyMs?: number) =>
        classifications.save({ ...key, ...result, ...(latencyMs === undefined ? {} : { latencyMs }), documentId: doc.id, contentSha256: doc.sha256 ?? '', jobId: job.id, overrideReview: params.force, besideCurrent });
      /** The contents that need a request: one per content, sent as its first copy. */
      const toSend = [...byContent].filter(([sha]) => !shared.has(sha));
      /** Batch API lines up to the job's budget at the batch price; the rest are left to the direct path's own check. */
      const withinBudget = <T extends { input: ClassifyInput }>(docs: T[]): T[] => {
        const budget = params.budgetUsd;
        if (budget === undefined) return docs;
        let planned = spent;
        return docs.filter((d) => (planned += classifier.estimateCostUsd(d.input, { batch: true })) <= budget);
      };
      let answers = new Map<string, CompletionResponse>();
      if (params.batchApi && deps.batchApi) {
        const open = toSend.map(([, copies]) => {
          const doc = copies[0] as ClassifyInputRow;
          return { id: doc.id, input: inputOf(doc, doc.text ?? '') };
        });
        const step = await batchApiStep(deps.batchApi, payload, withinBudget(open), (input) => classifier.batchRequest(input), () => jobs.isActive(job.id), run.attempt >= run.maxAttempts);
        // Submitted, or still running at the provider: a later poll (a queue job of its own) finishes the batch.
        if (step.kind === 'waiting') return;
        answers = step.answers;
      }
      // Saves wait a little in the repository's group commit for others to share their statement;
      // once every content of the batch has its answer (or failure), no more are coming from this
      // batch, and what waits goes at once instead of holding the batch's completion.
      const saves: Promise<void>[] = [];
      const save = (doc: ClassifyInputRow, result: StoredResult, latencyMs?: number) => {
        const saved = saveFor(doc, result, latencyMs);
        // Awaited below, with every other save; a failure before then is not an unhandled one.
        saved.catch(() => undefined);
        saves.push(saved);
      };
      const classifyContent = async (sha: string, copies: ClassifyInputRow[]): Promise<void> => {
        // A cancelled job sends nothing more; the batch is left open (the job is over anyway).
        if (await cancelled()) return;
        const known = shared.get(sha);
        if (known) {
          for (const doc of copies) save(doc, known);
          return;
        }
        const [doc, ...others] = copies as [ClassifyInputRow, ...ClassifyInputRow[]];
        const input = inputOf(doc, doc.text ?? '');
        // Answered by the Batch API: paid for at the batch price, within the budget when it was submitted.
        const answer = answers.get(doc.id);
        if (params.budgetUsd !== undefined && !answer) {
          const estimate = classifier.estimateCostUsd(input);
          if (spent + estimate > params.budgetUsd) {
            const message = `The job's budget of $${params.budgetUsd} would be passed (spent $${spent.toFixed(4)}, this document ~$${estimate.toFixed(4)})`;
            for (const d of copies) failures.push({ documentId: d.id, path: d.path, code: 'budget_exceeded', message });
            return;
          }
          spent += estimate;
        }
        const startedAt = Date.now();
        const outcome = await classifier.classify(input, signal, answer);
        if (outcome.ok) {
          const latencyMs = Date.now() - startedAt;
          // The usage is booked on the result that was sent; its copies carry none.
          save(doc, outcome.result, latencyMs);
          const copy = { ...outcome.result, inputTokens: 0, outputTokens: 0, costUsd: 0 };
          for (const d of others) save(d, copy);
          return;
        }
        // Stopped by a shutdown: nothing is wrong with the document; the batch goes back to the queue.
        if (signal.aborted) return;
        for (const d of copies) {
          if (outcome.retryable && run.attempt < run.maxAttempts) transient.push(d.id);
          else failures.push({ documentId: d.id, path: d.path, code: outcome.code, message: outcome.message });
        }
      };
      let unanswered = byContent.size;
      await Promise.all(
        [...byContent].map(async ([sha, copies]) => {
          try {
            await classifyContent(sha, copies);
          } finally {
            unanswered -= 1;
            if (unanswered === 0) classifications.flushSaves();
          }
        }),
      );
      await Promise.all(saves);
      if (await cancelled()) return;
      if (signal.aborted) throw new BatchNeedsRetry('Worker stopping: the batch goes back to the queue with its results so far kept');
      if (transient.length > 0) {
        // Results so far are saved; the rerun (with the queue's backoff) only sends what is left.
        throw new BatchNeedsRetry(`${transient.length} document(s) hit a transient provider error; retrying the batch`);
      }
      const missing = payload.documentIds.length - rows.length;
      await deps.unitOfWork.run(async (tx) => {
        const usage = await classifications.usage(tx, job.id, payload.documentIds);
        // Every document of the batch now has a result (from this run or an earlier one) or a failure.
        const done = rows.length - failures.length;
        const completed = await jobs.completeBatch(tx, job.id, payload.batchNo, { done, failed: failures.length, skipped: missing }, failures);
        if (completed) await jobs.addUsage(tx, job.id, usage);
      });
    },
  };
}

export type ClassificationBatchService = ReturnType<typeof createClassificationBatchService>;
