/**
 * Queue job names and their payloads, declared once. Payloads carry ids and small parameters
 * only: never document text, never secrets.
 */
export interface JobPayloads {
  /** Walk a folder, record what is there, and enqueue extraction batches. */
  scan: { jobId: string };
  /** Extract a batch of documents found by a scan. */
  extract: { jobId: string; batchNo: number; documentIds: string[] };
  /** Scan first when needed, then split a classification into batches. `poll` counts waits for the scan. */
  'classify-plan': { jobId: string; poll?: number };
  /** Classify a batch of documents. */
  classify: { jobId: string; batchNo: number; documentIds: string[] };
}

export type JobName = keyof JobPayloads;

export const JOB_NAMES: readonly JobName[] = ['scan', 'extract', 'classify-plan', 'classify'];

/** The deterministic queue id of a job: enqueuing the same work twice is a no-op. */
export const queueJobId = {
  scan: (p: JobPayloads['scan']) => `scan.${p.jobId}`,
  extract: (p: JobPayloads['extract']) => `extract.${p.jobId}.${p.batchNo}`,
  'classify-plan': (p: JobPayloads['classify-plan']) => `classify-plan.${p.jobId}.${p.poll ?? 0}`,
  classify: (p: JobPayloads['classify']) => `classify.${p.jobId}.${p.batchNo}`,
} satisfies { [N in JobName]: (p: JobPayloads[N]) => string };
