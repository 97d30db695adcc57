/**
 * Planning a classification job: scan the folder (a child scan job, polled; skipped when the
 * folder is exactly as its last scan left it) and split the folder's extracted documents into
 * batches, skipping those that already have a result for their content under the same taxonomy
 * version, model, prompt and summary language (unless forced). While the scan runs, each poll
 * plans the documents it has extracted since it started, so classification overlaps extraction;
 * each document is planned once per job (classify_planned). Exact copies of a content ride in
 * the batch of its first copy, which sends the content once.
 */
import { unchangedSinceExtraction } from '../domain/documents.ts';
import { JobFailure } from '../domain/errors.ts';
import { classifyJobParamsSchema, type Enqueue, type JobPayloads } from '../domain/work.ts';
import type { ClassificationsRepository, ClassifyCandidate, PlanFilter } from '../store/classifications.repository.ts';
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
   * Where the folder's scan stands: `done` when planning can cover the whole folder now (scanned,
   * or unchanged since its last scan), `scanning` (with the scan's start, once it has started)
   * while it still runs, `failed` when it ended otherwise (and the job with it).
   */
  async function scanState(jobId: string, path: string, scanJobId: string | undefined, requestId: string | null): Promise<{ kind: 'done' | 'failed' } | { kind: 'scanning'; since: Date | null }> {
    let scanId = scanJobId;
    if (!scanId) {
      if (await folderUnchangedSinceScan(deps, path)) {
        await jobs.mergeParams(jobId, { folderUnchanged: true });
        return { kind: 'done' };
      }
      const { job: scan } = await jobs.createOrFind({ kind: 'scan', folderPath: path, params: {}, dedupeKey: `scan:${path}`, parentId: jobId, requestId });
      scanId = scan.id;
      await jobs.mergeParams(jobId, { scanJobId: scanId });
      await deps.enqueue('scan', { jobId: scanId });
    }
    const scan = await jobs.findById(scanId);
    if (!scan || scan.status === 'failed' || scan.status === 'cancelled') {
      await jobs.fail(jobId, 'scan_failed', `The scan of the folder ended ${scan?.status ?? 'missing'}: ${scan?.errorMessage ?? ''}`.trim());
      return { kind: 'failed' };
    }
    return scan.status === 'completed' ? { kind: 'done' } : { kind: 'scanning', since: scan.startedAt };
  }

  /**
   * Put the documents in scope that no batch of the job holds yet into batches and enqueue them
   * (`plan.freshSince`: only those extracted since then). Exact copies go in the batch of their
   * first copy (by path), so the batch sends their content once and shares the result.
   */
  async function planBatches(jobId: string, scope: { folder: string } | { ids: string[] }, plan: PlanFilter, existingOf: (docs: ClassifyCandidate[]) => Promise<Map<string, string | null>>, batchSize: number): Promise<void> {
    let after: string | null = null;
    for (;;) {
      const page = await classifications.candidates(scope, after, 1000, plan);
      if (page.length === 0) break;
      after = page.at(-1)?.path ?? null;
      // A later copy met on its own page is already planned with its first copy.
      const first = page.filter((d) => d.firstCopy);
      const copiesOf = new Map<string, ClassifyCandidate[]>();
      for (const c of await classifications.laterCopies(scope, first, plan)) copiesOf.set(c.sha256, [...(copiesOf.get(c.sha256) ?? []), c]);
      const existing = await existingOf(first.flatMap((d) => [d, ...(copiesOf.get(d.sha256) ?? [])]));
      const batches: ClassifyCandidate[][] = [];
      for (let i = 0; i < first.length; i += batchSize) {
        const withCopies = first.slice(i, i + batchSize).flatMap((d) => [d, ...(copiesOf.get(d.sha256) ?? [])]);
        // Thousands of copies of one content are split (a queue payload is bounded); a later part
        // shares the result when the first part's has been saved by then.
        for (let k = 0; k < withCopies.length; k += MAX_BATCH_DOCUMENTS) batches.push(withCopies.slice(k, k + MAX_BATCH_DOCUMENTS));
      }
      for (const slice of batches) {
        // A result made by this same job (a document planned before migration 0025's record) is work done, not skipped.
        const skipped = new Set(slice.filter((d) => existing.has(d.id) && existing.get(d.id) !== jobId).map((d) => d.id));
        const opened = await jobs.openPlannedBatch(jobId, slice.map((d) => d.id), skipped);
        if (!opened) continue; // another run of the plan took them
        const todo = opened.documentIds.filter((id) => !skipped.has(id));
        if (todo.length > 0) await deps.enqueue('classify', { jobId, batchNo: opened.batchNo, documentIds: todo });
      }
      if (page.length < 1000) break;
    }
  }

  return {
    /**
     * Plan the classification job of `payload` (a no-op when it was cancelled or has ended). While
     * the folder's scan runs, each look plans the documents it has extracted so far, so the model
     * is at work long before the scan ends; the look after the scan plans the rest and ends discovery.
     */
    async run(payload: JobPayloads['classify-plan']): Promise<void> {
      const job = await jobs.markRunning(payload.jobId);
      if (!job) return;
      if (!deps.classifier) throw new JobFailure('provider_not_configured', NO_PROVIDER_ON_WORKER);
      const params = classifyJobParamsSchema.parse(job.params);
      let scanning: { since: Date | null } | undefined;
      if (params.path !== undefined && !params.folderUnchanged) {
        const state = await scanState(job.id, params.path, params.scanJobId, job.requestId);
        if (state.kind === 'failed') return;
        if (state.kind === 'scanning') scanning = state;
      }
      const lookAgain = async () => {
        // A wake-up is a look of its own: the chain of polls goes on beside it.
        if (payload.wake !== undefined) return;
        const next = (payload.poll ?? 0) + 1;
        await deps.enqueue('classify-plan', { jobId: job.id, poll: next }, { delayMs: scanPollDelayMs(next) });
      };

      const key = resultKey(params, deps.classifier);
      const scope = params.documentIds ? { ids: params.documentIds } : { folder: params.path ?? '' };
      let batchApi = params.batchApi;
      if (batchApi === undefined) {
        // Decided once (a plan rerun keeps it): the documents in scope, before skipping those with
        // results, counted once the scan has found them all.
        const min = deps.batchApi?.minDocuments ?? 0;
        const counted = params.mode !== 'batch' && params.mode !== 'direct' && min > 0;
        if (counted && scanning) return lookAgain();
        batchApi = params.mode === 'batch' || (counted && (await classifications.textStats(scope)).documents >= min);
        await jobs.mergeParams(job.id, { batchApi });
      }
      // A Batch API job sends the folder in few large batches: it waits for the whole scan.
      if (scanning && (batchApi || !scanning.since)) return lookAgain();

      const existingOf = (docs: ClassifyCandidate[]) => (params.force ? Promise.resolve(new Map<string, string | null>()) : classifications.existing(docs, key));
      const batchSize = batchApi ? BATCH_API_DOCUMENTS : deps.batchSize;
      if (scanning?.since) {
        await planBatches(job.id, scope, { jobId: job.id, freshSince: scanning.since }, existingOf, batchSize);
        return lookAgain();
      }
      // The last look: batches an earlier look opened but may not have enqueued (it stopped in
      // between) go to the queue again (their queue ids make that a no-op when they are there).
      const before = await jobs.nextBatchNo(job.id);
      for (const b of await jobs.openPlannedBatches(job.id, before)) await deps.enqueue('classify', { jobId: job.id, batchNo: b.batchNo, documentIds: b.documentIds });
      await planBatches(job.id, scope, { jobId: job.id }, existingOf, batchSize);
      await jobs.finishDiscovery(job.id);
    },
  };
}

export type ClassificationPlanService = ReturnType<typeof createClassificationPlanService>;

/**
 * A scan's extraction batch `batchNo` is written: when the scan was started by a classification
 * job, that job's plan looks at once (planning what was extracted, or all of the folder once the
 * scan has ended) instead of at its next poll.
 */
export async function wakeClassificationOf(deps: Pick<ClassificationPlanDeps, 'jobs' | 'enqueue'>, scanJobId: string, batchNo: number): Promise<void> {
  const scan = await deps.jobs.findById(scanJobId);
  if (scan?.kind !== 'scan' || !scan.parentId) return;
  await deps.enqueue('classify-plan', { jobId: scan.parentId, wake: batchNo });
}
