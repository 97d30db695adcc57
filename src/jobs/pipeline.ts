/**
 * The pipeline's job handlers, keyed by job name (a Record over JobPayloads, so a job without a
 * handler does not compile), and the one place that decides retry-or-not for a failed run.
 */
import type { Logger } from 'pino';
import type { ExtractionPool } from '../extract/pool.ts';
import type { ExtractLimits } from '../extract/types.ts';
import type { QueueJob } from '../queue/types.ts';
import { PermanentJobError } from '../queue/types.ts';
import type { DocsRoot } from '../services/docs-root.ts';
import type { Db } from '../store/database.ts';
import type { DocumentsRepository } from '../store/documents.repository.ts';
import type { FoldersRepository } from '../store/folders.repository.ts';
import type { FailureRow, JobsRepository } from '../store/jobs.repository.ts';
import { createSearchRepository } from '../store/search.repository.ts';
import type { JobName, JobPayloads } from './definitions.ts';
import { type ClassifyDeps, runClassifyBatch, runClassifyPlan } from './classify.handler.ts';
import { runExtract } from './extract.handler.ts';
import { runScan } from './scan.handler.ts';
import { createIdleSearchIndexer, type IdleSearchIndexer, type SearchIndexStore } from './search-index.ts';

export interface PipelineMetrics {
  documentsProcessed(done: number, failures: FailureRow[], skipped: number): void;
  /** One run of a queue job ended: `retrying` when it failed and the queue will run it again. */
  jobFinished?(kind: JobName, seconds: number, outcome: 'completed' | 'retrying' | 'failed'): void;
}

export interface PipelineDeps extends ClassifyDeps {
  db: Db;
  jobs: JobsRepository;
  documents: DocumentsRepository;
  folders: FoldersRepository;
  docsRoot: DocsRoot;
  pool: ExtractionPool;
  limits: ExtractLimits;
  batchSize: number;
  /** Read files with several hard links (off: they could be a file outside the root). */
  allowHardlinks: boolean;
  log: Logger;
  enqueue<N extends JobName>(name: N, payload: JobPayloads[N], opts?: { delayMs?: number }): Promise<void>;
  metrics?: PipelineMetrics;
  /** Documents per classification job. */
  classifyBatchSize: number;
  /** Where the idle search indexer takes pending documents from (default: the search repository on `db`). */
  searchIndex?: SearchIndexStore;
}

type Handlers = { [N in JobName]: (deps: PipelineDeps, payload: JobPayloads[N], job: QueueJob) => Promise<void> };

const handlers: Handlers = {
  scan: (deps, payload, job) => runScan(deps, payload, job.signal),
  extract: (deps, payload) => runExtract(deps, payload),
  'classify-plan': (deps, payload) => runClassifyPlan({ ...deps, batchSize: deps.classifyBatchSize }, payload),
  classify: (deps, payload, job) => runClassifyBatch(deps, payload, job.attempt, job.maxAttempts, job.signal),
};

async function failBatch(deps: PipelineDeps, p: { jobId: string; batchNo: number; documentIds: string[] }, message: string) {
  const docs = await deps.documents.loadForExtraction(p.documentIds);
  const failures = docs.map((d) => ({ documentId: d.id, path: d.path, code: 'internal', message }));
  await deps.db.transaction().execute((trx) =>
    deps.jobs.completeBatch(trx, p.jobId, p.batchNo, { done: 0, failed: failures.length, skipped: p.documentIds.length - docs.length }, failures),
  );
}

/** What to record when a job has used its last attempt, so its folder job still ends. */
const onGiveUp: { [N in JobName]: (deps: PipelineDeps, payload: JobPayloads[N], message: string) => Promise<void> } = {
  scan: (deps, p, message) => deps.jobs.fail(p.jobId, 'scan_failed', message),
  extract: failBatch,
  'classify-plan': (deps, p, message) => deps.jobs.fail(p.jobId, 'classify_failed', message),
  classify: failBatch,
};

/**
 * Re-enqueue the first step of jobs that have stopped moving. Queue ids are deterministic and
 * every step skips what is already done, so this is a no-op for a job whose work is only slow,
 * and a rescue for one whose queue jobs were lost (Redis restarted without persistence).
 */
export async function reconcileStaleJobs(deps: Pick<PipelineDeps, 'jobs' | 'enqueue' | 'log'>, idleMs: number): Promise<number> {
  const stale = await deps.jobs.claimStale(idleMs);
  for (const j of stale) {
    if (j.kind === 'scan') await deps.enqueue('scan', { jobId: j.id });
    else await deps.enqueue('classify-plan', { jobId: j.id });
  }
  if (stale.length > 0) deps.log.warn({ jobs: stale.map((j) => j.id) }, 're-enqueued jobs that had stopped moving');
  return stale.length;
}

function isJobName(name: string): name is JobName {
  return Object.hasOwn(handlers, name);
}

/**
 * The request id of the HTTP request that started a folder job, so worker log lines can be joined
 * with the API's. Cached (it never changes): a folder job has many batches.
 */
function requestIds(jobs: Pick<JobsRepository, 'findById'>) {
  const cache = new Map<string, string | null>();
  return async (jobId: string): Promise<string | null> => {
    const known = cache.get(jobId);
    if (known !== undefined) return known;
    const row = await jobs.findById(jobId).catch(() => null);
    // Not cached when the database did not answer: the next run asks again.
    if (row === null) return null;
    const id = row?.requestId ?? null;
    if (cache.size >= 10_000) cache.clear();
    cache.set(jobId, id);
    return id;
  };
}

/** Jobs that keep this process's CPU busy: the search indexer waits for them to end. */
const CPU_BOUND: ReadonlySet<string> = new Set<JobName>(['scan', 'extract']);

/**
 * The queue handler: dispatch by name; give up cleanly on the last attempt. When no scan or
 * extraction runs in this process, the worker indexes documents' text for search
 * (jobs/search-index.ts); classification jobs do not hold it back, as they mostly wait on the
 * LLM. `searchIndexer.close()` stops it at shutdown.
 */
export function createPipelineHandler(base: PipelineDeps): ((job: QueueJob) => Promise<void>) & { searchIndexer: IdleSearchIndexer } {
  const requestIdOf = requestIds(base.jobs);
  const searchIndexer = createIdleSearchIndexer(base.searchIndex ?? createSearchRepository(base.db), base.log.child({ role: 'search-indexer' }));
  const handle = async (job: QueueJob): Promise<void> => {
    if (!CPU_BOUND.has(job.name)) return run(job);
    searchIndexer.jobStarted();
    try {
      await run(job);
    } finally {
      searchIndexer.jobEnded();
    }
  };
  const run = async (job: QueueJob): Promise<void> => {
    if (!isJobName(job.name)) throw new PermanentJobError(`No handler for job "${job.name}"`);
    const name = job.name;
    const jobId = (job.payload as { jobId?: unknown } | null)?.jobId;
    const requestId = typeof jobId === 'string' ? await requestIdOf(jobId) : null;
    const deps: PipelineDeps = { ...base, log: base.log.child({ jobId, requestId, queueJob: job.id }) };
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      await (handlers[name] as Handlers[JobName])(deps, job.payload as never, job);
      deps.metrics?.jobFinished?.(name, seconds(), 'completed');
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const last = err instanceof PermanentJobError || job.attempt >= job.maxAttempts;
      deps.metrics?.jobFinished?.(name, seconds(), last ? 'failed' : 'retrying');
      deps.log.warn({ job: job.id, name, attempt: job.attempt, last, err: message }, 'job run failed');
      if (last && !job.signal.aborted) {
        await (onGiveUp[name] as (typeof onGiveUp)[JobName])(deps, job.payload as never, message).catch((e: unknown) =>
          deps.log.error({ job: job.id, err: String(e) }, 'could not record the failure of a job'),
        );
      }
      throw err;
    }
  };
  return Object.assign(handle, { searchIndexer });
}
