/**
 * Classification jobs. `classify-plan` scans the folder first (a child scan job, polled; skipped
 * when the folder is exactly as its last scan left it), then splits the folder's extracted
 * documents into batches, skipping those that already have a result for their content under the
 * same taxonomy version, model, prompt and summary language (unless forced). `classify` sends
 * each document of a batch to the model (one request per document: tags, category and summary
 * together), storing each result as it arrives; transient provider
 * failures retry the batch with the queue's backoff, and on the last attempt the document fails
 * with its reason while the rest of the folder goes on.
 */
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { isIgnoredFileName } from '../extract/index.ts';
import type { DocsRoot } from '../services/docs-root.ts';
import { walkFiles } from '../services/walk.ts';
import type { ClassifyService } from '../services/classify.service.ts';
import type { ClassificationsRepository, ResultKey } from '../store/classifications.repository.ts';
import type { Db } from '../store/database.ts';
import { unchangedSinceExtraction } from '../store/documents.repository.ts';
import type { FailureRow, JobsRepository } from '../store/jobs.repository.ts';
import type { TaxonomiesRepository } from '../store/taxonomies.repository.ts';
import { sql } from 'kysely';
import type { JobName, JobPayloads } from './definitions.ts';

export interface ClassifyJobParams {
  path?: string;
  documentIds?: string[];
  taxonomyId: string;
  taxonomyVersion: number;
  /** null: each document's own language. */
  summaryLanguage: string | null;
  force: boolean;
  budgetUsd?: number;
  scanJobId?: string;
  /** Set when the plan found the folder as its last scan left it, and so did not rescan it. */
  folderUnchanged?: boolean;
}

export interface ClassifyDeps {
  db: Db;
  jobs: JobsRepository;
  classifications: ClassificationsRepository;
  taxonomies: TaxonomiesRepository;
  /** Absent when this worker has no LLM provider configured. */
  classifier?: ClassifyService;
  batchSize: number;
  log: Logger;
  enqueue<N extends JobName>(name: N, payload: JobPayloads[N], opts?: { delayMs?: number }): Promise<void>;
  /** To see whether a folder is unchanged since its last scan; absent: always rescan first. */
  docsRoot?: Pick<DocsRoot, 'resolveFolder'>;
  /** As the scan walks (see PipelineDeps). */
  allowHardlinks?: boolean;
}

export class TransientBatchError extends Error {
  override name = 'TransientBatchError';
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

export function resultKey(p: ClassifyJobParams, model: string, promptVersion: string): ResultKey {
  return {
    taxonomyId: p.taxonomyId,
    taxonomyVersion: p.taxonomyVersion,
    model,
    promptVersion,
    summaryLanguage: p.summaryLanguage ?? 'auto',
  };
}

/**
 * How long the plan waits before looking at its scan again: 100 ms for the first second (a rescan
 * of an unchanged folder ends within it, and every poll missed there is time the whole job
 * waits), then longer steps up to 2 s for long scans.
 */
export function scanPollDelayMs(poll: number): number {
  return Math.min(2000, 100 * Math.ceil(poll / 10));
}

export async function runClassifyPlan(deps: ClassifyDeps, payload: JobPayloads['classify-plan']): Promise<void> {
  const { jobs, classifications } = deps;
  const job = await jobs.markRunning(payload.jobId);
  if (!job) return;
  const params = job.params as unknown as ClassifyJobParams;
  if (!deps.classifier) {
    await jobs.fail(job.id, 'provider_not_configured', 'This worker has no LLM provider configured (OPENAI_API_KEY / OPENAI_BASE_URL)');
    return;
  }

  // Documents not yet scanned are scanned first: a child scan job, polled until it ends. When
  // the folder is exactly as its last scan left it, the rescan would find nothing: plan at once.
  if (params.path !== undefined && !params.folderUnchanged) {
    let scanId = params.scanJobId;
    if (!scanId) {
      if (await folderUnchangedSinceScan(deps, params.path)) {
        await jobs.mergeParams(job.id, { folderUnchanged: true });
      } else {
        const { job: scan } = await jobs.createOrFind({
          kind: 'scan',
          folderPath: params.path,
          params: {},
          dedupeKey: `scan:${params.path}`,
          parentId: job.id,
          requestId: job.requestId,
        });
        scanId = scan.id;
        await jobs.mergeParams(job.id, { scanJobId: scanId });
        await deps.enqueue('scan', { jobId: scanId });
      }
    }
    if (scanId) {
      const scan = await jobs.findById(scanId);
      if (!scan || scan.status === 'failed' || scan.status === 'cancelled') {
        await jobs.fail(job.id, 'scan_failed', `The scan of the folder ended ${scan?.status ?? 'missing'}: ${scan?.errorMessage ?? ''}`.trim());
        return;
      }
      if (scan.status !== 'completed') {
        const poll = (payload.poll ?? 0) + 1;
        await deps.enqueue('classify-plan', { jobId: job.id, poll }, { delayMs: scanPollDelayMs(poll) });
        return;
      }
    }
  }

  const key = resultKey(params, deps.classifier.model, deps.classifier.promptVersion);
  const scope = params.documentIds ? { ids: params.documentIds } : { folder: params.path ?? '' };
  let after: string | null = null;
  let batchNo = 0;
  for (;;) {
    const page = await classifications.candidates(scope, after, 1000);
    if (page.length === 0) break;
    after = page.at(-1)?.path ?? null;
    const existing = params.force ? new Map<string, string | null>() : await classifications.existing(page, key);
    for (let i = 0; i < page.length; i += deps.batchSize) {
      const slice = page.slice(i, i + deps.batchSize);
      // A result made by this same job (a plan rerun after a crash) is work done, not skipped.
      const skipped = slice.filter((d) => existing.has(d.id) && existing.get(d.id) !== job.id);
      const todo = slice.filter((d) => !skipped.includes(d));
      const no = batchNo++;
      await jobs.openBatch(job.id, no, slice.length, skipped.length);
      if (todo.length > 0) await deps.enqueue('classify', { jobId: job.id, batchNo: no, documentIds: todo.map((d) => d.id) });
    }
    if (page.length < 1000) break;
  }
  await jobs.finishDiscovery(job.id);
}

const MAX_COMPARED = 100_000;

/**
 * Would a rescan of the folder find nothing to do? True when every file the scan would walk is on
 * record with the same size and mtime and a settled status, and every document on record is still
 * there: the scan's own rule, read without writing. Costs one walk and one query, against a
 * rescan's upserts, queue round trips and polls (over a second for a few thousand files) before
 * the first request could leave. Anything else (a new, changed, failed or missing file, or a
 * folder that cannot be read) answers false, and the scan runs first as before.
 */
export async function folderUnchangedSinceScan(deps: Pick<ClassifyDeps, 'docsRoot' | 'allowHardlinks' | 'classifications'>, rel: string): Promise<boolean> {
  if (!deps.docsRoot) return false;
  let folder: { abs: string; rel: string };
  try {
    folder = await deps.docsRoot.resolveFolder(rel);
  } catch {
    return false; // the scan reports why
  }
  const rows = await deps.classifications.knownFiles(folder.rel, MAX_COMPARED + 1);
  // The comparison holds the folder's rows in memory; past this the scan's batches are the better tool.
  if (rows.length > MAX_COMPARED) return false;
  const known = new Map(rows.map((f) => [f.path, f]));
  let walked = 0;
  let unreadable = false;
  const onIgnored = (_rel: string, reason: string) => {
    if (reason === 'unreadable') unreadable = true;
  };
  for await (const file of walkFiles(folder.abs, folder.rel, isIgnoredFileName, { onIgnored, allowHardlinks: deps.allowHardlinks ?? false })) {
    const row = known.get(file.rel);
    if (!row || !unchangedSinceExtraction(row, file)) return false;
    walked++;
  }
  return !unreadable && walked === known.size;
}

export async function runClassifyBatch(deps: ClassifyDeps, payload: JobPayloads['classify'], attempt: number, maxAttempts: number, signal: AbortSignal): Promise<void> {
  const { jobs, classifications } = deps;
  // Every document of the batch in flight listens on the job's signal (its provider call does):
  // that many listeners is expected, not a leak.
  setMaxListeners(payload.documentIds.length * 2 + 10, signal);
  if (!(await jobs.shouldRunBatch(payload.jobId, payload.batchNo))) return;
  const job = await jobs.findById(payload.jobId);
  if (!job) return;
  const params = job.params as unknown as ClassifyJobParams;
  const classifier = deps.classifier;
  const failures: FailureRow[] = [];
  const transient: string[] = [];

  if (!classifier) {
    throw new Error('This worker has no LLM provider configured (OPENAI_API_KEY / OPENAI_BASE_URL)');
  }
  const taxonomy = await deps.taxonomies.find(params.taxonomyId, params.taxonomyVersion);
  if (!taxonomy) throw new Error(`Taxonomy ${params.taxonomyId} v${params.taxonomyVersion} is gone`);
  const key = resultKey(params, classifier.model, classifier.promptVersion);
  const rows = await classifications.inputs(payload.documentIds);
  const already = await classifications.existing(
    rows.map((r) => ({ id: r.id, path: r.path, sha256: r.sha256 ?? '' })),
    key,
  );
  let spent = job.costUsd;
  const cancelled = cancellationCheck(() => jobs.isActive(job.id));
  await Promise.all(
    rows.map(async (doc) => {
      // Done by an earlier run of this batch: keep it.
      if (already.get(doc.id) === job.id) return;
      // A cancelled job sends nothing more; the batch is left open (the job is over anyway).
      if (await cancelled()) return;
      if (!doc.sha256 || doc.text === null) {
        failures.push({ documentId: doc.id, path: doc.path, code: 'no_text', message: 'The document has no extracted text' });
        return;
      }
      const input = {
        text: doc.text,
        title: doc.title ?? undefined,
        fileName: doc.name,
        documentLanguage: doc.language ?? undefined,
        taxonomy: { id: taxonomy.id, version: taxonomy.version, name: taxonomy.name, labels: taxonomy.labels },
        summaryLanguage: params.summaryLanguage ?? undefined,
      };
      if (params.budgetUsd !== undefined) {
        const estimate = classifier.estimateCostUsd(input);
        if (spent + estimate > params.budgetUsd) {
          failures.push({
            documentId: doc.id,
            path: doc.path,
            code: 'budget_exceeded',
            message: `The job's budget of $${params.budgetUsd} would be passed (spent $${spent.toFixed(4)}, this document ~$${estimate.toFixed(4)})`,
          });
          return;
        }
        spent += estimate;
      }
      const outcome = await classifier.classify(input, signal);
      if (outcome.ok) {
        await classifications.save({ ...key, ...outcome.result, documentId: doc.id, contentSha256: doc.sha256, jobId: job.id });
        return;
      }
      // Stopped by a shutdown: nothing is wrong with the document; the batch goes back to the queue.
      if (signal.aborted) return;
      if (outcome.retryable && attempt < maxAttempts) transient.push(doc.id);
      else failures.push({ documentId: doc.id, path: doc.path, code: outcome.code, message: outcome.message });
    }),
  );
  if (await cancelled()) return;
  if (signal.aborted) throw new Error('Worker stopping: the batch goes back to the queue with its results so far kept');
  if (transient.length > 0) {
    // Results so far are saved; the rerun (with the queue's backoff) only sends what is left.
    throw new TransientBatchError(`${transient.length} document(s) hit a transient provider error; retrying the batch`);
  }
  const missing = payload.documentIds.length - rows.length;
  await deps.db.transaction().execute(async (trx) => {
    const usage = await classifications.usage(trx, job.id, payload.documentIds);
    // Every document of the batch now has a result (from this run or an earlier one) or a failure.
    const done = rows.length - failures.length;
    const completed = await jobs.completeBatch(trx, job.id, payload.batchNo, { done, failed: failures.length, skipped: missing }, failures);
    if (completed) {
      await trx
        .updateTable('jobs')
        .set({
          input_tokens: sql`input_tokens + ${usage.inputTokens}`,
          output_tokens: sql`output_tokens + ${usage.outputTokens}`,
          cost_usd: sql`cost_usd + ${usage.costUsd}`,
        })
        .where('id', '=', job.id)
        .execute();
    }
  });
}
