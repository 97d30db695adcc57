/**
 * The units of work the pipeline passes between machines through the queue, declared once: each
 * job name with the zod schema of its payload (validated where a worker takes it off the queue)
 * and its deterministic queue id. Payloads carry ids and small parameters only: never document
 * text, never secrets.
 */
import { z } from 'zod';
import { CLASSIFICATION_MODES } from './vocabulary.ts';

const id = z.string().min(1).max(100);
const batch = z.object({ jobId: id, batchNo: z.number().int().nonnegative(), documentIds: z.array(id).max(10_000) }).strict();

export const JOB_PAYLOAD_SCHEMAS = {
  /** Walk a folder, record what is there, and enqueue extraction batches. */
  scan: z.object({ jobId: id }).strict(),
  /** Extract a batch of documents found by a scan. */
  extract: batch,
  /**
   * Scan first when needed, then split a classification into batches. `poll` counts waits for the
   * scan; `wake`: a look asked for by the scan's extraction batch of that number, once written.
   */
  'classify-plan': z.object({ jobId: id, poll: z.number().int().nonnegative().optional(), wake: z.number().int().nonnegative().optional() }).strict(),
  /**
   * Classify a batch of documents. `poll`: a later look at the batch's Batch API batch (its id is
   * in llm_batches); each look is a queue job of its own, delayed by LLM_BATCH_POLL_MS.
   */
  classify: batch.extend({ poll: z.number().int().positive().optional() }),
  /** Read the pages of one document that have no usable text (its own queue: OCR_CONCURRENCY). */
  ocr: z.object({ jobId: id, documentId: id }).strict(),
} as const;

export type JobName = keyof typeof JOB_PAYLOAD_SCHEMAS;
export type JobPayloads = { [N in JobName]: z.infer<(typeof JOB_PAYLOAD_SCHEMAS)[N]> };

export const JOB_NAMES = Object.keys(JOB_PAYLOAD_SCHEMAS) as JobName[];

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(JOB_PAYLOAD_SCHEMAS, name);
}

/** The deterministic queue id of a job: enqueuing the same work twice is a no-op. */
export const queueJobId = {
  scan: (p: JobPayloads['scan']) => `scan.${p.jobId}`,
  extract: (p: JobPayloads['extract']) => `extract.${p.jobId}.${p.batchNo}`,
  'classify-plan': (p: JobPayloads['classify-plan']) => `classify-plan.${p.jobId}.${p.wake !== undefined ? `wake${p.wake}` : (p.poll ?? 0)}`,
  classify: (p: JobPayloads['classify']) => `classify.${p.jobId}.${p.batchNo}${p.poll ? `.poll${p.poll}` : ''}`,
  ocr: (p: JobPayloads['ocr']) => `ocr.${p.jobId}.${p.documentId}`,
} satisfies { [N in JobName]: (p: JobPayloads[N]) => string };

/** Puts a unit of work on the queue (services depend on this, not on a queue adapter). */
export type Enqueue = <N extends JobName>(name: N, payload: JobPayloads[N], opts?: { delayMs?: number }) => Promise<void>;

/**
 * What a classification job was asked to do, pinned when it was created and stored on the job
 * (jobs.params). Read back through this schema, never cast.
 */
export const classifyJobParamsSchema = z.object({
  path: z.string().optional(),
  documentIds: z.array(id).optional(),
  taxonomyId: z.string(),
  taxonomyVersion: z.number().int(),
  /** null: each document's own language. */
  summaryLanguage: z.string().nullable(),
  force: z.boolean(),
  budgetUsd: z.number().nonnegative().optional(),
  scanJobId: z.string().optional(),
  /** Set when the plan found the folder as its last scan left it, and so did not rescan it. */
  folderUnchanged: z.boolean().optional(),
  /** As asked; absent: `auto`. */
  mode: z.enum(CLASSIFICATION_MODES).optional(),
  /**
   * Another model of the workers' provider to classify with (an evaluation of it); absent: the
   * workers' own. Its results are kept beside the document's, which they do not replace.
   */
  model: z.string().min(1).max(200).optional(),
  /** Decided by the plan (from `mode`, the provider and the job's size): the job's batches go through the Batch API. */
  batchApi: z.boolean().optional(),
});
export type ClassifyJobParams = z.infer<typeof classifyJobParamsSchema>;

/** A scan job's parameters: a retry names the documents to extract again, with no walk. */
export const scanJobParamsSchema = z.object({ documentIds: z.array(id).optional() });
