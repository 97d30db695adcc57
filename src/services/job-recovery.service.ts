/**
 * Keeping folder jobs moving on the worker side: record a job's failure when its queue job gives
 * up, re-enqueue jobs that stopped moving, and tell which request started a job (for log lines).
 */
import type { JobErrorCode } from '../domain/vocabulary.ts';
import type { Enqueue } from '../domain/work.ts';
import type { DocumentsRepository } from '../store/documents.repository.ts';
import type { JobsRepository } from '../store/jobs.repository.ts';
import type { OcrRepository } from '../store/ocr.repository.ts';
import type { UnitOfWork } from '../store/unit-of-work.ts';

export interface JobRecoveryDeps {
  jobs: JobsRepository;
  ocr: Pick<OcrRepository, 'apply' | 'pendingFor'>;
  documents: Pick<DocumentsRepository, 'loadForExtraction'>;
  unitOfWork: UnitOfWork;
  enqueue: Enqueue;
}

/** A batch of an extraction or classification job. */
export interface BatchRef {
  jobId: string;
  batchNo: number;
  documentIds: string[];
}

export function createJobRecoveryService(deps: JobRecoveryDeps) {
  const { jobs } = deps;
  // A folder job has many batches and its request id never changes: remember it.
  const requestIds = new Map<string, string | null>();
  return {
    /** The job ends failed with this code (its queue job gave up). */
    fail(jobId: string, code: JobErrorCode, message: string): Promise<void> {
      return jobs.fail(jobId, code, message);
    },

    /** Record every document of a batch as failed with `code` (its queue job gave up), so its folder job still ends. */
    async failBatch(batch: BatchRef, code: string, message: string): Promise<void> {
      const docs = await deps.documents.loadForExtraction(batch.documentIds);
      const failures = docs.map((d) => ({ documentId: d.id, path: d.path, code, message }));
      const outcome = { done: 0, failed: failures.length, skipped: batch.documentIds.length - docs.length };
      await deps.unitOfWork.run((tx) => jobs.completeBatch(tx, batch.jobId, batch.batchNo, outcome, failures));
    },

    /** A document's OCR gave up: it keeps its extraction and fails this stage alone, so its job still ends. */
    async failOcr(jobId: string, documentId: string, code: string, message: string): Promise<void> {
      const failed = { status: 'failed' as const, jobId, pages: null, confidence: null, languages: null, lowConfidence: null, errorCode: code, errorMessage: message };
      await deps.unitOfWork.run(async (tx) => {
        if (await deps.ocr.apply(tx, documentId, jobId, { failed })) await jobs.ocrDocumentDone(tx, jobId);
      });
    },

    /**
     * Re-enqueue the first step of jobs that have stopped moving. Queue ids are deterministic and
     * every step skips what is already done, so this is a no-op for a job whose work is only slow,
     * and a rescue for one whose queue jobs were lost (Redis restarted without persistence).
     * Returns the ids of the jobs re-enqueued.
     */
    async reconcileStale(idleMs: number): Promise<string[]> {
      const stale = await jobs.claimStale(idleMs);
      for (const j of stale) {
        if (j.kind === 'scan') {
          await deps.enqueue('scan', { jobId: j.id });
          for (const documentId of await deps.ocr.pendingFor(j.id)) await deps.enqueue('ocr', { jobId: j.id, documentId });
        } else {
          await deps.enqueue('classify-plan', { jobId: j.id });
        }
      }
      return stale.map((j) => j.id);
    },

    /** The request id of the HTTP request that started a folder job, so worker logs join the API's. */
    async requestIdOf(jobId: string): Promise<string | null> {
      const known = requestIds.get(jobId);
      if (known !== undefined) return known;
      const row = await jobs.findById(jobId).catch(() => null);
      // Not remembered when the database did not answer: the next run asks again.
      if (row === null) return null;
      const id = row?.requestId ?? null;
      if (requestIds.size >= 10_000) requestIds.clear();
      requestIds.set(jobId, id);
      return id;
    },
  };
}

export type JobRecoveryService = ReturnType<typeof createJobRecoveryService>;
