/** Starting and reading jobs: the use cases behind POST /v1/scans and GET /v1/jobs. */
import { z } from 'zod';
import { assertFolderVisible, canSeeJob, isScoped, type Principal } from '../domain/access.ts';
import { AppError, notFound } from '../domain/errors.ts';
import { normalizeRelativePath } from '../domain/paths.ts';
import { decodeCursor, encodeCursor } from './cursor.ts';
import { isActiveJobStatus } from '../domain/vocabulary.ts';
import type { Enqueue } from '../domain/work.ts';
import type { Job } from '../contract.ts';
import type { JobKind, JobStatus } from '../store/schema.ts';
import type { JobRow, JobsRepository } from '../store/jobs.repository.ts';
import type { FolderResolver } from './source-registry.ts';

/** A job as the API answers it: the shape the CLI and the dashboard read (src/contract.ts). */
export type JobView = Job;

export function toJobView(j: JobRow, now = new Date()): JobView {
  const finished = j.done + j.failed + j.skipped;
  const end = j.finishedAt ?? now;
  const elapsed = j.startedAt ? (end.getTime() - j.startedAt.getTime()) / 1000 : null;
  const rate = elapsed && elapsed > 0 ? Math.round((finished / elapsed) * 10) / 10 : null;
  const open = isActiveJobStatus(j.status);
  const left = Math.max(0, j.total - finished);
  return {
    id: j.id,
    kind: j.kind,
    status: j.status,
    folder: j.folderPath,
    params: j.params,
    progress: {
      total: j.total,
      done: j.done,
      failed: j.failed,
      skipped: j.skipped,
      percent: j.total > 0 ? Math.floor((finished / j.total) * 1000) / 10 : j.status === 'completed' ? 100 : 0,
    },
    rate,
    etaSeconds: open && rate && rate > 0 && j.discoveryDone ? Math.ceil(left / rate) : null,
    createdAt: j.createdAt.toISOString(),
    startedAt: j.startedAt?.toISOString() ?? null,
    finishedAt: j.finishedAt?.toISOString() ?? null,
    durationMs: j.startedAt ? end.getTime() - j.startedAt.getTime() : null,
    error: j.errorCode ? { code: j.errorCode, message: j.errorMessage ?? '' } : null,
    stats: j.stats,
    usage: { inputTokens: j.inputTokens, outputTokens: j.outputTokens, costUsd: j.costUsd },
    ocr: ocrProgress(j, open, now),
  };
}

function ocrProgress(j: JobRow, open: boolean, now: Date): Job['ocr'] {
  const o = j.ocr;
  if (o.documents === 0) return null;
  const pagesDone = Math.min(o.pagesDone, o.pagesTotal);
  const end = o.documentsDone >= o.documents ? (j.finishedAt ?? now) : now;
  const elapsed = o.startedAt ? (end.getTime() - o.startedAt.getTime()) / 1000 : null;
  const rate = elapsed && elapsed > 0 && pagesDone > 0 ? Math.round((pagesDone / elapsed) * 100) / 100 : null;
  return {
    documents: o.documents,
    documentsDone: o.documentsDone,
    pagesTotal: o.pagesTotal,
    pagesDone,
    pagesPerSecond: rate,
    etaSeconds: open && rate ? Math.ceil((o.pagesTotal - pagesDone) / rate) : null,
  };
}

export interface JobsServiceDeps {
  jobs: JobsRepository;
  /** Resolves a folder path: a bucket source's, or the documents root's (on disk). */
  sources: FolderResolver;
  enqueue: Enqueue;
  /**
   * Work outside docsight to stop with a cancelled job (its Batch API batches). Failures are
   * logged, not the caller's: the job is cancelled, and its next poll cancels what is left.
   */
  onCancelled?: (jobId: string) => Promise<void>;
}

/**
 * Enqueue a job's first queue job. If the queue is down, a job this request created is marked
 * failed (`queue_unavailable`) rather than left queued forever, and the caller gets the 503; the
 * same request later starts afresh. A found (already active) job is left as it is.
 */
export async function enqueueOrFail(jobs: JobsRepository, jobId: string, created: boolean, enqueue: () => Promise<void>): Promise<void> {
  try {
    await enqueue();
  } catch (err) {
    if (created) await jobs.fail(jobId, 'queue_unavailable', 'The job queue was unavailable when the job was submitted');
    throw err;
  }
}

/** Drop finished job history older than `days` (0 keeps it forever). */
export async function applyJobRetention(jobs: JobsRepository, days: number, now = new Date()): Promise<number> {
  if (days <= 0) return 0;
  return jobs.deleteFinishedBefore(new Date(now.getTime() - days * 86_400_000));
}

export function createJobsService(deps: JobsServiceDeps) {
  const { jobs, sources } = deps;
  /** A job the caller may see; anything else is not found (existence does not leak). */
  const visibleJob = async (id: string, access: Principal) => {
    const job = await jobs.findById(id);
    if (!job || !canSeeJob(access, job)) throw notFound(`Job not found: ${id}`);
    return job;
  };
  return {
    /**
     * Start a scan of a folder, or return the identical scan already queued or running.
     * The folder must exist inside the documents root, or be inside a bucket source.
     */
    async startScan(input: { path: string; requestId?: string; access: Principal }): Promise<{ job: JobView; created: boolean }> {
      assertFolderVisible(input.access, normalizeRelativePath(input.path));
      const folder = await sources.resolveFolder(input.path);
      const { job, created } = await jobs.createOrFind({
        kind: 'scan',
        folderPath: folder.rel,
        params: {},
        dedupeKey: `scan:${folder.rel}`,
        requestId: input.requestId ?? null,
        createdBy: input.access.keyId,
      });
      // Enqueue after the row is committed, so the worker always finds it.
      await enqueueOrFail(jobs, job.id, created, () => deps.enqueue('scan', { jobId: job.id }));
      return { job: toJobView(job), created };
    },

    /** Cancel a queued or running job (and its child jobs). 409 when it has already ended. */
    async cancel(id: string, access: Principal): Promise<JobView> {
      const job = await visibleJob(id, access);
      if (!(await jobs.cancel(id))) {
        throw new AppError('conflict', `Job ${id} has already ended (${job.status}); nothing to cancel`);
      }
      await deps.onCancelled?.(id);
      return this.get(id, {}, access);
    },

    /**
     * Run the failed documents of an ended job again, as a new job of the same kind (the same
     * request twice returns the same retry job while it runs). 409 when there is nothing to retry.
     */
    async retry(id: string, access: Principal, requestId?: string): Promise<{ job: JobView; created: boolean }> {
      const job = await visibleJob(id, access);
      if (isActiveJobStatus(job.status)) {
        throw new AppError('conflict', `Job ${id} is still ${job.status}; retry it once it has ended`);
      }
      const failed = await jobs.failedDocumentIds(id);
      if (failed.length === 0) throw new AppError('conflict', `Job ${id} has no failed documents to retry`);
      // The retry's plan decides for itself whether its (few) documents go through the Batch API.
      const { scanJobId: _scan, path: _path, batchApi: _batchApi, ...kept } = job.params;
      const params = { ...kept, documentIds: failed, retryOf: id, ...(job.kind === 'classify' ? { force: true } : {}) };
      const created = await jobs.createOrFind({
        kind: job.kind,
        folderPath: job.folderPath,
        params,
        dedupeKey: `retry:${id}`,
        requestId: requestId ?? null,
        createdBy: access.keyId,
      });
      await enqueueOrFail(jobs, created.job.id, created.created, () =>
        job.kind === 'scan' ? deps.enqueue('scan', { jobId: created.job.id }) : deps.enqueue('classify-plan', { jobId: created.job.id }),
      );
      return { job: toJobView(created.job), created: created.created };
    },

    async get(id: string, opts: { failures?: number }, access: Principal): Promise<JobView> {
      const job = await visibleJob(id, access);
      const view = toJobView(job);
      if (opts.failures) view.failures = await jobs.failures(id, opts.failures);
      return view;
    },

    async list(q: { status?: JobStatus; kind?: JobKind; folder?: string; cursor?: string; limit: number }, access: Principal) {
      const before = q.cursor ? decodeJobCursor(q.cursor) : undefined;
      const folder = q.folder === undefined ? undefined : normalizeRelativePath(q.folder);
      const rows = await jobs.list({
        ...q,
        folder,
        before,
        limit: q.limit,
        ...(isScoped(access) ? { visibleTo: { scopes: access.scopes, keyId: access.keyId } } : {}),
      });
      const last = rows.at(-1);
      return {
        items: rows.map((r) => toJobView(r)),
        nextCursor: last && rows.length === q.limit ? encodeJobCursor(last) : null,
      };
    },
  };
}

const JobCursor = z.tuple([z.iso.datetime(), z.uuid()]);

function encodeJobCursor(j: JobRow): string {
  return encodeCursor([j.createdAt.toISOString(), j.id]);
}

function decodeJobCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = decodeCursor(cursor, JobCursor);
  return { createdAt: new Date(at), id };
}

export type JobsService = ReturnType<typeof createJobsService>;
