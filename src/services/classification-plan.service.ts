/**
 * Planning a classification job: scan the folder first (a child scan job, polled; skipped when the
 * folder is exactly as its last scan left it), then split the folder's extracted documents into
 * batches, skipping those that already have a result for their content under the same taxonomy
 * version, model, prompt and summary language (unless forced). Exact copies of a content ride in
 * the batch of its first copy, which sends the content once.
 */
import { unchangedSinceExtraction } from '../domain/documents.ts';
import { JobFailure } from '../domain/errors.ts';
import { classifyJobParamsSchema, type Enqueue, type JobPayloads } from '../domain/work.ts';
import type { ClassificationsRepository, ClassifyCandidate } from '../store/classifications.repository.ts';
import type { JobsRepository } from '../store/jobs.repository.ts';
import { type ClassifyService, resultKey } from './classification-batch.service.ts';
import type { ResolvedSourceFolder } from './source-registry.ts';

/** Most documents in one batch with the copies it carries (the payload's bound is 10,000). */
const MAX_BATCH_DOCUMENTS = 2000;

export interface ClassificationPlanDeps {
  jobs: JobsRepository;
  classifications: ClassificationsRepository;
  /** Absent when this worker has no LLM provider configured. */
  classifier?: Pick<ClassifyService, 'model' | 'promptVersion'>;
  enqueue: Enqueue;
  /** Documents per classification batch. */
  batchSize: number;
  /** To see whether a folder is unchanged since its last scan; absent: always rescan first. */
  sources?: { resolveFolder(rel: string): Promise<ResolvedSourceFolder> };
  /** Present when the provider offers the Batch API: `auto` jobs of at least `minDocuments` (0: never) use it. */
  batchApi?: { minDocuments: number };
}

/**
 * Documents per batch of a Batch API job: one provider batch each. Up to ~12k tokens a request,
 * 1,000 lines stay far under the Batch API's 200 MB input file and are built in memory at once.
 */
export const BATCH_API_DOCUMENTS = 1000;

export const NO_PROVIDER_ON_WORKER = 'This worker has no LLM provider configured (OPENAI_API_KEY / OPENAI_BASE_URL)';

/**
 * How long the plan waits before looking at its scan again: 100 ms for the first second (a rescan
 * of an unchanged folder ends within it, and every poll missed there is time the whole job
 * waits), then longer steps up to 2 s for long scans.
 */
export function scanPollDelayMs(poll: number): number {
  return Math.min(2000, 100 * Math.ceil(poll / 10));
}

/** Past this many documents, comparing the folder in memory costs more than the rescan it saves. */
const MAX_COMPARED = 100_000;

/**
 * Would a rescan of the folder find nothing to do? True when every file the scan would walk is on
 * record with the same size and mtime and a settled status, and every document on record is still
 * there: the scan's own rule, read without writing. Anything else (a new, changed, failed or
 * missing file, or a folder that cannot be read) answers false, and the scan runs first.
 */
export async function folderUnchangedSinceScan(
  deps: Pick<ClassificationPlanDeps, 'sources' | 'classifications'>,
  rel: string,
): Promise<boolean> {
  if (!deps.sources) return false;
  let folder: ResolvedSourceFolder;
  try {
    folder = await deps.sources.resolveFolder(rel);
  } catch {
    return false; // the scan reports why
  }
  const rows = await deps.classifications.knownFiles(folder.rel, MAX_COMPARED + 1);
  if (rows.length > MAX_COMPARED) return false;
  const known = new Map(rows.map((f) => [f.path, f]));
  let walked = 0;
  let unreadable = false;
  const onIgnored = (_rel: string, reason: string) => {
    if (reason === 'unreadable') unreadable = true;
  };
  // A bucket is listed (no object read): the listing says size, LastModified and ETag.
  try {
    for await (const file of folder.reader.list(folder.rel, { onIgnored }, new Set(folder.otherSources))) {
      const row = known.get(file.rel);
      if (!row || !unchangedSinceExtraction(row, file)) return false;
      walked++;
    }
  } catch {
    return false; // a bucket that cannot be listed: the scan reports why, with its code
  }
  return !unreadable && walked === known.size;
}

export function createClassificationPlanService(deps: ClassificationPlanDeps) {
  const { jobs, classifications } = deps;

  /**
   * Make sure the folder's documents are scanned: true when planning can go on now, false when
   * the plan was re-enqueued to look at its scan again later (or the job failed).
   */
  async function scanned(jobId: string, path: string, scanJobId: string | undefined, requestId: string | null, poll: number): Promise<boolean> {
    let scanId = scanJobId;
    if (!scanId) {
      if (await folderUnchangedSinceScan(deps, path)) {
        await jobs.mergeParams(jobId, { folderUnchanged: true });
        return true;
      }
      const { job: scan } = await jobs.createOrFind({ kind: 'scan', folderPath: path, params: {}, dedupeKey: `scan:${path}`, parentId: jobId, requestId });
      scanId = scan.id;
      await jobs.mergeParams(jobId, { scanJobId: scanId });
      await deps.enqueue('scan', { jobId: scanId });
    }
    const scan = await jobs.findById(scanId);
    if (!scan || scan.status === 'failed' || scan.status === 'cancelled') {
      await jobs.fail(jobId, 'scan_failed', `The scan of the folder ended ${scan?.status ?? 'missing'}: ${scan?.errorMessage ?? ''}`.trim());
      return false;
    }
    if (scan.status !== 'completed') {
      const next = poll + 1;
      await deps.enqueue('classify-plan', { jobId, poll: next }, { delayMs: scanPollDelayMs(next) });
      return false;
    }
    return true;
  }

  return {
    /** Plan the classification job of `payload` (a no-op when it was cancelled or has ended). */
    async run(payload: JobPayloads['classify-plan']): Promise<void> {
      const job = await jobs.markRunning(payload.jobId);
      if (!job) return;
      if (!deps.classifier) throw new JobFailure('provider_not_configured', NO_PROVIDER_ON_WORKER);
      const params = classifyJobParamsSchema.parse(job.params);
      if (params.path !== undefined && !params.folderUnchanged) {
        if (!(await scanned(job.id, params.path, params.scanJobId, job.requestId, payload.poll ?? 0))) return;
      }

      const key = resultKey(params, deps.classifier);
      const scope = params.documentIds ? { ids: params.documentIds } : { folder: params.path ?? '' };
      let batchApi = params.batchApi;
      if (batchApi === undefined) {
        // Decided once (a plan rerun keeps it): the documents in scope, before skipping those with results.
        const min = deps.batchApi?.minDocuments ?? 0;
        batchApi = params.mode === 'batch' || (params.mode !== 'direct' && min > 0 && (await classifications.textStats(scope)).documents >= min);
        await jobs.mergeParams(job.id, { batchApi });
      }
      const batchSize = batchApi ? BATCH_API_DOCUMENTS : deps.batchSize;
      let after: string | null = null;
      let batchNo = 0;
      for (;;) {
        const page = await classifications.candidates(scope, after, 1000);
        if (page.length === 0) break;
        after = page.at(-1)?.path ?? null;
        // Exact copies go in the batch of their first copy (by path), so the batch sends their
        // content once and shares the result; a later copy met on its own page is already planned.
        const first = page.filter((d) => d.firstCopy);
        const copiesOf = new Map<string, ClassifyCandidate[]>();
        for (const c of await classifications.laterCopies(scope, first)) copiesOf.set(c.sha256, [...(copiesOf.get(c.sha256) ?? []), c]);
        const planned = first.flatMap((d) => [d, ...(copiesOf.get(d.sha256) ?? [])]);
        const existing = params.force ? new Map<string, string | null>() : await classifications.existing(planned, key);
        const batches: ClassifyCandidate[][] = [];
        for (let i = 0; i < first.length; i += batchSize) {
          const withCopies = first.slice(i, i + batchSize).flatMap((d) => [d, ...(copiesOf.get(d.sha256) ?? [])]);
          // Thousands of copies of one content are split (a queue payload is bounded); a later part
          // shares the result when the first part's has been saved by then.
          for (let k = 0; k < withCopies.length; k += MAX_BATCH_DOCUMENTS) batches.push(withCopies.slice(k, k + MAX_BATCH_DOCUMENTS));
        }
        for (const slice of batches) {
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
    },
  };
}

export type ClassificationPlanService = ReturnType<typeof createClassificationPlanService>;
